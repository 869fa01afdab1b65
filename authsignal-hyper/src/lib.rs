//! Async Authsignal client on hyper — not implemented yet.
//!
//! This crate is reserved for the async transport (hyper 1 + hyper-util +
//! rustls). Until it lands, use `authsignal_core::AsyncClient` with your own
//! [`authsignal_core::AsyncTransport`].
#![forbid(unsafe_code)]
