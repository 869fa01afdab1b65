//! The two transport traits: how a client hands a built request to an HTTP
//! stack. Implement one of them to plug in any stack; a closure is enough.

use std::future::Future;

use crate::TransportError;

/// A blocking HTTP transport.
///
/// It sends the request as given (no redirects followed, 4xx/5xx returned as
/// responses) and reads the whole body, up to the configured limit. It only
/// sends: waiting between retries is the client's
/// [`BlockingTimer`](crate::BlockingTimer), so a custom transport never
/// retries without waiting.
///
/// Any `Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>`
/// is a transport.
///
/// ```
/// use authsignal_core::{Client, Config, GetUserRequest, TransportError};
/// let transport = |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
///     assert_eq!(request.uri().path(), "/v1/users/alice");
///     Ok(http::Response::new(br#"{"isEnrolled":true}"#.to_vec()))
/// };
/// let client = Client::with_transport(Config::builder("sk_test").build()?, transport);
/// let user = client.get_user(GetUserRequest::new("alice"))?;
/// assert!(user.is_enrolled);
/// # Ok::<(), authsignal_core::Error>(())
/// ```
pub trait BlockingTransport {
    /// Sends one request and reads the whole response.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError>;
}

impl<F> BlockingTransport for F
where
    F: Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self(request)
    }
}

/// An async HTTP transport: the async twin of [`BlockingTransport`]. The
/// [`AsyncClient`](crate::AsyncClient) waits between retries with its
/// [`AsyncTimer`](crate::AsyncTimer), not with the transport.
///
/// Any `Fn(http::Request<Vec<u8>>) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send`
/// is a transport.
pub trait AsyncTransport {
    /// Sends one request and reads the whole response.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send;
}

impl<F, Fut> AsyncTransport for F
where
    F: Fn(http::Request<Vec<u8>>) -> Fut,
    Fut: Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send {
        self(request)
    }
}

/// A transport that can be built from a [`Config`](crate::Config) and its
/// own options, so `Client::builder(secret)…build()` works without naming it.
pub trait TransportFromConfig: Sized {
    /// Settings beyond the configuration: your own HTTP agent or client,
    /// TLS set-up… (`Default` is the transport's standard set-up).
    type Options: Default;

    /// Builds the transport with the configuration's timeouts and limits.
    fn from_config(config: &crate::Config, options: Self::Options) -> Result<Self, crate::Error>;
}

/// Rejects a response whose `Content-Length` declares more than `limit`
/// bytes, so a transport can fail at the headers instead of reading (or
/// waiting for) a body it would refuse anyway. Call it before reading the
/// body; every transport of this SDK does.
pub fn check_declared_length(
    headers: &http::HeaderMap,
    limit: usize,
) -> Result<(), TransportError> {
    let Some(declared) = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
    else {
        return Ok(());
    };
    if declared > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(TransportError::new(
            crate::TransportErrorKind::ResponseTooLarge,
            format!("Content-Length {declared} exceeds the limit of {limit} bytes"),
        ));
    }
    Ok(())
}

/// The error of type `T` that `error` is or carries: a TLS library's error
/// inside (possibly nested) `std::io::Error`s, as rustls and most HTTP
/// stacks report handshake failures. `io::Error::source` skips the error it
/// wraps, so walking `source()` alone would miss it; this looks inside.
///
/// ```
/// use std::{fmt, io};
/// #[derive(Debug)]
/// struct HandshakeFailed;
/// impl fmt::Display for HandshakeFailed {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("handshake failed") }
/// }
/// impl std::error::Error for HandshakeFailed {}
///
/// let nested = io::Error::other(io::Error::new(io::ErrorKind::InvalidData, HandshakeFailed));
/// assert!(authsignal_core::find_cause::<HandshakeFailed>(&nested).is_some());
/// assert!(authsignal_core::find_cause::<fmt::Error>(&nested).is_none());
/// ```
pub fn find_cause<'e, T: std::error::Error + 'static>(
    error: &'e (dyn std::error::Error + 'static),
) -> Option<&'e T> {
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(found) = current.downcast_ref::<T>() {
            return Some(found);
        }
        next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    None
}
