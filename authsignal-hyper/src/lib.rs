//! Async Authsignal client on [hyper](https://docs.rs/hyper) 1 and tokio.
//!
//! [`Client`] is [`AsyncClient`] over [`HyperTransport`]: every endpoint
//! method of the core client, sent through a pooled
//! [hyper-util](https://docs.rs/hyper-util) client with HTTPS by
//! [rustls](https://docs.rs/rustls) (the *ring* provider, passed explicitly,
//! so no process-wide `CryptoProvider` is needed). Timeouts are on (connect
//! 5 s, each attempt 10 s including the whole response body), redirects are
//! never followed, response bodies are capped (1 MiB) and failed attempts are
//! retried as the [`RetryPolicy`] says, with tokio timers between them.
//!
//! # Async (tokio + hyper)
//!
//! ```no_run
//! use authsignal_hyper::{Client, TrackRequest, UserActionState};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let client = Client::builder(std::env::var("AUTHSIGNAL_SECRET_KEY")?).build()?;
//!     let response = client.track(TrackRequest::new("user-123", "signIn")).await?;
//!     if response.state == UserActionState::ChallengeRequired {
//!         println!("challenge the user");
//!     }
//!     Ok(())
//! }
//! ```
//!
//! The client is `Clone + Send + Sync`; clones share the connection pool, so
//! build one at start-up and clone it into your handlers. Its futures are
//! `Send`, so they can be spawned onto a multi-threaded runtime. Calls need a
//! tokio runtime with timers enabled (`#[tokio::main]` has them).
//!
//! # Choose a transport
//!
//! This crate is for tokio services. If yours already uses reqwest,
//! `authsignal-reqwest` is the same client on it; for synchronous services
//! use `authsignal-ureq`; for a tower stack use `TowerTransport` (feature
//! `tower`); for another HTTP stack implement `AsyncTransport` or
//! `BlockingTransport` (see `authsignal-core`, which also shows offline
//! request building and webhook verification); for tests of your own code,
//! run `authsignal-testkit`'s fake server and point the client at it with
//! `with_base_url`.
//!
//! # Configuration
//!
//! `Client::builder(secret)` collects the region or base URL, timeouts, the
//! response size limit, retries and the transport's options;
//! [`build`](ClientBuilder::build) checks them once:
//!
//! ```no_run
//! use std::time::Duration;
//! use authsignal_hyper::{Client, Region};
//!
//! # fn main() -> Result<(), authsignal_hyper::Error> {
//! let client = Client::builder("sk_live_…")
//!     .with_region(Region::Eu)
//!     .with_timeout(Duration::from_secs(5))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! # Your own TLS settings, connector or client
//!
//! [`HyperOptions`], passed with
//! [`with_transport_options`](ClientBuilder::with_transport_options):
//!
//! - [`HyperOptions::with_tls_config`] takes a [`rustls::ClientConfig`]
//!   (extra or private root certificates, client certificates, another
//!   crypto provider);
//! - [`HyperOptions::with_connector`] wraps any hyper-util connector (a
//!   proxy tunnel, a custom resolver, `hyper-tls` for native TLS) in a pooled
//!   client;
//! - [`HyperOptions::with_client`] takes a whole hyper-util
//!   [`legacy::Client`], e.g. one already shared with the rest of your
//!   service.
//!
//! Every limit of the configuration holds for the first two. A client you
//! bring keeps its own connect timeout and pool settings (the SDK cannot
//! reach into its connector: build it on [`HyperConnector`] to keep the
//! configured connect timeout); the attempt timeout and the response size
//! limit still apply. hyper-util clients never follow redirects.
//!
//! # A tower service
//!
//! With the `tower` feature, `TowerTransport` sends through any
//! `tower::Service<http::Request<B>>` (a hyper-util client wrapped in your
//! tower-http layers, say) with the same attempt timeout, response limit
//! and error sorting; its docs say what the service decides instead.
//!
//! ```no_run
//! use std::sync::Arc;
//! use authsignal_hyper::{Client, HyperOptions, rustls};
//! # fn my_roots() -> rustls::RootCertStore { rustls::RootCertStore::empty() }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
//!     rustls::crypto::ring::default_provider(),
//! ))
//! .with_safe_default_protocol_versions()?
//! .with_root_certificates(my_roots())
//! .with_no_client_auth();
//! let client = Client::builder("sk_live_…")
//!     .with_transport_options(HyperOptions::default().with_tls_config(tls))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! # Cargo features
//!
//! | feature | default | effect |
//! |---|---|---|
//! | `webpki-roots` | yes | trust the Mozilla root certificates bundled by the `webpki-roots` crate |
//! | `native-roots` | no | trust the operating system's certificate store instead, read when the client is built (as in `authsignal-ureq`) |
//! | `http2` | no | offer HTTP/2 through ALPN and use it when the server accepts |
//! | `tower` | no | `TowerTransport`: any `tower::Service` on `http` types (a hyper-util client in tower or tower-http layers) as a transport |
//! | `tracing` | no | a `tracing` span per call (see `authsignal-core`) |
//! | `stream` | yes | `query_users_pages` is also a `futures_core::Stream` of pages (no extra crate: hyper depends on `futures-core` anyway) |
//!
//! TLS is always rustls with the *ring* provider; for native TLS, pass a
//! `hyper-tls` connector to [`HyperOptions::with_connector`]. With neither
//! root feature, the standard set-up fails at `build` with a
//! [`TransportErrorKind::Connect`] error (0 attempts): pass a TLS
//! configuration, a connector or a client.
//!
//! # Blocking code
//!
//! Do not call a blocking client (such as `authsignal-ureq`) from async code:
//! it blocks the runtime's worker thread for the whole call, retries
//! included. Use this crate in async code, or move blocking calls onto
//! `tokio::task::spawn_blocking`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::{
    error::Error as StdError,
    fmt,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

