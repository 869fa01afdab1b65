//! [`Webhook`]: the keys, the tolerance and the order of the checks, and the
//! [`VerifiedPayload`] it hands out.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::ApiSecretKey;

use super::envelope;
use super::header::{SignatureHeader, parse_header};
use super::signing::{SigningKey, decode_signature};
use super::{DEFAULT_TOLERANCE, LogEventBatch, WebhookError, WebhookEvent};

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
///     .with_tolerance(Duration::from_secs(120));
/// assert_eq!(webhook.tolerance(), Duration::from_secs(120));
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
    pub const fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The tolerance in force: [`DEFAULT_TOLERANCE`] unless set with
    /// [`Webhook::with_tolerance`].
    #[must_use]
    pub const fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Verifies `signature_header` (the `x-signature-v2` value) against the
    /// raw `payload`, with `now` as the current Unix time in seconds.
    ///
    /// This is the entry point. The checks run in this order: header size,
    /// header format, timestamp, signatures. On success, decode the payload
    /// with [`VerifiedPayload::event`], [`VerifiedPayload::log_event_batch`]
    /// or [`VerifiedPayload::json`].
    ///
    /// `now` is an argument, so verification is pure and testable; in a
    /// service pass [`StdTimer::unix_now()`](crate::StdTimer::unix_now). With
    /// an [`http::HeaderMap`], read the header with
    /// [`signature_header`](super::signature_header) first.
    ///
    /// ```
    /// use authsignal_core::{ApiSecretKey, StdTimer};
    /// use authsignal_core::webhook::{self, Webhook, WebhookEventType};
    /// use http::{HeaderMap, HeaderValue};
    ///
    /// let secret = ApiSecretKey::new("sk_test_example");
    /// let now = StdTimer::unix_now();
    /// let body = br#"{"records":[]}"#;
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-signature-v2", HeaderValue::try_from(webhook::sign(&secret, body, now))?);
    ///
    /// let verified = Webhook::new(secret).verify(body, webhook::signature_header(&headers)?, now)?;
    /// assert!(verified.log_event_batch()?.records.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WebhookError::HeaderTooLarge`], [`WebhookError::MalformedHeader`],
    /// [`WebhookError::TimestampTooOld`], [`WebhookError::TimestampInFuture`]
    /// or [`WebhookError::NoMatchingSignature`].
    pub fn verify<'p>(
        &self,
        payload: &'p [u8],
        signature_header: &str,
        now: i64,
    ) -> Result<VerifiedPayload<'p>, WebhookError> {
        let parsed = parse_header(signature_header)?;
        self.check_timestamp(parsed.timestamp, now)?;
        self.check_signatures(&parsed, payload)
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
        signature_header: &str,
    ) -> Result<VerifiedPayload<'p>, WebhookError> {
        let parsed = parse_header(signature_header)?;
        self.check_signatures(&parsed, payload)
    }

    /// Verifies the request and decodes a single [`WebhookEvent`]: the same
    /// as `self.verify(payload, signature_header, now)?.event()`, under the
    /// name the official SDKs use (`constructEvent`).
    ///
    /// # Errors
    ///
    /// As [`Webhook::verify`], then as [`VerifiedPayload::event`].
    pub fn construct_event(
        &self,
        payload: &[u8],
        signature_header: &str,
        now: i64,
    ) -> Result<WebhookEvent, WebhookError> {
        self.verify(payload, signature_header, now)?.event()
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
        // Any `v2` may match any key: during a rotation each active key
        // contributes one signature.
        let matched = !candidates.is_empty()
            && self
                .keys
                .iter()
                .any(|key| key.matches_any(header.timestamp, payload, &candidates));
        if matched {
            return Ok(VerifiedPayload {
                payload,
                timestamp: header.timestamp,
            });
        }
        Err(WebhookError::NoMatchingSignature)
    }
}

fn whole_seconds(secs: i128) -> Duration {
    Duration::from_secs(u64::try_from(secs).unwrap_or(u64::MAX))
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
        envelope::decode_event(self.payload)
    }

    /// Decodes a [`LogEventBatch`].
    ///
    /// # Errors
    ///
    /// [`WebhookError::MissingRecords`] when the body is an object without a
    /// `records` array; [`WebhookError::InvalidPayload`] when it is not a
    /// JSON object or a record lacks an envelope field or `record`.
    pub fn log_event_batch(&self) -> Result<LogEventBatch, WebhookError> {
        envelope::decode_log_event_batch(self.payload)
    }

    /// Decodes the body into your own type.
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidPayload`] when the body does not deserialize
    /// into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, WebhookError> {
        envelope::decode_json(self.payload)
    }
}
