//! Client configuration: secret key, base URL, limits, timeouts and retries.

use std::{borrow::Cow, fmt, sync::Arc, time::Duration};

use base64::Engine as _;
use http::HeaderValue;

use crate::{ApiSecretKey, InvalidInput, RetryBudget, RetryPolicy};

/// The SDK version, sent in `User-Agent` and `X-Authsignal-Version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!("authsignal-rust/", env!("CARGO_PKG_VERSION"));

/// The default Call Connect base URL (the US region's).
pub const DEFAULT_CALL_CONNECT_URL: &str = "https://us-connect.authsignal.com";

/// An Authsignal region, picking the API base URL and the Call Connect host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Region {
    /// US (Oregon): `https://api.authsignal.com/v1`.
    #[default]
    Us,
    /// AU (Sydney): `https://au.api.authsignal.com/v1`.
    Au,
    /// EU (Dublin): `https://eu.api.authsignal.com/v1`.
    Eu,
    /// CA (Montreal): `https://ca.api.authsignal.com/v1`.
    Ca,
}

impl Region {
    /// The region's API base URL (the Terminal API uses it too).
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://api.authsignal.com/v1",
            Region::Au => "https://au.api.authsignal.com/v1",
            Region::Eu => "https://eu.api.authsignal.com/v1",
            Region::Ca => "https://ca.api.authsignal.com/v1",
        }
    }

    /// The region's Call Connect base URL (no `/v1`). The US host has no
    /// `.api` label, unlike the others.
    pub fn call_connect_url(self) -> &'static str {
        match self {
            Region::Us => DEFAULT_CALL_CONNECT_URL,
            Region::Au => "https://au-connect.api.authsignal.com",
            Region::Eu => "https://eu-connect.api.authsignal.com",
            Region::Ca => "https://ca-connect.api.authsignal.com",
        }
    }
}

/// Everything a request needs besides its own data, validated once by a
/// [`Builder`]. Cheap to clone; clones share the retry budget.
///
/// ```
/// use authsignal_core::{Config, Region};
/// let config = Config::builder("sk_test_123")
///     .with_region(Region::Eu)
///     .with_max_response_bytes(256 * 1024)
///     .build()?;
/// assert_eq!(config.base_url(), "https://eu.api.authsignal.com/v1");
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Config {
    secret: ApiSecretKey,
    authorization: HeaderValue,
    call_connect_authorization: Option<HeaderValue>,
    base_url: Arc<str>,
    call_connect_url: Arc<str>,
    max_response_bytes: usize,
    connect_timeout: Duration,
    timeout: Duration,
    retry_policy: RetryPolicy,
    retry_budget: Option<Arc<RetryBudget>>,
}

impl Config {
    /// Starts a configuration for the US region with the default limits
    /// (1 MiB responses, 5 s connect timeout, 10 s per attempt, 2 retries,
    /// a retry budget); [`Builder::build`] checks it.
    pub fn builder(secret: impl Into<String>) -> Builder<Config> {
        Builder::new(secret)
    }

    /// The API secret key.
    pub fn secret_key(&self) -> &ApiSecretKey {
        &self.secret
    }

    /// The API base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The Call Connect base URL, without a trailing slash.
    pub fn call_connect_url(&self) -> &str {
        &self.call_connect_url
    }

    /// Whether a Call Connect secret key is set
    /// ([`Builder::with_call_connect_secret`]); without one, Call Connect
    /// requests fail with
    /// [`InvalidInput::MissingCallConnectSecret`](crate::InvalidInput::MissingCallConnectSecret).
    pub fn has_call_connect_secret(&self) -> bool {
        self.call_connect_authorization.is_some()
    }

    /// The response body limit in bytes.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// The connect timeout (TCP connect and TLS handshake together).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The timeout of one attempt, from sending to the end of the body.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry_policy
    }

    /// The shared retry budget; `None` after [`Builder::without_retry_budget`].
    pub fn retry_budget(&self) -> Option<&RetryBudget> {
        self.retry_budget.as_deref()
    }

    /// The host (with its port, when one is given) that `service` is reached
    /// at, for error messages.
    pub(crate) fn host(&self, service: crate::Service) -> String {
        let url = match service {
            crate::Service::CallConnect => &self.call_connect_url,
            // `Service` is non-exhaustive only for other crates.
            crate::Service::Api | crate::Service::Terminal => &self.base_url,
        };
        match url::Url::parse(url) {
            Ok(url) => match (url.host_str(), url.port()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_owned(),
                (None, _) => "the server".to_owned(),
            },
            Err(_) => "the server".to_owned(),
        }
    }

    /// The Server API `Authorization` header value, marked sensitive.
    pub(crate) fn authorization(&self) -> &HeaderValue {
        &self.authorization
    }

    /// The Call Connect `Authorization` header value (its own key), marked
    /// sensitive; `None` when no Call Connect key is set.
    pub(crate) fn call_connect_authorization(&self) -> Option<&HeaderValue> {
        self.call_connect_authorization.as_ref()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("secret", &self.secret)
            .field(
                "call_connect_secret",
                &self.call_connect_authorization.as_ref().map(|_| Redacted),
            )
            .field("base_url", &self.base_url)
            .field("call_connect_url", &self.call_connect_url)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("retry_policy", &self.retry_policy)
            .field("retry_budget", &self.retry_budget)
            .finish()
    }
}

