//! The center's store tests, each on SQLite and on a real PostgreSQL. One test
//! binary, so the dependencies are linked once.

// A test that meets an unexpected value should fail there: unwrap is how.
#![allow(clippy::unwrap_used)]

mod common;

mod access;
mod directory;
mod inventory;
mod perf;
