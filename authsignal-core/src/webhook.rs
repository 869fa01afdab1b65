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
//! Every check is pure: the current time is an argument (`now`, Unix seconds
//! as `i64`). The `*_now` methods read the system clock for you, and
//! [`Webhook::verify_ignoring_timestamp`] skips the time check for offline
//! re-processing of stored requests (there is no "tolerance 0 means off").
//!
//! Always pass the **raw request body** exactly as received: the signature
//! covers those bytes, and re-serialized JSON will not match.
//!
//! # Example: a webhook handler
//!
//! ```
//! use authsignal_core::ApiSecretKey;
//! use authsignal_core::webhook::{self, Webhook, WebhookError, WebhookEvent, WebhookEventType};
//!
//! /// Called by your HTTP framework with the raw body and the signature header.
//! fn handle(
//!     webhook: &Webhook,
//!     raw_body: &[u8],
//!     signature_header: &str,
//!     now: i64,
//! ) -> Result<WebhookEvent, WebhookError> {
//!     let event = webhook.construct_event(raw_body, signature_header, now)?;
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
//! let header = webhook::sign(&secret, body, now);
//!
//! let event = handle(&webhook, body, &header, now)?;
//! assert_eq!(event.event_type, WebhookEventType::EmailCreated);
//! assert_eq!(event.data["code"], "157743");
//!
//! // A tampered body, or a request replayed ten minutes later, is rejected.
//! let tampered = body.to_vec().into_iter().map(|b| if b == b'7' { b'8' } else { b }).collect::<Vec<_>>();
//! assert_eq!(handle(&webhook, &tampered, &header, now), Err(WebhookError::NoMatchingSignature));
//! assert!(matches!(
//!     handle(&webhook, body, &header, now + 600),
//!     Err(WebhookError::TimestampTooOld { .. })
//! ));
//! # Ok::<(), WebhookError>(())
//! ```

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::digest::{Digest as _, KeyInit};
use hmac::{Hmac, Mac as _};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::ApiSecretKey;

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

/// Decimal digits in `i64::MAX`; a longer `t` cannot be a valid timestamp.
const MAX_TIMESTAMP_DIGITS: usize = 19;

/// Longest base64 text (with padding) that can encode a SHA-256 digest.
const MAX_SIGNATURE_B64_LEN: usize = 44;

/// Standard alphabet; encodes without `=`, decodes with or without it, and
/// rejects non-canonical trailing bits.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type HmacSha256 = Hmac<Sha256>;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why a webhook request was rejected.
///
/// Neither `Display` nor `Debug` contains the secret key, the expected
/// signature, the signatures from the header or any byte of the payload:
/// reasons are fixed texts, durations, or (for [`WebhookError::InvalidPayload`]
/// from a JSON error) the error's category and position only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The request has no `x-signature-v2` header (only returned by the
    /// [`http::HeaderMap`] helpers).
    #[error("webhook request has no `x-signature-v2` header")]
    MissingHeader,

    /// The signature header does not have the form `t=<unix seconds>,v2=<signature>[,v2=…]`.
    #[error("webhook signature header is malformed: {reason}")]
    MalformedHeader {
        /// A short, fixed description of the problem.
        reason: &'static str,
    },

    /// The signature header is longer than [`MAX_HEADER_LEN`] bytes or carries
    /// more than [`MAX_SIGNATURES`] signatures. Checked before any HMAC work.
    #[error("webhook signature header is too large: {reason}")]
    HeaderTooLarge {
        /// Which limit was exceeded.
        reason: &'static str,
    },

    /// The request was signed longer ago than the tolerance allows: it may be
    /// a replay.
    #[error(
        "webhook timestamp is too old: signed {}s before now, tolerance is {}s",
        .age.as_secs(),
        .tolerance.as_secs()
    )]
    TimestampTooOld {
        /// How long before `now` the request was signed (whole seconds).
        age: Duration,
        /// The tolerance in force.
        tolerance: Duration,
    },

    /// The request claims to be signed further in the future than the
    /// tolerance allows. Usually the receiving server's clock is behind.
    #[error(
        "webhook timestamp is {}s in the future, beyond the {}s tolerance; \
         check the receiving server's clock (clock skew)",
        .ahead.as_secs(),
        .tolerance.as_secs()
    )]
    TimestampInFuture {
        /// How far after `now` the request claims to be signed (whole seconds).
        ahead: Duration,
        /// The tolerance in force.
        tolerance: Duration,
    },

    /// No `v2` signature in the header matches the payload for any of the
    /// verifier's keys (wrong key, or tampered body or timestamp).
    #[error("no webhook signature matches the payload (signature mismatch)")]
    NoMatchingSignature,

    /// The signature is valid, but the payload is not the expected JSON
    /// envelope.
    #[error("webhook payload is invalid: {reason}")]
    InvalidPayload {
        /// A short description of the problem (never contains payload values).
        reason: Cow<'static, str>,
    },

    /// A log-event batch (`{"records": [...]}`) was passed to the single-event
    /// API ([`Webhook::construct_event`]).
    #[error("payload is a batch of log events; use construct_log_event_batch")]
    BatchPassedToEventApi,

    /// The log-event-batch API ([`Webhook::construct_log_event_batch`]) got a
    /// payload without a `records` array.
    #[error(
        "payload is not a batch of log events: expected a 'records' array; \
         use construct_event for single events"
    )]
    MissingRecords,
}

