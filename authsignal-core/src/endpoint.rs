//! The endpoint abstraction: each endpoint describes its method, path, query
//! and body; the shared functions here turn that into an `http::Request` and
//! turn the `http::Response` back into a typed output or a typed error.

use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::form_urlencoded;

use crate::{
    ApiError, Config, Error, ErrorCode, Idempotency, InvalidInput, SecretString,
    UnexpectedResponse,
    config::{USER_AGENT, VERSION},
};

/// Which Authsignal service an endpoint belongs to: it picks the base URL
/// and the credential the request carries.
///
/// The credential is decided in one place, when a request is built, from
/// the service alone:
///
/// | service | base URL | credential |
/// |---|---|---|
/// | [`Api`](Self::Api) | [`Config::base_url`] | `Authorization: Basic base64("<API secret key>:")` |
/// | [`CallConnect`](Self::CallConnect) | [`Config::call_connect_url`] | `Authorization: Basic base64("<Call Connect secret key>:")`, set with [`Builder::with_call_connect_secret`](crate::Builder::with_call_connect_secret); without it the request fails with [`InvalidInput::MissingCallConnectSecret`] |
/// | [`Terminal`](Self::Terminal) | [`Config::base_url`] | [`TERMINAL_HEADER`]` : <terminal id>` from the request itself ([`Endpoint::request_credential`]); no `Authorization` header |
///
/// A request never carries the credential of another service: the Server
/// API secret key goes to the Server API only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Service {
    /// The Server API (`https://api.authsignal.com/v1` or a regional host).
    Api,
    /// Call Connect (`https://us-connect.authsignal.com` or a regional host),
    /// with its own secret key.
    CallConnect,
    /// The Terminal API (payment sessions on a paired terminal): the Server
    /// API base URL, authenticated by the terminal id each request carries.
    Terminal,
}

/// The header that carries the terminal id of a [`Service::Terminal`]
/// request: `x-authsignal-terminal`.
pub const TERMINAL_HEADER: HeaderName = HeaderName::from_static("x-authsignal-terminal");

/// One Server API operation: a request type that knows how to become an
/// `http::Request` and how to read its response.
///
/// Every request type of the SDK implements it. Building and parsing are pure,
/// so any HTTP stack can run them:
///
/// ```
/// use authsignal_core::{Config, Endpoint, TrackRequest};
/// let config = Config::builder("sk_test_123").build()?;
/// let track = TrackRequest::new("user-1", "signIn").with_ip_address("203.0.113.7");
/// let request = track.build_request(&config)?;
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.uri(), "https://api.authsignal.com/v1/users/user-1/actions/signIn");
///
/// // ... send `request` with any HTTP client, then:
/// let response = http::Response::builder()
///     .status(200)
///     .body(br#"{"state":"ALLOW","idempotencyKey":"k","url":"u","token":"t","isEnrolled":false}"#.to_vec())
///     .unwrap();
/// let output = track.parse_response(response)?;
/// assert_eq!(output.state, authsignal_core::UserActionState::Allow);
/// # Ok::<(), authsignal_core::Error>(())
/// ```
pub trait Endpoint {
    /// The typed result of a successful call.
    type Output: serde::de::DeserializeOwned;
    /// The operation's name, e.g. `"track"` (used in logs and traces).
    const NAME: &'static str;
    /// The HTTP method.
    const METHOD: Method;
    /// Whether the operation may be repeated safely (drives retries).
    const IDEMPOTENCY: Idempotency;
    /// The service the operation belongs to.
    const SERVICE: Service = Service::Api;

    /// Writes the path below the base URL, one segment at a time.
    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput>;

    /// Writes the query parameters that are set.
    fn write_query(&self, query: &mut QueryBuilder<'_>) {
        let _ = query;
    }

    /// Checks fields that cannot be checked by types alone.
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }

    /// The request's own credential, for a service that authenticates each
    /// request rather than the client: the terminal id of a
    /// [`Service::Terminal`] request. `None` (the default) for the others,
    /// whose credential comes from the [`Config`].
    ///
    /// The request only supplies the value; which header carries it, and
    /// which credential every service gets, is decided in one place when
    /// the request is built (see [`Service`]).
    fn request_credential(&self) -> Option<&SecretString> {
        None
    }

    /// The JSON body, if the operation has one.
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        Ok(None)
    }

    /// Decodes a 2xx response body; by default as JSON into `Output`.
    fn parse_body(&self, body: &[u8]) -> Result<Self::Output, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Builds the HTTP request for this operation. Nothing is sent.
    fn build_request(&self, config: &Config) -> Result<Request<Vec<u8>>, Error> {
        build_request(self, config)
    }

    /// Turns the HTTP response into the typed output or a typed error.
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<Self::Output, Error> {
        parse_response(self, response)
    }
}

