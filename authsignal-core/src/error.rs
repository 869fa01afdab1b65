//! The SDK's one error type and its parts.
//!
//! Every failure is an [`Error`]:
//!
//! | variant | meaning | sent? |
//! |---|---|---|
//! | [`Error::InvalidInput`] | the caller's input was rejected before building a request | never |
//! | [`Error::Transport`] | the HTTP exchange failed; [`TransportErrorKind`] says whether the request may have reached Authsignal | maybe |
//! | [`Error::Api`] | Authsignal answered with a non-2xx status | yes |
//! | [`Error::UnexpectedResponse`] | the response could not be understood (an HTML page from a proxy, truncated JSON, a redirect…) | yes |

use std::{borrow::Cow, fmt, time::Duration};

use http::StatusCode;

use crate::ErrorCode;

/// Any failure of an SDK call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input was rejected before anything was built or sent.
    #[error("invalid input (nothing was sent): {0}")]
    InvalidInput(#[from] InvalidInput),
    /// The HTTP exchange failed. `Display` says what happened, to which host,
    /// whether the request was sent, and after how many attempts.
    #[error("{source}; {}", attempts_phrase(*attempts))]
    Transport {
        /// What went wrong.
        #[source]
        source: TransportError,
        /// How many attempts were made, retries included.
        attempts: u32,
    },
    /// Authsignal answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The response could not be decoded.
    #[error(transparent)]
    UnexpectedResponse(Box<UnexpectedResponse>),
}

/// "1 attempt", "3 attempts".
fn attempts_phrase(attempts: u32) -> String {
    match attempts {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    }
}

impl Error {
    /// The HTTP status of the response, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::UnexpectedResponse(e) => Some(e.status),
            _ => None,
        }
    }

    /// The API error code, for [`Error::Api`] errors that carried one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Api(e) => e.code.as_ref(),
            _ => None,
        }
    }

    /// The API error, if Authsignal answered with one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The transport error kind, for [`Error::Transport`].
    pub fn transport_kind(&self) -> Option<TransportErrorKind> {
        match self {
            Error::Transport { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// How many attempts were made before this error was returned (0 when
    /// nothing was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::InvalidInput(_) => 0,
            Error::Transport { attempts, .. } => *attempts,
            Error::Api(e) => e.attempts,
            Error::UnexpectedResponse(e) => e.attempts,
        }
    }

    /// The delay the server asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(e) => e.retry_after,
            Error::UnexpectedResponse(e) => e.retry_after,
            _ => None,
        }
    }

    /// Whether the call timed out.
    pub fn is_timeout(&self) -> bool {
        self.transport_kind() == Some(TransportErrorKind::Timeout)
    }

    /// Whether the same call could succeed later: connection failures,
    /// timeouts, `429` and `500`/`502`/`503`/`504`. Whether it is *safe* to
    /// repeat also depends on [`Error::request_may_have_been_processed`].
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::InvalidInput(_) => false,
            Error::UnexpectedResponse(e) => crate::retry::is_retryable_status(e.status),
            Error::Transport { source, .. } => source.kind().is_transient(),
            Error::Api(e) => crate::retry::is_retryable_status(e.status),
        }
    }

    /// Whether Authsignal may have acted on the request (sent an OTP, rotated
    /// a token…). `false` only when the request provably was not processed:
    /// invalid input, a connection that never carried it, or a `429`.
    pub fn request_may_have_been_processed(&self) -> bool {
        match self {
            Error::InvalidInput(_) => false,
            Error::Transport { source, .. } => source.kind().request_may_have_been_sent(),
            Error::Api(e) => e.status != StatusCode::TOO_MANY_REQUESTS,
            Error::UnexpectedResponse(e) => e.status != StatusCode::TOO_MANY_REQUESTS,
        }
    }

    pub(crate) fn with_attempts(mut self, n: u32) -> Self {
        match &mut self {
            Error::InvalidInput(_) => {}
            Error::Transport { attempts, .. } => *attempts = n,
            Error::Api(e) => e.attempts = n,
            Error::UnexpectedResponse(e) => e.attempts = n,
        }
        self
    }
}

/// Input rejected before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// The API secret key is empty.
    #[error("the API secret key is empty")]
    EmptySecretKey,
    /// The API secret key contains characters that cannot go in an HTTP header.
    #[error("the API secret key contains control characters")]
    SecretKeyNotHeaderSafe,
    /// A Call Connect request was built with a configuration that has no
    /// Call Connect secret key. Call Connect has its own key (Portal →
    /// Settings → Call Connect); the Server API key is never sent in its
    /// place.
    #[error(
        "Call Connect needs its own secret key: set it with `Builder::with_call_connect_secret` (the Server API key is never sent to Call Connect)"
    )]
    MissingCallConnectSecret,
    /// A credential other than the API secret key (the Call Connect secret
    /// key, a terminal id) was rejected. The message never shows its value.
    #[error("invalid credential `{name}`: {reason}")]
    Credential {
        /// Which credential, e.g. `terminalId` or `callConnectSecret`.
        name: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A base URL was rejected.
    #[error("invalid base URL: {reason}")]
    BaseUrl {
        /// Why it was rejected.
        reason: Cow<'static, str>,
    },
    /// A path parameter (user id, action code…) was rejected.
    #[error("invalid path parameter `{name}`: {reason}")]
    PathParameter {
        /// The parameter's name, e.g. `userId`.
        name: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A body or query field was rejected.
    #[error("invalid field `{name}`: {reason}")]
    Field {
        /// The field's name on the wire, e.g. `authenticators`.
        name: &'static str,
        /// Why it was rejected.
        reason: Cow<'static, str>,
    },
}

/// Authsignal answered with a non-2xx status and an error body.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error code (`errorCode`, falling back to `error`), when the body had one.
    pub code: Option<ErrorCode>,
    /// The human-readable description (`errorDescription`).
    pub description: Option<String>,
    /// The delay asked for by a `Retry-After` header.
    pub retry_after: Option<Duration>,
    /// How many attempts were made, retries included.
    pub attempts: u32,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Authsignal API error: HTTP {}", self.status.as_u16())?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(description) = &self.description {
            write!(f, ": {description}")?;
        }
        if let Some(delay) = self.retry_after {
            write!(f, " (retry after {} s)", delay.as_secs())?;
        }
        Ok(())
    }
}

