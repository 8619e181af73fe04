-- The center's schema. One file for SQLite and PostgreSQL alike: portable
-- types only (TEXT, BIGINT), ids are UUID strings, times RFC 3339 text,
-- flags BIGINT 0/1.

-- The inventory tree: the root folder, datacenters, folders, clusters,
-- hosts, VMs, datastores, networks. Names are unique within a parent.
CREATE TABLE objects (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    parent TEXT REFERENCES objects(id),
    data TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL
);
CREATE UNIQUE INDEX objects_name_in_parent ON objects(parent, name);
CREATE INDEX objects_kind ON objects(kind);

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    full_name TEXT NOT NULL DEFAULT '',
    disabled BIGINT NOT NULL DEFAULT 0,
    created TEXT NOT NULL
);

CREATE TABLE groups (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    PRIMARY KEY (group_name, user_name)
);

-- Privileges as a JSON array of ids.
CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    system BIGINT NOT NULL,
    privileges TEXT NOT NULL
);

-- At most one permission per principal and object.
CREATE TABLE permissions (
    principal TEXT NOT NULL,
    is_group BIGINT NOT NULL,
    object TEXT NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
    role TEXT NOT NULL REFERENCES roles(id),
    propagate BIGINT NOT NULL,
    PRIMARY KEY (principal, is_group, object)
);
