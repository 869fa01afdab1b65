//! The endpoint table: one fixture per endpoint, `tests/fixtures/<name>.json`,
//! run offline through `build_request`/`parse_response` and over every
//! transport of [`Flavor::ALL`] against the fault server.
//!
//! The endpoints come from core's one list (`visit_endpoints`), so an
//! endpoint without a fixture fails, and a fixture without an endpoint
//! fails. Adding a transport is one line in `Flavor::ALL`.
//!
//! A fixture holds:
//! - `service`: `api`, `call_connect` or `terminal`; it decides the
//!   credential the request must carry (`authorization` with the service's
//!   own key, or only `x-authsignal-terminal` on the Terminal API).
//! - `idempotent`: whether repeating the call is safe. Over a transport, a
//!   client that retries up to twice must then send the first case's
//!   request 3 times when it gets `503`s, otherwise once.
//! - `cases`: a request as JSON (its wire fields plus path and query
//!   parameters), the exact HTTP request it must become (method, path,
//!   query string, extra headers, JSON body), a realistic response, the
//!   typed output as its `{:#?}` lines, the values of its secrets (which
//!   `Debug` must not show), and `request_secrets`: values in the request
//!   that the request's `Debug` must not show.
//! - `errors`: responses that must fail, with the error's `{:#?}` lines
//!   and `Display` for one attempt, whether it is retryable, whether the
//!   request may have been processed, how many attempts a retrying client
//!   makes, and fragments of the body that must not show in the error.
//! - `invalid`: requests rejected before anything is sent, with the
//!   error's `Display`.
//!
//! A third trial per endpoint, `paths`, finds the path parameters of the
//! first case (the request's string fields that form a whole segment of its
//! path) and rebuilds the request with each id of [`SEGMENTS`] in their
//! place (each must become exactly one percent-encoded segment), with
//! `""`, `.` and `..` (rejected, naming the parameter), and for an `action`
//! with valid and invalid action codes.
//!
//! Offline, each case's JSON response is decoded a second time with
//! unknown fields added, which must not change the output.
//!
//! Every request must also carry `user-agent`, `x-authsignal-version`,
//! `accept: application/json`, and `content-type: application/json`
//! exactly when it has a body. `BLESS=1` rewrites the expected `{:#?}`
//! lines of the fixtures from what the SDK produces (review the diff).

use std::any::Any;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use authsignal_core::{
    ClaimChallengeResponse, Config, CreateSessionResponse, Endpoint, EndpointInfo, EndpointVisitor,
    EnrollVerifiedAuthenticatorResponse, Error, Idempotency, InvalidInput, RefreshSessionResponse,
    RetryPolicy, Service, TrackResponse, visit_endpoints,
};
use authsignal_tests::fault_server::{FaultServer, RecordedRequest, Step};
use authsignal_tests::{AnyClient, Flavor};
use base64::Engine as _;
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use serde_json::Value;

