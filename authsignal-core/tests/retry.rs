//! The retry policy as a pure function (decision table, limits, backoff
//! bounds, `Retry-After` parsing, retry budget; tables in
//! `tests/data/retry.json`) and the client's retry loop over scripted
//! transports.

use std::{
    cell::{Cell, RefCell},
    collections::VecDeque,
    time::{Duration, Instant},
};

use authsignal_core::{
    AttemptOutcome, BlockingTimer, BlockingTransport, Client, Config, Endpoint, Error,
    GetUserRequest, Idempotency, NoWaitTimer, RetryBudget, RetryDecision, RetryPolicy,
    TrackRequest, TransportError, TransportErrorKind,
    http::{self, HeaderMap, HeaderValue, StatusCode, header},
    retry_after,
};
use serde::Deserialize;
use serde_json::Value;

const MS: fn(u64) -> Duration = Duration::from_millis;
const SECS: fn(u64) -> Duration = Duration::from_secs;
const IDEMPOTENT: Idempotency = Idempotency::Idempotent;
const NON_IDEMPOTENT: Idempotency = Idempotency::NonIdempotent;
const CONNECT: AttemptOutcome<'static> = AttemptOutcome::Transport(TransportErrorKind::Connect);

#[derive(Deserialize)]
struct Tables {
    decision_table: Vec<DecisionRow>,
    delay_seconds: Vec<DateCase>,
    http_dates: Vec<DateCase>,
    invalid_dates: Vec<String>,
    forms: Vec<Forms>,
    loops: Vec<LoopRow>,
}

/// One outcome and what the default policy decides for either class.
#[derive(Deserialize)]
struct DecisionRow {
    transport: Option<String>,
    status: Option<u16>,
    retry_after: Option<String>,
    idempotent: Value,
    non_idempotent: Value,
}

/// `Retry-After` (and `Date`) and the delay read from them.
#[derive(Deserialize)]
struct DateCase {
    retry_after: String,
    date: Option<String>,
    delay: Option<u64>,
}

/// One instant in the three HTTP-date forms, and the same instant
/// `seconds` earlier.
#[derive(Deserialize)]
struct Forms {
    later: Vec<String>,
    earlier: Vec<String>,
    seconds: u64,
}

/// One call through the client's retry loop (`loop_note` in the data file).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoopRow {
    why: String,
    call: String,
    #[serde(default)]
    replies: Vec<String>,
    then: String,
    max_retries: Option<u32>,
    deadline_ms: Option<u64>,
    #[serde(default)]
    per_call: bool,
    #[serde(default)]
    step_ms: u64,
    calls: u32,
    sleeps_ms: Option<Vec<u64>>,
    error: Option<LoopError>,
}

/// How a row's call fails, as a caller reads it; absent fields must be absent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoopError {
    variant: String,
    attempts: u32,
    status: Option<u16>,
    transport: Option<String>,
    processed: bool,
    retry_after_s: Option<u64>,
    display_ends: Option<String>,
}

fn tables() -> Tables {
    serde_json::from_str(include_str!("data/retry.json")).unwrap()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        map.append(name, HeaderValue::from_str(value).unwrap());
    }
    map
}

/// `retry_after` of a response with these `Retry-After` and `Date` values.
fn delay(retry: &str, date: &str) -> Option<Duration> {
    retry_after(&headers(&[("retry-after", retry), ("date", date)]))
}

fn response_view(status: StatusCode, headers: &HeaderMap) -> AttemptOutcome<'_> {
    AttemptOutcome::Response { status, headers }
}

fn transport_kind(name: &str) -> TransportErrorKind {
    match name {
        "Connect" => TransportErrorKind::Connect,
        "Timeout" => TransportErrorKind::Timeout,
        "Io" => TransportErrorKind::Io,
        "Other" => TransportErrorKind::Other,
        "ResponseTooLarge" => TransportErrorKind::ResponseTooLarge,
        other => panic!("unknown transport error kind {other}"),
    }
}

