//! Shared helpers for the workspace integration tests: a client face over
//! every transport and the scripted fault server (plain, TLS or silent).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod both;
pub mod fault_server;

pub use both::{AnyClient, Flavor};

/// Compiles (and runs) the README's examples as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
