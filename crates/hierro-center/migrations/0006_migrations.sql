-- vMotions under way: while a VM moves, its source host reports it gone
-- before the destination reports it there; this keeps the VM's object
-- (and its folder, permissions, history) through that gap.
CREATE TABLE migrations (
    vm TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    from_host TEXT NOT NULL,
    to_host TEXT NOT NULL,
    started TEXT NOT NULL
);
