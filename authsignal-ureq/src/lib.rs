//! Blocking Authsignal client on [ureq](https://docs.rs/ureq) 3.
//!
//! [`Client`] is `authsignal_core::Client` over [`UreqTransport`]: every
//! endpoint method of the core client, run on a pooled ureq agent with
//! timeouts on (connect 5 s including the TLS handshake, whole attempt
//! 10 s), redirects off, response bodies capped (1 MiB) and retries as the
//! [`RetryPolicy`] says, waiting between attempts with [`StdTimer`].
//!
//! ```no_run
//! use authsignal_ureq::{Client, TrackRequest, UserActionState};
//!
//! let client = Client::builder(std::env::var("AUTHSIGNAL_SECRET_KEY")?).build()?;
//! let response = client.track(TrackRequest::new("user-123", "signIn"))?;
//! if response.state == UserActionState::ChallengeRequired {
//!     println!("challenge the user");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! `Client::builder(secret)` collects the region or base URL, timeouts, the
//! response size limit, retries and the transport's [`UreqOptions`];
//! [`build`](ClientBuilder::build) checks them once:
//!
//! ```no_run
//! use std::time::Duration;
//! use authsignal_ureq::{Client, Region, RetryPolicy};
//!
//! let client = Client::builder("sk_live_…")
//!     .with_region(Region::Eu)
//!     .with_timeout(Duration::from_secs(5))
//!     .with_retry_policy(RetryPolicy::default().with_max_retries(1))
//!     .build()?;
//! # Ok::<(), authsignal_ureq::Error>(())
//! ```
//!
//! To tune the agent (proxy, TLS roots, pool sizes), adjust the SDK's with
//! [`UreqOptions::with_agent_config`]; every guarantee holds. To share your
//! own agent, pass it to [`UreqOptions::with_agent`] (its docs say what
//! that costs).
//!
//! # Choose a transport
//!
//! This crate is for synchronous services. For tokio services use
//! `authsignal-hyper` (or `authsignal-reqwest` if you already use reqwest);
//! for any other HTTP stack implement
//! `BlockingTransport` or `AsyncTransport` from `authsignal-core` (whose
//! docs also show offline request building and webhooks); for tests of your
//! own code, run `authsignal-testkit`'s fake server and point the client at
//! it with `with_base_url`.
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `rustls` | yes | HTTPS through rustls (ring) with the bundled Mozilla roots |
//! | `native-roots` | no | with rustls, trust the operating system's certificate store instead, read when the client is built (as in `authsignal-hyper`) |
//! | `native-tls` | no | HTTPS through the platform TLS library instead of rustls |
//! | `tracing` | no | a `tracing` span per call |
//!
//! At least one of `rustls` and `native-tls` is required.
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

use std::{borrow::Cow, fmt, io, time::Duration};

mod resolver;

pub use authsignal_core::api::*;
pub use authsignal_core::{
    ApiError, ApiSecretKey, BlockingTimer, Config, Endpoint, Error, FromConfig, InvalidInput,
    NoWaitTimer, QueryUsersIter, QueryUsersPages, Region, RetryBudget, RetryPolicy, SecretString,
    StdTimer, TransportError, TransportErrorKind, USER_AGENT, UnexpectedResponse, VERSION, http,
    webhook,
};
use authsignal_core::{BlockingTransport, TransportFromConfig, check_declared_length, find_cause};
/// The ureq version this crate is built on, for [`UreqOptions::with_agent`].
pub use ureq;
use ureq::{
    Agent,
    unversioned::transport::{
        Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport,
        time::Duration as TimeoutDuration,
    },
};

/// The blocking client on ureq: build it with `Client::builder(secret)`.
pub type Client = authsignal_core::Client<UreqTransport>;

/// The builder of [`Client`]: `Client::builder(secret)`, then `build()`
/// checks every setting once.
pub type ClientBuilder = authsignal_core::Builder<Client>;

/// The settings of a ureq agent, as [`UreqOptions::with_agent_config`]
/// hands them to you.
pub type AgentConfigBuilder = ureq::config::ConfigBuilder<ureq::typestate::AgentScope>;

/// A [`BlockingTransport`] on a ureq [`Agent`]. Clones share the agent's
/// connection pool.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: Agent,
    /// Set for an agent you brought: the SDK's settings then go on each request.
    per_request: Option<RequestSettings>,
    max_response_bytes: usize,
}

/// What the SDK needs of every request sent on an agent it did not build.
#[derive(Debug, Clone, Copy)]
struct RequestSettings {
    connect_timeout: Duration,
    timeout: Duration,
}

/// How [`UreqTransport`] gets its agent: by default a new one with the SDK's
/// set-up, or one adjusted by you, or yours.
#[derive(Default)]
pub struct UreqOptions {
    agent: AgentChoice,
}

#[derive(Default)]
enum AgentChoice {
    #[default]
    Standard,
    Adjusted(Box<dyn FnOnce(AgentConfigBuilder) -> AgentConfigBuilder + Send>),
    Yours(Agent),
}

