//! Black-box tests of the fake: a scenario table in `tests/scenarios/*.json`
//! (one trial per file) sent through the pure `handle`, and the checks that
//! need the socket or the Rust API.
//!
//! # Scenario files
//!
//! A file is a JSON array of steps (numbered from 1 in failures), run in
//! order against a fresh `FakeAuthsignal::new()`. Every object refuses
//! unknown keys, so a typo fails instead of asserting nothing.
//!
//! A **request** step: `send` (`"METHOD /raw/target?query"`) and `status`
//! are required. `body` is a JSON value to send, a string sent as it is
//! (malformed bodies), absent for none; `auth` is the fake's API key unless
//! `none`, `wrong` (another key), `no_colon`, `bearer` or `call_connect`;
//! `headers` adds request headers; with `if_differ: [a, b]` the step runs
//! only when `a != b`. Then `error` (the error shape: `error` and
//! `errorCode` equal it, `errorDescription` is not empty), `json` (the whole
//! body), `match` (a subset: objects may have more keys, arrays must have
//! this length and match element-wise), `absent` (JSON pointers that must be
//! missing), `reply_headers` (response header values), `save` (`{"var":
//! "/pointer"}` remembers a value of the body).
//!
//! A **call** step runs a [`FakeApi`] on the fake's Rust API, e.g. `{"call":
//! {"advance": 601}}`; `is` checks the result like `match` and `save`
//! names a variable for it.
//!
//! `{var}` in a later string is replaced by the saved value; a string that
//! is exactly `"{var}"` becomes the value itself (a number stays a number).
//! Expected strings `<…>` are markers: `<string>` (non-empty), `<uuid>`,
//! `<timestamp>` (RFC 3339, UTC), `<unix-seconds>`, `<len:N>` (N
//! characters), `<prefix:X>`, `<contains:X>`, `<not:X>` (any value but X)
//! and `<min:N>` (a number ≥ N).

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use authsignal_core::{PaymentSessionStatus, UserActionState, VerificationMethod};
use authsignal_testkit::{ApiSecretKey, FakeAuthsignal};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libtest_mimic::{Arguments, Failed, Trial};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

type Vars = BTreeMap<String, Value>;

/// A request step (see the module docs).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    send: String,
    body: Option<Value>,
    auth: Option<Auth>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    if_differ: Option<[String; 2]>,
    status: u16,
    error: Option<String>,
    json: Option<Value>,
    #[serde(rename = "match")]
    subset: Option<Value>,
    #[serde(default)]
    absent: Vec<String>,
    #[serde(default)]
    reply_headers: BTreeMap<String, String>,
    #[serde(default)]
    save: BTreeMap<String, String>,
}

/// Which `Authorization` a request step sends.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Auth {
    None,
    Wrong,
    NoColon,
    Bearer,
    CallConnect,
}

/// A call step: `call`, then the optional `is` and `save`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallStep {
    call: FakeApi,
    #[serde(default, deserialize_with = "present")]
    is: Option<Value>,
    save: Option<String>,
}

/// `is: null` is an expectation too, unlike a missing `is`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The fake's Rust API as a call step sees it; the result is `null` unless
/// said otherwise.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum FakeApi {
    /// Seconds.
    Advance(u64),
    /// `[user, method, contact]`; the authenticator's id.
    AddAuthenticator(String, String, String),
    /// `[action, state]`.
    SetActionOutcome(String, String),
    ClearActionOutcome(String),
    AddTerminal(String),
    /// `[challengeId, status]`; whether it was set.
    SetPaymentSessionStatus(String, String),
    /// A seed (a string is sent as it is); `null`, or the error message.
    LoadSeed(Value),
    /// The code or `null`.
    LastCode,
    /// The id or `null`.
    LastChallengeId,
    /// The code or `null`.
    LastCodeFor(String),
    /// A six-digit code other than the given one.
    OtherCode(String),
    /// `[user, action, idempotencyKey]`; the state or `null`.
    ActionState(String, String, String),
    /// The finished state or `null`.
    CallOutcome(String),
    /// `[{"method", "path", "status"}]`, oldest first.
    Requests,
    /// `[from, to]` (RFC 3339): whole hours from one to the other.
    HoursBetween(String, String),
}

