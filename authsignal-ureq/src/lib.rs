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

use std::{
    io,
    time::{Duration, Instant},
};

mod resolver;

pub use authsignal_core::*;
use ureq::Agent;

/// The blocking client on ureq.
pub type Client = authsignal_core::Client<UreqTransport>;

/// A [`BlockingTransport`] on a ureq [`Agent`]. Clones share the agent's
/// connection pool.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: Agent,
    max_response_bytes: u64,
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
            ureq::unversioned::transport::DefaultConnector::default(),
            resolver::CachingResolver::default(),
        );
        Self::with_agent(agent, config.max_response_bytes())
    }

    /// A transport on your own agent; response bodies are capped at
    /// `max_response_bytes`.
    pub fn with_agent(agent: Agent, max_response_bytes: usize) -> Self {
        Self {
            agent,
            max_response_bytes: u64::try_from(max_response_bytes).unwrap_or(u64::MAX),
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
        let (parts, body) = response.into_parts();
        let body = body
            .into_with_config()
            .limit(self.max_response_bytes)
            .read_to_vec()
            .map_err(classify)?;
        Ok(http::Response::from_parts(parts, body))
    }

    fn sleep(&self, delay: Duration) {
        std::thread::sleep(delay);
    }

    fn now(&self) -> Option<Instant> {
        Some(Instant::now())
    }

    fn jitter(&self) -> f64 {
        fastrand::f64()
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

/// Maps a ureq error to a transport error whose kind says whether the
/// request may have been sent.
fn classify(error: ureq::Error) -> TransportError {
    use ureq::{Error as E, Timeout};
    let kind = match &error {
        E::HostNotFound | E::ConnectionFailed | E::Tls(_) | E::Pem(_) => {
            TransportErrorKind::Connect
        }
        #[cfg(feature = "rustls")]
        E::Rustls(_) => TransportErrorKind::Connect,
        #[cfg(feature = "native-tls")]
        E::NativeTls(_) | E::Der(_) => TransportErrorKind::Connect,
        E::Timeout(Timeout::Resolve | Timeout::Connect) => TransportErrorKind::Connect,
        E::Timeout(_) => TransportErrorKind::Timeout,
        E::Io(e) if is_connect_error(e) => TransportErrorKind::Connect,
        E::Io(e) if e.kind() == io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
        E::Io(_) | E::Protocol(_) => TransportErrorKind::Io,
        E::BodyExceedsLimit(_) => TransportErrorKind::ResponseTooLarge,
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, "ureq request failed").with_source(error)
}

fn is_connect_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
    )
}