impl fmt::Debug for UreqOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let agent = match self.agent {
            AgentChoice::Standard => "standard",
            AgentChoice::Adjusted(_) => "adjusted",
            AgentChoice::Yours(_) => "yours",
        };
        f.debug_struct("UreqOptions")
            .field("agent", &agent)
            .finish()
    }
}

impl UreqOptions {
    /// Adjusts the agent the transport builds: a proxy, TLS roots, pool
    /// sizes… `adjust` gets the SDK's settings; afterwards the SDK sets
    /// again what it relies on: the [`Config`]'s timeouts, status codes
    /// returned as responses, and no redirects. Every guarantee holds,
    /// including "not sent" for failed TLS handshakes.
    ///
    /// ```
    /// use authsignal_ureq::{Client, UreqOptions};
    /// let client = Client::builder("sk_test_123")
    ///     .with_transport_options(UreqOptions::default().with_agent_config(|agent| {
    ///         agent.max_idle_connections_per_host(8)
    ///     }))
    ///     .build()?;
    /// # Ok::<(), authsignal_ureq::Error>(())
    /// ```
    pub fn with_agent_config(
        mut self,
        adjust: impl FnOnce(AgentConfigBuilder) -> AgentConfigBuilder + Send + 'static,
    ) -> Self {
        self.agent = AgentChoice::Adjusted(Box::new(adjust));
        self
    }

    /// Sends on your agent, sharing its connection pool with the rest of
    /// your service. The [`Config`]'s timeouts, "status codes are
    /// responses" and "no redirects" are applied to each request; the
    /// response limit holds as always.
    ///
    /// What an agent built by you cannot give: a TLS handshake that fails
    /// for a reason other than the certificate is reported as
    /// [`TransportErrorKind::Io`] ("may have been processed") instead of
    /// [`TransportErrorKind::Connect`], because ureq reports it as a plain
    /// I/O error; and the SDK's DNS cache is not used. Prefer
    /// [`with_agent_config`](Self::with_agent_config) where you can.
    pub fn with_agent(mut self, agent: Agent) -> Self {
        self.agent = AgentChoice::Yours(agent);
        self
    }
}

impl UreqTransport {
    /// A transport on a new agent with the configuration's timeouts and
    /// limits (the set-up `Client::builder` uses by default).
    ///
    /// Fails only with `native-roots` on a system whose certificate store
    /// cannot be read (a [`TransportErrorKind::Connect`] error after 0
    /// attempts).
    pub fn new(config: &Config) -> Result<Self, Error> {
        Self::with_options(config, UreqOptions::default())
    }

    /// A transport for `config` with `options` (fails as [`UreqTransport::new`]).
    pub fn with_options(config: &Config, options: UreqOptions) -> Result<Self, Error> {
        let standard = Agent::config_builder()
            // Keep a pooled connection per thread of a busy service instead
            // of ureq's default of 3 per host (each reconnect is a TLS handshake).
            .max_idle_connections(64)
            .max_idle_connections_per_host(32)
            .user_agent(USER_AGENT)
            .tls_config(tls_config()?);
        let adjusted = match options.agent {
            AgentChoice::Standard => standard,
            AgentChoice::Adjusted(adjust) => adjust(standard),
            AgentChoice::Yours(agent) => {
                return Ok(Self {
                    agent,
                    per_request: Some(RequestSettings {
                        connect_timeout: config.connect_timeout(),
                        timeout: config.timeout(),
                    }),
                    max_response_bytes: config.max_response_bytes(),
                });
            }
        };
        let agent_config = adjusted
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout()))
            .timeout_global(Some(config.timeout()))
            .build();
        let agent = Agent::with_parts(
            agent_config,
            MarkConnectErrors {
                inner: DefaultConnector::default(),
                timeout_step: (config.timeout() / 100).max(Duration::from_millis(1)),
            },
            resolver::CachingResolver::default(),
        );
        Ok(Self {
            agent,
            per_request: None,
            max_response_bytes: config.max_response_bytes(),
        })
    }

    /// The underlying agent.
    pub fn agent(&self) -> &Agent {
        &self.agent
    }
}

impl TransportFromConfig for UreqTransport {
    type Options = UreqOptions;

    fn from_config(config: &Config, options: UreqOptions) -> Result<Self, Error> {
        Self::with_options(config, options)
    }
}

impl BlockingTransport for UreqTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let request = match self.per_request {
            None => request,
            Some(settings) => self
                .agent
                .configure_request(request)
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_connect(Some(settings.connect_timeout))
                .timeout_global(Some(settings.timeout))
                .build(),
        };
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

