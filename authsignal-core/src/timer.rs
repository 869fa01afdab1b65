//! Time for the retry loop, kept apart from sending: how a client waits
//! between attempts, reads the clock for its deadline, and draws jitter.
//!
//! A transport only sends. The blocking [`Client`](crate::Client) waits for
//! real by default ([`StdTimer`]); an [`AsyncClient`](crate::AsyncClient)
//! is always given a timer for its runtime (`authsignal-hyper` brings one
//! for tokio). Retries without waiting happen only under [`NoWaitTimer`],
//! whose name says so, for tests.
//!
//! [`StdTimer`] is the one place in this crate that sleeps, reads the clock
//! or draws random numbers.

use std::{
    future::Future,
    time::{Duration, Instant},
};

/// Waiting, the clock and jitter for a blocking client.
pub trait BlockingTimer {
    /// Blocks the calling thread for `delay` before a retry.
    fn sleep(&self, delay: Duration);

    /// The current time, for the retry deadline.
    fn now(&self) -> Instant;

    /// A random number in `[0, 1]` that spreads retry delays
    /// (see [`RetryPolicy::backoff`](crate::RetryPolicy::backoff)).
    fn jitter(&self) -> f64;
}

/// Waiting, the clock and jitter for an async client: the twin of
/// [`BlockingTimer`] whose `sleep` is a future of the caller's runtime.
pub trait AsyncTimer {
    /// A future that completes after `delay`.
    fn sleep(&self, delay: Duration) -> impl Future<Output = ()> + Send;

    /// The current time, for the retry deadline.
    fn now(&self) -> Instant;

    /// A random number in `[0, 1]` that spreads retry delays.
    fn jitter(&self) -> f64;
}

/// The standard library's time: `std::thread::sleep`, `Instant::now`, and
/// jitter from a fast non-cryptographic generator. The blocking client's
/// default.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdTimer;

impl StdTimer {
    /// The system clock as Unix time in whole seconds: the `now` that
    /// `webhook::Webhook::verify` takes, for services that verify live
    /// requests. (Webhook verification itself never reads the clock, so
    /// tests can pass any `now`.)
    ///
    /// Negative before 1970; saturates at `i64::MIN` and `i64::MAX`.
    ///
    /// ```
    /// use authsignal_core::StdTimer;
    /// assert!(StdTimer::unix_now() > 1_700_000_000);
    /// ```
    #[must_use]
    pub fn unix_now() -> i64 {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_secs())
                .map_or(i64::MIN, |secs| 0_i64.saturating_sub(secs)),
        }
    }
}

impl BlockingTimer for StdTimer {
    fn sleep(&self, delay: Duration) {
        std::thread::sleep(delay);
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn jitter(&self) -> f64 {
        fastrand::f64()
    }
}

/// **For tests**: retries at once, without waiting. The clock is real (so
/// deadlines still hold) and jitter is fixed at `0.5`, so the delays a
/// policy asks for are predictable but never slept.
///
/// ```
/// use authsignal_core::{Client, Config, GetUserRequest, NoWaitTimer, TransportError};
/// let transport = |_: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
///     Ok(http::Response::new(br#"{"isEnrolled":false}"#.to_vec()))
/// };
/// let client = Client::with_transport(Config::builder("sk_test").build()?, transport).with_timer(NoWaitTimer);
/// assert!(!client.get_user(GetUserRequest::new("alice"))?.is_enrolled);
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoWaitTimer;

impl BlockingTimer for NoWaitTimer {
    fn sleep(&self, _delay: Duration) {}

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn jitter(&self) -> f64 {
        0.5
    }
}

impl AsyncTimer for NoWaitTimer {
    fn sleep(&self, _delay: Duration) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn jitter(&self) -> f64 {
        0.5
    }
}

impl<T: BlockingTimer + ?Sized> BlockingTimer for &T {
    fn sleep(&self, delay: Duration) {
        (**self).sleep(delay);
    }

    fn now(&self) -> Instant {
        (**self).now()
    }

    fn jitter(&self) -> f64 {
        (**self).jitter()
    }
}
