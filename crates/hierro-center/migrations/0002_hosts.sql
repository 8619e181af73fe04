-- How the center reaches each managed host: its address, the pinned
-- certificate thumbprint, and the service token the host gave the center.
CREATE TABLE host_connections (
    host TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    address TEXT NOT NULL UNIQUE,
    thumbprint TEXT NOT NULL,
    token TEXT NOT NULL
);
