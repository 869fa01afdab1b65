//! Shared helpers for the workspace integration tests: a client face over
//! both transports, a scripted fault server, and TCP/TLS listeners that
//! misbehave before any HTTP is spoken.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod both;
pub mod fault_server;
pub mod listeners;

pub use both::{AnyClient, Flavor};

/// Compiles (and runs) the README's examples as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