pub use authsignal_core::api::*;
pub use authsignal_core::{
    ApiError, ApiSecretKey, AsyncClient, AsyncQueryUsersPages, AsyncTimer, Config, Endpoint, Error,
    FromConfig, InvalidInput, NoWaitTimer, Region, RetryBudget, RetryPolicy, SecretString,
    TransportError, TransportErrorKind, USER_AGENT, UnexpectedResponse, VERSION, http, webhook,
};
use authsignal_core::{AsyncTransport, TransportFromConfig, check_declared_length, find_cause};
use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{
        self, ResponseFuture,
        connect::{Connect, Connection, HttpConnector},
    },
    rt::{TokioExecutor, TokioTimer as PoolTimer},
};

#[cfg(feature = "tower")]
mod tower;
#[cfg(feature = "tower")]
pub use tower::{HttpResponse, TowerTransport};

pub use bytes;
pub use http_body_util;
pub use hyper_rustls;
pub use hyper_util;
pub use rustls;

/// The async client on hyper, waiting between retries with tokio's timers:
/// build it with `Client::builder(secret)`.
pub type Client = AsyncClient<HyperTransport, TokioTimer>;

/// The builder of [`Client`]: `Client::builder(secret)`, then `build()`
/// checks every setting once.
pub type ClientBuilder = authsignal_core::Builder<Client>;

/// How long an idle pooled connection is kept open.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// An [`AsyncTransport`] on a pooled hyper-util client.
///
/// Clones share the client and its connection pool. Whatever client or
/// connector it was built from, the type is the same.
#[derive(Clone)]
pub struct HyperTransport {
    client: Arc<dyn SendRequest>,
    timeout: Duration,
    max_response_bytes: usize,
}

/// How [`HyperTransport`] gets its HTTP client: by default a pooled
/// hyper-util client with rustls and the roots the Cargo features choose; or
/// built around your TLS configuration or your connector; or yours.
#[derive(Default)]
pub struct HyperOptions {
    source: Source,
}