/// Runs `steps` against `fake`; errors name `name`, the step and what differed.
fn run(name: &str, steps: &[Value], fake: &FakeAuthsignal, vars: &mut Vars) -> Result<(), String> {
    for (i, raw) in steps.iter().enumerate() {
        // `{"note": "…"}` alone is a comment.
        if raw
            .as_object()
            .is_some_and(|step| step.len() == 1 && step.contains_key("note"))
        {
            continue;
        }
        let step = substitute(raw, vars);
        let result = step.and_then(|step| {
            if step.get("send").is_some() {
                request(fake, decode(step)?, vars)
            } else {
                call(fake, decode(step)?, vars)
            }
        });
        result.map_err(|e| format!("{name} step {}: {e}\nstep: {raw}", i + 1))?;
    }
    Ok(())
}

fn decode<T: for<'de> Deserialize<'de>>(step: Value) -> Result<T, String> {
    serde_json::from_value(step).map_err(|e| format!("bad step: {e}"))
}

fn request(fake: &FakeAuthsignal, step: Request, vars: &mut Vars) -> Result<(), String> {
    if step.if_differ.as_ref().is_some_and(|[a, b]| a == b) {
        return Ok(());
    }
    let (method, target) = step
        .send
        .split_once(' ')
        .ok_or("send is \"METHOD /target\"")?;
    let basic = |key: &str| format!("Basic {}", STANDARD.encode(key));
    let auth = match step.auth {
        None => Some(fake.authorization_header()),
        Some(Auth::None) => None,
        Some(Auth::Wrong) => Some(basic("sk_wrong:")),
        Some(Auth::NoColon) => Some(basic(fake.secret())),
        Some(Auth::Bearer) => Some("Bearer x".to_owned()),
        Some(Auth::CallConnect) => Some(fake.call_connect_authorization_header()),
    };
    let mut headers: Vec<(&str, &str)> =
        auth.iter().map(|a| ("authorization", a.as_str())).collect();
    headers.extend(step.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let body = match step.body {
        None => String::new(),
        Some(Value::String(raw)) => raw,
        Some(value) => value.to_string(),
    };
    let response = send(fake, method, target, &headers, &body);
    let reply = String::from_utf8_lossy(response.body());
    let got = serde_json::from_str(&reply).unwrap_or(Value::Null);
    if response.status() != step.status {
        let status = response.status();
        return Err(format!("expected {}, got {status} {reply}", step.status));
    }
    if let Some(code) = &step.error {
        let shape = json!({"error": code, "errorCode": code, "errorDescription": "<string>"});
        compare("error shape", &shape, &got, false)?;
    }
    if let Some(expected) = &step.json {
        compare("json", expected, &got, true)?;
    }
    if let Some(expected) = &step.subset {
        compare("match", expected, &got, false)?;
    }
    for pointer in &step.absent {
        if got.pointer(pointer).is_some() {
            return Err(format!("`{pointer}` should be absent from {got:#}"));
        }
    }
    for (name, value) in &step.reply_headers {
        let actual = response.headers().get(name).and_then(|v| v.to_str().ok());
        if actual != Some(value) {
            return Err(format!("header {name}: expected {value:?}, got {actual:?}"));
        }
    }
    for (var, pointer) in step.save {
        let value = got
            .pointer(&pointer)
            .ok_or_else(|| format!("no `{pointer}` to save in {got:#}"))?;
        vars.insert(var, value.clone());
    }
    Ok(())
}

fn call(fake: &FakeAuthsignal, step: CallStep, vars: &mut Vars) -> Result<(), String> {
    let got = match step.call {
        FakeApi::Advance(secs) => json!(fake.advance(Duration::from_secs(secs))),
        FakeApi::AddAuthenticator(user, method, contact) => {
            json!(fake.add_authenticator(&user, VerificationMethod::from(method), Some(&contact)))
        }
        FakeApi::SetActionOutcome(action, state) => {
            json!(fake.set_action_outcome(&action, UserActionState::from(state)))
        }
        FakeApi::ClearActionOutcome(action) => json!(fake.clear_action_outcome(&action)),
        FakeApi::AddTerminal(id) => json!(fake.add_terminal(&id)),
        FakeApi::SetPaymentSessionStatus(id, status) => {
            json!(fake.set_payment_session_status(&id, PaymentSessionStatus::from(status)))
        }
        FakeApi::LoadSeed(seed) => {
            fake.load_seed(&text(&seed)).err().map(|e| e.to_string()).into()
        }
        FakeApi::LastCode => fake.last_code().into(),
        FakeApi::LastChallengeId => fake.last_challenge_id().into(),
        FakeApi::LastCodeFor(id) => fake.last_code_for(&id).into(),
        FakeApi::OtherCode(code) => json!(if code == "000000" { "111111" } else { "000000" }),
        FakeApi::ActionState(user, action, key) => {
            fake.action_state(&user, &action, &key).map(|s| s.as_str().to_owned()).into()
        }
        FakeApi::CallOutcome(id) => fake.call_outcome(&id).map(|s| s.as_str().to_owned()).into(),
        FakeApi::Requests => fake
            .requests()
            .iter()
            .map(|r| json!({"method": r.method.as_str(), "path": r.path, "status": r.status.map(|s| s.as_u16())}))
            .collect(),
        FakeApi::HoursBetween(from, to) => {
            let at = |s: &str| OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("{s}: {e}"));
            json!((at(&to)? - at(&from)?).whole_hours())
        }
    };
    if let Some(expected) = &step.is {
        compare("is", expected, &got, false)?;
    }
    if let Some(var) = step.save {
        vars.insert(var, got);
    }
    Ok(())
}

