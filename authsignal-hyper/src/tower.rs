//! Any `tower::Service` as a transport (the `tower` feature).

use std::{fmt, marker::PhantomData, time::Duration};

use authsignal_core::AsyncTransport;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy;

use crate::{
    BoxError, Config, TransportError, TransportErrorKind, chain, classify_send_error, describe,
    describe_connect_error, http, read_limited, within_attempt_timeout,
};

/// An [`AsyncTransport`] on any
/// [`tower_service::Service`]`<http::Request<B>, Response = http::Response<RB>>`:
/// a hyper-util client wrapped in tower or tower-http layers, your service
/// mesh's client, a test double.
///
/// ```no_run
/// use authsignal_hyper::{
///     AsyncClient, Config, HyperConnector, TokioTimer, TowerTransport, bytes::Bytes,
///     http_body_util::Full, hyper_util,
/// };
/// use hyper_util::{client::legacy, rt::TokioExecutor};
///
/// # fn main() -> Result<(), authsignal_hyper::Error> {
/// let config = Config::builder("sk_live_…").build()?;
/// // The SDK's connector keeps the connect timeout (TCP and TLS handshake).
/// let service: legacy::Client<_, Full<Bytes>> = legacy::Client::builder(TokioExecutor::new())
///     .build(HyperConnector::new(&config)?);
/// // ... wrapped in the layers of your stack (tower::ServiceBuilder).
/// let transport = TowerTransport::new(&config, service);
/// let client = AsyncClient::with_transport(config, transport, TokioTimer);
/// # let _ = client; Ok(()) }
/// ```
///
/// Each attempt clones the service (tower services are cheap to clone: a
/// hyper-util client is a handle on its pool), waits until it is ready,
/// calls it with the request body converted by `B: From<Vec<u8>>` (the
/// default `B` is `Full<Bytes>`, what a hyper-util client takes) and reads
/// the response body.
///
/// # What holds
///
/// - The attempt timeout bounds readiness, the call and the whole body.
/// - The response limit: `Content-Length` is checked first, then the body is
///   read through [`Limited`](http_body_util::Limited) and stops past the limit.
/// - Errors are sorted as [`HyperTransport`](crate::HyperTransport) sorts
///   them, by the hyper-util, hyper, I/O and rustls errors in their source
///   chain: a failed connect is "not sent" (and a rejected certificate is
///   never retried), a failure on the connection "may have been processed".
///   An error the service makes up itself (a tower timeout, a rate limiter's
///   rejection) cannot be told apart from one after sending: it is
///   [`TransportErrorKind::Other`], "may have been processed", with a cause
///   that says so and the error kept as `source()` (its own text is not
///   quoted, since it may name the URL).
///
/// # What the service decides
///
/// The connect timeout, the pool and redirects are the service's: a
/// hyper-util client never follows redirects; build it on
/// [`HyperConnector`](crate::HyperConnector) to keep the configured connect
/// timeout, or a stalled TLS handshake only ends with the attempt timeout
/// (as a [`TransportErrorKind::Timeout`], "may have been processed").
/// Layers that follow redirects or retry on their own (tower-http's
/// `FollowRedirect`, tower's `Retry`) defeat the SDK's guarantees: leave
/// them out, the client already retries what is safe to retry.
pub struct TowerTransport<S, B = Full<Bytes>> {
    service: S,
    timeout: Duration,
    max_response_bytes: usize,
    body: PhantomData<fn() -> B>,
}

impl<S> TowerTransport<S> {
    /// A transport that sends through `service` (which takes
    /// `http::Request<Full<Bytes>>`, as a hyper-util client does) with the
    /// configuration's attempt timeout and response limit.
    pub fn new(config: &Config, service: S) -> Self {
        Self::with_body_type(config, service)
    }
}

impl<S, B> TowerTransport<S, B> {
    /// As [`TowerTransport::new`], for a service that takes another request
    /// body type `B` (any `B: From<Vec<u8>>`: `Bytes`, `Vec<u8>`, your
    /// framework's body), named with a turbofish or a type annotation.
    pub fn with_body_type(config: &Config, service: S) -> Self {
        Self {
            service,
            timeout: config.timeout(),
            max_response_bytes: config.max_response_bytes(),
            body: PhantomData,
        }
    }

    /// The service requests go through.
    pub fn service(&self) -> &S {
        &self.service
    }

    /// The timeout of one attempt, from readiness to the end of the body.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The response body limit in bytes.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }
}

impl<S: Clone, B> Clone for TowerTransport<S, B> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
            timeout: self.timeout,
            max_response_bytes: self.max_response_bytes,
            body: PhantomData,
        }
    }
}

impl<S, B> fmt::Debug for TowerTransport<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerTransport")
            .field("service", &std::any::type_name::<S>())
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl<S, B> AsyncTransport for TowerTransport<S, B>
where
    S: tower_service::Service<http::Request<B>> + Clone + Send + Sync,
    S::Response: HttpResponse,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: From<Vec<u8>> + Send,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send {
        let mut service = self.service.clone();
        let limit = self.max_response_bytes;
        let timeout = self.timeout;
        async move {
            let attempt = async {
                std::future::poll_fn(|cx| service.poll_ready(cx))
                    .await
                    .map_err(|error| classify_service_error(error.into()))?;
                let response = service
                    .call(request.map(B::from))
                    .await
                    .map_err(|error| classify_service_error(error.into()))?;
                let (parts, body) = HttpResponse::into_parts(response);
                read_limited(parts, body, limit).await
            };
            within_attempt_timeout(timeout, attempt).await
        }
    }
}

/// `http::Response<RB>` for any body `RB` the transport can read: the bound
/// [`TowerTransport`] puts on its service's responses.
pub trait HttpResponse: Send {
    /// The response body.
    type Body: hyper::body::Body<Data: Send, Error: Into<BoxError>> + Send;

    /// The head and the body.
    fn into_parts(self) -> (http::response::Parts, Self::Body);
}

impl<RB> HttpResponse for http::Response<RB>
where
    RB: hyper::body::Body<Data: Send, Error: Into<BoxError>> + Send,
{
    type Body = RB;

    fn into_parts(self) -> (http::response::Parts, RB) {
        http::Response::into_parts(self)
    }
}

/// Maps a service's error by what its source chain holds.
fn classify_service_error(error: BoxError) -> TransportError {
    let error = match error.downcast::<legacy::Error>() {
        Ok(error) => return classify_send_error(*error),
        Err(other) => other,
    };
    let (kind, cause) = if chain(&*error).any(|cause| {
        cause
            .downcast_ref::<legacy::Error>()
            .is_some_and(legacy::Error::is_connect)
    }) {
        describe_connect_error(&*error)
    } else if chain(&*error).any(|cause| cause.is::<hyper::Error>() || cause.is::<std::io::Error>())
    {
        (TransportErrorKind::Io, describe(&*error))
    } else {
        (
            TransportErrorKind::Other,
            "the service returned an error of its own (see `source()`)".to_owned(),
        )
    };
    TransportError::new(kind, cause).with_source(ServiceError(error))
}

/// A service's error, kept whole as the transport error's source.
#[derive(Debug)]
struct ServiceError(BoxError);

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the tower service failed")
    }
}

impl std::error::Error for ServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}