/// Prints `<redacted>` in place of a secret.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a [`Builder`] builds: a [`Config`], or a client made from one and
/// its transport's options.
pub trait FromConfig: Sized {
    /// Settings of the transport beyond the [`Config`] (your own HTTP agent,
    /// TLS configuration…); `()` when there are none.
    type Options: Default;

    /// Builds from a validated configuration.
    fn from_config(config: Config, options: Self::Options) -> Result<Self, crate::Error>;
}

impl FromConfig for Config {
    type Options = ();

    fn from_config(config: Config, _options: ()) -> Result<Self, crate::Error> {
        Ok(config)
    }
}

/// Collects settings and checks them once, in [`build`](Self::build): the
/// one way to make a [`Config`] (`Config::builder`) or a client
/// (`Client::builder` of each transport crate).
///
/// ```
/// use std::time::Duration;
/// use authsignal_core::{Config, RetryPolicy};
/// let config = Config::builder("sk_test_123")
///     .with_base_url("http://127.0.0.1:8080/v1")
///     .with_timeout(Duration::from_secs(3))
///     .with_retry_policy(RetryPolicy::no_retries())
///     .build()?;
/// assert_eq!(config.timeout(), Duration::from_secs(3));
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder<T: FromConfig> {
    secret: ApiSecretKey,
    call_connect_secret: Option<ApiSecretKey>,
    region: Region,
    base_url: Cow<'static, str>,
    /// Set by `with_call_connect_url`; otherwise the region's host.
    call_connect_url: Option<Cow<'static, str>>,
    max_response_bytes: usize,
    connect_timeout: Duration,
    timeout: Duration,
    retry_policy: RetryPolicy,
    retry_budget: Option<RetryBudget>,
    options: T::Options,
}

impl<T: FromConfig> Builder<T> {
    /// A builder with the defaults of [`Config::builder`].
    pub fn new(secret: impl Into<String>) -> Self {
        Self {
            secret: ApiSecretKey::new(secret),
            call_connect_secret: None,
            region: Region::Us,
            base_url: Cow::Borrowed(Region::Us.base_url()),
            call_connect_url: None,
            max_response_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            retry_policy: RetryPolicy::default(),
            retry_budget: Some(RetryBudget::default()),
            options: T::Options::default(),
        }
    }

    /// Uses a region's hosts: its API base URL ([`Region::base_url`], also
    /// the Terminal API's) and its Call Connect host
    /// ([`Region::call_connect_url`]), unless
    /// [`with_call_connect_url`](Self::with_call_connect_url) sets another
    /// (in either order).
    pub fn with_region(mut self, region: Region) -> Self {
        self.region = region;
        self.base_url = Cow::Borrowed(region.base_url());
        self
    }

