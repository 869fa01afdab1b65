//! Webhook signature verification and typed webhook envelopes.
//!
//! Authsignal signs every webhook request with the tenant's **API secret key**
//! (the same key the client uses for Basic auth) and sends the signature in the
//! [`X-Signature-V2`](SIGNATURE_HEADER) header:
//!
//! ```text
//! x-signature-v2: t=1740016316,v2=NwFcIT68pK7g+m365Jj4euXj/ke3GSnkTpMPcRVi5q4
//! ```
//!
//! * `t` is the Unix time of signing, in seconds;
//! * each `v2` is `base64(HMAC-SHA256(key = secret, msg = "{t}.{raw body}"))`
//!   in the standard alphabet with the `=` padding removed. While two API keys
//!   are active (key rotation) there is one `v2` per key, and a request is
//!   accepted if **any** of them matches.
//!
//! [`Webhook`] checks, in this order:
//!
//! 1. the header size (at most [`MAX_HEADER_LEN`] bytes and
//!    [`MAX_SIGNATURES`] signatures), before any HMAC work;
//! 2. the header format (exactly one `t`, at least one `v2`);
//! 3. the timestamp, which must be within the tolerance (default
//!    [`DEFAULT_TOLERANCE`], five minutes) of `now` in **both** directions, so
//!    that neither an old request nor one stamped in the future is replayable;
//! 4. the signatures, compared in constant time;
//! 5. only then, the JSON envelope, parsed from the verified bytes.
//!
//! There is one entry point, [`Webhook::verify`], and it is pure: the current
//! time is an argument (`now`, Unix seconds as `i64`; in a service pass
//! [`StdTimer::unix_now()`](crate::StdTimer::unix_now)). It returns a
//! [`VerifiedPayload`], which decodes as a [`WebhookEvent`]
//! ([`VerifiedPayload::event`]), a [`LogEventBatch`]
//! ([`VerifiedPayload::log_event_batch`]) or your own type
//! ([`VerifiedPayload::json`]). [`Webhook::construct_event`] is `verify`
//! then `event`, named as in the official SDKs.
//! [`Webhook::verify_ignoring_timestamp`] skips the time check for offline
//! re-processing of stored requests (there is no "tolerance 0 means off").
//! With an [`http::HeaderMap`], read the header with [`signature_header`].
//!
//! Always pass the **raw request body** exactly as received: the signature
//! covers those bytes, and re-serialized JSON will not match.
//!
//! # Example: a webhook handler
//!
//! ```
//! use authsignal_core::ApiSecretKey;
//! use authsignal_core::http::{HeaderMap, HeaderValue};
//! use authsignal_core::webhook::{self, Webhook, WebhookError, WebhookEvent, WebhookEventType};
//!
//! /// Called by your HTTP framework with the request headers and raw body;
//! /// `now` is `StdTimer::unix_now()` in a service.
//! fn handle(
//!     webhook: &Webhook,
//!     headers: &HeaderMap,
//!     raw_body: &[u8],
//!     now: i64,
//! ) -> Result<WebhookEvent, WebhookError> {
//!     let verified = webhook.verify(raw_body, webhook::signature_header(headers)?, now)?;
//!     let event = verified.event()?;
//!     match &event.event_type {
//!         WebhookEventType::EmailCreated => { /* send the email in event.data */ }
//!         WebhookEventType::Unknown(other) => { /* a type this SDK version doesn't know: {other} */ }
//!         _ => {}
//!     }
//!     Ok(event)
//! }
//!
//! let secret = ApiSecretKey::new("sk_test_example");
//! let webhook = Webhook::new(secret.clone());
//!
//! // What Authsignal would send (here signed with the test helper `sign`).
//! let body = br#"{"version":1,"type":"email.created","id":"bc1598bc","source":"https://authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"7752d28e","data":{"to":"user@example.com","code":"157743"}}"#;
//! let now = 1_740_016_316;
//! let mut headers = HeaderMap::new();
//! headers.insert("x-signature-v2", HeaderValue::try_from(webhook::sign(&secret, body, now)).unwrap());
//!
//! let event = handle(&webhook, &headers, body, now)?;
//! assert_eq!(event.event_type, WebhookEventType::EmailCreated);
//! assert_eq!(event.data["code"], "157743");
//!
//! // A tampered body, a request replayed ten minutes later, or one without
//! // the header is rejected.
//! let tampered = body.to_vec().into_iter().map(|b| if b == b'7' { b'8' } else { b }).collect::<Vec<_>>();
//! assert_eq!(handle(&webhook, &headers, &tampered, now), Err(WebhookError::NoMatchingSignature));
//! assert!(matches!(
//!     handle(&webhook, &headers, body, now + 600),
//!     Err(WebhookError::TimestampTooOld { .. })
//! ));
//! assert_eq!(handle(&webhook, &HeaderMap::new(), body, now), Err(WebhookError::MissingHeader));
//! # Ok::<(), WebhookError>(())
//! ```

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod envelope;
mod error;
mod header;
mod signing;
mod verify;

use std::time::Duration;

pub use envelope::{LogEvent, LogEventBatch, WebhookEvent, WebhookEventType};
pub use error::WebhookError;
pub use header::signature_header;
pub use signing::sign;
pub use verify::{VerifiedPayload, Webhook};

/// Name of the header that carries the webhook signature, in the lower case
/// that [`http::HeaderMap`] uses (header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "x-signature-v2";

/// Default tolerance between the signing time `t` and `now`: five minutes,
/// as documented by Authsignal. It applies in both directions.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// Longest signature header accepted, in bytes (8 KiB). Longer headers are
/// rejected with [`WebhookError::HeaderTooLarge`] before any HMAC work.
pub const MAX_HEADER_LEN: usize = 8 * 1024;

/// Most `v2` signatures accepted in one header. More are rejected with
/// [`WebhookError::HeaderTooLarge`] before any HMAC work.
pub const MAX_SIGNATURES: usize = 32;
