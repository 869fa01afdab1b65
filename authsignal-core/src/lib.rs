//! The sans-io core of the Authsignal Server API SDK for Rust.
//!
//! [Authsignal](https://www.authsignal.com) adds passwordless login, MFA and
//! step-up authentication to an app: your server *tracks* an action, the user
//! completes a *challenge*, and your server *validates* the result. This crate
//! knows the whole Server API — every endpoint, model, error and the webhook
//! signature scheme — but does no I/O: it builds [`http::Request`]s and parses
//! [`http::Response`]s. A transport crate sends them.
//!
//! # Choose a transport
//!
//! | you have | use |
//! |---|---|
//! | a synchronous service | `authsignal-ureq`: `authsignal_ureq::Client` (blocking, ureq 3) |
//! | a tokio service | `authsignal-hyper`: `authsignal_hyper::Client` (async, hyper 1 + rustls) |
//! | another HTTP stack | implement [`BlockingTransport`] or [`AsyncTransport`] (a closure will do) |
//! | unit tests of your own code | build requests offline with [`Endpoint::build_request`], or run `authsignal-testkit`'s fake server |
//!
//! Every client method takes a request type named after the official SDKs
//! (`TrackRequest`, `GetUserRequest`, …) and returns its typed response.
//!
//! # Offline: build and parse without a client
//!
//! ```
//! use authsignal_core::{Config, Endpoint, GetUserRequest};
//!
//! let config = Config::builder("sk_test_123").build()?;
//! let request = GetUserRequest::new("user/42").build_request(&config)?;
//! assert_eq!(request.uri(), "https://api.authsignal.com/v1/users/user%2F42");
//! // The secret never shows in Debug output:
//! assert!(!format!("{request:?}").contains("sk_test_123"));
//!
//! let response = http::Response::new(br#"{"isEnrolled":false}"#.to_vec());
//! let user = GetUserRequest::new("user/42").parse_response(response)?;
//! assert!(!user.is_enrolled);
//! # Ok::<(), authsignal_core::Error>(())
//! ```
//!
//! # A custom transport
//!
//! ```
//! use authsignal_core::{Client, Config, TrackRequest, TransportError, UserActionState};
//!
//! // Any function from request to response is a transport.
//! let transport = |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
//!     assert_eq!(request.method(), "POST");
//!     Ok(http::Response::new(
//!         br#"{"state":"ALLOW","idempotencyKey":"k1","url":"","token":"t","isEnrolled":false}"#.to_vec(),
//!     ))
//! };
//! let client = Client::with_transport(Config::builder("sk_test_123").build()?, transport);
//! let outcome = client.track(TrackRequest::new("user-1", "signIn"))?;
//! assert_eq!(outcome.state, UserActionState::Allow);
//! # Ok::<(), authsignal_core::Error>(())
//! ```
//!
//! A transport only sends. Waiting between retries, the clock of the retry
//! deadline and jitter are the client's timer: [`StdTimer`] for the blocking
//! client unless [`Client::with_timer`] sets another (an [`AsyncClient`] is
//! given one for its runtime), and [`NoWaitTimer`], which retries at once,
//! for tests.
//!
//! # Webhooks
//!
//! ```
//! use authsignal_core::{ApiSecretKey, webhook::{self, Webhook}};
//!
//! let secret = ApiSecretKey::new("sk_test_123");
//! let body = br#"{"version":1,"type":"sms.created","id":"e1","source":"https://authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"t1","data":{"to":"+6427000000"}}"#;
//! let header = webhook::sign(&secret, body, 1_740_016_316); // as Authsignal would send it
//! let event = Webhook::new(secret).construct_event(body, &header, 1_740_016_316)?;
//! assert_eq!(event.event_type.as_str(), "sms.created");
//! # Ok::<(), authsignal_core::webhook::WebhookError>(())
//! ```
//!
//! See the [`webhook`] module for key rotation, tolerance and log-event batches.
//!
//! # Testing your code
//!
//! The `authsignal-testkit` crate runs a stateful fake of the Server API on
//! `127.0.0.1` (users, authenticators, track, OTP challenges with readable
//! codes, validation, sessions), so your sign-in flow can be tested end to end
//! with either client and no network.
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `webhook` | yes | webhook signature verification (`hmac`, `sha2`) |
//! | `tracing` | no | a `tracing` span per call and an event per attempt; never secrets, tokens, codes or bodies |
//! | `stream` | no (on in `authsignal-hyper`) | [`AsyncQueryUsersPages`] is a `futures_core::Stream` of pages (`futures-core` only) |
//!
//! # Errors
//!
//! Every call returns [`Error`]. [`Error::is_retryable`] says whether trying
//! again later could succeed; [`Error::request_may_have_been_processed`] says
//! whether Authsignal may already have acted (sent an OTP, rotated a token),
//! which is what decides whether repeating the call is safe. The clients
//! retry by themselves according to [`RetryPolicy`]: only what is safe.
//!
//! # Forward-compatible enums
//!
//! Enums such as [`VerificationMethod`] and [`UserActionState`] are open:
//! a value added to the API later decodes as `Unknown` and round-trips
//! unchanged (see [`UnknownValue`]). Structs and enums are `#[non_exhaustive]`,
//! so new fields and variants are not breaking changes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod api;
mod client;
mod config;
pub mod endpoint;
mod enums;
mod error;
mod pagination;
mod retry;
mod secret;
mod timer;
mod trace;
mod transport;
#[cfg(feature = "webhook")]
pub mod webhook;

pub use api::*;
pub use client::{AsyncClient, Client};
pub use config::{
    Builder, Config, DEFAULT_CALL_CONNECT_URL, FromConfig, Region, USER_AGENT, VERSION,
};
pub use endpoint::{
    Endpoint, EndpointInfo, EndpointVisitor, Service, TERMINAL_HEADER, visit_endpoints,
};
pub use error::{
    ApiError, Error, InvalidInput, TransportError, TransportErrorKind, UnexpectedResponse,
};
pub use pagination::{AsyncQueryUsersPages, QueryUsersIter, QueryUsersPages};
pub use retry::{
    AttemptOutcome, Idempotency, RetryBudget, RetryDecision, RetryPolicy, retry_after,
};
pub use secret::{ApiSecretKey, SecretString};
pub use timer::{AsyncTimer, BlockingTimer, NoWaitTimer, StdTimer};
pub use transport::{
    AsyncTransport, BlockingTransport, TransportFromConfig, check_declared_length, find_cause,
};

pub use http;