impl WebhookError {
    const fn malformed(reason: &'static str) -> Self {
        Self::MalformedHeader { reason }
    }

    const fn invalid_payload(reason: &'static str) -> Self {
        Self::InvalidPayload {
            reason: Cow::Borrowed(reason),
        }
    }
}

// ---------------------------------------------------------------------------
// Header parsing
// ---------------------------------------------------------------------------

/// The parsed signature header.
struct SignatureHeader<'h> {
    timestamp: i64,
    signatures: Vec<&'h str>,
}

fn parse_header(header: &str) -> Result<SignatureHeader<'_>, WebhookError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(WebhookError::HeaderTooLarge {
            reason: "longer than 8192 bytes",
        });
    }

    let mut timestamp: Option<i64> = None;
    let mut signatures: Vec<&str> = Vec::new();

    for item in header.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            // Empty items (a trailing comma) and items without `=` carry no
            // `t` or `v2`; like unknown keys, they are ignored.
            continue;
        };
        let value = value.trim_ascii();
        match key.trim_ascii() {
            "t" => {
                if timestamp.is_some() {
                    return Err(WebhookError::malformed("more than one 't' item"));
                }
                timestamp = Some(parse_timestamp(value)?);
            }
            "v2" => {
                if signatures.len() >= MAX_SIGNATURES {
                    return Err(WebhookError::HeaderTooLarge {
                        reason: "more than 32 'v2' signatures",
                    });
                }
                signatures.push(value);
            }
            // `v1`, a future `v3`, …
            _ => {}
        }
    }

    let Some(timestamp) = timestamp else {
        return Err(WebhookError::malformed("no 't' timestamp"));
    };
    if signatures.is_empty() {
        return Err(WebhookError::malformed("no 'v2' signature"));
    }
    Ok(SignatureHeader {
        timestamp,
        signatures,
    })
}

fn parse_timestamp(value: &str) -> Result<i64, WebhookError> {
    const REASON: &str = "'t' is not a non-negative integer number of seconds";
    if value.is_empty()
        || value.len() > MAX_TIMESTAMP_DIGITS
        || !value.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(WebhookError::malformed(REASON));
    }
    value
        .parse::<i64>()
        .map_err(|_| WebhookError::malformed(REASON))
}

// ---------------------------------------------------------------------------
// HMAC
// ---------------------------------------------------------------------------

/// An HMAC-SHA256 state keyed with one API secret. Its `Debug` is redacted.
#[derive(Clone)]
struct SigningKey(HmacSha256);

