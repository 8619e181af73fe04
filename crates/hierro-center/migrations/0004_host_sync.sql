-- Objects that mirror something a host reports carry the key that finds
-- them again: "vm:<uuid>", "datastore:<datacenter>:<name>",
-- "network:<datacenter>:<name>". VMs also name the host that runs them.
ALTER TABLE objects ADD COLUMN source TEXT;
ALTER TABLE objects ADD COLUMN host TEXT;
CREATE UNIQUE INDEX objects_source ON objects(source);
CREATE INDEX objects_host ON objects(host);

-- The host's change version the center has applied, and whether the
-- center follows the host (0 once a user disconnects it).
ALTER TABLE host_connections ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE host_connections ADD COLUMN enabled BIGINT NOT NULL DEFAULT 1;