// ---------------------------------------------------------------------------
// Decision table
// ---------------------------------------------------------------------------

#[test]
fn default_policy_values() {
    let policy = RetryPolicy::default();
    let values = |p: &RetryPolicy| {
        let backoff = (p.initial_backoff, p.max_backoff);
        (p.max_retries, backoff, p.max_retry_after, p.deadline)
    };
    assert_eq!(values(&policy), (2, (MS(200), SECS(5)), SECS(10), SECS(30)));
    assert_eq!(RetryPolicy::no_retries().max_retries, 0);
    let custom = RetryPolicy::default()
        .with_max_retries(5)
        .with_backoff(MS(1), MS(2))
        .with_max_retry_after(SECS(60))
        .with_deadline(SECS(3));
    assert_eq!(values(&custom), (5, (MS(1), MS(2)), SECS(60), SECS(3)));
}

#[test]
fn decision_table() {
    let policy = RetryPolicy::default();
    for jitter in [0.0, 0.5, 1.0] {
        let backoff = policy.backoff(1, jitter);
        for row in tables().decision_table {
            let map = match &row.retry_after {
                Some(value) => headers(&[("retry-after", value)]),
                None => HeaderMap::new(),
            };
            let view = match (&row.transport, row.status) {
                (Some(kind), _) => AttemptOutcome::Transport(transport_kind(kind)),
                (None, status) => {
                    let status = StatusCode::from_u16(status.unwrap()).unwrap();
                    response_view(status, &map)
                }
            };
            for (class, expected) in [
                (IDEMPOTENT, &row.idempotent),
                (NON_IDEMPOTENT, &row.non_idempotent),
            ] {
                let expected = match (expected.as_str(), expected.as_u64()) {
                    (Some("stop"), _) => RetryDecision::Stop,
                    (Some("backoff"), _) => RetryDecision::RetryAfter(backoff),
                    (_, Some(seconds)) => RetryDecision::RetryAfter(SECS(seconds)),
                    _ => panic!("bad row {expected}"),
                };
                let got = policy.decide(1, class, view, jitter);
                assert_eq!(got, expected, "{view:?} {class:?} jitter {jitter}");
            }
        }
    }
}

#[test]
fn backoff_at_default_jitter_is_three_quarters_of_the_step() {
    let policy = RetryPolicy::default();
    for (attempt, jitter, expected) in [
        (1, 0.5, MS(150)),
        (2, 0.5, MS(300)),
        (1, 0.0, MS(100)),
        (1, 1.0, MS(200)),
        (2, 1.0, MS(400)),
        // 200ms·2^5 = 6.4s is capped at 5s.
        (6, 1.0, SECS(5)),
        (6, 0.0, MS(2500)),
    ] {
        let got = policy.backoff(attempt, jitter);
        assert_eq!(got, expected, "attempt {attempt} jitter {jitter}");
    }
}

#[test]
fn retry_after_shorter_than_backoff_waits_the_backoff() {
    let policy = RetryPolicy::default().with_backoff(SECS(4), SECS(8));
    let map = headers(&[("retry-after", "1")]);
    let view = response_view(StatusCode::TOO_MANY_REQUESTS, &map);
    let decision = policy.decide(1, NON_IDEMPOTENT, view, 1.0);
    assert_eq!(decision, RetryDecision::RetryAfter(SECS(4)));
}

