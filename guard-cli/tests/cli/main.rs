//! The `guard` binary, run as a child process: on a redb file, beside a running server with
//! `--server`, on PostgreSQL, at a pseudo-terminal, and on input it cannot use. One test
//! binary, so that the demo and its dependencies are linked once.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;
mod input;
mod local;
mod postgres;
mod prompt;
mod scenario;
mod server;
