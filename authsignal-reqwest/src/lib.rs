//! Async Authsignal client on [reqwest](https://docs.rs/reqwest) and tokio.
//!
//! [`Client`] is [`AsyncClient`] over [`ReqwestTransport`]: every endpoint
//! method of the core client, sent through a pooled [`reqwest::Client`] with
//! HTTPS by [rustls](https://docs.rs/rustls) (the *ring* provider, passed
//! explicitly, so no process-wide `CryptoProvider` is needed). Timeouts are
//! on (connect 5 s including the TLS handshake, each attempt 10 s including
//! the whole response body), redirects are never followed, response bodies
//! are capped (1 MiB) and failed attempts are retried as the [`RetryPolicy`]
//! says, with tokio timers between them.
//!
//! # Async (tokio + reqwest)
//!
//! ```no_run
//! use authsignal_reqwest::{Client, TrackRequest, UserActionState};
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
//! build one at start-up and clone it into your handlers (an axum app doing
//! so is in `examples/axum_service.rs`). Its futures are `Send`. Calls need a
//! tokio runtime with timers enabled (`#[tokio::main]` has them).
//!
//! # Choose a transport
//!
//! This crate is for services that already use reqwest. `authsignal-hyper`
//! is the same client on a bare hyper-util client (fewer dependencies), and
//! its `tower` feature sends through any `tower::Service`; for synchronous
//! services use `authsignal-ureq`; for another HTTP stack implement
//! `AsyncTransport` (see `authsignal-core`).
//!
//! # Configuration
//!
//! `Client::builder(secret)` collects the region or base URL, timeouts, the
//! response size limit, retries and the transport's options;
//! [`build`](ClientBuilder::build) checks them once:
//!
//! ```no_run
//! use std::time::Duration;
//! use authsignal_reqwest::{Client, Region};
//!
//! # fn main() -> Result<(), authsignal_reqwest::Error> {
//! let client = Client::builder("sk_live_…")
//!     .with_region(Region::Eu)
//!     .with_timeout(Duration::from_secs(5))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! # Your own TLS settings or client
//!
//! [`ReqwestOptions`], passed with
//! [`with_transport_options`](ClientBuilder::with_transport_options):
//!
//! - `ReqwestOptions::with_tls_config` (with `rustls`) takes a
//!   [`rustls::ClientConfig`] (private roots, client certificates); every
//!   limit holds;
//! - [`ReqwestOptions::with_client`] takes a whole [`reqwest::Client`], e.g.
//!   the one the rest of your service shares (proxies, DNS, TLS as you set
//!   them up).
//!
//! A client you bring keeps what was fixed when it was built: its connect
//! timeout, its pool, its redirect policy (reqwest follows up to 10 by
//! default: build yours with `redirect(reqwest::redirect::Policy::none())`)
//! and its proxies. The attempt timeout (set on each request, so it replaces
//! your client's own `timeout`) and the response size limit hold whatever
//! the client.
//!
//! ```no_run
//! use authsignal_reqwest::{Client, ReqwestOptions, reqwest};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let shared = reqwest::Client::builder()
//!     .redirect(reqwest::redirect::Policy::none())
//!     .connect_timeout(std::time::Duration::from_secs(2))
//!     .build()?;
//! let client = Client::builder("sk_live_…")
//!     .with_transport_options(ReqwestOptions::default().with_client(shared.clone()))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! # Cargo features
//!
//! | feature | default | effect |
//! |---|---|---|
//! | `rustls` | yes | HTTPS through rustls (*ring*) with the Mozilla roots bundled by `webpki-roots` |
//! | `native-roots` | no | with rustls, trust the operating system's certificate store instead, read when the client is built (as in `authsignal-ureq` and `authsignal-hyper`) |
//! | `native-tls` | no | HTTPS through the platform's TLS library (and its certificate store) instead of rustls; used when `rustls` is off |
//! | `tracing` | no | a `tracing` span per call (see `authsignal-core`) |
//!
//! At least one of `rustls` and `native-tls` is required. Proxies from the
//! environment (`HTTPS_PROXY`, `NO_PROXY`…) are honoured, as reqwest does.
//!
//! # Errors
//!
//! Failures are sorted as in `authsignal-hyper`: no connection (DNS,
//! refused, a TLS handshake that failed or stalled past the connect
//! timeout) is [`TransportErrorKind::Connect`], a rejected certificate
//! [`TransportErrorKind::InvalidCertificate`] (never retried), both "not
//! sent"; a timeout after the connection was made is
//! [`TransportErrorKind::Timeout`] and a connection failing mid-exchange
//! [`TransportErrorKind::Io`], both "may have been processed". Causes are
//! described from the error chain and never quote the URL (reqwest's own
//! `Display` does; the `reqwest::Error` kept as `source()` has its URL
//! removed).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
compile_error!(
    "authsignal-reqwest needs a TLS backend: enable the `rustls` (default) or `native-tls` feature"
);