    /// Uses a custom base URL, e.g. a fake server in tests.
    ///
    /// It must be `https`, or `http` to a loopback host (`localhost`,
    /// `127.0.0.0/8`, `::1`); it may not carry credentials, a query or a
    /// fragment. A trailing slash is removed. Checked by `build`.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Cow::Owned(url.into());
        self
    }

    /// Uses a custom Call Connect base URL instead of the region's (same
    /// rules as [`with_base_url`](Self::with_base_url)); it wins over
    /// [`with_region`](Self::with_region) whichever comes first.
    pub fn with_call_connect_url(mut self, url: impl Into<String>) -> Self {
        self.call_connect_url = Some(Cow::Owned(url.into()));
        self
    }

    /// Sets the Call Connect API secret key (Portal → Settings → Call
    /// Connect), which `start_call` and `finish_call` send as
    /// `Authorization: Basic base64("<key>:")`, marked sensitive.
    ///
    /// Call Connect has its own key. Without one, Call Connect requests fail
    /// with [`InvalidInput::MissingCallConnectSecret`] and nothing is sent:
    /// the Server API key is never used in its place. `build` rejects an
    /// empty key or one with control characters.
    ///
    /// ```
    /// use authsignal_core::{Config, Endpoint, StartCallRequest};
    /// let config = Config::builder("sk_server_api")
    ///     .with_call_connect_secret("sk_call_connect")
    ///     .build()?;
    /// let request = StartCallRequest::new("call-1").build_request(&config)?;
    /// // Basic base64("sk_call_connect:")
    /// assert_eq!(request.headers()["authorization"], "Basic c2tfY2FsbF9jb25uZWN0Og==");
    /// # Ok::<(), authsignal_core::Error>(())
    /// ```
    pub fn with_call_connect_secret(mut self, secret: impl Into<String>) -> Self {
        self.call_connect_secret = Some(ApiSecretKey::new(secret));
        self
    }

    /// Caps response bodies at `bytes` (default 1 MiB); larger ones fail with
    /// [`TransportErrorKind::ResponseTooLarge`](crate::TransportErrorKind::ResponseTooLarge).
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Sets the connect timeout, TCP connect and TLS handshake together
    /// (default 5 s).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the timeout of one attempt, from sending to the end of the
    /// response body (default 10 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the retry policy (default: [`RetryPolicy::default`]).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Replaces the retry budget: a token bucket shared by every client built
    /// from this configuration (and its clones), which retries drain and
    /// successes refill, so an outage does not multiply the traffic.
    ///
    /// A budget is on by default ([`RetryBudget::default`]: 500 tokens, 35
    /// retries after errors or 100 after throttling before retries stop until
    /// calls succeed again).
    pub fn with_retry_budget(mut self, budget: RetryBudget) -> Self {
        self.retry_budget = Some(budget);
        self
    }

    /// Turns the retry budget off: every call may retry as its
    /// [`RetryPolicy`] says, however many other calls are failing.
    pub fn without_retry_budget(mut self) -> Self {
        self.retry_budget = None;
        self
    }

    /// Sets the transport's own options (see the transport crate).
    pub fn with_transport_options(mut self, options: T::Options) -> Self {
        self.options = options;
        self
    }

    /// Checks every setting and builds. Fails with
    /// [`InvalidInput`] when the key is empty or holds control characters, or
    /// a base URL is not allowed; nothing is sent.
    pub fn build(self) -> Result<T, crate::Error> {
        let secret = self.secret;
        if secret.expose_secret().is_empty() {
            return Err(InvalidInput::EmptySecretKey.into());
        }
        if secret.expose_secret().chars().any(char::is_control) {
            return Err(InvalidInput::SecretKeyNotHeaderSafe.into());
        }
        let authorization = basic_authorization(secret.expose_secret())
            .ok_or(InvalidInput::SecretKeyNotHeaderSafe)?;
        let call_connect_authorization = match &self.call_connect_secret {
            None => None,
            Some(key) => {
                let invalid = |reason| InvalidInput::Credential {
                    name: "callConnectSecret",
                    reason,
                };
                let key = key.expose_secret();
                if key.is_empty() {
                    return Err(invalid("must not be empty").into());
                }
                if key.chars().any(char::is_control) {
                    return Err(invalid("contains control characters").into());
                }
                Some(basic_authorization(key).ok_or(invalid("cannot be sent in an HTTP header"))?)
            }
        };
        let call_connect_url = match &self.call_connect_url {
            Some(url) => url,
            None => self.region.call_connect_url(),
        };
        let config = Config {
            secret,
            authorization,
            call_connect_authorization,
            base_url: validate_base_url(&self.base_url)?.into(),
            call_connect_url: validate_base_url(call_connect_url)?.into(),
            max_response_bytes: self.max_response_bytes,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            retry_policy: self.retry_policy,
            retry_budget: self.retry_budget.map(Arc::new),
        };
        T::from_config(config, self.options)
    }
}

impl<T: FromConfig> fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("secret", &self.secret)
            .field("call_connect_secret", &self.call_connect_secret)
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("call_connect_url", &self.call_connect_url)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("retry_policy", &self.retry_policy)
            .field("retry_budget", &self.retry_budget)
            .finish_non_exhaustive()
    }
}

/// `Basic base64("<secret>:")`, marked sensitive; `None` if it cannot be a
/// header value.
fn basic_authorization(secret: &str) -> Option<HeaderValue> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{secret}:"));
    let mut value = HeaderValue::try_from(format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

fn invalid(reason: impl Into<std::borrow::Cow<'static, str>>) -> crate::Error {
    InvalidInput::BaseUrl {
        reason: reason.into(),
    }
    .into()
}

/// Checks a base URL and returns it without a trailing slash.
fn validate_base_url(raw: &str) -> Result<String, crate::Error> {
    let url = url::Url::parse(raw).map_err(|e| invalid(format!("not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(invalid(
                "http is only allowed for loopback hosts; use https",
            ));
        }
        other => return Err(invalid(format!("unsupported scheme `{other}`"))),
    }
    if url.host().is_none() {
        return Err(invalid("missing host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials in the URL are not allowed"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a query or fragment is not allowed"));
    }
    let normalized = url.as_str().trim_end_matches('/').to_owned();
    // `url` accepts some hosts (`a{b}c`) that `http::Uri`, and so every
    // request, would refuse: reject them here, not on the first call.
    if http::Uri::try_from(format!("{normalized}/users")).is_err() {
        return Err(invalid("not usable as an HTTP request URI"));
    }
    Ok(normalized)
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