/// The TLS set-up the crate features pick: rustls with the bundled Mozilla
/// roots, or the operating system's store with `native-roots` (the same
/// meaning as in `authsignal-hyper`), or native-tls.
fn tls_config() -> Result<ureq::tls::TlsConfig, Error> {
    use ureq::tls::TlsConfig;
    #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
    let config = TlsConfig::builder().provider(ureq::tls::TlsProvider::NativeTls);
    #[cfg(all(feature = "rustls", feature = "native-roots"))]
    let config = TlsConfig::builder().root_certs(native_roots()?);
    #[cfg(not(any(
        all(feature = "native-tls", not(feature = "rustls")),
        all(feature = "rustls", feature = "native-roots")
    )))]
    let config = TlsConfig::builder();
    Ok(config.build())
}

/// The operating system's root certificates; an error (nothing sent) when
/// none could be read.
#[cfg(all(feature = "rustls", feature = "native-roots"))]
fn native_roots() -> Result<ureq::tls::RootCerts, Error> {
    let native = rustls_native_certs::load_native_certs();
    if native.certs.is_empty() {
        let cause = match native.errors.first() {
            Some(error) => format!("could not load the platform's root certificates: {error}"),
            None => "the platform has no root certificates".to_owned(),
        };
        return Err(Error::Transport {
            source: TransportError::new(TransportErrorKind::Connect, cause),
            attempts: 0,
        });
    }
    let certs: Vec<_> = native
        .certs
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
        .collect();
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

/// The connector chain of ureq with every error of the connect phase (DNS,
/// TCP, TLS handshake) wrapped in [`ConnectFailed`]: ureq reports a failed
/// or stalled handshake as a plain I/O error, which would otherwise read as
/// "the request may have been processed".
///
/// It also wraps each new connection in [`SteadyTimeouts`].
#[derive(Debug)]
struct MarkConnectErrors {
    inner: DefaultConnector,
    /// The rounding step of [`SteadyTimeouts`]: 1 % of the attempt timeout.
    timeout_step: Duration,
}

impl Connector<()> for MarkConnectErrors {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let step = self.timeout_step;
        match self.inner.connect(details, chained) {
            Ok(transport) => Ok(transport
                .map(|inner| Box::new(SteadyTimeouts { inner, step }) as Box<dyn Transport>)),
            Err(error) => Err(ureq::Error::Other(Box::new(ConnectFailed(error)))),
        }
    }
}

/// Hands the transport the time left before the attempt's deadline rounded
/// down to a multiple of `step` (1 % of the attempt timeout): ureq sets a
/// socket timeout (a system call) whenever the value changes, and the exact
/// time left changes on every read and write, which cost three system calls
/// per call. Rounded down, the value stays the same from call to call, and a
/// deadline is never late and at most one step early; under one step it is
/// passed exactly.
#[derive(Debug)]
struct SteadyTimeouts {
    inner: Box<dyn Transport>,
    step: Duration,
}

impl SteadyTimeouts {
    fn steady(&self, timeout: NextTimeout) -> NextTimeout {
        steady(timeout, self.step)
    }
}

fn steady(mut timeout: NextTimeout, step: Duration) -> NextTimeout {
    if let TimeoutDuration::Exact(left) = timeout.after {
        if left >= step && !step.is_zero() {
            let steps = left.as_nanos() / step.as_nanos();
            let rounded = step.saturating_mul(u32::try_from(steps).unwrap_or(u32::MAX));
            timeout.after = TimeoutDuration::Exact(rounded);
        }
    }
    timeout
}

impl Transport for SteadyTimeouts {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = self.steady(timeout);
        self.inner.transmit_output(amount, timeout)
    }

    fn maybe_await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = self.steady(timeout);
        self.inner.maybe_await_input(timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = self.steady(timeout);
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
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
    find_cause::<TlsError>(error)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn after(timeout: NextTimeout) -> TimeoutDuration {
        timeout.after
    }

    fn left(ms: u64) -> NextTimeout {
        NextTimeout {
            after: TimeoutDuration::Exact(Duration::from_millis(ms)),
            ..NextTimeout::default()
        }
    }

    #[test]
    fn steady_timeouts_round_down_to_the_step_and_keep_short_ones_exact() {
        let step = Duration::from_millis(100);
        let steady = |timeout| steady(timeout, step);
        let exact = |ms| TimeoutDuration::Exact(Duration::from_millis(ms));
        assert_eq!(after(steady(left(9_999))), exact(9_900));
        assert_eq!(after(steady(left(9_901))), exact(9_900));
        assert_eq!(after(steady(left(100))), exact(100));
        assert_eq!(after(steady(left(99))), exact(99), "under one step: exact");
        assert_eq!(after(steady(left(0))), exact(0));
        let never = NextTimeout::default();
        assert_eq!(after(steady(never)), TimeoutDuration::NotHappening);
        assert_eq!(after(super::steady(left(7), Duration::ZERO)), exact(7));
        // The reason and per-operation limits pass through unchanged.
        let timeout = NextTimeout {
            per_read: Some(TimeoutDuration::Exact(Duration::from_secs(1))),
            ..left(5_050)
        };
        assert_eq!(steady(timeout).per_read, timeout.per_read);
        assert_eq!(steady(timeout).reason, timeout.reason);
    }
}