#[test]
fn retry_after_limit_is_configurable() {
    let map = headers(&[("retry-after", "99999999999")]);
    let view = response_view(StatusCode::TOO_MANY_REQUESTS, &map);
    let default = RetryPolicy::default().decide(1, IDEMPOTENT, view, 0.5);
    assert_eq!(default, RetryDecision::Stop);
    let patient = RetryPolicy::default().with_max_retry_after(Duration::MAX);
    let decision = patient.decide(1, IDEMPOTENT, view, 0.5);
    assert_eq!(decision, RetryDecision::RetryAfter(SECS(99_999_999_999)));
    let map = headers(&[("retry-after", "30")]);
    let view = response_view(StatusCode::SERVICE_UNAVAILABLE, &map);
    let policy = RetryPolicy::default().with_max_retry_after(SECS(30));
    let decision = policy.decide(1, IDEMPOTENT, view, 0.5);
    assert_eq!(decision, RetryDecision::RetryAfter(SECS(30)));
}

#[test]
fn max_retries_is_respected() {
    let empty = HeaderMap::new();
    let unavailable = response_view(StatusCode::SERVICE_UNAVAILABLE, &empty);
    let throttled = response_view(StatusCode::TOO_MANY_REQUESTS, &empty);
    let outcomes = [CONNECT, unavailable, throttled];

    for max in [0u32, 1, 2, 5] {
        let policy = RetryPolicy::default().with_max_retries(max);
        for attempt in 1..=max + 3 {
            for outcome in outcomes {
                let decision = policy.decide(attempt, IDEMPOTENT, outcome, 0.5);
                let retries = matches!(decision, RetryDecision::RetryAfter(_));
                let what = format!("max {max}, attempt {attempt}, {outcome:?}");
                assert_eq!(retries, attempt <= max, "{what}: {decision:?}");
            }
        }
    }

    let never = RetryPolicy::no_retries();
    for attempt in [0, 1, 2, u32::MAX] {
        for outcome in outcomes {
            for class in [IDEMPOTENT, NON_IDEMPOTENT] {
                let decision = never.decide(attempt, class, outcome, 0.5);
                // Attempt 0 is not a real attempt number; only 1.. must stop.
                let stops = decision == RetryDecision::Stop || attempt == 0;
                assert!(stops, "{attempt} {outcome:?} {class:?}: {decision:?}");
            }
        }
    }
    let last = RetryPolicy::default().decide(u32::MAX, IDEMPOTENT, CONNECT, 0.5);
    assert_eq!(last, RetryDecision::Stop);
}

#[test]
fn backoff_stays_within_half_and_full_step() {
    for (initial, max) in [
        (MS(200), SECS(5)),
        (MS(1), MS(2)),
        (MS(100), MS(100)),
        (MS(3), SECS(60)),
        (Duration::ZERO, SECS(1)),
    ] {
        let policy = RetryPolicy::default().with_backoff(initial, max);
        for attempt in 1..=10u32 {
            let step = initial.saturating_mul(1 << (attempt - 1)).min(max);
            let mut previous = Duration::ZERO;
            for jitter in [0.0, 0.25, 0.5, 0.75, 1.0] {
                let delay = policy.backoff(attempt, jitter);
                let what = format!("attempt {attempt} jitter {jitter}: {delay:?}");
                assert!(delay >= step / 2, "{what} < {:?}", step / 2);
                assert!(delay <= step, "{what} > {step:?}");
                assert!(delay >= previous, "more jitter never shortens the delay");
                previous = delay;
                // decide() uses the same backoff.
                let decision = policy.decide(attempt, IDEMPOTENT, CONNECT, jitter);
                let expected = match attempt > policy.max_retries {
                    true => RetryDecision::Stop,
                    false => RetryDecision::RetryAfter(delay),
                };
                assert_eq!(decision, expected, "{what}");
            }
            assert_eq!(policy.backoff(attempt, 0.0), step / 2);
        }
    }
}