use std::{
    error::Error as StdError,
    fmt,
    time::{Duration, Instant},
};

pub use authsignal_core::api::*;
pub use authsignal_core::{
    ApiError, ApiSecretKey, AsyncClient, AsyncQueryUsersPages, AsyncTimer, Config, Endpoint, Error,
    FromConfig, InvalidInput, NoWaitTimer, Region, RetryBudget, RetryPolicy, SecretString,
    StdTimer, TransportError, TransportErrorKind, USER_AGENT, UnexpectedResponse, VERSION, http,
    webhook,
};
use authsignal_core::{AsyncTransport, TransportFromConfig, check_declared_length};

/// The reqwest version this crate is built on, for
/// [`ReqwestOptions::with_client`].
pub use reqwest;
/// The rustls version this crate is built on, for
/// `ReqwestOptions::with_tls_config`.
#[cfg(feature = "rustls")]
pub use rustls;

/// The async client on reqwest, waiting between retries with tokio's timers:
/// build it with `Client::builder(secret)`.
pub type Client = AsyncClient<ReqwestTransport, TokioTimer>;

/// The builder of [`Client`]: `Client::builder(secret)`, then `build()`
/// checks every setting once.
pub type ClientBuilder = authsignal_core::Builder<Client>;

/// How long an idle pooled connection is kept open.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// An [`AsyncTransport`] on a [`reqwest::Client`].
///
/// Clones share the client and its connection pool.
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    timeout: Duration,
    max_response_bytes: usize,
    /// The connect timeout of a client this crate built (`None`: yours).
    connect_timeout: Option<Duration>,
}

/// How [`ReqwestTransport`] gets its client: by default one built for the
/// configuration with the TLS set-up the Cargo features choose; or built
/// around your rustls configuration; or yours.
#[derive(Default)]
pub struct ReqwestOptions {
    source: Source,
}

#[derive(Default)]
enum Source {
    #[default]
    Standard,
    #[cfg(feature = "rustls")]
    Tls(Box<rustls::ClientConfig>),
    Client(reqwest::Client),
}

impl fmt::Debug for ReqwestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            Source::Standard => "standard",
            #[cfg(feature = "rustls")]
            Source::Tls(_) => "your TLS configuration",
            Source::Client(_) => "your client",
        };
        f.debug_struct("ReqwestOptions")
            .field("source", &source)
            .finish()
    }
}

impl ReqwestOptions {
    /// Builds the client around your rustls configuration (private or extra
    /// root certificates, client certificates, another crypto provider).
    /// Every limit holds. Its ALPN protocols are cleared (HTTP/1.1).
    #[cfg(feature = "rustls")]
    pub fn with_tls_config(mut self, tls: rustls::ClientConfig) -> Self {
        self.source = Source::Tls(Box::new(tls));
        self
    }