const SECRET: &str = "sk_test_endpoints";
/// `Basic base64("sk_test_endpoints:")`, computed with coreutils `base64`.
const AUTHORIZATION: &str = "Basic c2tfdGVzdF9lbmRwb2ludHM6";
const CALL_CONNECT_SECRET: &str = "sk_test_endpoints_call_connect";
/// `Basic base64("sk_test_endpoints_call_connect:")`, from coreutils `base64`.
const CALL_CONNECT_AUTHORIZATION: &str = "Basic c2tfdGVzdF9lbmRwb2ludHNfY2FsbF9jb25uZWN0Og==";
/// The headers the harness checks on every request; any other header is
/// named by the fixture or added by the transport (`host`, `content-length`…).
const SDK_HEADERS: [&str; 6] = [
    "authorization",
    "x-authsignal-terminal",
    "user-agent",
    "x-authsignal-version",
    "accept",
    "content-type",
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    service: String,
    idempotent: bool,
    cases: Vec<Case>,
    #[serde(default)]
    errors: Vec<ErrorCase>,
    #[serde(default)]
    invalid: Vec<InvalidCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    request: Value,
    http: ExpectedHttp,
    response: Reply,
    output: Vec<String>,
    #[serde(default)]
    secrets: BTreeMap<String, Value>,
    #[serde(default)]
    request_secrets: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedHttp {
    method: String,
    /// The path as sent, percent-encoded.
    path: String,
    /// The query string as sent; `None` means no `?` at all.
    #[serde(default)]
    query: Option<String>,
    /// Headers beyond the standard ones (lower-case names).
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// The JSON body; `None` means no body and no `content-type`.
    #[serde(default)]
    body: Option<Value>,
}

/// A scripted response. The body is `json` (sent with `content-type:
/// application/json` unless `headers` name another), `raw` text, `base64`
/// bytes, or empty.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reply {
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    json: Option<Value>,
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    base64: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorCase {
    name: String,
    /// The request; by default the first case's.
    #[serde(default)]
    request: Option<Value>,
    response: Reply,
    /// `{:#?}` of the error after one attempt.
    debug: Vec<String>,
    display: String,
    retryable: bool,
    may_have_been_processed: bool,
    /// Attempts made by a client that retries up to twice.
    attempts: u32,
    /// Body fragments that must not show in the error's `Display` or `Debug`.
    #[serde(default)]
    hidden: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidCase {
    name: String,
    request: Value,
    display: String,
}

impl Reply {
    /// `status` with `json` as its body, for the replies the harness scripts itself.
    fn json(status: u16, json: Value) -> Self {
        Reply {
            status,
            headers: BTreeMap::new(),
            json: Some(json),
            raw: None,
            base64: None,
        }
    }

    fn body(&self) -> Vec<u8> {
        match (&self.json, &self.raw, &self.base64) {
            (Some(json), None, None) => serde_json::to_vec(json).unwrap(),
            (None, Some(raw), None) => raw.clone().into_bytes(),
            (None, None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("`base64` is valid base64"),
            (None, None, None) => Vec::new(),
            _ => panic!("a reply has at most one of `json`, `raw`, `base64`"),
        }
    }

    fn headers(&self) -> Vec<(String, String)> {
        let mut headers: Vec<_> = self.headers.clone().into_iter().collect();
        if self.json.is_some() && !self.headers.contains_key("content-type") {
            headers.push(("content-type".into(), "application/json".into()));
        }
        headers
    }

    fn http(&self) -> http::Response<Vec<u8>> {
        let mut response = http::Response::builder().status(self.status);
        for (name, value) in self.headers() {
            response = response.header(name, value);
        }
        response.body(self.body()).unwrap()
    }

    fn step(&self) -> Step {
        let mut step = Step::body(self.status, self.body());
        for (name, value) in self.headers() {
            step = step.header(name, value);
        }
        step
    }
}

/// How a trial runs its endpoint.
#[derive(Debug, Clone, Copy)]
enum Way {
    Offline,
    Over(Flavor),
}

impl Way {
    fn name(self) -> String {
        match self {
            Way::Offline => "offline".to_owned(),
            Way::Over(flavor) => format!("{flavor:?}").to_lowercase(),
        }
    }
}

/// One request as it left the SDK, whichever way it was sent.
struct Sent {
    method: String,
    path: String,
    query: Option<String>,
    /// Lower-case names, in order, repeats kept.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl From<&http::Request<Vec<u8>>> for Sent {
    fn from(request: &http::Request<Vec<u8>>) -> Self {
        Sent {
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
            query: request.uri().query().map(str::to_owned),
            headers: (request.headers().iter())
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                .collect(),
            body: request.body().clone(),
        }
    }
}

impl From<&RecordedRequest> for Sent {
    fn from(request: &RecordedRequest) -> Self {
        Sent {
            method: request.method.clone(),
            path: request.path_only().to_owned(),
            query: request.query().map(str::to_owned),
            headers: (request.headers.iter())
                .map(|(k, v)| (k.to_lowercase(), v.clone()))
                .collect(),
            body: request.body.clone(),
        }
    }
}

/// The standard headers a request of `service` must carry, plus `extra`.
fn expected_headers(
    service: Service,
    has_body: bool,
    extra: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut headers = BTreeMap::new();
    let mut set = |name: &str, value: &str| headers.insert(name.to_owned(), value.to_owned());
    match service {
        Service::Api => set("authorization", AUTHORIZATION),
        Service::CallConnect => set("authorization", CALL_CONNECT_AUTHORIZATION),
        _ => None,
    };
    let version = env!("CARGO_PKG_VERSION");
    set("user-agent", &format!("authsignal-rust/{version}"));
    set("x-authsignal-version", version);
    set("accept", "application/json");
    if has_body {
        set("content-type", "application/json");
    }
    headers.extend(extra.clone());
    headers
}

fn check_sent(
    sent: &Sent,
    expected: &ExpectedHttp,
    service: Service,
    offline: bool,
) -> Result<(), String> {
    let mut problems = Vec::new();
    if sent.method != expected.method {
        problems.push(format!("method {} ≠ {}", sent.method, expected.method));
    }
    if sent.path != expected.path {
        problems.push(format!("path {} ≠ {}", sent.path, expected.path));
    }
    if sent.query != expected.query {
        problems.push(format!("query {:?} ≠ {:?}", sent.query, expected.query));
    }
    let want = expected_headers(service, expected.body.is_some(), &expected.headers);
    let mut names: Vec<&str> = sent.headers.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if let Some(twice) = names.windows(2).find(|w| w[0] == w[1]) {
        problems.push(format!("header {} sent twice", twice[0]));
    }
    let got: BTreeMap<_, _> = sent
        .headers
        .iter()
        // Offline the request holds exactly the SDK's headers; a transport
        // adds its own, which the table does not pin.
        .filter(|(k, _)| offline || SDK_HEADERS.contains(&k.as_str()) || want.contains_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if got != want {
        problems.push(format!("headers {got:#?}\n≠ {want:#?}"));
    }
    match &expected.body {
        None if !sent.body.is_empty() => problems.push(format!(
            "a body was sent where none is expected: {}",
            String::from_utf8_lossy(&sent.body)
        )),
        None => {}
        Some(want) => match serde_json::from_slice::<Value>(&sent.body) {
            Ok(got) if &got == want => {}
            Ok(got) => problems.push(format!("body {got:#}\n≠ {want:#}")),
            Err(e) => problems.push(format!("the body is not JSON: {e}")),
        },
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// The secret values of an output, which its `Debug` hides: the only way
/// to see them is through `expose_secret`, one response type at a time.
fn exposed_secrets(output: &dyn Any) -> BTreeMap<String, Value> {
    let mut secrets = BTreeMap::new();
    let mut put = |name: &str, value: Value| secrets.insert(name.to_owned(), value);
    if let Some(o) = output.downcast_ref::<TrackResponse>() {
        put("token", o.token.expose_secret().into());
        put("url", o.url.expose_secret().into());
    } else if let Some(o) = output.downcast_ref::<EnrollVerifiedAuthenticatorResponse>() {
        let codes: Vec<_> = o.recovery_codes.iter().map(|c| c.expose_secret()).collect();
        if !codes.is_empty() {
            put("recovery_codes", codes.into());
        }
    } else if let Some(o) = output.downcast_ref::<ClaimChallengeResponse>() {
        put("token", o.token.expose_secret().into());
    } else if let Some(o) = output.downcast_ref::<CreateSessionResponse>() {
        put("access_token", o.access_token.expose_secret().into());
        put("refresh_token", o.refresh_token.expose_secret().into());
    } else if let Some(o) = output.downcast_ref::<RefreshSessionResponse>() {
        put("access_token", o.access_token.expose_secret().into());
        put("refresh_token", o.refresh_token.expose_secret().into());
    }
    secrets
}

/// `json` with two fields no version of the API sends, in every object at
/// its top level (or in every item of a top-level array).
fn with_unknown_fields(json: &Value) -> Value {
    let add = |value: &mut Value| {
        if let Value::Object(map) = value {
            let nested = serde_json::json!({"deeply": ["nested", 1, null]});
            map.insert("brandNewField".into(), nested);
            map.insert("anotherOne".into(), 42.into());
        }
    };
    let mut json = json.clone();
    match &mut json {
        Value::Array(items) => items.iter_mut().for_each(add),
        other => add(other),
    }
    json
}

fn lines(debug: impl std::fmt::Debug) -> Vec<String> {
    format!("{debug:#?}").lines().map(str::to_owned).collect()
}

fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v == "1")
}

/// A spot in a fixture file: section, item and key (`("cases", 0, "output")`).
type At<'a> = (&'a Path, &'static str, usize, &'static str);

/// Writes what the SDK produced into the fixture under `BLESS=1`.
fn bless((file, section, index, key): At<'_>, actual: Value) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut fixture: Value = serde_json::from_str(&text).unwrap();
    fixture[section][index][key] = actual;
    let mut out = serde_json::to_string_pretty(&fixture).unwrap();
    out.push('\n');
    std::fs::write(file, out).unwrap();
}

/// Compares an output's `{:#?}` lines or an error's `Display` with the
/// fixture's (`at` names the spot in the fixture), or blesses them.
fn expect_same<T>(what: &str, actual: &T, expected: &T, at: At<'_>) -> Result<(), String>
where
    T: PartialEq + serde::Serialize + ?Sized,
{
    if actual == expected {
        return Ok(());
    }
    let actual = serde_json::to_value(actual).unwrap();
    if blessing() {
        bless(at, actual);
        return Ok(());
    }
    Err(format!(
        "{what}: `{}` differs; expected\n{:#}\ngot (paste into the fixture, or run with BLESS=1)\n{actual:#}",
        at.3,
        serde_json::to_value(expected).unwrap(),
    ))
}

fn client_config(server: &FaultServer, policy: RetryPolicy) -> authsignal_core::Builder<Config> {
    Config::builder(SECRET)
        .with_base_url(format!("{}/v1", server.url()))
        .with_call_connect_url(server.url())
        .with_call_connect_secret(CALL_CONNECT_SECRET)
        .with_retry_policy(policy)
}

/// The configuration of offline trials: the default hosts, both keys.
fn offline_config() -> Config {
    Config::builder(SECRET)
        .with_call_connect_secret(CALL_CONNECT_SECRET)
        .build()
        .unwrap()
}

/// A fixture's request as the endpoint's type; `what` names the case in the error.
fn decode<E: serde::de::DeserializeOwned>(what: &str, request: &Value) -> Result<E, String> {
    serde_json::from_value(request.clone())
        .map_err(|e| format!("{what}: the request does not decode: {e}"))
}

fn retrying() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(2)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(1))
}

/// Sends `request` the trial's way, answered by `reply`; returns what was
/// sent (nothing, if the SDK refused) and the result.
fn exchange<E>(
    way: Way,
    request: &E,
    reply: &Reply,
    policy: RetryPolicy,
) -> (Vec<Sent>, Result<E::Output, Error>)
where
    E: Endpoint + Sync,
    E::Output: Send,
{
    match way {
        Way::Offline => {
            let config = offline_config();
            match request.build_request(&config) {
                Err(error) => (Vec::new(), Err(error)),
                Ok(http_request) => {
                    for credential in ["authorization", "x-authsignal-terminal"] {
                        let value = http_request.headers().get(credential);
                        let sensitive = value.is_none_or(|v| v.is_sensitive());
                        assert!(sensitive, "`{credential}` is marked sensitive");
                    }
                    let again = request.build_request(&config).unwrap();
                    assert!(
                        again.uri() == http_request.uri()
                            && again.headers() == http_request.headers()
                            && again.body() == http_request.body(),
                        "building twice gives the same request"
                    );
                    let sent = Sent::from(&http_request);
                    let host = http_request.uri().host().unwrap_or_default().to_owned();
                    let want_host = match E::SERVICE {
                        Service::CallConnect => "us-connect.authsignal.com",
                        _ => "api.authsignal.com",
                    };
                    assert_eq!(host, want_host, "the default host of the service");
                    (vec![sent], request.parse_response(reply.http()))
                }
            }
        }
        Way::Over(flavor) => {
            let server = FaultServer::start(vec![reply.step()]);
            let client = AnyClient::new(flavor, client_config(&server, policy));
            let result = client.send(request);
            let sent = server.requests().iter().map(Sent::from).collect();
            (sent, result)
        }
    }
}

fn service_named(name: &str) -> Result<Service, Failed> {
    match name {
        "api" => Ok(Service::Api),
        "call_connect" => Ok(Service::CallConnect),
        "terminal" => Ok(Service::Terminal),
        other => Err(format!("unknown service {other:?}").into()),
    }
}

fn load<E: Endpoint>() -> Result<(PathBuf, Fixture), Failed> {
    let file = fixtures_dir().join(format!("{}.json", E::NAME));
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("{}: no fixture for this endpoint: {e}", file.display()))?;
    let fixture = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok((file, fixture))
}

/// Ids and the one path segment each must become, encoded by hand.
const SEGMENTS: &[(&str, &str)] = &[
    ("a/b", "a%2Fb"),
    ("a?b#c", "a%3Fb%23c"),
    ("a b", "a%20b"),
    ("123:test", "123%3Atest"),
    ("ü", "%C3%BC"),
    ("+", "%2B"),
    ("a%2Fb", "a%252Fb"),
    ("../x", "..%2Fx"),
    ("...", "..."),
    ("a.b_c-d~e", "a.b_c-d~e"),
    ("user@example.com", "user%40example.com"),
    ("a&b=c;d", "a%26b%3Dc%3Bd"),
    ("\\", "%5C"),
    ("日本", "%E6%97%A5%E6%9C%AC"),
    ("tab\there", "tab%09here"),
    ("\r\n", "%0D%0A"),
    ("../../x", "..%2F..%2Fx"),
    ("%2e%2e%2f", "%252e%252e%252f"),
];

/// Action codes the API accepts (`^[a-zA-Z0-9_-]{1,64}$`), sent verbatim…
const GOOD_ACTION_CODES: &[&str] = &["signIn", "a", "withdraw_funds-2", "0", "-", "_"];
/// …and ones it does not.
const BAD_ACTION_CODES: &[&str] = &[
    "sign in", "", "sign/in", "signIn!", "ü", "sign.in", ".", "..",
];

fn run_paths<E>(route: &str) -> Result<(), Failed>
where
    E: Endpoint + serde::de::DeserializeOwned,
{
    // The parameters the route declares, e.g. `{userId}`, must be the ones found.
    let mut declared: Vec<&str> = route
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect();
    let mut found = Vec::new();
    let (_, fixture) = load::<E>()?;
    let case = &fixture.cases[0];
    let config = offline_config();
    let segments: Vec<&str> = case.http.path.split('/').collect();
    let fields = case
        .request
        .as_object()
        .ok_or("the request is not an object")?;
    for (name, value) in fields {
        let Some(value) = value.as_str() else {
            continue;
        };
        let mut encoded = String::new();
        authsignal_core::endpoint::encode_path_segment(value, &mut encoded);
        let Some(position) = segments.iter().position(|s| *s == encoded) else {
            continue;
        };
        found.push(name.as_str());
        let build = |id: &str| {
            let mut request = case.request.clone();
            request[name] = id.into();
            serde_json::from_value::<E>(request)
                .unwrap()
                .build_request(&config)
        };
        let path_with = |segment: &str| {
            let mut path = segments.clone();
            path[position] = segment;
            path.join("/")
        };
        let (long_good, long_bad) = ("A".repeat(64), "a".repeat(65));
        let (accepted, rejected): (Vec<(&str, &str)>, Vec<&str>) = if name == "action" {
            let good = GOOD_ACTION_CODES
                .iter()
                .copied()
                .chain([long_good.as_str()]);
            let bad = BAD_ACTION_CODES.iter().copied().chain([long_bad.as_str()]);
            (good.map(|c| (c, c)).collect(), bad.collect())
        } else {
            (SEGMENTS.to_vec(), vec!["", ".", ".."])
        };
        for (id, segment) in accepted {
            let request = build(id).map_err(|e| format!("{name} = {id:?}: {e}"))?;
            if request.uri().path() != path_with(segment)
                || request.uri().query() != case.http.query.as_deref()
            {
                let (uri, want) = (request.uri(), path_with(segment));
                return Err(format!("{name} = {id:?}: {uri} ≠ {want}").into());
            }
        }
        for id in rejected {
            match build(id) {
                Err(Error::InvalidInput(InvalidInput::PathParameter { name: param, .. }))
                    if param == name => {}
                other => {
                    let why = format!("{name} = {id:?}: {other:?}, not a rejection of `{name}`");
                    return Err(why.into());
                }
            }
        }
    }
    found.sort_unstable();
    declared.sort_unstable();
    if found != declared {
        let why = format!("path parameters {found:?}; the route {route:?} has {declared:?}");
        return Err(why.into());
    }
    Ok(())
}

fn run<E>(way: Way) -> Result<(), Failed>
where
    E: Endpoint + serde::de::DeserializeOwned + std::fmt::Debug + Sync,
    E::Output: std::fmt::Debug + Send + 'static,
{
    let (file, fixture) = load::<E>()?;
    let service = service_named(&fixture.service)?;
    if service != E::SERVICE {
        let endpoint = E::SERVICE;
        return Err(format!("the fixture says {service:?}, the endpoint {endpoint:?}").into());
    }
    let idempotent = E::IDEMPOTENCY == Idempotency::Idempotent;
    if idempotent != fixture.idempotent {
        return Err(format!("the endpoint is {:?}", E::IDEMPOTENCY).into());
    }
    let policy = RetryPolicy::no_retries();

    for (index, case) in fixture.cases.iter().enumerate() {
        let what = format!("case {:?}", case.name);
        let request: E = decode(&what, &case.request)?;
        let shown = format!("{request:?} {request:#?}");
        let mut request_secrets = case.request_secrets.iter();
        if let Some(secret) = request_secrets.find(|s| shown.contains(s.as_str())) {
            return Err(format!("{what}: the request's `Debug` shows {secret:?}").into());
        }
        let (sent, result) = exchange(way, &request, &case.response, policy.clone());
        if sent.len() != 1 {
            return Err(format!("{what}: {} requests were sent, not 1", sent.len()).into());
        }
        check_sent(&sent[0], &case.http, service, matches!(way, Way::Offline))
            .map_err(|e| format!("{what}:\n{e}"))?;
        let output = result.map_err(|e| format!("{what}: the call failed: {e:?}"))?;
        let debug = lines(&output);
        let at = (file.as_path(), "cases", index, "output");
        expect_same(&what, &debug, &case.output, at)?;
        if let (Way::Offline, Some(json)) = (way, &case.response.json) {
            let extended = Reply {
                json: Some(with_unknown_fields(json)),
                ..case.response.clone()
            };
            let again = request.parse_response(extended.http());
            let again = again.map_err(|e| format!("{what}: unknown fields broke decoding: {e}"))?;
            if lines(&again) != debug {
                return Err(format!("{what}: unknown fields changed the output").into());
            }
        }
        let secrets = exposed_secrets(&output);
        if secrets != case.secrets {
            return Err(format!("{what}: secrets {secrets:?} ≠ {:?}", case.secrets).into());
        }
        let shown = debug.join("\n");
        for value in secrets.values().flat_map(|v| match v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        }) {
            let value = value.as_str().unwrap_or_default();
            if !value.is_empty() && shown.contains(value) {
                return Err(format!("{what}: `Debug` shows a secret").into());
            }
        }
    }

    for (index, case) in fixture.errors.iter().enumerate() {
        let what = format!("error {:?}", case.name);
        let request = case.request.as_ref().unwrap_or(&fixture.cases[0].request);
        let request: E = decode(&what, request)?;
        let (sent, result) = exchange(way, &request, &case.response, policy.clone());
        if sent.len() != 1 {
            return Err(format!("{what}: {} requests were sent, not 1", sent.len()).into());
        }
        let error = match result {
            Ok(output) => return Err(format!("{what}: the call succeeded: {output:?}").into()),
            Err(error) => error,
        };
        let at = |key| (file.as_path(), "errors", index, key);
        expect_same(&what, &lines(&error), &case.debug, at("debug"))?;
        let display = error.to_string();
        expect_same(&what, &display, &case.display, at("display"))?;
        if error.is_retryable() != case.retryable {
            return Err(format!("{what}: is_retryable() is {}", error.is_retryable()).into());
        }
        let processed = error.request_may_have_been_processed();
        if processed != case.may_have_been_processed {
            return Err(format!("{what}: request_may_have_been_processed() is {processed}").into());
        }
        let debug = format!("{error:?}");
        if display.contains(SECRET) || debug.contains(SECRET) {
            return Err(format!("{what}: the error shows the secret key").into());
        }
        for fragment in &case.hidden {
            if display.contains(fragment.as_str()) || debug.contains(fragment.as_str()) {
                return Err(format!("{what}: the error shows {fragment:?}").into());
            }
        }
        if let Way::Over(_) = way {
            let (sent, result) = exchange(way, &request, &case.response, retrying());
            let attempts = result.err().map(|e| e.attempts());
            if attempts != Some(case.attempts) || sent.len() != case.attempts as usize {
                let (sent, want) = (sent.len(), case.attempts);
                let why = format!(
                    "{what}: a retrying client made {attempts:?} attempts and sent {sent} requests, not {want}"
                );
                return Err(why.into());
            }
        }
    }

    if let Way::Over(_) = way {
        let request: E = decode("503s", &fixture.cases[0].request)?;
        let unavailable = Reply::json(503, serde_json::json!({"error": "service_unavailable"}));
        let (sent, _) = exchange(way, &request, &unavailable, retrying());
        let want = if idempotent { 3 } else { 1 };
        if sent.len() != want {
            return Err(format!("503s: {} requests were sent, not {want}", sent.len()).into());
        }
    }

    for (index, case) in fixture.invalid.iter().enumerate() {
        let what = format!("invalid {:?}", case.name);
        let request: E = decode(&what, &case.request)?;
        let reply = Reply::json(200, Value::Null);
        let (sent, result) = exchange(way, &request, &reply, policy.clone());
        if !sent.is_empty() {
            return Err(format!("{what}: {} requests were sent, not 0", sent.len()).into());
        }
        match result {
            Err(error @ Error::InvalidInput(_)) => {
                if error.attempts() != 0
                    || error.request_may_have_been_processed()
                    || error.is_retryable()
                    || error.status().is_some()
                {
                    return Err(format!("{what}: {error:?} must say nothing was attempted").into());
                }
                let display = error.to_string();
                let at = (file.as_path(), "invalid", index, "display");
                expect_same(&what, &display, &case.display, at)?;
            }
            other => return Err(format!("{what}: {other:?} is not invalid input").into()),
        }
    }
    Ok(())
}