impl SigningKey {
    fn new(secret: &ApiSecretKey) -> Self {
        Self(keyed_hmac(secret.expose_secret().as_bytes()))
    }

    /// The MAC state after absorbing `"{t}.{payload}"`, ready to finalize.
    fn absorb(&self, timestamp: i64, payload: &[u8]) -> HmacSha256 {
        let mut mac = self.0.clone();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        mac
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// HMAC-SHA256 keyed with `key`, built without a fallible call: the key is
/// normalized to one SHA-256 block exactly as RFC 2104 specifies (hashed when
/// longer than a block, then zero-padded), which is what
/// `Hmac::new_from_slice` does internally.
fn keyed_hmac(key: &[u8]) -> HmacSha256 {
    let mut block = hmac::digest::Key::<HmacSha256>::default();
    let hashed;
    let key = if key.len() > block.len() {
        hashed = Sha256::digest(key);
        hashed.as_slice()
    } else {
        key
    };
    for (dst, src) in block.iter_mut().zip(key) {
        *dst = *src;
    }
    <HmacSha256 as KeyInit>::new(&block)
}

/// Decodes one `v2` candidate; `None` if it cannot possibly be a SHA-256 MAC.
fn decode_signature(candidate: &str) -> Option<Vec<u8>> {
    if candidate.is_empty() || candidate.len() > MAX_SIGNATURE_B64_LEN {
        return None;
    }
    BASE64.decode(candidate).ok()
}

/// Signs `payload` as Authsignal does and returns the complete
/// `x-signature-v2` header value, `t=<timestamp>,v2=<signature>`.
///
/// Use it in your own tests to produce requests that [`Webhook`] accepts.
/// `timestamp` is Unix seconds; a negative one gives a header that no verifier
/// accepts (the format requires a non-negative `t`).
///
/// ```
/// use authsignal_core::ApiSecretKey;
/// use authsignal_core::webhook::{sign, Webhook};
///
/// let secret = ApiSecretKey::new("test-secret-key-123");
/// let header = sign(&secret, b"{}", 1630000000);
/// assert_eq!(header, "t=1630000000,v2=5A34twV5yi1Tr0WX6lDL2A6Q0HumnxL7eWzln9LqYKI");
/// assert!(Webhook::new(secret).verify(b"{}", &header, 1630000000).is_ok());
/// ```
#[must_use]
pub fn sign(secret: &ApiSecretKey, payload: &[u8], timestamp: i64) -> String {
    let tag = SigningKey::new(secret)
        .absorb(timestamp, payload)
        .finalize()
        .into_bytes();
    format!("t={timestamp},v2={}", BASE64.encode(tag))
}

// ---------------------------------------------------------------------------
// HeaderMap helper
// ---------------------------------------------------------------------------

/// Reads the `x-signature-v2` header from `headers` (header names are
/// case-insensitive).
///
/// # Errors
///
/// [`WebhookError::MissingHeader`] when absent; [`WebhookError::MalformedHeader`]
/// when it is present more than once or is not visible ASCII.
///
/// ```
/// use authsignal_core::webhook::{signature_header, WebhookError};
/// use http::{HeaderMap, HeaderValue};
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(signature_header(&headers), Err(WebhookError::MissingHeader));
/// headers.insert("X-Signature-V2", HeaderValue::from_static("t=1,v2=abc"));
/// assert_eq!(signature_header(&headers), Ok("t=1,v2=abc"));
/// ```
pub fn signature_header(headers: &http::HeaderMap) -> Result<&str, WebhookError> {
    let mut values = headers.get_all(SIGNATURE_HEADER).iter();
    let Some(value) = values.next() else {
        return Err(WebhookError::MissingHeader);
    };
    if values.next().is_some() {
        return Err(WebhookError::malformed("header present more than once"));
    }
    value
        .to_str()
        .map_err(|_| WebhookError::malformed("header is not visible ASCII"))
}

// ---------------------------------------------------------------------------
// Verifier
// ---------------------------------------------------------------------------

/// Verifies Authsignal webhook requests.
///
/// Built from the tenant's [`ApiSecretKey`]; during a key rotation on your
/// side add the other active key with [`Webhook::with_additional_key`]. Its
/// `Debug` never prints a key.
///
/// ```
/// use std::time::Duration;
/// use authsignal_core::ApiSecretKey;
/// use authsignal_core::webhook::Webhook;
///
/// let webhook = Webhook::new(ApiSecretKey::new("sk_new"))
///     .with_additional_key(ApiSecretKey::new("sk_old"))
///     .tolerance(Duration::from_secs(120));
/// assert!(!format!("{webhook:?}").contains("sk_"));
/// ```
#[derive(Clone)]
pub struct Webhook {
    keys: Vec<SigningKey>,
    tolerance: Duration,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("keys", &format_args!("<{} redacted>", self.keys.len()))
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl Webhook {
    /// A verifier for requests signed with `secret`, with the
    /// [`DEFAULT_TOLERANCE`] of five minutes.
    #[must_use]
    pub fn new(secret: ApiSecretKey) -> Self {
        Self {
            keys: vec![SigningKey::new(&secret)],
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Also accepts signatures made with `secret` (for example the old key
    /// while you rotate API keys). A request passes if any of its `v2`
    /// signatures matches any key.
    #[must_use]
    pub fn with_additional_key(mut self, secret: ApiSecretKey) -> Self {
        self.keys.push(SigningKey::new(&secret));
        self
    }

    /// Sets how far `t` may be from `now`, in either direction (inclusive).
    /// Sub-second parts are ignored, since `t` has whole seconds. To skip the
    /// time check, call [`Webhook::verify_ignoring_timestamp`] instead.
    #[must_use]
    pub const fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The tolerance in force.
    #[must_use]
    pub const fn current_tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Verifies `header` (the `x-signature-v2` value) against the raw
    /// `payload`, with `now` as the current Unix time in seconds.
    ///
    /// This is the primary, pure entry point. Order of checks: header size,
    /// header format, timestamp, signatures. On success, decode the payload
    /// with [`VerifiedPayload::event`], [`VerifiedPayload::log_event_batch`]
    /// or [`VerifiedPayload::json`].
    ///
    /// # Errors
    ///
    /// [`WebhookError::HeaderTooLarge`], [`WebhookError::MalformedHeader`],
    /// [`WebhookError::TimestampTooOld`], [`WebhookError::TimestampInFuture`]
    /// or [`WebhookError::NoMatchingSignature`].
    pub fn verify<'p>(
        &self,
        payload: &'p [u8],
        header: &str,
        now: i64,
    ) -> Result<VerifiedPayload<'p>, WebhookError> {
        let parsed = parse_header(header)?;
        self.check_timestamp(parsed.timestamp, now)?;
        self.check_signatures(&parsed, payload)
    }

    /// [`Webhook::verify`] with `now` read from the system clock.
    ///
    /// # Errors
    ///
    /// As [`Webhook::verify`].
    pub fn verify_now<'p>(
        &self,
        payload: &'p [u8],
        header: &str,
    ) -> Result<VerifiedPayload<'p>, WebhookError> {
        self.verify(payload, header, unix_now())
    }

    /// Verifies the signatures **without** the timestamp check, for
    /// re-processing stored requests. Do not use it for live traffic: it
    /// accepts replays of any request ever signed with the key.
    ///
    /// # Errors
    ///
    /// [`WebhookError::HeaderTooLarge`], [`WebhookError::MalformedHeader`] or
    /// [`WebhookError::NoMatchingSignature`].
    pub fn verify_ignoring_timestamp<'p>(
        &self,
        payload: &'p [u8],
        header: &str,
    ) -> Result<VerifiedPayload<'p>, WebhookError> {
        let parsed = parse_header(header)?;
        self.check_signatures(&parsed, payload)
    }