    /// Sends through your client, e.g. one already shared with the rest of
    /// your service.
    ///
    /// The attempt timeout (set on every request, replacing your client's
    /// own `timeout`) and the response size limit hold. What reqwest fixes
    /// when a client is built stays as you built it: the connect timeout
    /// (none unless you set one), the pool, the proxies and the redirect
    /// policy — reqwest follows up to 10 redirects by default, so build your
    /// client with `redirect(reqwest::redirect::Policy::none())` to keep the
    /// SDK's "never followed".
    ///
    /// With the `rustls` feature, this crate enables reqwest's rustls
    /// back-end *without* a crypto provider (its own clients pass *ring*
    /// explicitly). A client you build with reqwest's TLS set-up needs one:
    /// enable reqwest's `rustls` feature (its default, with aws-lc-rs) in
    /// your application, or install a process-wide provider with
    /// `rustls::crypto::ring::default_provider().install_default()` before
    /// building it; otherwise reqwest panics in `build`.
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.source = Source::Client(client);
        self
    }
}

impl ReqwestTransport {
    /// A transport with the standard set-up for `config` (what
    /// `Client::builder` uses by default): the TLS back-end and roots the
    /// Cargo features choose, the configuration's connect timeout (TCP and
    /// TLS handshake), redirects off, a connection pool.
    ///
    /// Fails when the root certificates could not be loaded
    /// (`native-roots` on a system without a certificate store) or reqwest
    /// could not build its client; that error is a
    /// [`TransportErrorKind::Connect`] transport error after 0 attempts.
    pub fn new(config: &Config) -> Result<Self, Error> {
        Self::with_options(config, ReqwestOptions::default())
    }