type ConnectorSetup = Box<dyn FnOnce(&Config) -> Arc<dyn SendRequest> + Send>;

#[derive(Default)]
enum Source {
    #[default]
    Standard,
    Tls(Box<rustls::ClientConfig>),
    Connector(ConnectorSetup),
    Client(Arc<dyn SendRequest>),
}

impl fmt::Debug for HyperOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            Source::Standard => "standard",
            Source::Tls(_) => "your TLS configuration",
            Source::Connector(_) => "your connector",
            Source::Client(_) => "your client",
        };
        f.debug_struct("HyperOptions")
            .field("source", &source)
            .finish()
    }
}

impl HyperOptions {
    /// Uses your rustls configuration (extra or private root certificates,
    /// client certificates, another crypto provider). Every limit holds.
    ///
    /// Its ALPN protocols are replaced: `http/1.1`, plus `h2` with the
    /// `http2` feature. `https` and loopback `http` URLs are both accepted,
    /// as [`Builder::with_base_url`](authsignal_core::Builder::with_base_url)
    /// allows.
    pub fn with_tls_config(mut self, tls: rustls::ClientConfig) -> Self {
        self.source = Source::Tls(Box::new(tls));
        self
    }

    /// Builds a pooled client around your connector (any hyper-util
    /// connector: a proxy tunnel, a custom resolver, another TLS stack).
    /// Every limit holds: the connect timeout bounds each new connection as
    /// a whole, handshakes included; one that is not ready in time fails as
    /// [`TransportErrorKind::Connect`] (not sent).
    pub fn with_connector<C>(mut self, connector: C) -> Self
    where
        C: tower_service::Service<Uri> + Clone + Send + Sync + 'static,
        C::Response: hyper::rt::Read + hyper::rt::Write + Connection + Unpin + Send + 'static,
        C::Error: Into<Box<dyn StdError + Send + Sync>>,
        C::Future: Send + 'static,
    {
        self.source = Source::Connector(Box::new(move |config: &Config| {
            pooled_client(connector, config)
        }));
        self
    }

    /// Sends through your hyper-util client, e.g. one already shared with
    /// the rest of your service. The attempt timeout and the response limit
    /// hold; the connect timeout is the one your client's connector has (the
    /// SDK cannot reach into it), and its pool settings are yours. hyper-util
    /// clients never follow redirects.
    pub fn with_client<C>(mut self, client: legacy::Client<C, Full<Bytes>>) -> Self
    where
        C: Connect + Clone + Send + Sync + 'static,
    {
        self.source = Source::Client(Arc::new(client));
        self
    }
}