/// One request straight to `handle`, dressed as the SDKs send it.
fn send(
    fake: &FakeAuthsignal,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> http::Response<Vec<u8>> {
    let mut request = http::Request::builder()
        .method(method)
        .uri(target)
        .header("user-agent", "testkit-tests");
    if !body.is_empty() || matches!(method, "POST" | "PATCH" | "PUT") {
        request = request.header("content-type", "application/json");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    fake.handle(request.body(body.into()).expect("a valid request"))
}

fn compare(what: &str, expected: &Value, actual: &Value, exact: bool) -> Result<(), String> {
    matches(expected, Some(actual), exact, "").map_err(|at| {
        format!("{what} differs at `{at}`\nexpected: {expected:#}\nactual:   {actual:#}")
    })
}

/// Whether `actual` meets `expected`; `exact` also refuses extra keys. The
/// error is the JSON pointer where they differ.
fn matches(expected: &Value, actual: Option<&Value>, exact: bool, at: &str) -> Result<(), String> {
    let ok = match (expected, actual) {
        (Value::String(m), Some(a)) if m.starts_with('<') && m.ends_with('>') => {
            marker(&m[1..m.len() - 1], a).map_err(|e| format!("{at} ({e})"))?
        }
        (Value::Object(e), Some(Value::Object(a))) => {
            if let Some(extra) = a.keys().find(|k| exact && !e.contains_key(*k)) {
                return Err(format!("{at}/{extra} (unexpected)"));
            }
            for (key, value) in e {
                matches(value, a.get(key), exact, &format!("{at}/{key}"))?;
            }
            true
        }
        (Value::Array(e), Some(Value::Array(a))) if e.len() == a.len() => {
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                matches(e, Some(a), exact, &format!("{at}/{i}"))?;
            }
            true
        }
        (e, a) => Some(e) == a,
    };
    if ok { Ok(()) } else { Err(at.to_owned()) }
}

fn marker(marker: &str, value: &Value) -> Result<bool, String> {
    let s = value.as_str().unwrap_or_default();
    let (kind, arg) = marker.split_once(':').unwrap_or((marker, ""));
    let number = || {
        arg.parse::<i64>()
            .map_err(|_| format!("bad marker <{marker}>"))
    };
    Ok(match kind {
        "string" => !s.is_empty(),
        "uuid" => {
            let hex = s.bytes().enumerate().all(|(i, b)| {
                [8, 13, 18, 23].contains(&i) == (b == b'-') && (b == b'-' || b.is_ascii_hexdigit())
            });
            s.len() == 36 && hex
        }
        "timestamp" => s.ends_with('Z') && OffsetDateTime::parse(s, &Rfc3339).is_ok(),
        "unix-seconds" => value
            .as_i64()
            .is_some_and(|n| n > 1_700_000_000 && n < 100_000_000_000),
        "len" => value.is_string() && s.chars().count() as i64 == number()?,
        "prefix" => s.starts_with(arg),
        "contains" => s.contains(arg),
        "not" => text(value) != arg,
        "min" => value
            .as_i64()
            .is_some_and(|n| number().is_ok_and(|min| n >= min)),
        _ => return Err(format!("unknown marker <{marker}>")),
    })
}

/// A string as it is, any other value as JSON.
fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// `{var}` replaced in every string of `value`; a `{name}` left over is a typo.
fn substitute(value: &Value, vars: &Vars) -> Result<Value, String> {
    let is_name =
        |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    Ok(match value {
        Value::String(s) => {
            let whole = s.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
            if let Some(value) = whole.filter(is_name).and_then(|name| vars.get(name)) {
                return Ok(value.clone());
            }
            let mut out = s.clone();
            for (name, value) in vars {
                out = out.replace(&format!("{{{name}}}"), &text(value));
            }
            let mut names = out
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}'));
            if let Some((name, _)) = names.find(|(name, _)| is_name(name)) {
                return Err(format!("no variable {{{name}}}"));
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute(v, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Runs inline steps on `fake`, panicking on the first failure.
fn steps(fake: &FakeAuthsignal, steps: Value) -> Vars {
    let mut vars = Vars::new();
    run("inline", steps.as_array().expect("steps"), fake, &mut vars)
        .unwrap_or_else(|e| panic!("{e}"));
    vars
}

fn scenarios() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

fn load(path: &Path) -> Vec<Value> {
    let json = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn main() {
    let args = Arguments::from_args();
    macro_rules! checks {
        ($($check:ident),*) => { vec![$(Trial::test(stringify!($check), || Ok($check()))),*] };
    }
    let mut trials = checks![
        fake_is_send_and_sync,
        base_url_and_secret,
        call_connect_key_and_url,
        requests_are_recorded,
        garbage_never_kills_the_server,
        webhook_signing_is_reexported,
        drop_stops_the_server,
        sixteen_threads_run_independent_flows,
        wrong_expectations_fail
    ];
    let mut files: Vec<_> = std::fs::read_dir(scenarios())
        .expect("tests/scenarios")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 33, "the scenario table went missing");
    for path in files {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a name")
            .to_owned();
        trials.push(Trial::test(format!("scenario::{stem}"), move || {
            let name = format!("scenarios/{stem}.json");
            run(
                &name,
                &load(&path),
                &FakeAuthsignal::new(),
                &mut Vars::new(),
            )
            .map_err(Failed::from)
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn fake_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FakeAuthsignal>();
}

fn base_url_and_secret() {
    let fake = FakeAuthsignal::start();
    let addr = fake.addr().expect("a started fake has an address");
    assert_eq!(fake.base_url(), format!("http://{addr}/v1"));
    assert!(addr.ip().is_loopback());
    assert!(fake.secret().starts_with("sk_test_fake_"));
    assert_ne!(fake.secret(), FakeAuthsignal::new().secret());
    let in_process = FakeAuthsignal::new();
    assert_eq!(in_process.addr(), None);
    assert_eq!(in_process.base_url(), "https://authsignal-fake.invalid/v1");
    assert_eq!(fake.api_secret_key().expose_secret(), fake.secret());
    assert!(!format!("{fake:?}").contains(fake.secret()));
    let custom = FakeAuthsignal::start_with_secret("my-secret");
    assert_eq!(custom.secret(), "my-secret");
    assert_eq!(
        custom.authorization_header(),
        format!("Basic {}", STANDARD.encode("my-secret:"))
    );
}

fn call_connect_key_and_url() {
    let fake = FakeAuthsignal::new();
    assert_eq!(fake.call_connect_url(), "https://authsignal-fake.invalid");
    let secret = fake.call_connect_secret();
    assert!(secret.starts_with("sk_test_fake_cc_"));
    assert_ne!(secret, fake.secret());
    let header = format!("Basic {}", STANDARD.encode(format!("{secret}:")));
    assert_eq!(fake.call_connect_authorization_header(), header);
    assert!(!format!("{fake:?}").contains(secret));
}

fn requests_are_recorded() {
    let fake = FakeAuthsignal::new();
    steps(
        &fake,
        json!([
            {"send": "POST /v1/users/x/actions/signIn", "body": {"email": "x@example.com"}, "status": 200},
            {"send": "GET /v1/users?email=x%40example.com", "status": 200},
        ]),
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, http::Method::POST);
    assert_eq!(requests[0].path, "/v1/users/x/actions/signIn");
    assert_eq!(requests[0].body.as_ref().unwrap()["email"], "x@example.com");
    assert_eq!(requests[0].header("user-agent"), Some("testkit-tests"));
    assert_eq!(requests[0].status, Some(http::StatusCode::OK));
    assert_eq!(
        requests[1].query,
        [("email".to_owned(), "x@example.com".to_owned())]
    );
    assert_eq!(requests[1].query_param("email"), Some("x@example.com"));
    assert_eq!(requests[1].body, None);
    // The key arrived, and stays out of `Debug`.
    let auth = fake.authorization_header();
    assert_eq!(requests[0].header("authorization"), Some(auth.as_str()));
    assert!(!format!("{:?}", requests[0]).contains(&auth["Basic ".len()..]));
    fake.clear_requests();
    assert_eq!(fake.request_count(), 0);
}

fn garbage_never_kills_the_server() {
    let fake = FakeAuthsignal::new();
    let auth = fake.authorization_header();
    let bodies = [
        "\u{0}\u{1}",
        "null",
        "\"str\"",
        "{\"authenticators\": [null, 1, \"x\", {}]}",
        "{\"token\": {\"nested\": true}}",
        "{\"state\": []}",
    ];
    let targets =
        "users/authenticators validate sessions users/u/actions/a/k challenge claim challenges";
    for body in bodies {
        for target in targets.split(' ').map(|t| format!("/v1/{t}")) {
            for method in ["POST", "PATCH"] {
                let resp = send(&fake, method, &target, &[("authorization", &auth)], body);
                assert!(
                    resp.status().as_u16() < 500,
                    "{method} {target} {body}: {resp:?}"
                );
            }
        }
    }
    steps(
        &fake,
        json!([{"send": "GET /v1/users/still-alive", "status": 200}]),
    );
}

fn webhook_signing_is_reexported() {
    let fake = FakeAuthsignal::start_with_secret("test-secret-key-123");
    let header = authsignal_testkit::sign(&fake.api_secret_key(), b"{}", 1_630_000_000);
    assert_eq!(
        header,
        "t=1630000000,v2=5A34twV5yi1Tr0WX6lDL2A6Q0HumnxL7eWzln9LqYKI"
    );
    let _: ApiSecretKey = fake.api_secret_key();
}

fn drop_stops_the_server() {
    let fake = FakeAuthsignal::start();
    let addr = fake.addr().unwrap();
    steps(&fake, json!([{"send": "GET /v1/users/x", "status": 200}]));
    let started = Instant::now();
    drop(fake);
    assert!(started.elapsed() < Duration::from_secs(5));
    // The listener closes shortly after the drop.
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).is_ok() {
        assert!(Instant::now() < deadline, "still accepting connections");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The flow in `scenarios/threads/sign_in.json` for 16 users at once.
fn sixteen_threads_run_independent_flows() {
    let fake = FakeAuthsignal::start();
    let flow = load(&scenarios().join("threads/sign_in.json"));
    let ids: BTreeSet<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let (fake, flow) = (&fake, &flow);
                scope.spawn(move || {
                    let mut vars = Vars::from([
                        ("user".to_owned(), json!(format!("user/{i}"))),
                        ("user_path".to_owned(), json!(format!("user%2F{i}"))),
                        ("phone".to_owned(), json!(format!("+1555000{i:04}"))),
                    ]);
                    run("scenarios/threads/sign_in.json", flow, fake, &mut vars)
                        .unwrap_or_else(|e| panic!("user {i}: {e}"));
                    vars["challenge_id"].as_str().unwrap().to_owned()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("flow thread panicked"))
            .collect()
    });
    assert_eq!(ids.len(), 16);
    // 8 requests per flow (enrol, track, challenge, verify, validate,
    // session, refresh, validate session) plus the challenge lookup.
    assert_eq!(fake.request_count(), 16 * 9);
    for i in 0..16 {
        let send = format!("GET /v1/users/user%2F{i}");
        steps(
            &fake,
            json!([{"send": send, "status": 200, "match": {"isEnrolled": true}}]),
        );
    }
}

/// The table cannot pass vacuously: wrong expectations fail, naming the
/// scenario and step with expected and actual JSON.
fn wrong_expectations_fail() {
    let fails = |steps: Value| {
        let steps = steps.as_array().unwrap().clone();
        run(
            "scenarios/x.json",
            &steps,
            &FakeAuthsignal::new(),
            &mut Vars::new(),
        )
        .expect_err("a wrong expectation")
    };
    let get = json!({"send": "GET /v1/users/nobody", "status": 200});
    let with = |extra: Value| {
        let mut step = get.clone();
        step.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!([get, step])
    };
    let e = fails(with(json!({"status": 404})));
    assert!(
        e.starts_with("scenarios/x.json step 2: expected 404, got 200"),
        "{e}"
    );
    let e = fails(with(json!({"match": {"isEnrolled": true}})));
    assert!(e.contains("step 2: match differs at `/isEnrolled`"), "{e}");
    assert!(
        e.contains("expected: {\n  \"isEnrolled\": true") && e.contains("actual:   {"),
        "{e}"
    );
    for wrong in [
        json!({"json": {"userId": "nobody"}}),
        json!({"match": {"enrolledVerificationMethods": ["SMS"]}}),
        json!({"match": {"userId": "<uuid>"}}),
        json!({"match": {"userId": "<not:nobody>"}}),
        json!({"match": {"missing": "<string>"}}),
        json!({"absent": ["/userId"]}),
        json!({"error": "not_found"}),
        json!({"reply_headers": {"content-type": "text/plain"}}),
        json!({"save": {"x": "/missing"}}),
        json!({"stauts": 200}),
        json!({"send": "GET /v1/users/{nope}"}),
        json!({"match": {"userId": "<nope>"}}),
        json!({"match": {"userId": "<timestamp>"}}),
        json!({"match": {"userId": "<unix-seconds>"}}),
        json!({"match": {"userId": "<len:5>"}}),
        json!({"match": {"userId": "<prefix:some>"}}),
        json!({"match": {"userId": "<contains:zz>"}}),
        json!({"match": {"userId": "<min:1>"}}),
        json!({"match": {"enrolledVerificationMethods": "<min:1>"}}),
    ] {
        assert!(
            fails(with(wrong.clone())).contains("step 2"),
            "{wrong} passed"
        );
    }
    for wrong in [
        json!({"call": "last_code", "is": "123456"}),
        json!({"call": "requests", "is": []}),
        json!({"call": {"advance": "soon"}}),
        json!({"call": "last_code", "extra": 1}),
        json!({"call": {"hours_between": ["2026-01-01T00:00:00Z", "2026-01-02T00:30:00Z"]}, "is": 25}),
        json!({"call": {"hours_between": ["yesterday", "2026-01-02T00:00:00Z"]}}),
    ] {
        assert!(
            fails(json!([get, wrong])).contains("step 2"),
            "{wrong} passed"
        );
    }
}