/// A response the SDK could not decode.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unexpected response (HTTP {}): {reason}", status.as_u16())]
#[non_exhaustive]
pub struct UnexpectedResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// What was wrong: the decode error (position and category only, never
    /// response data), or a description such as "redirects are not followed".
    pub reason: String,
    /// The start of the body (at most 200 characters) for error statuses;
    /// empty for 2xx responses, whose bodies may hold tokens.
    pub excerpt: String,
    /// The delay asked for by a `Retry-After` header (e.g. on a 429 or 503
    /// page from a gateway).
    pub retry_after: Option<Duration>,
    /// How many attempts were made, retries included.
    pub attempts: u32,
}

/// A failure of the HTTP exchange itself, reported by a transport.
///
/// `Display` reads as one sentence: what happened, to which host (never the
/// path, query or any header), the cause, and whether the request may have
/// been processed, e.g. `could not connect to api.authsignal.com: connection
/// refused (the request was not sent)`. The client fills in the host.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: Cow<'static, str>,
    host: Option<Box<str>>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TransportError {
    /// A transport error of `kind`. `cause` says what happened in a few words
    /// (`connection refused`, `invalid peer certificate: UnknownIssuer`) and
    /// must hold no URL, header or secret.
    pub fn new(kind: TransportErrorKind, cause: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: cause.into(),
            host: None,
            source: None,
        }
    }

    /// The attempt did not finish, body included, within `timeout`: the
    /// [`TransportErrorKind::Timeout`] every async transport reports, worded
    /// the same way.
    pub fn attempt_timed_out(timeout: std::time::Duration) -> Self {
        Self::new(
            TransportErrorKind::Timeout,
            format!("no complete response within {timeout:?}"),
        )
    }

    /// Attaches the underlying error, kept in the `source()` chain.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Names the host (and port, when not the default) the request was for.
    pub fn with_host(mut self, host: impl Into<Box<str>>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The cause as the transport described it.
    pub fn cause(&self) -> &str {
        &self.message
    }

    /// The host the request was for, once the client has filled it in.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.host.as_deref().unwrap_or("the server");
        match self.kind {
            TransportErrorKind::Connect => write!(f, "could not connect to {host}"),
            TransportErrorKind::InvalidCertificate => {
                write!(f, "the TLS certificate of {host} was rejected")
            }
            TransportErrorKind::Timeout => write!(f, "timed out waiting for {host}"),
            TransportErrorKind::Io => write!(f, "the connection to {host} failed"),
            TransportErrorKind::ResponseTooLarge => {
                write!(f, "the response from {host} is too large")
            }
            TransportErrorKind::Other => write!(f, "the exchange with {host} failed"),
        }?;
        let sent = if self.kind.request_may_have_been_sent() {
            "the request may have been processed"
        } else {
            "the request was not sent"
        };
        write!(f, ": {} ({sent})", self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What kind of transport failure happened, and so whether the request may
/// have reached the server and whether trying again can help.
///
/// | kind | sent? | retried |
/// |---|---|---|
/// | `Connect` | no | always |
/// | `InvalidCertificate` | no | never (it would fail the same way) |
/// | `Timeout`, `Io`, `Other` | maybe | only idempotent requests |
/// | `ResponseTooLarge` | yes | never |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection was made (DNS failure, connection refused, a TLS
    /// handshake that failed or stalled, connect timeout): the request was
    /// **not** sent.
    Connect,
    /// The server's TLS certificate failed verification (unknown issuer,
    /// expired, wrong host name): the request was **not** sent, and trying
    /// again would fail the same way.
    InvalidCertificate,
    /// The call took longer than its timeout after the connection was made:
    /// the request may have been processed.
    Timeout,
    /// The connection failed while sending or receiving (reset, early close,
    /// truncated body): the request may have been processed.
    Io,
    /// The response body exceeded the configured limit (checked against
    /// `Content-Length` before the body is read, and while reading it).
    ResponseTooLarge,
    /// Anything else after the request was handed to the transport.
    Other,
}

impl TransportErrorKind {
    /// Whether the request may have reached the server.
    pub fn request_may_have_been_sent(self) -> bool {
        !matches!(
            self,
            TransportErrorKind::Connect | TransportErrorKind::InvalidCertificate
        )
    }

    /// Whether the same request could succeed later (a retry can help).
    pub fn is_transient(self) -> bool {
        !matches!(
            self,
            TransportErrorKind::InvalidCertificate | TransportErrorKind::ResponseTooLarge
        )
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connection failed (the request was not sent)",
            TransportErrorKind::InvalidCertificate => {
                "TLS certificate rejected (the request was not sent)"
            }
            TransportErrorKind::Timeout => "timed out (the request may have been processed)",
            TransportErrorKind::Io => "connection error (the request may have been processed)",
            TransportErrorKind::ResponseTooLarge => "response body too large",
            TransportErrorKind::Other => "transport error (the request may have been processed)",
        })
    }
}