#[test]
fn huge_attempts_and_odd_jitter_do_not_panic() {
    let policies = [
        RetryPolicy::default(),
        RetryPolicy::default().with_max_retries(u32::MAX),
        RetryPolicy::default().with_backoff(SECS(u64::MAX), Duration::MAX),
        RetryPolicy::default()
            .with_backoff(Duration::MAX, Duration::MAX)
            .with_max_retries(u32::MAX),
        RetryPolicy::default().with_backoff(SECS(10), Duration::ZERO),
    ];
    let (nan, inf, tiny, almost) = (f64::NAN, f64::INFINITY, f64::MIN_POSITIVE, 0.999_999_999);
    let jitters = [0.0, 0.5, 1.0, -1.0, 2.0, nan, inf, -inf, tiny, almost];
    let top = u32::MAX;
    let attempts = [0, 1, 2, 31, 32, 33, 63, 64, 65, 1000, top - 1, top];
    let empty = HeaderMap::new();
    let unavailable = response_view(StatusCode::SERVICE_UNAVAILABLE, &empty);
    for policy in &policies {
        let (max, initial) = (policy.max_backoff, policy.initial_backoff);
        for attempt in attempts {
            for jitter in jitters {
                let delay = policy.backoff(attempt, jitter);
                assert!(delay <= max, "{delay:?} > {max:?}");
                assert!(delay >= max.min(initial) / 2 || attempt == 0);
                for outcome in [CONNECT, unavailable] {
                    // Any decision will do; it must not panic.
                    let _ = policy.decide(attempt, IDEMPOTENT, outcome, jitter);
                }
            }
        }
    }
    // Out-of-range jitter is clamped.
    let policy = RetryPolicy::default();
    assert_eq!(policy.backoff(1, -1.0), MS(100));
    assert_eq!(policy.backoff(1, 2.0), MS(200));
    let nan = policy.backoff(1, f64::NAN);
    assert!((MS(100)..=MS(200)).contains(&nan), "{nan:?}");
}

// ---------------------------------------------------------------------------
// Retry-After parsing
// ---------------------------------------------------------------------------

#[test]
fn retry_after_delay_seconds() {
    for case in tables().delay_seconds {
        let value = &case.retry_after;
        let got = retry_after(&headers(&[("retry-after", value)]));
        assert_eq!(got, case.delay.map(SECS), "Retry-After: {value:?}");
    }
    assert_eq!(retry_after(&HeaderMap::new()), None);
    // Not valid UTF-8.
    let mut map = HeaderMap::new();
    let bytes = HeaderValue::from_bytes(b"\xff\xfe").unwrap();
    map.insert(header::RETRY_AFTER, bytes);
    assert_eq!(retry_after(&map), None);
}

#[test]
fn retry_after_http_date_is_measured_against_the_date_header() {
    for case in tables().http_dates {
        let (retry, date) = (&case.retry_after, case.date.unwrap());
        let what = format!("Retry-After: {retry:?} / Date: {date:?}");
        assert_eq!(delay(retry, &date), case.delay.map(SECS), "{what}");
    }
    // An HTTP date without a Date header: no clock is read, so no delay.
    let map = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
    assert_eq!(retry_after(&map), None);
}

#[test]
fn retry_after_accepts_every_http_date_form_in_either_header() {
    for Forms {
        later,
        earlier,
        seconds,
    } in tables().forms
    {
        // Every form against every form: same-form pairs and mixed ones.
        for retry in &later {
            for date in &earlier {
                let what = format!("Retry-After: {retry} / Date: {date}");
                assert_eq!(delay(retry, date), Some(SECS(seconds)), "{what}");
                // Swapped, the date is in the past: no wait.
                assert_eq!(delay(date, retry), Some(SECS(0)), "{what}");
            }
            // The same instant in every pair of forms.
            for date in &later {
                assert_eq!(delay(retry, date), Some(SECS(0)), "{retry} / {date}");
            }
            // Whatever its form, a date needs the response's `Date`.
            assert_eq!(retry_after(&headers(&[("retry-after", retry)])), None);
        }
    }
}