/// A pooled hyper-util client around `connector`, whose connects are bounded
/// by the configuration's connect timeout.
fn pooled_client<C>(connector: C, config: &Config) -> Arc<dyn SendRequest>
where
    C: tower_service::Service<Uri> + Clone + Send + Sync + 'static,
    C::Response: hyper::rt::Read + hyper::rt::Write + Connection + Unpin + Send + 'static,
    C::Error: Into<Box<dyn StdError + Send + Sync>>,
    C::Future: Send + 'static,
{
    let connector = ConnectTimeout {
        inner: connector,
        timeout: config.connect_timeout(),
    };
    Arc::new(
        legacy::Client::builder(TokioExecutor::new())
            .pool_timer(PoolTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build(connector),
    )
}

/// A pooled client with rustls configured by `tls`.
fn tls_client(tls: rustls::ClientConfig, config: &Config) -> Arc<dyn SendRequest> {
    pooled_client(https_connector(tls), config)
}

/// The SDK's HTTPS (or loopback HTTP) connector with rustls configured by `tls`.
fn https_connector(mut tls: rustls::ClientConfig) -> HttpsConnector<HttpConnector> {
    tls.alpn_protocols.clear();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1();
    #[cfg(feature = "http2")]
    let builder = builder.enable_http2();
    builder.wrap_connector(http)
}

/// The connector of [`HyperTransport`]'s standard set-up, for hyper-util
/// clients you build yourself (to wrap in tower layers for
/// `TowerTransport`, or to share through [`HyperOptions::with_client`]):
/// rustls with the roots the Cargo features choose (or your
/// configuration), `TCP_NODELAY`, and the configuration's connect timeout
/// bounding each new connection as a whole, TLS handshake included. A
/// connect that is not ready in time fails as
/// [`TransportErrorKind::Connect`] (not sent).
///
/// ```no_run
/// use authsignal_hyper::{Client, Config, HyperConnector, HyperOptions, hyper_util};
/// use hyper_util::{client::legacy, rt::TokioExecutor};
///
/// # fn main() -> Result<(), authsignal_hyper::Error> {
/// let config = Config::builder("sk_live_…").build()?;
/// let shared = legacy::Client::builder(TokioExecutor::new())
///     .pool_max_idle_per_host(4)
///     .build(HyperConnector::new(&config)?);
/// let client = Client::builder("sk_live_…")
///     .with_transport_options(HyperOptions::default().with_client(shared.clone()))
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct HyperConnector {
    inner: ConnectTimeout<HttpsConnector<HttpConnector>>,
}

impl HyperConnector {
    /// The standard connector for `config`: rustls with the *ring* provider
    /// and the roots the Cargo features choose. Fails as
    /// [`HyperTransport::new`] does when no root certificate could be loaded.
    pub fn new(config: &Config) -> Result<Self, Error> {
        Ok(Self::with_tls_config(config, standard_tls()?))
    }

    /// The connector for `config` with your rustls configuration (its ALPN
    /// protocols replaced as in [`HyperOptions::with_tls_config`]).
    pub fn with_tls_config(config: &Config, tls: rustls::ClientConfig) -> Self {
        Self {
            inner: ConnectTimeout {
                inner: https_connector(tls),
                timeout: config.connect_timeout(),
            },
        }
    }

    /// The connect timeout (TCP and TLS handshake).
    pub fn connect_timeout(&self) -> Duration {
        self.inner.timeout
    }
}

impl fmt::Debug for HyperConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperConnector")
            .field("connect_timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl tower_service::Service<Uri> for HyperConnector {
    type Response = <HttpsConnector<HttpConnector> as tower_service::Service<Uri>>::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        self.inner.call(uri)
    }
}

/// The rustls configuration of the standard set-up: the *ring* provider and
/// the roots the Cargo features choose.
fn standard_tls() -> Result<rustls::ClientConfig, Error> {
    let roots = roots::trusted()?;
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| setup_error("the TLS provider does not support TLS 1.2 or 1.3", e))?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

impl HyperTransport {
    /// A transport with the standard set-up for `config` (what
    /// `Client::builder` uses by default): rustls with the *ring* provider
    /// and the roots the Cargo features choose, and a connection pool.
    ///
    /// Fails when no root certificate could be loaded (`native-roots` on a
    /// system without a certificate store, or neither root feature on); that
    /// error is a [`TransportErrorKind::Connect`] transport error after 0
    /// attempts.
    pub fn new(config: &Config) -> Result<Self, Error> {
        Self::with_options(config, HyperOptions::default())
    }

    /// A transport for `config` with `options`.
    pub fn with_options(config: &Config, options: HyperOptions) -> Result<Self, Error> {
        let client = match options.source {
            Source::Standard => tls_client(standard_tls()?, config),
            Source::Tls(tls) => tls_client(*tls, config),
            Source::Connector(setup) => setup(config),
            Source::Client(client) => client,
        };
        Ok(Self {
            client,
            timeout: config.timeout(),
            max_response_bytes: config.max_response_bytes(),
        })
    }

    /// The timeout of one attempt, from sending to the end of the body.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The response body limit in bytes.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// One attempt without the timeout: send, then read the body up to the limit.
    async fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let response = self
            .client
            .send_request(request.map(|body| Full::new(Bytes::from(body))))
            .await
            .map_err(classify_send_error)?;
        let (parts, body) = response.into_parts();
        read_limited(parts, body, self.max_response_bytes).await
    }
}

