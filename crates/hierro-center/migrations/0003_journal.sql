-- Tasks (every change) and events (everything that happened), queryable by
-- object, time and type. Events carry a sequence number for following.
CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    target TEXT NOT NULL,
    target_name TEXT NOT NULL,
    state TEXT NOT NULL,
    progress BIGINT NOT NULL,
    username TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    result TEXT,
    error TEXT
);
CREATE INDEX tasks_target ON tasks(target);
CREATE INDEX tasks_queued ON tasks(queued_at);

CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    target TEXT NOT NULL,
    target_name TEXT NOT NULL,
    username TEXT NOT NULL,
    message TEXT NOT NULL,
    task TEXT
);
CREATE INDEX events_target ON events(target);
CREATE INDEX events_kind ON events(kind);