/// Where an endpoint is declared: its client method and its route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointInfo {
    /// The client method, e.g. `track` (the same as [`Endpoint::NAME`]).
    pub method: &'static str,
    /// The route as the API reference writes it, e.g.
    /// `POST /users/{userId}/actions/{action}`.
    pub route: &'static str,
}

/// Something that wants to see every endpoint of the SDK: a test table, a
/// property test or a fuzz target. [`visit_endpoints`] calls
/// [`visit`](Self::visit) once per endpoint with an example request.
pub trait EndpointVisitor {
    /// Called for one endpoint, with an example request of its type.
    fn visit<E>(&mut self, info: EndpointInfo, example: E)
    where
        E: Endpoint + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
        E::Output: std::fmt::Debug + Send + 'static;
}

/// Shows every endpoint of the SDK to `visitor`, group by group. The one
/// list of endpoints lives beside their types; tests enumerate it here
/// instead of keeping lists of their own.
///
/// ```
/// use authsignal_core::{Endpoint, EndpointInfo, EndpointVisitor, visit_endpoints};
/// struct Names(Vec<&'static str>);
/// impl EndpointVisitor for Names {
///     fn visit<E: Endpoint>(&mut self, _info: EndpointInfo, _example: E) {
///         self.0.push(E::NAME);
///     }
/// }
/// let mut names = Names(Vec::new());
/// visit_endpoints(&mut names);
/// assert!(names.0.contains(&"track"));
/// ```
pub fn visit_endpoints(visitor: &mut impl EndpointVisitor) {
    crate::api::visit_all(visitor);
}

/// Appends path segments to a URL, percent-encoding each parameter as exactly
/// one segment.
#[derive(Debug)]
pub struct PathBuilder<'a> {
    url: &'a mut String,
}

impl PathBuilder<'_> {
    /// Appends a fixed segment such as `users`.
    pub fn literal(&mut self, segment: &'static str) -> &mut Self {
        self.url.push('/');
        self.url.push_str(segment);
        self
    }

    /// Appends a caller-supplied value as one segment. Empty values, `.` and
    /// `..` are rejected: they would change which endpoint is addressed.
    pub fn param(&mut self, name: &'static str, value: &str) -> Result<&mut Self, InvalidInput> {
        let reason = match value {
            "" => Some("must not be empty"),
            "." | ".." => Some("must not be `.` or `..`"),
            _ => None,
        };
        if let Some(reason) = reason {
            return Err(InvalidInput::PathParameter { name, reason });
        }
        self.url.push('/');
        encode_path_segment(value, self.url);
        Ok(self)
    }
}

/// Percent-encodes `value` as a single RFC 3986 path segment: every byte
/// outside the unreserved set (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`
/// (upper-case hex), written straight into `out`.
pub fn encode_path_segment(value: &str, out: &mut String) {
    // Runs of unreserved characters come as one piece, each escape as another.
    out.extend(utf8_percent_encode(value, PATH_SEGMENT));
}

/// Everything but the RFC 3986 unreserved characters, which alone are left as
/// they are in a segment. Non-ASCII bytes are always escaped.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Appends form-encoded query parameters; only the ones that are set.
pub struct QueryBuilder<'a> {
    serializer: form_urlencoded::Serializer<'a, &'a mut String>,
}

impl std::fmt::Debug for QueryBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryBuilder").finish_non_exhaustive()
    }
}

impl QueryBuilder<'_> {
    /// Adds `name=value` when `value` is `Some`.
    pub fn optional(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.serializer.append_pair(name, value);
        }
        self
    }
}