#[test]
fn retry_after_invalid_http_dates_in_any_form() {
    let tables = tables();
    let rfc_example = &tables.forms[0];
    for bad in &tables.invalid_dates {
        for good in &rfc_example.earlier {
            // An invalid `Retry-After` against a valid `Date`, and the reverse.
            assert_eq!(delay(bad, good), None, "Retry-After: {bad} / Date: {good}");
            assert_eq!(delay(good, bad), None, "Retry-After: {good} / Date: {bad}");
        }
    }
    // A `Date` that is not valid UTF-8.
    let mut map = headers(&[("retry-after", &rfc_example.later[1])]);
    let date = b"Sun, 06 Nov 1994 08:49:07 GMT\xff";
    map.insert(header::DATE, HeaderValue::from_bytes(date).unwrap());
    assert_eq!(retry_after(&map), None);
}

// ---------------------------------------------------------------------------
// Retry budget
// ---------------------------------------------------------------------------

#[test]
fn retry_budget_withdraw_refund_and_capacity() {
    let (retry, throttle) = (RetryBudget::RETRY_COST, RetryBudget::THROTTLE_COST);
    let budget = RetryBudget::new(20);
    assert_eq!(budget.available(), 20);
    assert!(budget.try_withdraw(retry));
    assert_eq!(budget.available(), 20 - retry);
    assert!(!budget.try_withdraw(retry), "not enough left");
    let taken_nothing = budget.available();
    assert_eq!(
        taken_nothing,
        20 - retry,
        "a failed withdrawal takes nothing"
    );
    assert!(budget.try_withdraw(throttle));
    assert_eq!(budget.available(), 20 - retry - throttle);
    budget.refund(0);
    let left = budget.available();
    // A success without retries gives back one token.
    assert_eq!(left, 20 - retry - throttle + 1);
    budget.refund(throttle);
    // A success after retries gives back what they took.
    assert_eq!(budget.available(), 20 - retry + 1);
    budget.refund(100);
    assert_eq!(budget.available(), 20, "refunds stop at the capacity");
    assert!(budget.try_withdraw(20));
    assert_eq!(budget.available(), 0);
    assert!(!budget.try_withdraw(1));
    assert!(budget.try_withdraw(0));

    let empty = RetryBudget::new(0);
    empty.refund(5);
    assert_eq!(empty.available(), 0);
    assert!(!empty.try_withdraw(1));

    assert_eq!(RetryBudget::default().available(), 500);
    let big = RetryBudget::new(u32::MAX);
    big.refund(1);
    assert_eq!(big.available(), u32::MAX);
    assert!(!big.try_withdraw(u32::MAX) || big.available() == 0);
}

#[test]
fn retry_budget_is_thread_safe() {
    let budget = std::sync::Arc::new(RetryBudget::new(1000));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let budget = budget.clone();
            std::thread::spawn(move || (0..500).filter(|_| budget.try_withdraw(1)).count())
        })
        .collect();
    let taken: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(taken, 1000);
    assert_eq!(budget.available(), 0);
}

// ---------------------------------------------------------------------------
// The client's retry loop
// ---------------------------------------------------------------------------

type Reply = Result<http::Response<Vec<u8>>, TransportError>;

fn reply(code: u16, retry_after: Option<&str>, body: &str) -> Reply {
    let mut response = http::Response::builder().status(code);
    if let Some(seconds) = retry_after {
        response = response.header(header::RETRY_AFTER, seconds);
    }
    Ok(response.body(body.as_bytes().to_vec()).unwrap())
}

