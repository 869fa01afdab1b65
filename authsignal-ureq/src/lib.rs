//! Blocking Authsignal client on [ureq](https://docs.rs/ureq) 3.
//!
//! [`Client`] is [`authsignal_core::Client`] over [`UreqTransport`]: every
//! endpoint method of the core client, run on a pooled ureq agent with
//! timeouts on (connect 5 s, whole attempt 10 s), redirects off, response
//! bodies capped (1 MiB) and retries as the [`RetryPolicy`] says.
//!
//! ```no_run
//! use authsignal_ureq::{Client, TrackRequest, UserActionState};
//!
//! let client = Client::from_secret(std::env::var("AUTHSIGNAL_SECRET_KEY")?)?;
//! let response = client.track(TrackRequest::new("user-123", "signIn"))?;
//! if response.state == UserActionState::ChallengeRequired {
//!     println!("challenge the user");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Choose a transport
//!
//! This crate is for synchronous services. For tokio services use
//! `authsignal-hyper`; for any other HTTP stack implement
//! [`BlockingTransport`] or [`AsyncTransport`] from `authsignal-core` (whose
//! docs also show offline request building and webhooks); for tests of your
//! own code, run `authsignal-testkit`'s fake server and point the client at
//! it with [`Config::with_base_url`].
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `rustls` | yes | HTTPS through rustls (ring) with the webpki roots |
//! | `native-roots` | no | with rustls, the operating system's certificate verifier |
//! | `native-tls` | no | HTTPS through the platform TLS library instead of rustls |
//! | `tracing` | no | a `tracing` span per call |
//!
//! At least one of `rustls` and `native-tls` is required.
//!
//! To tune the agent (proxy, TLS, pool), build it yourself and pass it to
//! [`UreqTransport::with_agent`]; keep `http_status_as_error(false)` and
//! `max_redirects(0)` so error bodies are read and redirects are not followed.
//!
//! # Logging
//!
//! ureq logs through the `log` crate. At DEBUG it shows the method, host,
//! status and non-sensitive headers, with paths and queries masked; **at
//! TRACE it shows full paths and queries (user ids, the `token` of
//! `query_users`) and `ureq_proto` hex-dumps the wire, `Authorization` header
//! (your secret key) and bodies (OTP codes, tokens) included.** Keep it at
//! INFO wherever logs are kept:
//!
//! ```text
//! RUST_LOG=debug,ureq=info,ureq_proto=info           # env_logger
//! EnvFilter::new("debug,ureq=info,ureq_proto=info")   # tracing-subscriber
//! ```
//!
//! (`tracing_subscriber::fmt().init()` forwards `log` records through its
//! default `tracing-log` feature.) rustls, with the `rustls` feature, logs
//! handshake details (server name, cipher suite, certificates) at DEBUG and
//! TRACE, but no HTTP data.
//!
//! The SDK's own output, with the `tracing` feature, is safe at every level:
//! a DEBUG span per call with the endpoint name and method, and a DEBUG event
//! per attempt (number, status or error kind, duration) and per retry; never
//! a URL, header, body, secret, token or code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
compile_error!(
    "authsignal-ureq needs a TLS backend: enable the `rustls` (default) or `native-tls` feature"
);

use std::{borrow::Cow, fmt, io};

mod resolver;

pub use authsignal_core::*;
use ureq::{
    Agent,
    unversioned::transport::{ConnectionDetails, Connector, DefaultConnector, Transport},
};

/// The blocking client on ureq.
pub type Client = authsignal_core::Client<UreqTransport>;

/// A [`BlockingTransport`] on a ureq [`Agent`]. Clones share the agent's
/// connection pool.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: Agent,
    max_response_bytes: usize,
}

impl UreqTransport {
    /// A transport on a new agent with the configuration's timeouts and limits.
    pub fn new(config: &Config) -> Self {
        let agent_config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            // Keep a pooled connection per thread of a busy service instead
            // of ureq's default of 3 per host (each reconnect is a TLS handshake).
            .max_idle_connections(64)
            .max_idle_connections_per_host(32)
            .timeout_connect(Some(config.connect_timeout()))
            .timeout_global(Some(config.timeout()))
            .user_agent(USER_AGENT)
            .tls_config(tls_config())
            .build();
        let agent = Agent::with_parts(
            agent_config,
            MarkConnectErrors(DefaultConnector::default()),
            resolver::CachingResolver::default(),
        );
        Self::with_agent(agent, config.max_response_bytes())
    }

    /// A transport on your own agent; response bodies are capped at
    /// `max_response_bytes`.
    pub fn with_agent(agent: Agent, max_response_bytes: usize) -> Self {
        Self {
            agent,
            max_response_bytes,
        }
    }

    /// The underlying agent.
    pub fn agent(&self) -> &Agent {
        &self.agent
    }
}

impl TransportFromConfig for UreqTransport {
    fn from_config(config: &Config) -> Result<Self, Error> {
        Ok(Self::new(config))
    }
}

impl BlockingTransport for UreqTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let response = self.agent.run(request).map_err(classify)?;
        check_declared_length(response.headers(), self.max_response_bytes)?;
        let (parts, body) = response.into_parts();
        let body = body
            .into_with_config()
            .limit(u64::try_from(self.max_response_bytes).unwrap_or(u64::MAX))
            .read_to_vec()
            .map_err(classify)?;
        Ok(http::Response::from_parts(parts, body))
    }
}

