//! Optional `tracing` instrumentation (feature `tracing`): one span per call
//! with the endpoint name, and one event per attempt with its number, status
//! and duration. Only names, numbers and error kinds are recorded: never the
//! secret, a token, a code, a URL with ids, or a body.

use std::time::Duration;

use http::Response;

use crate::TransportError;

#[cfg(feature = "tracing")]
mod imp {
    use super::*;

    pub(crate) type Span = tracing::Span;

    /// The span of one call.
    pub(crate) fn call_span(endpoint: &'static str, method: &http::Method) -> Span {
        tracing::debug_span!("authsignal", endpoint, method = %method)
    }

    /// Runs `future` inside `span`.
    pub(crate) fn instrument<F: std::future::Future>(
        future: F,
        span: Span,
    ) -> tracing::instrument::Instrumented<F> {
        tracing::Instrument::instrument(future, span)
    }

    /// Records one attempt's outcome.
    pub(crate) fn attempt(
        attempt: u32,
        outcome: &Result<Response<Vec<u8>>, TransportError>,
        duration: Duration,
    ) {
        let duration_ms = duration.as_secs_f64() * 1000.0;
        match outcome {
            Ok(response) => tracing::debug!(
                attempt,
                status = response.status().as_u16(),
                duration_ms,
                "attempt finished"
            ),
            Err(error) => tracing::debug!(
                attempt,
                error_kind = ?error.kind(),
                duration_ms,
                "attempt failed"
            ),
        }
    }

    /// Records a retry decision.
    pub(crate) fn retry(attempt: u32, delay: Duration) {
        tracing::debug!(attempt, delay_ms = delay.as_secs_f64() * 1000.0, "retrying");
    }
}

#[cfg(not(feature = "tracing"))]
mod imp {
    use super::*;

    /// Without the feature, spans are nothing.
    pub(crate) struct Span;

    impl Span {
        pub(crate) fn entered(self) -> Self {
            self
        }
    }

    pub(crate) fn call_span(_endpoint: &'static str, _method: &http::Method) -> Span {
        Span
    }

    pub(crate) fn instrument<F: std::future::Future>(future: F, _span: Span) -> F {
        future
    }

    pub(crate) fn attempt(
        _attempt: u32,
        _outcome: &Result<Response<Vec<u8>>, TransportError>,
        _duration: Duration,
    ) {
    }

    pub(crate) fn retry(_attempt: u32, _delay: Duration) {}
}

pub(crate) use imp::*;
