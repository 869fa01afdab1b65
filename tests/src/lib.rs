//! Shared helpers for the workspace integration tests.
#![forbid(unsafe_code)]

pub mod fault_server;
