//! Why a webhook request was rejected.

use std::borrow::Cow;
use std::time::Duration;

/// Why a webhook request was rejected.
///
/// Neither `Display` nor `Debug` contains the secret key, the expected
/// signature, the signatures from the header or any byte of the payload:
/// reasons are fixed texts, durations, or (for [`WebhookError::InvalidPayload`]
/// from a JSON error) the error's category and position only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The request has no `x-signature-v2` header (only returned by
    /// [`signature_header`](super::signature_header)).
    #[error("webhook request has no `x-signature-v2` header")]
    MissingHeader,

    /// The signature header does not have the form `t=<unix seconds>,v2=<signature>[,v2=…]`.
    #[error("webhook signature header is malformed: {reason}")]
    MalformedHeader {
        /// A short, fixed description of the problem.
        reason: &'static str,
    },

    /// The signature header is longer than [`MAX_HEADER_LEN`](super::MAX_HEADER_LEN) bytes or carries
    /// more than [`MAX_SIGNATURES`](super::MAX_SIGNATURES) signatures. Checked before any HMAC work.
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

    /// A log-event batch (`{"records": [...]}`) was decoded as a single
    /// event ([`VerifiedPayload::event`](super::VerifiedPayload::event) or
    /// [`Webhook::construct_event`](super::Webhook::construct_event)).
    #[error("payload is a batch of log events; decode it with log_event_batch()")]
    BatchPassedToEventApi,

    /// A payload without a `records` array was decoded as a log-event batch
    /// ([`VerifiedPayload::log_event_batch`](super::VerifiedPayload::log_event_batch)).
    #[error(
        "payload is not a batch of log events: expected a 'records' array; \
         decode single events with event()"
    )]
    MissingRecords,
}

impl WebhookError {
    pub(super) const fn malformed(reason: &'static str) -> Self {
        Self::MalformedHeader { reason }
    }

    pub(super) const fn invalid_payload(reason: &'static str) -> Self {
        Self::InvalidPayload {
            reason: Cow::Borrowed(reason),
        }
    }
}