/// Builds the trials from core's list of endpoints.
#[derive(Default)]
struct Trials {
    trials: Vec<Trial>,
    names: Vec<&'static str>,
}

impl EndpointVisitor for Trials {
    fn visit<E>(&mut self, info: EndpointInfo, _example: E)
    where
        E: Endpoint + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
        E::Output: std::fmt::Debug + Send + 'static,
    {
        self.names.push(info.method);
        let ways = std::iter::once(Way::Offline).chain(Flavor::ALL.map(Way::Over));
        for way in ways {
            let name = format!("{}::{}", info.method, way.name());
            self.trials.push(Trial::test(name, move || run::<E>(way)));
        }
        let (name, route) = (format!("{}::paths", info.method), info.route);
        let paths = Trial::test(name, move || run_paths::<E>(route));
        self.trials.push(paths);
    }
}

/// Every fixture file names an endpoint core has.
fn no_stale_fixtures(names: Vec<&'static str>) -> Result<(), Failed> {
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if path.extension().is_some_and(|e| e == "json") && !names.contains(&stem) {
            stale.push(path.display().to_string());
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!("fixtures for no endpoint: {stale:?}").into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let mut visitor = Trials::default();
    visit_endpoints(&mut visitor);
    let names = visitor.names;
    let mut trials = visitor.trials;
    trials.push(Trial::test("every_fixture_names_an_endpoint", move || {
        no_stale_fixtures(names)
    }));
    libtest_mimic::run(&args, trials).exit();
}