/// Builds the request of `endpoint`: URL, headers, body.
fn build_request<E: Endpoint + ?Sized>(
    endpoint: &E,
    config: &Config,
) -> Result<Request<Vec<u8>>, Error> {
    endpoint.validate()?;
    let (credential_name, credential) =
        credential_header(E::SERVICE, endpoint.request_credential(), config)?;
    let base = match E::SERVICE {
        Service::Api | Service::Terminal => config.base_url(),
        Service::CallConnect => config.call_connect_url(),
    };
    let mut url = String::with_capacity(base.len() + 96);
    url.push_str(base);
    endpoint.write_path(&mut PathBuilder { url: &mut url })?;

    let query_start = url.len() + 1;
    url.push('?');
    {
        let mut query = QueryBuilder {
            serializer: form_urlencoded::Serializer::for_suffix(&mut url, query_start),
        };
        endpoint.write_query(&mut query);
    }
    if url.len() == query_start {
        url.pop();
    }

    let body = endpoint.body().map_err(|e| InvalidInput::Field {
        name: "body",
        reason: format!("cannot be encoded as JSON ({e})").into(),
    })?;

    let uri = http::Uri::try_from(url).map_err(|e| {
        // Only reachable with a base URL that `Config` validated but `http`
        // rejects; report it instead of panicking.
        Error::from(InvalidInput::BaseUrl {
            reason: format!("cannot build request URI ({e})").into(),
        })
    })?;
    // Filling the parts directly avoids the builder's per-header re-parsing.
    let mut headers = http::HeaderMap::with_capacity(6);
    headers.insert(credential_name, credential);
    headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    headers.insert(AUTHSIGNAL_VERSION, HeaderValue::from_static(VERSION));
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    if body.is_some() {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let mut request = Request::new(body.unwrap_or_default());
    *request.method_mut() = E::METHOD;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

/// The one place that decides which credential a request of `service`
/// carries, and in which header (see [`Service`]). `own` is the request's
/// [`Endpoint::request_credential`].
fn credential_header(
    service: Service,
    own: Option<&SecretString>,
    config: &Config,
) -> Result<(HeaderName, HeaderValue), InvalidInput> {
    match service {
        Service::Api => Ok((header::AUTHORIZATION, config.authorization().clone())),
        Service::CallConnect => config
            .call_connect_authorization()
            .map(|value| (header::AUTHORIZATION, value.clone()))
            .ok_or(InvalidInput::MissingCallConnectSecret),
        Service::Terminal => {
            let invalid = |reason| InvalidInput::Credential {
                name: "terminalId",
                reason,
            };
            let id = own.map(SecretString::expose_secret).unwrap_or_default();
            if id.is_empty() {
                return Err(invalid("must not be empty"));
            }
            if id.chars().any(char::is_control) {
                return Err(invalid("contains control characters"));
            }
            let mut value = HeaderValue::from_str(id)
                .map_err(|_| invalid("cannot be sent in an HTTP header"))?;
            value.set_sensitive(true);
            Ok((TERMINAL_HEADER, value))
        }
    }
}

/// The version header every request carries.
const AUTHSIGNAL_VERSION: http::HeaderName = http::HeaderName::from_static("x-authsignal-version");

/// Parses the response of `endpoint`.
fn parse_response<E: Endpoint + ?Sized>(
    endpoint: &E,
    response: Response<Vec<u8>>,
) -> Result<E::Output, Error> {
    let status = response.status();
    let (parts, body) = response.into_parts();
    if status.is_success() {
        return endpoint
            .parse_body(&body)
            .map_err(|e| unexpected(status, describe_json_error(&e), String::new(), None));
    }
    if status.is_redirection() || status.is_informational() {
        // A 304 or 1xx is no redirect: the SDK sends no conditional or
        // upgrade requests, so neither answers one of its requests.
        let reason = match status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            true => "redirects are not followed",
            false => "not a final response to this request",
        };
        return Err(unexpected(status, reason.into(), excerpt(&body), None));
    }
    Err(api_error(status, &parts.headers, &body))
}

/// The error for a non-2xx response: an [`ApiError`] when the body is a JSON
/// object, otherwise an [`UnexpectedResponse`] with an excerpt.
pub fn api_error(status: StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Error {
    let retry_after = crate::retry::retry_after(headers);
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return unexpected(
            status,
            "the error body is not a JSON object".into(),
            excerpt(body),
            retry_after,
        );
    };
    // Capped, so that a huge error body cannot flood logs through `Display`.
    let text = |key: &str, max_bytes: usize| match fields.get(key) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(truncated(s, max_bytes)),
        _ => None,
    };
    Error::Api(Box::new(ApiError {
        status,
        code: text("errorCode", 64)
            .or_else(|| text("error", 64))
            .map(ErrorCode::from),
        description: text("errorDescription", 400),
        retry_after,
        attempts: 1,
    }))
}

/// `text` cut to at most `max_bytes` (on a character boundary), marked with `…` when cut.
fn truncated(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    let mut end = max_bytes.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

fn unexpected(
    status: StatusCode,
    reason: String,
    excerpt: String,
    retry_after: Option<std::time::Duration>,
) -> Error {
    Error::UnexpectedResponse(Box::new(UnexpectedResponse {
        status,
        reason,
        excerpt,
        retry_after,
        attempts: 1,
    }))
}

/// Describes a JSON error by category and position only: serde's own message
/// may quote response data, which can hold tokens (or a webhook's OTP code).
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Io => "I/O error",
        Category::Syntax => "invalid JSON",
        Category::Data => "JSON of an unexpected shape",
        Category::Eof => "truncated or empty JSON",
    };
    format!("{what} at line {} column {}", error.line(), error.column())
}

/// The first 200 characters of an error body, for diagnostics.
fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(200)
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// Serializes a request body as JSON (helper for endpoint impls).
pub(crate) fn json_body<T: serde::Serialize>(
    value: &T,
) -> Result<Option<Vec<u8>>, serde_json::Error> {
    // Most bodies fit, so the buffer is allocated once.
    let mut body = Vec::with_capacity(512);
    serde_json::to_writer(&mut body, value)?;
    Ok(Some(body))
}