/// Reads a response body up to `limit` bytes, after rejecting a declared
/// `Content-Length` above it.
pub(crate) async fn read_limited<Bd>(
    parts: http::response::Parts,
    body: Bd,
    limit: usize,
) -> Result<http::Response<Vec<u8>>, TransportError>
where
    Bd: hyper::body::Body,
    Bd::Error: Into<BoxError>,
{
    check_declared_length(&parts.headers, limit)?;
    let body = Limited::new(body, limit)
        .collect()
        .await
        .map_err(classify_body_error)?
        .to_bytes();
    Ok(http::Response::from_parts(parts, Vec::from(body)))
}

/// Bounds one attempt, from sending to the end of the body, by `timeout`.
pub(crate) async fn within_attempt_timeout(
    timeout: Duration,
    attempt: impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>>,
) -> Result<http::Response<Vec<u8>>, TransportError> {
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => result,
        Err(elapsed) => Err(TransportError::attempt_timed_out(timeout).with_source(elapsed)),
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl TransportFromConfig for HyperTransport {
    type Options = HyperOptions;

    fn from_config(config: &Config, options: HyperOptions) -> Result<Self, Error> {
        Self::with_options(config, options)
    }
}

impl AsyncTransport for HyperTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send {
        within_attempt_timeout(self.timeout, self.exchange(request))
    }
}

/// Tokio's timers for the async client's retry loop: `tokio::time::sleep`,
/// `Instant::now` and random jitter. Calls need a runtime with timers
/// enabled.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

impl AsyncTimer for TokioTimer {
    fn sleep(&self, delay: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(delay)
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn jitter(&self) -> f64 {
        fastrand::f64()
    }
}

/// A hyper-util client with its connector type erased. Its response future
/// does not depend on the connector, so nothing extra is boxed.
trait SendRequest: Send + Sync {
    fn send_request(&self, request: http::Request<Full<Bytes>>) -> ResponseFuture;
}

impl<C> SendRequest for legacy::Client<C, Full<Bytes>>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    fn send_request(&self, request: http::Request<Full<Bytes>>) -> ResponseFuture {
        self.request(request)
    }
}

/// Bounds a connector's whole connect (TCP, TLS handshake, proxy tunnel)
/// by one timeout, so a server that accepts TCP and never answers the
/// ClientHello fails as a connect error instead of using up the attempt.
#[derive(Debug, Clone)]
struct ConnectTimeout<C> {
    inner: C,
    timeout: Duration,
}

type BoxError = Box<dyn StdError + Send + Sync>;

impl<C> tower_service::Service<Uri> for ConnectTimeout<C>
where
    C: tower_service::Service<Uri>,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(Box::new(ConnectTimedOut(timeout)) as BoxError),
            }
        })
    }
}

/// The connect timeout elapsed before the connection (TLS included) was ready.
#[derive(Debug)]
struct ConnectTimedOut(Duration);

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no connection within {:?} (TCP and TLS handshake)",
            self.0
        )
    }
}

impl StdError for ConnectTimedOut {}

/// Maps a hyper-util error. Connection failures (DNS, refused, TLS
/// handshake, connect timeout) mean the request was not sent; a certificate
/// that failed verification is not worth retrying.
fn classify_send_error(error: legacy::Error) -> TransportError {
    let (kind, cause) = if error.is_connect() {
        describe_connect_error(&error)
    } else if is_io_failure(&error) {
        (TransportErrorKind::Io, describe(&error))
    } else {
        (TransportErrorKind::Other, describe(&error))
    };
    TransportError::new(kind, cause).with_source(error)
}

