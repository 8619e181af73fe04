//! The center's store tests, each on SQLite and on a real PostgreSQL. One test
//! binary, so the dependencies are linked once.

mod common;

mod access;
mod directory;
mod inventory;
mod perf;