    /// [`Webhook::verify`] with the header read from `headers`.
    ///
    /// # Errors
    ///
    /// As [`signature_header`] and [`Webhook::verify`].
    pub fn verify_headers<'p>(
        &self,
        payload: &'p [u8],
        headers: &http::HeaderMap,
        now: i64,
    ) -> Result<VerifiedPayload<'p>, WebhookError> {
        self.verify(payload, signature_header(headers)?, now)
    }

    /// Verifies the request and decodes a single [`WebhookEvent`].
    ///
    /// # Errors
    ///
    /// As [`Webhook::verify`], then as [`VerifiedPayload::event`].
    pub fn construct_event(
        &self,
        payload: &[u8],
        header: &str,
        now: i64,
    ) -> Result<WebhookEvent, WebhookError> {
        self.verify(payload, header, now)?.event()
    }

    /// [`Webhook::construct_event`] with `now` read from the system clock.
    ///
    /// # Errors
    ///
    /// As [`Webhook::construct_event`].
    pub fn construct_event_now(
        &self,
        payload: &[u8],
        header: &str,
    ) -> Result<WebhookEvent, WebhookError> {
        self.construct_event(payload, header, unix_now())
    }

    /// [`Webhook::construct_event`] with the header read from `headers`.
    ///
    /// # Errors
    ///
    /// As [`signature_header`] and [`Webhook::construct_event`].
    pub fn construct_event_from_headers(
        &self,
        payload: &[u8],
        headers: &http::HeaderMap,
        now: i64,
    ) -> Result<WebhookEvent, WebhookError> {
        self.verify_headers(payload, headers, now)?.event()
    }

    /// Verifies the request and decodes a [`LogEventBatch`]
    /// (`action.log_created`, `challenge.log_created`).
    ///
    /// # Errors
    ///
    /// As [`Webhook::verify`], then as [`VerifiedPayload::log_event_batch`].
    pub fn construct_log_event_batch(
        &self,
        payload: &[u8],
        header: &str,
        now: i64,
    ) -> Result<LogEventBatch, WebhookError> {
        self.verify(payload, header, now)?.log_event_batch()
    }

    /// [`Webhook::construct_log_event_batch`] with `now` read from the system
    /// clock.
    ///
    /// # Errors
    ///
    /// As [`Webhook::construct_log_event_batch`].
    pub fn construct_log_event_batch_now(
        &self,
        payload: &[u8],
        header: &str,
    ) -> Result<LogEventBatch, WebhookError> {
        self.construct_log_event_batch(payload, header, unix_now())
    }

    /// [`Webhook::construct_log_event_batch`] with the header read from
    /// `headers`.
    ///
    /// # Errors
    ///
    /// As [`signature_header`] and [`Webhook::construct_log_event_batch`].
    pub fn construct_log_event_batch_from_headers(
        &self,
        payload: &[u8],
        headers: &http::HeaderMap,
        now: i64,
    ) -> Result<LogEventBatch, WebhookError> {
        self.verify_headers(payload, headers, now)?
            .log_event_batch()
    }

    fn check_timestamp(&self, timestamp: i64, now: i64) -> Result<(), WebhookError> {
        let tolerance = i128::from(self.tolerance.as_secs());
        // i64 - i64 always fits in i128; checked anyway to stay panic-free.
        let Some(age) = i128::from(now).checked_sub(i128::from(timestamp)) else {
            return Err(WebhookError::malformed("timestamp out of range"));
        };
        if age > tolerance {
            return Err(WebhookError::TimestampTooOld {
                age: whole_seconds(age),
                tolerance: self.tolerance,
            });
        }
        let ahead = age.checked_neg().unwrap_or(i128::MAX);
        if ahead > tolerance {
            return Err(WebhookError::TimestampInFuture {
                ahead: whole_seconds(ahead),
                tolerance: self.tolerance,
            });
        }
        Ok(())
    }

    fn check_signatures<'p>(
        &self,
        header: &SignatureHeader<'_>,
        payload: &'p [u8],
    ) -> Result<VerifiedPayload<'p>, WebhookError> {
        let candidates: Vec<Vec<u8>> = header
            .signatures
            .iter()
            .filter_map(|s| decode_signature(s))
            .collect();
        if !candidates.is_empty() {
            for key in &self.keys {
                let absorbed = key.absorb(header.timestamp, payload);
                // A cloned MAC per candidate; `verify_slice` compares in
                // constant time and rejects wrong lengths.
                if candidates
                    .iter()
                    .any(|candidate| absorbed.clone().verify_slice(candidate).is_ok())
                {
                    return Ok(VerifiedPayload {
                        payload,
                        timestamp: header.timestamp,
                    });
                }
            }
        }
        Err(WebhookError::NoMatchingSignature)
    }
}