/// One reply of a script to `call` (`get_user` or `track`): a status, with
/// a success body for the call or an error object; `429 after N`; or the
/// name of a transport error kind.
fn scripted(token: &str, call: &str) -> Reply {
    if let Some(seconds) = token.strip_prefix("429 after ") {
        return reply(429, Some(seconds), r#"{"error":"too_many_requests"}"#);
    }
    let Ok(code) = token.parse::<u16>() else {
        return Err(TransportError::new(transport_kind(token), "scripted"));
    };
    let success = match call {
        "track" => r#"{"state":"ALLOW","idempotencyKey":"k"}"#,
        _ => r#"{"isEnrolled":true}"#,
    };
    reply(
        code,
        None,
        if code == 200 {
            success
        } else {
            r#"{"error":"x"}"#
        },
    )
}

/// A reply to `get_user` with this status.
fn status(code: u16) -> Reply {
    scripted(&code.to_string(), "get_user")
}

/// A transport that plays a script of replies (repeating the last one), and
/// records every request; as the client's timer, it records every sleep
/// instead of sleeping, and keeps a fake clock.
struct Scripted {
    replies: RefCell<VecDeque<Reply>>,
    last: Box<dyn Fn() -> Reply>,
    calls: Cell<u32>,
    requests: RefCell<Vec<http::Request<Vec<u8>>>>,
    sleeps: RefCell<Vec<Duration>>,
    /// How long each call takes on the fake clock.
    step: Duration,
    started: Instant,
}

impl Scripted {
    fn new(replies: Vec<Reply>, last: impl Fn() -> Reply + 'static) -> Self {
        Self::timed(Duration::ZERO, replies, last)
    }

    fn timed(step: Duration, replies: Vec<Reply>, last: impl Fn() -> Reply + 'static) -> Self {
        Self {
            replies: RefCell::new(replies.into()),
            last: Box::new(last),
            calls: Cell::new(0),
            requests: RefCell::new(Vec::new()),
            sleeps: RefCell::new(Vec::new()),
            step,
            started: Instant::now(),
        }
    }

    /// A client of `config` sending through this transport, timed by it.
    fn client_of(&self, config: Config) -> Client<&Self, &Self> {
        Client::with_transport(config, self).with_timer(self)
    }

    /// A client of the default configuration.
    fn client(&self) -> Client<&Self, &Self> {
        self.client_of(Config::builder("sk_test").build().unwrap())
    }

    /// How many calls the transport saw and how many attempts `error` says.
    fn counts(&self, error: &Error) -> (u32, u32) {
        (self.calls.get(), error.attempts())
    }
}

impl BlockingTransport for &Scripted {
    fn send(&self, request: http::Request<Vec<u8>>) -> Reply {
        self.calls.set(self.calls.get() + 1);
        self.requests.borrow_mut().push(request);
        let next = self.replies.borrow_mut().pop_front();
        next.unwrap_or_else(|| (self.last)())
    }
}

impl BlockingTimer for Scripted {
    fn sleep(&self, delay: Duration) {
        self.sleeps.borrow_mut().push(delay);
    }

    fn now(&self) -> Instant {
        // Time passes only by sleeping, and by `step` per call.
        let sleeps: Duration = self.sleeps.borrow().iter().sum();
        self.started + sleeps + self.step * self.calls.get()
    }

    fn jitter(&self) -> f64 {
        0.5
    }
}

fn get_user() -> GetUserRequest {
    GetUserRequest::new("u")
}

fn track() -> TrackRequest {
    TrackRequest::new("u", "signIn")
}

fn with_policy(policy: RetryPolicy) -> Config {
    Config::builder("sk")
        .with_retry_policy(policy)
        .build()
        .unwrap()
}

fn with_budget(budget: RetryBudget) -> Config {
    Config::builder("sk")
        .with_retry_budget(budget)
        .build()
        .unwrap()
}

#[test]
fn retry_loop_table() {
    for row in tables().loops {
        let why = row.why.as_str();
        let (then, call) = (row.then.clone(), row.call.clone());
        let replies = row.replies.iter().map(|r| scripted(r, &row.call)).collect();
        let transport = Scripted::timed(MS(row.step_ms), replies, move || scripted(&then, &call));
        let mut policy = RetryPolicy::default();
        if let Some(max) = row.max_retries {
            policy = policy.with_max_retries(max);
        }
        if let Some(ms) = row.deadline_ms {
            policy = policy.with_deadline(MS(ms));
        }
        let client = match row.per_call {
            true => transport.client(),
            false => transport.client_of(with_policy(policy.clone())),
        };
        let policy = row.per_call.then_some(&policy);
        let result = match row.call.as_str() {
            "get_user" => send(&client, &get_user(), policy).map(|user| assert!(user.is_enrolled)),
            "track" => send(&client, &track(), policy).map(|t| assert_eq!(t.idempotency_key, "k")),
            other => panic!("{why}: no call {other}"),
        };
        assert_eq!(transport.calls.get(), row.calls, "{why}");
        if let Some(sleeps) = &row.sleeps_ms {
            let expected: Vec<Duration> = sleeps.iter().copied().map(MS).collect();
            assert_eq!(*transport.sleeps.borrow(), expected, "{why}");
        }
        // Every attempt sends the same request.
        let requests = transport.requests.borrow();
        for request in requests.iter() {
            let parts = |r: &http::Request<Vec<u8>>| (r.uri().clone(), r.headers().clone());
            assert_eq!(parts(request), parts(&requests[0]), "{why}");
            assert_eq!(request.body(), requests[0].body(), "{why}");
        }
        let (error, expected) = match (result, &row.error) {
            (Ok(()), None) => continue,
            (Err(error), Some(expected)) => (error, expected),
            (result, _) => panic!("{why}: {result:?}"),
        };
        let variant = match &error {
            Error::Api(_) => "Api",
            Error::Transport { .. } => "Transport",
            other => panic!("{why}: {other:?}"),
        };
        assert_eq!(variant, expected.variant, "{why}");
        assert_eq!(error.attempts(), expected.attempts, "{why}");
        assert_eq!(error.status().map(|s| s.as_u16()), expected.status, "{why}");
        let kind = expected.transport.as_deref().map(transport_kind);
        assert_eq!(error.transport_kind(), kind, "{why}");
        let processed = error.request_may_have_been_processed();
        assert_eq!(processed, expected.processed, "{why}");
        assert_eq!(
            error.retry_after(),
            expected.retry_after_s.map(SECS),
            "{why}"
        );
        let display = error.to_string();
        let ends = expected.display_ends.as_deref().unwrap_or("");
        assert!(display.ends_with(ends), "{why}: {display}");
    }
}

/// Sends `endpoint` under the config's policy, or under `policy` for this call.
fn send<E: Endpoint>(
    client: &Client<&Scripted, &Scripted>,
    endpoint: &E,
    policy: Option<&RetryPolicy>,
) -> Result<E::Output, Error> {
    match policy {
        Some(policy) => client.send_with_policy(endpoint, policy),
        None => client.send(endpoint),
    }
}

#[test]
fn retry_budget_cuts_a_503_storm_short() {
    let transport = Scripted::new(vec![], || status(503));
    let client = transport.client_of(with_budget(RetryBudget::new(20)));
    let available = |client: &Client<_, _>| client.config().retry_budget().unwrap().available();

    // 20 tokens pay for one retry (14), not two.
    let error = client.get_user(get_user()).unwrap_err();
    assert_eq!(transport.counts(&error), (2, 2));
    assert_eq!(available(&client), 20 - RetryBudget::RETRY_COST);

    // The next call gets no retry at all.
    let error = client.get_user(get_user()).unwrap_err();
    assert_eq!(transport.counts(&error), (3, 1));

    // Successes refund one token each.
    let ok = Scripted::new(vec![], || status(200));
    let before = available(&client);
    let ok_client = ok.client_of(client.config().clone());
    ok_client.get_user(get_user()).unwrap();
    assert_eq!(
        available(&ok_client),
        before + 1,
        "the budget is shared by clones"
    );
}

#[test]
fn a_retry_budget_is_on_by_default_and_can_be_turned_off() {
    let config = Config::builder("sk").build().unwrap();
    assert_eq!(config.retry_budget().map(RetryBudget::available), Some(500));
    let transport = Scripted::new(vec![], || status(503));
    let client = transport.client_of(config);
    for _ in 0..20 {
        client.get_user(get_user()).unwrap_err();
    }
    // 35 retries of 14 tokens each, then first attempts only.
    assert_eq!(transport.calls.get(), 20 + 35);
    let left = client.config().retry_budget().unwrap().available();
    assert_eq!(left, 500 - 35 * 14);

    let config = Config::builder("sk")
        .without_retry_budget()
        .build()
        .unwrap();
    assert!(config.retry_budget().is_none());
    let transport = Scripted::new(vec![], || status(503));
    let client = transport.client_of(config);
    for _ in 0..20 {
        client.get_user(get_user()).unwrap_err();
    }
    assert_eq!(transport.calls.get(), 60);
}

#[test]
fn a_success_after_retries_gives_back_what_its_retries_took() {
    let transport = Scripted::new(vec![status(503), status(429)], || status(200));
    let client = transport.client_of(with_budget(RetryBudget::new(100)));
    client.get_user(get_user()).unwrap();
    assert_eq!(transport.calls.get(), 3);
    let available = |client: &Client<_, _>| client.config().retry_budget().unwrap().available();
    assert_eq!(available(&client), 100);

    // A failed call keeps what it took.
    let transport = Scripted::new(vec![status(503)], || status(404));
    let client = transport.client_of(client.config().clone());
    client.get_user(get_user()).unwrap_err();
    assert_eq!(available(&client), 100 - RetryBudget::RETRY_COST);
}

#[test]
fn a_closure_transport_waits_the_backoff_between_attempts() {
    // The default timer is real: 503, 503, 200 waits between attempts.
    let sent_at = RefCell::new(Vec::new());
    let transport = |_request: http::Request<Vec<u8>>| -> Reply {
        sent_at.borrow_mut().push(Instant::now());
        status(if sent_at.borrow().len() < 3 { 503 } else { 200 })
    };
    let policy = RetryPolicy::default().with_backoff(MS(60), SECS(5));
    let client = Client::with_transport(with_policy(policy.clone()), transport);
    let user = client.get_user(get_user()).unwrap();
    assert!(user.is_enrolled);
    let sent_at = sent_at.borrow();
    assert_eq!(sent_at.len(), 3);
    for (retry, pair) in sent_at.windows(2).enumerate() {
        let attempt = u32::try_from(retry).unwrap() + 1;
        let gap = pair[1] - pair[0];
        // Equal jitter: between half and all of the backoff.
        let (least, most) = (policy.backoff(attempt, 0.0), policy.backoff(attempt, 1.0));
        assert!(gap >= least, "retry {attempt} after {gap:?}");
        assert!(gap < most + MS(200), "retry {attempt} after {gap:?}");
    }

    // A non-idempotent POST is not retried after a 503.
    let calls = Cell::new(0u32);
    let transport = |_request: http::Request<Vec<u8>>| -> Reply {
        calls.set(calls.get() + 1);
        status(503)
    };
    let client = Client::with_transport(Config::builder("sk").build().unwrap(), transport);
    let error = client.track(track()).unwrap_err();
    assert_eq!((calls.get(), error.attempts()), (1, 1));
}

#[test]
fn no_wait_timer_retries_at_once_by_name() {
    let sent = Cell::new(0);
    let transport = |_request: http::Request<Vec<u8>>| -> Reply {
        sent.set(sent.get() + 1);
        status(503)
    };
    let policy = RetryPolicy::default().with_backoff(SECS(2), SECS(5));
    let client = Client::with_transport(with_policy(policy), transport).with_timer(NoWaitTimer);
    let started = Instant::now();
    client.get_user(get_user()).unwrap_err();
    assert_eq!(sent.get(), 3);
    // Two backoffs of 1-5 s were asked for and none was slept.
    assert!(started.elapsed() < SECS(1), "took {:?}", started.elapsed());
}
