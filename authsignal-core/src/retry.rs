//! The retry policy: a pure function from one attempt's outcome to "stop" or
//! "retry after this delay". Clients run it; transports only sleep and
//! supply jitter.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use http::{HeaderMap, StatusCode, header};

use crate::TransportErrorKind;

/// Whether repeating a request can have a different effect than sending it once.
///
/// Each endpoint declares its class once, in core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// Repeating has no further effect (reads, PATCH/DELETE, revocations):
    /// retried after server errors and timeouts.
    Idempotent,
    /// Repeating may act twice (track, send an OTP, rotate a token): retried
    /// only when the request provably was not processed.
    NonIdempotent,
}

/// What one attempt produced, as seen by the retry policy.
#[derive(Debug, Clone, Copy)]
pub enum AttemptOutcome<'a> {
    /// A response arrived.
    Response {
        /// Its status.
        status: StatusCode,
        /// Its headers (for `Retry-After` and `Date`).
        headers: &'a HeaderMap,
    },
    /// The transport failed.
    Transport(TransportErrorKind),
}

/// The policy's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Return this outcome to the caller.
    Stop,
    /// Wait this long, then send the request again.
    RetryAfter(Duration),
}

/// When and how long to wait before sending a request again.
///
/// Defaults: 2 retries; backoff 200 ms × 2ⁿ capped at 5 s with equal jitter;
/// `Retry-After` honoured up to 10 s (a longer wait is not retried at all);
/// an overall deadline of 30 s across attempts.
///
/// ```
/// use std::time::Duration;
/// use authsignal_core::{AttemptOutcome, Idempotency, RetryDecision, RetryPolicy};
/// let policy = RetryPolicy::default();
/// let headers = http::HeaderMap::new();
/// let outcome = AttemptOutcome::Response { status: http::StatusCode::SERVICE_UNAVAILABLE, headers: &headers };
/// // A GET is retried after a 503, a POST that may have sent an OTP is not.
/// assert!(matches!(policy.decide(1, Idempotency::Idempotent, outcome, 0.5), RetryDecision::RetryAfter(_)));
/// assert_eq!(policy.decide(1, Idempotency::NonIdempotent, outcome, 0.5), RetryDecision::Stop);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt; `0` disables retries.
    pub max_retries: u32,
    /// The backoff before the first retry.
    pub initial_backoff: Duration,
    /// The largest backoff between attempts.
    pub max_backoff: Duration,
    /// The longest `Retry-After` the client will wait; a longer one stops
    /// retrying and returns the error with the delay exposed.
    pub max_retry_after: Duration,
    /// The longest time from the first attempt to the start of the last;
    /// no retry is started that would begin after it.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(10),
            deadline: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn no_retries() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets the number of retries.
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets the initial and maximum backoff.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Sets the longest `Retry-After` honoured.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Sets the overall deadline across attempts.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Decides what to do after attempt number `attempt` (1-based).
    ///
    /// `jitter` is a number in `[0, 1]` from the caller's random source; the
    /// backoff delay is `d/2 + jitter·d/2` with `d = min(max, initial·2^(attempt-1))`.
    pub fn decide(
        &self,
        attempt: u32,
        idempotency: Idempotency,
        outcome: AttemptOutcome<'_>,
        jitter: f64,
    ) -> RetryDecision {
        if attempt > self.max_retries {
            return RetryDecision::Stop;
        }
        let idempotent = idempotency == Idempotency::Idempotent;
        let backoff = self.backoff(attempt, jitter);
        match outcome {
            AttemptOutcome::Transport(kind) => match kind {
                TransportErrorKind::Connect => RetryDecision::RetryAfter(backoff),
                TransportErrorKind::Timeout
                | TransportErrorKind::Io
                | TransportErrorKind::Other
                    if idempotent =>
                {
                    RetryDecision::RetryAfter(backoff)
                }
                _ => RetryDecision::Stop,
            },
            AttemptOutcome::Response { status, headers } => {
                let retryable = status == StatusCode::TOO_MANY_REQUESTS
                    || (idempotent && is_server_error_worth_retrying(status));
                if !retryable {
                    return RetryDecision::Stop;
                }
                match retry_after(headers) {
                    Some(wait) if wait > self.max_retry_after => RetryDecision::Stop,
                    Some(wait) => RetryDecision::RetryAfter(wait.max(backoff)),
                    None => RetryDecision::RetryAfter(backoff),
                }
            }
        }
    }

    /// The backoff before retry number `attempt` (1-based), for a jitter in `[0, 1]`.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        let full = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let half = full / 2;
        half + half.mul_f64(jitter)
    }
}

/// Statuses worth repeating for idempotent requests.
fn is_server_error_worth_retrying(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// Statuses after which the same call could succeed later.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || is_server_error_worth_retrying(status)
}

/// The delay a response asks for with `Retry-After`: either delay-seconds, or
/// an HTTP date measured against the response's own `Date` header (so no
/// clock is read). A date in the past gives zero; invalid values give `None`.
///
/// Dates may take any of the three forms RFC 9110 §5.6.7 asks recipients to
/// accept: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850
/// form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`); the two headers need not use the same one.
/// A date whose weekday does not match it, or that names a day its month
/// lacks, is invalid.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let target = httpdate::parse_http_date(value).ok()?;
    let now = httpdate::parse_http_date(headers.get(header::DATE)?.to_str().ok()?).ok()?;
    // `duration_since` fails (instead of panicking) when `target` is earlier.
    Some(target.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A token bucket shared by a client's calls (the AWS SDKs' "standard"
/// retry mode): each retry takes tokens, each success gives back what its
/// call took, or one token if it needed no retry. When the bucket runs dry,
/// failures are returned at once instead of retried, so an outage does not
/// turn into a retry storm; first attempts never need tokens.
///
/// Every [`Config`](crate::Config) starts with a default budget, shared by
/// the clients built from it and its clones;
/// [`Builder::without_retry_budget`](crate::Builder::without_retry_budget)
/// turns it off.
#[derive(Debug)]
pub struct RetryBudget {
    capacity: u32,
    tokens: AtomicU32,
}

impl Default for RetryBudget {
    /// 500 tokens: 35 retries after server errors or timeouts, or 100 after
    /// throttling, with no success in between.
    fn default() -> Self {
        Self::new(500)
    }
}

impl RetryBudget {
    /// Tokens taken by a retry after a 429.
    pub const THROTTLE_COST: u32 = 5;
    /// Tokens taken by any other retry.
    pub const RETRY_COST: u32 = 14;

    /// A full bucket of `capacity` tokens.
    pub fn new(capacity: u32) -> Self {
        Self {
            capacity,
            tokens: AtomicU32::new(capacity),
        }
    }

    /// Tokens left.
    pub fn available(&self) -> u32 {
        self.tokens.load(Ordering::Relaxed)
    }

    /// Takes `cost` tokens; `false` (and nothing taken) when too few are left.
    pub fn try_withdraw(&self, cost: u32) -> bool {
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost))
            .is_ok()
    }

    /// Gives tokens back after a successful call: the `withdrawn` tokens its
    /// retries took, or one when it took none; never above the capacity.
    pub fn refund(&self, withdrawn: u32) {
        let amount = withdrawn.max(1);
        let capacity = self.capacity;
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                (t < capacity).then(|| t.saturating_add(amount).min(capacity))
            });
    }
}