fn whole_seconds(secs: i128) -> Duration {
    Duration::from_secs(u64::try_from(secs).unwrap_or(u64::MAX))
}

/// The system clock as Unix seconds (negative before 1970, saturating).
fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs())
            .map_or(i64::MIN, |secs| 0_i64.saturating_sub(secs)),
    }
}

// ---------------------------------------------------------------------------
// Verified payload
// ---------------------------------------------------------------------------

/// A request body whose signature has been verified. Only a
/// [`Webhook`] can make one, so decoding from it never parses unverified
/// bytes. Its `Debug` shows the length and timestamp, not the body.
#[derive(Clone, Copy)]
pub struct VerifiedPayload<'p> {
    payload: &'p [u8],
    timestamp: i64,
}

impl fmt::Debug for VerifiedPayload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedPayload")
            .field("len", &self.payload.len())
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

impl<'p> VerifiedPayload<'p> {
    /// The verified raw body.
    #[must_use]
    pub const fn as_bytes(&self) -> &'p [u8] {
        self.payload
    }

    /// The signing time `t` from the header, in Unix seconds.
    #[must_use]
    pub const fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// Decodes a single [`WebhookEvent`].
    ///
    /// # Errors
    ///
    /// [`WebhookError::BatchPassedToEventApi`] for a `{"records": …}` batch;
    /// [`WebhookError::InvalidPayload`] when the body is not a JSON object or
    /// an envelope field (`version`, `type`, `id`, `source`, `time`,
    /// `tenantId`, `data`) is missing, empty or of the wrong type.
    pub fn event(&self) -> Result<WebhookEvent, WebhookError> {
        let mut object = parse_object(self.payload)?;
        if object.contains_key("records") {
            return Err(WebhookError::BatchPassedToEventApi);
        }
        let envelope = Envelope::take(&mut object)?;
        let data = take_object(&mut object, "data", "missing field 'data' or not an object")?;
        Ok(WebhookEvent {
            version: envelope.version,
            event_type: envelope.event_type,
            id: envelope.id,
            source: envelope.source,
            time: envelope.time,
            tenant_id: envelope.tenant_id,
            data,
        })
    }

    /// Decodes a [`LogEventBatch`].
    ///
    /// # Errors
    ///
    /// [`WebhookError::MissingRecords`] when the body is an object without a
    /// `records` array; [`WebhookError::InvalidPayload`] when it is not a
    /// JSON object or a record lacks an envelope field or `record`.
    pub fn log_event_batch(&self) -> Result<LogEventBatch, WebhookError> {
        let mut object = parse_object(self.payload)?;
        let Some(Value::Array(items)) = object.remove("records") else {
            return Err(WebhookError::MissingRecords);
        };
        let records = items
            .into_iter()
            .map(|item| {
                let Value::Object(mut item) = item else {
                    return Err(WebhookError::invalid_payload(
                        "a log event in 'records' is not an object",
                    ));
                };
                let envelope = Envelope::take(&mut item)?;
                let record = take_object(
                    &mut item,
                    "record",
                    "a log event is missing field 'record' or it is not an object",
                )?;
                Ok(LogEvent {
                    version: envelope.version,
                    event_type: envelope.event_type,
                    id: envelope.id,
                    source: envelope.source,
                    time: envelope.time,
                    tenant_id: envelope.tenant_id,
                    record,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LogEventBatch { records })
    }

    /// Decodes the body into your own type.
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidPayload`] when the body does not deserialize
    /// into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, WebhookError> {
        serde_json::from_slice(self.payload).map_err(|error| json_error(&error))
    }
}

fn json_error(error: &serde_json::Error) -> WebhookError {
    WebhookError::InvalidPayload {
        reason: Cow::Owned(crate::endpoint::describe_json_error(error)),
    }
}

fn parse_object(payload: &[u8]) -> Result<Map<String, Value>, WebhookError> {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(WebhookError::invalid_payload("not a JSON object")),
        Err(error) => Err(json_error(&error)),
    }
}

fn take_object(
    object: &mut Map<String, Value>,
    field: &str,
    reason: &'static str,
) -> Result<Value, WebhookError> {
    match object.remove(field) {
        Some(value @ Value::Object(_)) => Ok(value),
        _ => Err(WebhookError::invalid_payload(reason)),
    }
}

/// The fields shared by events and log events.
struct Envelope {
    version: u32,
    event_type: WebhookEventType,
    id: String,
    source: String,
    time: String,
    tenant_id: String,
}

impl Envelope {
    fn take(object: &mut Map<String, Value>) -> Result<Self, WebhookError> {
        let version = object
            .get("version")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v > 0)
            .ok_or(WebhookError::invalid_payload(
                "missing field 'version' or not a positive integer",
            ))?;
        let event_type = take_string(object, "type", "missing or empty field 'type'")?;
        Ok(Self {
            version,
            event_type: WebhookEventType::from(event_type),
            id: take_string(object, "id", "missing or empty field 'id'")?,
            source: take_string(object, "source", "missing or empty field 'source'")?,
            time: take_string(object, "time", "missing or empty field 'time'")?,
            tenant_id: take_string(object, "tenantId", "missing or empty field 'tenantId'")?,
        })
    }
}

fn take_string(
    object: &mut Map<String, Value>,
    field: &str,
    reason: &'static str,
) -> Result<String, WebhookError> {
    match object.remove(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(WebhookError::invalid_payload(reason)),
    }
}

// ---------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------

/// A single webhook event, e.g. `email.created` or `action.verify`.
///
/// Unknown JSON fields are ignored. When produced by [`Webhook`], every field
/// has been checked to be present and non-empty, and `data` is a JSON object.
///
/// # Redacted `Debug`
///
/// `data` can hold an OTP code, a magic link, an email address or a phone
/// number, so `Debug` prints the envelope fields (`version`, `event_type`,
/// `id`, `source`, `time`, `tenant_id`) and only the **keys** of `data`, each
/// with the value `<redacted>`. Read values from `data` explicitly.
///
/// ```
/// use authsignal_core::webhook::WebhookEvent;
///
/// let event: WebhookEvent = serde_json::from_str(
///     r#"{"version":1,"type":"email.created","id":"e1","source":"https://authsignal.com",
///         "time":"2025-02-20T01:51:56.070Z","tenantId":"t1",
///         "data":{"to":"user@example.com","code":"157743"}}"#,
/// )?;
/// let printed = format!("{event:?}");
/// assert!(printed.contains(r#""code": <redacted>"#) && printed.contains(r#""to": <redacted>"#));
/// assert!(!printed.contains("157743") && !printed.contains("user@example.com"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookEvent {
    /// Envelope version (`1` today).
    pub version: u32,
    /// The event type (JSON `type`).
    #[serde(rename = "type")]
    pub event_type: WebhookEventType,
    /// Unique event id (a UUID).
    pub id: String,
    /// Sender, `https://authsignal.com`.
    pub source: String,
    /// When the event happened, ISO-8601 text as sent.
    pub time: String,
    /// The tenant the event belongs to.
    pub tenant_id: String,
    /// Event-specific payload (a JSON object); nested and non-string values
    /// such as `customVariables` are kept as they are.
    pub data: Value,
}

/// A batch of log events (`{"records": [...]}`), as delivered for
/// `action.log_created` and `challenge.log_created`.
///
/// Its `Debug` lists the records with [`LogEvent`]'s redacted `Debug`: no
/// value from any `record` is printed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LogEventBatch {
    /// The log events, in the order sent.
    pub records: Vec<LogEvent>,
}

/// One log event of a [`LogEventBatch`].
///
/// # Redacted `Debug`
///
/// `record` can hold tokens, codes and user details, so `Debug` prints the
/// envelope fields and only the **keys** of `record`, each with the value
/// `<redacted>`, as [`WebhookEvent`] does for `data`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LogEvent {
    /// Envelope version (`1` today).
    pub version: u32,
    /// The event type (JSON `type`), e.g. `action.log_created`.
    #[serde(rename = "type")]
    pub event_type: WebhookEventType,
    /// Unique event id (a UUID).
    pub id: String,
    /// Sender, `https://authsignal.com`.
    pub source: String,
    /// When the event happened, ISO-8601 text as sent.
    pub time: String,
    /// The tenant the event belongs to.
    pub tenant_id: String,
    /// The logged record (a JSON object).
    pub record: Value,
}

