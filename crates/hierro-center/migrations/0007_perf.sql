-- Performance statistics (vCenter's stats tables). Level 0 holds the hosts'
-- samples as taken, kept an hour; levels 1 to 4 their averages over 5
-- minutes, 30 minutes, 2 hours and a day, kept a day, a week, a month and
-- a year. `time` is seconds since the Unix epoch: a sample's end, an
-- average's start.
CREATE TABLE perf (
    entity TEXT NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
    level INTEGER NOT NULL,
    counter TEXT NOT NULL,
    time BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (entity, level, counter, time)
);
CREATE INDEX perf_level_time ON perf (level, time);

-- The newest sample taken from each host.
CREATE TABLE perf_collected (
    host TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    last_time BIGINT NOT NULL
);

-- How far each level is rolled up: its averages before `done_before` exist.
CREATE TABLE perf_rolled (
    level INTEGER PRIMARY KEY,
    done_before BIGINT NOT NULL
);