/// The kind and cause of a failed connect.
fn describe_connect_error(error: &(dyn StdError + 'static)) -> (TransportErrorKind, String) {
    if let Some(timed_out) = find_cause::<ConnectTimedOut>(error) {
        return (TransportErrorKind::Connect, timed_out.to_string());
    }
    // rustls and hyper-rustls report TLS failures inside I/O errors.
    match find_cause::<rustls::Error>(error) {
        Some(tls @ rustls::Error::InvalidCertificate(_)) => {
            (TransportErrorKind::InvalidCertificate, tls.to_string())
        }
        Some(other) => (
            TransportErrorKind::Connect,
            format!("TLS handshake failed: {other}"),
        ),
        None => (TransportErrorKind::Connect, describe(error)),
    }
}

/// The error and its sources, outermost first.
fn chain<'e>(
    error: &'e (dyn StdError + 'static),
) -> impl Iterator<Item = &'e (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e| e.source())
}

/// What happened, from the most specific errors of the chain: hyper's
/// description of the failure and the I/O error under it (neither holds a
/// URL or a header).
fn describe(error: &(dyn StdError + 'static)) -> String {
    let hyper = chain(error).find_map(|e| e.downcast_ref::<hyper::Error>());
    let io = chain(error)
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .last();
    let connect = chain(error).find_map(|e| e.downcast_ref::<ConnectTimedOut>());
    match (hyper, io, connect) {
        (_, _, Some(timed_out)) => timed_out.to_string(),
        (Some(hyper), Some(io), _) => format!("{hyper}: {io}"),
        (Some(hyper), None, _) => hyper.to_string(),
        (None, Some(io), _) => io.to_string(),
        (None, None, _) => "hyper could not send the request".to_owned(),
    }
}

/// Whether an error's source chain holds a hyper or I/O error, i.e. the
/// failure happened on the connection.
fn is_io_failure(error: &(dyn StdError + 'static)) -> bool {
    chain(error)
        .skip(1)
        .any(|cause| cause.is::<hyper::Error>() || cause.is::<std::io::Error>())
}

/// Maps an error from reading the (limited) response body.
fn classify_body_error(error: BoxError) -> TransportError {
    let error = match error.downcast::<LengthLimitError>() {
        Ok(limit) => {
            return TransportError::new(
                TransportErrorKind::ResponseTooLarge,
                "the body exceeds the configured limit",
            )
            .with_source(*limit);
        }
        Err(other) => other,
    };
    let cause = format!("while reading the body: {}", describe(&*error));
    match error.downcast::<hyper::Error>() {
        Ok(hyper_error) => {
            TransportError::new(TransportErrorKind::Io, cause).with_source(*hyper_error)
        }
        Err(other) => TransportError::new(TransportErrorKind::Io, cause)
            .with_source(std::io::Error::other(other)),
    }
}

/// An error while setting the transport up: nothing was sent.
fn setup_error(message: &'static str, source: impl StdError + Send + Sync + 'static) -> Error {
    Error::Transport {
        source: TransportError::new(TransportErrorKind::Connect, message).with_source(source),
        attempts: 0,
    }
}

mod roots {
    use rustls::RootCertStore;

    use crate::Error;

    /// The root certificates the Cargo features choose: the operating
    /// system's store with `native-roots`, else the bundled Mozilla roots
    /// with `webpki-roots` (the same meaning as in `authsignal-ureq`).
    pub(crate) fn trusted() -> Result<RootCertStore, Error> {
        #[cfg(feature = "native-roots")]
        {
            let native = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let _ = roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                return Err(match native.errors.into_iter().next() {
                    Some(error) => {
                        crate::setup_error("could not load the platform's root certificates", error)
                    }
                    None => crate::setup_error(
                        "the platform has no root certificates",
                        std::io::Error::from(std::io::ErrorKind::NotFound),
                    ),
                });
            }
            Ok(roots)
        }
        #[cfg(all(feature = "webpki-roots", not(feature = "native-roots")))]
        {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            Ok(roots)
        }
        #[cfg(not(any(feature = "webpki-roots", feature = "native-roots")))]
        {
            Err(crate::setup_error(
                "no root certificates: enable `webpki-roots` or `native-roots`, or pass a TLS configuration",
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ))
        }
    }
}