impl fmt::Debug for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEvent")
            .field("version", &self.version)
            .field("event_type", &self.event_type)
            .field("id", &self.id)
            .field("source", &self.source)
            .field("time", &self.time)
            .field("tenant_id", &self.tenant_id)
            .field("data", &RedactedJson(&self.data))
            .finish()
    }
}

impl fmt::Debug for LogEventBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogEventBatch")
            .field("records", &self.records)
            .finish()
    }
}

impl fmt::Debug for LogEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogEvent")
            .field("version", &self.version)
            .field("event_type", &self.event_type)
            .field("id", &self.id)
            .field("source", &self.source)
            .field("time", &self.time)
            .field("tenant_id", &self.tenant_id)
            .field("record", &RedactedJson(&self.record))
            .finish()
    }
}

/// `Debug` for a payload value that shows its top-level keys, never a value:
/// an object prints as `{"key": <redacted>, …}`, anything else as
/// `<redacted>`.
struct RedactedJson<'a>(&'a Value);

impl fmt::Debug for RedactedJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Object(object) => f
                .debug_map()
                .entries(object.keys().map(|key| (key, Redacted)))
                .finish(),
            _ => Redacted.fmt(f),
        }
    }
}

/// Prints `<redacted>` in place of a value.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

crate::enums::open_enum! {
    /// The type of a webhook event (JSON `type`).
    ///
    /// Open: a type this version of the SDK does not know decodes as
    /// `Unknown` and serializes back unchanged.
    ///
    /// ```
    /// use authsignal_core::webhook::WebhookEventType;
    ///
    /// assert_eq!(WebhookEventType::from("sms.created"), WebhookEventType::SmsCreated);
    /// let future = WebhookEventType::from("user.deleted");
    /// assert_eq!(future.as_str(), "user.deleted");
    /// assert!(future.is_unknown());
    /// ```
    pub enum WebhookEventType {
        /// `email.created`: send an email OTP or magic link (synchronous).
        EmailCreated = "email.created",
        /// `sms.created`: send an SMS OTP (synchronous).
        SmsCreated = "sms.created",
        /// `push.created`: send a push notification (synchronous).
        PushCreated = "push.created",
        /// `authenticator.created` (asynchronous).
        AuthenticatorCreated = "authenticator.created",
        /// `authenticator.updated` (asynchronous).
        AuthenticatorUpdated = "authenticator.updated",
        /// `authenticator.deleted` (asynchronous).
        AuthenticatorDeleted = "authenticator.deleted",
        /// `action.verify`: can block the transition (synchronous).
        ActionVerify = "action.verify",
        /// `action.log_created`, delivered in a [`LogEventBatch`].
        ActionLogCreated = "action.log_created",
        /// `challenge.log_created`, delivered in a [`LogEventBatch`].
        ChallengeLogCreated = "challenge.log_created",
    }
}