/// The TLS set-up picked by the crate features.
fn tls_config() -> ureq::tls::TlsConfig {
    use ureq::tls::TlsConfig;
    #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
    let config = TlsConfig::builder().provider(ureq::tls::TlsProvider::NativeTls);
    #[cfg(all(feature = "rustls", feature = "native-roots"))]
    let config = TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier);
    #[cfg(not(any(
        all(feature = "native-tls", not(feature = "rustls")),
        all(feature = "rustls", feature = "native-roots")
    )))]
    let config = TlsConfig::builder();
    config.build()
}

/// The connector chain of ureq with every error of the connect phase (DNS,
/// TCP, TLS handshake) wrapped in [`ConnectFailed`]: ureq reports a failed
/// or stalled handshake as a plain I/O error, which would otherwise read as
/// "the request may have been processed".
#[derive(Debug)]
struct MarkConnectErrors(DefaultConnector);

impl Connector<()> for MarkConnectErrors {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        self.0
            .connect(details, chained)
            .map_err(|error| ureq::Error::Other(Box::new(ConnectFailed(error))))
    }
}

/// An error raised before the request was written: nothing was sent.
#[derive(Debug)]
struct ConnectFailed(ureq::Error);

impl fmt::Display for ConnectFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connect failed: {}", self.0)
    }
}

impl std::error::Error for ConnectFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Maps a ureq error to a transport error whose kind says whether the
/// request may have been sent, and whose cause says what happened (never
/// the URL: some ureq errors quote it).
fn classify(error: ureq::Error) -> TransportError {
    use ureq::{Error as E, Timeout};
    let connect_phase = match &error {
        E::Other(inner) => inner.downcast_ref::<ConnectFailed>().map(|c| &c.0),
        _ => None,
    };
    let (kind, cause): (TransportErrorKind, Cow<'static, str>) = match connect_phase {
        Some(cause) => describe_connect_error(cause),
        None => match &error {
            E::HostNotFound => (TransportErrorKind::Connect, "host not found".into()),
            E::Timeout(Timeout::Resolve) => (
                TransportErrorKind::Connect,
                "the DNS lookup timed out".into(),
            ),
            E::Timeout(Timeout::Connect) => (
                TransportErrorKind::Connect,
                "no connection within the connect timeout".into(),
            ),
            E::Timeout(phase) => (
                TransportErrorKind::Timeout,
                format!("the {phase} timeout elapsed").into(),
            ),
            E::Io(e) if e.kind() == io::ErrorKind::TimedOut => {
                (TransportErrorKind::Timeout, e.to_string().into())
            }
            E::Io(e) => match tls_error(e) {
                Some(tls) => (TransportErrorKind::Io, format!("TLS error: {tls}").into()),
                None => (TransportErrorKind::Io, e.to_string().into()),
            },
            E::Protocol(_) => (
                TransportErrorKind::Io,
                "the response is not valid HTTP/1.1".into(),
            ),
            E::LargeResponseHeader(..) => (
                TransportErrorKind::Io,
                "the response headers are too large".into(),
            ),
            E::BodyExceedsLimit(limit) => (
                TransportErrorKind::ResponseTooLarge,
                format!("the body exceeds the limit of {limit} bytes").into(),
            ),
            _ => (
                TransportErrorKind::Other,
                "ureq could not complete the request".into(),
            ),
        },
    };
    TransportError::new(kind, cause).with_source(error)
}

/// The kind and cause of an error raised while connecting: always "not
/// sent"; a certificate that failed verification is not worth retrying.
fn describe_connect_error(error: &ureq::Error) -> (TransportErrorKind, Cow<'static, str>) {
    use ureq::Error as E;
    let connect = TransportErrorKind::Connect;
    match error {
        E::HostNotFound => (connect, "host not found".into()),
        E::Timeout(_) => (
            connect,
            "no connection within the connect timeout (TCP and TLS handshake)".into(),
        ),
        E::Io(e) => match tls_error(e) {
            Some(tls) => describe_tls_error(tls),
            None => (connect, e.to_string().into()),
        },
        #[cfg(feature = "rustls")]
        E::Rustls(tls) => describe_tls_error(tls),
        E::Tls(message) => (connect, format!("TLS set-up failed: {message}").into()),
        #[cfg(feature = "native-tls")]
        E::NativeTls(tls) => (connect, format!("TLS handshake failed: {tls}").into()),
        _ => (connect, "connection failed".into()),
    }
}

#[cfg(feature = "rustls")]
type TlsError = rustls::Error;
#[cfg(not(feature = "rustls"))]
type TlsError = std::convert::Infallible;

/// The rustls error inside an I/O error (possibly nested), if that is what
/// it holds.
fn tls_error(error: &io::Error) -> Option<&TlsError> {
    let mut inner = error.get_ref()?;
    loop {
        if let Some(tls) = inner.downcast_ref::<TlsError>() {
            return Some(tls);
        }
        inner = inner.downcast_ref::<io::Error>()?.get_ref()?;
    }
}

#[cfg(feature = "rustls")]
fn describe_tls_error(error: &rustls::Error) -> (TransportErrorKind, Cow<'static, str>) {
    match error {
        rustls::Error::InvalidCertificate(_) => (
            TransportErrorKind::InvalidCertificate,
            error.to_string().into(),
        ),
        other => (
            TransportErrorKind::Connect,
            format!("TLS handshake failed: {other}").into(),
        ),
    }
}

#[cfg(not(feature = "rustls"))]
fn describe_tls_error(error: &TlsError) -> (TransportErrorKind, Cow<'static, str>) {
    match *error {}
}