    /// A transport for `config` with `options`.
    pub fn with_options(config: &Config, options: ReqwestOptions) -> Result<Self, Error> {
        let (client, connect_timeout) = match options.source {
            Source::Standard => (
                build_client(tls::standard(sdk_builder(config))?)?,
                Some(config.connect_timeout()),
            ),
            #[cfg(feature = "rustls")]
            Source::Tls(tls) => (
                build_client(tls::with_rustls(sdk_builder(config), *tls))?,
                Some(config.connect_timeout()),
            ),
            Source::Client(client) => (client, None),
        };
        Ok(Self {
            client,
            timeout: config.timeout(),
            max_response_bytes: config.max_response_bytes(),
            connect_timeout,
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

    /// The reqwest client requests go through.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// One attempt without the outer bound: send, then read the body up to
    /// the limit.
    async fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let mut request = reqwest::Request::try_from(request).map_err(|error| {
            // Core builds valid URLs; this is defensive, and nothing was sent.
            TransportError::new(
                TransportErrorKind::Connect,
                "reqwest did not accept the request's URL",
            )
            .with_source(error.without_url())
        })?;
        *request.timeout_mut() = Some(self.timeout);
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|error| self.classify_send_error(error))?;
        check_declared_length(response.headers(), self.max_response_bytes)?;
        let limit = self.max_response_bytes;
        let expected = response
            .content_length()
            .and_then(|length| usize::try_from(length).ok())
            .unwrap_or(0);
        let mut body = Vec::with_capacity(expected.min(limit));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.classify_body_error(error))?
        {
            if chunk.len() > limit - body.len() {
                return Err(TransportError::new(
                    TransportErrorKind::ResponseTooLarge,
                    format!("the body exceeds the limit of {limit} bytes"),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        let mut parts = http::Response::new(()).into_parts().0;
        parts.status = response.status();
        parts.version = response.version();
        parts.headers = std::mem::take(response.headers_mut());
        Ok(http::Response::from_parts(parts, body))
    }

    /// Maps an error from sending the request and reading the headers.
    fn classify_send_error(&self, error: reqwest::Error) -> TransportError {
        if error.is_timeout() && !error.is_connect() {
            return TransportError::attempt_timed_out(self.timeout)
                .with_source(error.without_url());
        }
        let (kind, cause) = if error.is_connect() {
            self.describe_connect_error(&error)
        } else if is_io_failure(&error) {
            (TransportErrorKind::Io, describe(&error))
        } else {
            (TransportErrorKind::Other, describe(&error))
        };
        TransportError::new(kind, cause).with_source(error.without_url())
    }

    /// Maps an error from reading the response body: reqwest's own attempt
    /// timeout, or the connection failing mid-body.
    fn classify_body_error(&self, error: reqwest::Error) -> TransportError {
        if error.is_timeout() {
            return TransportError::attempt_timed_out(self.timeout)
                .with_source(error.without_url());
        }
        let cause = format!("while reading the body: {}", describe(&error));
        TransportError::new(TransportErrorKind::Io, cause).with_source(error.without_url())
    }

    /// The kind and cause of a failed connect: a certificate that failed
    /// verification is not worth retrying; every other failure (refused,
    /// DNS, a failed or stalled TLS handshake) is a plain connect error.
    fn describe_connect_error(&self, error: &reqwest::Error) -> (TransportErrorKind, String) {
        if let Some(described) = chain(error).find_map(tls::describe) {
            return described;
        }
        if error.is_timeout() {
            let cause = match self.connect_timeout {
                Some(timeout) => {
                    format!("no connection within {timeout:?} (TCP and TLS handshake)")
                }
                None => "no connection within the client's connect timeout".to_owned(),
            };
            return (TransportErrorKind::Connect, cause);
        }
        (TransportErrorKind::Connect, describe(error))
    }
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl TransportFromConfig for ReqwestTransport {
    type Options = ReqwestOptions;

    fn from_config(config: &Config, options: ReqwestOptions) -> Result<Self, Error> {
        Self::with_options(config, options)
    }
}

impl AsyncTransport for ReqwestTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send {
        let attempt = self.exchange(request);
        let timeout = self.timeout;
        async move {
            // reqwest's own timeout (set on the request) covers the body too;
            // this bound holds whatever the client does.
            match tokio::time::timeout(timeout, attempt).await {
                Ok(result) => result,
                Err(elapsed) => {
                    Err(TransportError::attempt_timed_out(timeout).with_source(elapsed))
                }
            }
        }
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

/// The settings every client this crate builds has, whatever its TLS.
fn sdk_builder(config: &Config) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout())
        .redirect(reqwest::redirect::Policy::none())
        // The SDK's retry policy decides what is sent again.
        .retry(reqwest::retry::never())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tcp_nodelay(true)
}

fn build_client(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, Error> {
    builder
        .build()
        .map_err(|error| setup_error("reqwest could not build its client", error.without_url()))
}

/// The error and its sources, outermost first.
fn chain<'e>(
    error: &'e (dyn StdError + 'static),
) -> impl Iterator<Item = &'e (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e| e.source())
}

/// What happened, from the most specific errors of the chain: hyper's
/// description and the I/O error under it (neither holds a URL or a
/// header); reqwest's own text, without its URL, when there is neither.
fn describe(error: &reqwest::Error) -> String {
    let hyper = chain(error).find_map(|e| e.downcast_ref::<hyper::Error>());
    let io = chain(error)
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .last();
    match (hyper, io) {
        (Some(hyper), Some(io)) => format!("{hyper}: {io}"),
        (Some(hyper), None) => hyper.to_string(),
        (None, Some(io)) => io.to_string(),
        (None, None) => {
            // The first source that is not a reqwest error (those may
            // hold the URL): hyper-util's or reqwest's inner error types,
            // which never do.
            let described = chain(error)
                .skip(1)
                .find(|source| !source.is::<reqwest::Error>())
                .map(ToString::to_string)
                .unwrap_or_default();
            if described.is_empty() {
                "reqwest could not send the request".to_owned()
            } else {
                described
            }
        }
    }
}

/// Whether the chain holds a hyper or I/O error, i.e. the failure happened
/// on the connection.
fn is_io_failure(error: &reqwest::Error) -> bool {
    chain(error)
        .skip(1)
        .any(|cause| cause.is::<hyper::Error>() || cause.is::<std::io::Error>())
}

/// An error while setting the transport up: nothing was sent.
fn setup_error(message: &'static str, source: impl StdError + Send + Sync + 'static) -> Error {
    Error::Transport {
        source: TransportError::new(TransportErrorKind::Connect, message).with_source(source),
        attempts: 0,
    }
}

#[cfg(feature = "rustls")]
mod tls {
    //! rustls (*ring*), with the roots the Cargo features choose.
    use std::{error::Error as StdError, sync::Arc};

    use rustls::RootCertStore;

    use crate::{Error, TransportErrorKind, setup_error};

    /// The standard TLS set-up on `builder`.
    pub(crate) fn standard(
        builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, Error> {
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| setup_error("the TLS provider does not support TLS 1.2 or 1.3", e))?
        .with_root_certificates(trusted()?)
        .with_no_client_auth();
        Ok(with_rustls(builder, tls))
    }

    /// `builder` with the given rustls configuration (HTTP/1.1 only).
    pub(crate) fn with_rustls(
        builder: reqwest::ClientBuilder,
        mut tls: rustls::ClientConfig,
    ) -> reqwest::ClientBuilder {
        tls.alpn_protocols.clear();
        builder.tls_backend_preconfigured(tls)
    }

    /// The kind and cause of a TLS failure found at `cause`: rustls errors
    /// reach reqwest inside I/O errors, possibly nested, whose `source()`
    /// skips the error inside.
    pub(crate) fn describe(
        cause: &(dyn StdError + 'static),
    ) -> Option<(TransportErrorKind, String)> {
        let tls = authsignal_core::find_cause::<rustls::Error>(cause)?;
        Some(match tls {
            rustls::Error::InvalidCertificate(_) => {
                (TransportErrorKind::InvalidCertificate, tls.to_string())
            }
            other => (
                TransportErrorKind::Connect,
                format!("TLS handshake failed: {other}"),
            ),
        })
    }

    /// The operating system's store with `native-roots`, else the bundled
    /// Mozilla roots (the same meaning as in `authsignal-ureq` and
    /// `authsignal-hyper`).
    fn trusted() -> Result<RootCertStore, Error> {
        #[cfg(feature = "native-roots")]
        {
            let native = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let _ = roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                return Err(match native.errors.into_iter().next() {
                    Some(error) => {
                        setup_error("could not load the platform's root certificates", error)
                    }
                    None => setup_error(
                        "the platform has no root certificates",
                        std::io::Error::from(std::io::ErrorKind::NotFound),
                    ),
                });
            }
            Ok(roots)
        }
        #[cfg(not(feature = "native-roots"))]
        {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            Ok(roots)
        }
    }
}

#[cfg(not(feature = "rustls"))]
mod tls {
    //! The platform's TLS library through reqwest's `native-tls` back-end.
    use std::error::Error as StdError;

    use crate::{Error, TransportErrorKind};

    /// The standard TLS set-up on `builder`: native TLS with the platform's
    /// certificate store.
    pub(crate) fn standard(
        builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, Error> {
        Ok(builder.tls_backend_native())
    }

    /// The kind and cause of a TLS failure found at `cause`. The platform
    /// libraries report certificate failures only in their messages
    /// (OpenSSL: "certificate verify failed"), so that is what is matched.
    pub(crate) fn describe(
        cause: &(dyn StdError + 'static),
    ) -> Option<(TransportErrorKind, String)> {
        let tls = cause.downcast_ref::<native_tls::Error>()?;
        let text = tls.to_string();
        if text.contains("certificate verify failed") {
            Some((TransportErrorKind::InvalidCertificate, text))
        } else {
            Some((
                TransportErrorKind::Connect,
                format!("TLS handshake failed: {text}"),
            ))
        }
    }
}
