//! Fault injection over every transport (reference §4 tables C and D, plus
//! B4/B5 over the wire): every scenario runs once per [`Flavor`] (the
//! blocking ureq client, the async clients on hyper and reqwest, and the
//! tower adapter), each against a fresh scripted [`FaultServer`], under a
//! watchdog that fails the test instead of hanging.
//!
//! Clients use a 500 ms per-attempt timeout and a shrunk backoff (5–20 ms)
//! unless the scenario is about delays. Timing assertions carry generous slack
//! (CI has 2 shared cores).
//!
//! Tests marked `#[ignore]` state a finding in their reason (a bug to fix, or
//! a transport behaviour that misses the briefed criterion); run them with
//! `cargo test -p authsignal-tests --test faults -- --ignored`.

use std::fmt::Debug;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use authsignal_core::{
    Builder, ChallengeRequest, Config, Endpoint, Error, GetUserRequest, QueryUsersRequest,
    RetryBudget, RetryPolicy, TrackRequest, TransportErrorKind, VerificationMethod,
};
use authsignal_tests::fault_server::{FaultServer, Step, json_string};
use authsignal_tests::listeners::{Behaviour, Listener};
use authsignal_tests::{AnyClient, Flavor};

const MS: Duration = Duration::from_millis(1);
/// The per-attempt (and connect) timeout of the clients under test.
const TIMEOUT: Duration = Duration::from_millis(500);
/// How long one flavor of a scenario may run before the watchdog fails it.
const WATCHDOG: Duration = Duration::from_secs(20);

const USER_JSON: &str = r#"{"userId":"u1","isEnrolled":true}"#;
const TRACK_JSON: &str = r#"{"state":"ALLOW","idempotencyKey":"k-1","isEnrolled":false}"#;
const CHALLENGE_JSON: &str = r#"{"challengeId":"c-1","expiresAt":1700000000}"#;
const ERROR_JSON: &str = r#"{"error":"unavailable","errorDescription":"try again later"}"#;
const THROTTLED_JSON: &str = r#"{"error":"too_many_requests"}"#;
const HTML_502: &str =
    "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";

// ----- helpers ---------------------------------------------------------------------------------

/// The default policy with the backoff shrunk to 5–20 ms.
fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().with_backoff(5 * MS, 20 * MS)
}

/// A configuration for `url` with short timeouts and fast retries.
fn config(url: &str) -> Builder<Config> {
    Config::builder("sk_test_fault_injection")
        .with_base_url(url)
        .with_timeout(TIMEOUT)
        .with_connect_timeout(TIMEOUT)
        .with_retry_policy(fast_retries())
}

fn new_client(flavor: Flavor, url: &str) -> AnyClient {
    AnyClient::new(flavor, config(url))
}

fn get_user() -> GetUserRequest {
    GetUserRequest::new("u1")
}

fn track() -> TrackRequest {
    TrackRequest::new("u1", "signIn")
}

fn challenge() -> ChallengeRequest {
    ChallengeRequest::new(VerificationMethod::Sms, "signIn").with_phone_number("+64270000000")
}

/// Sends `endpoint` and measures how long the call took, retries included.
fn timed_send<E>(client: &AnyClient, endpoint: &E) -> (Result<E::Output, Error>, Duration)
where
    E: Endpoint + Sync,
    E::Output: Send,
{
    let start = Instant::now();
    let result = client.send(endpoint);
    (result, start.elapsed())
}

/// Sends `endpoint`, expecting an error; returns it with the call's duration.
fn send_err<E>(client: &AnyClient, endpoint: &E, ctx: &str) -> (Error, Duration)
where
    E: Endpoint + Sync,
    E::Output: Send + Debug,
{
    let (result, elapsed) = timed_send(client, endpoint);
    match result {
        Ok(output) => panic!("{ctx}: expected an error, got Ok({output:?})"),
        Err(error) => (error, elapsed),
    }
}

/// Sends `endpoint`, expecting success.
fn send_ok<E>(client: &AnyClient, endpoint: &E, ctx: &str) -> E::Output
where
    E: Endpoint + Sync,
    E::Output: Send,
{
    client
        .send(endpoint)
        .unwrap_or_else(|error| panic!("{ctx}: expected Ok, got {error} ({error:?})"))
}

/// Runs `body` on its own thread; fails the test if it has not finished within
/// `limit` (the stuck thread is left behind), and re-raises its panic if it panicked.
fn watchdog<T: Send + 'static>(
    what: String,
    limit: Duration,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name(what.clone())
        .spawn(move || {
            let _ = tx.send(body());
        })
        .expect("spawn watchdog body");
    match rx.recv_timeout(limit) {
        Ok(value) => {
            let _ = handle.join();
            value
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body always sends before returning"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("watchdog: `{what}` did not finish within {limit:?} (a call hung?)")
        }
    }
}

/// Runs `scenario` once per transport, each under the watchdog.
fn for_each_flavor(scenario: impl Fn(Flavor) + Send + Sync + 'static) {
    let scenario = Arc::new(scenario);
    for flavor in Flavor::ALL {
        let scenario = Arc::clone(&scenario);
        watchdog(format!("{flavor:?}"), WATCHDOG, move || scenario(flavor));
    }
}

/// A base URL on which nothing listens (the port was just released).
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

// ----- C1/C2/C5: server errors -----------------------------------------------------------------

#[test]
fn c1_server_error_then_success_is_retried_for_get() {
    for_each_flavor(|flavor| {
        for status in [500, 502, 503, 504] {
            let ctx = format!("{flavor:?} get_user after {status}, {status}, 200");
            let server = FaultServer::start([
                Step::json(status, ERROR_JSON),
                Step::json(status, ERROR_JSON),
                Step::json(200, USER_JSON),
            ]);
            let client = new_client(flavor, &server.url());
            let user = send_ok(&client, &get_user(), &ctx);
            assert_eq!(user.user_id.as_deref(), Some("u1"), "{ctx}");
            let requests = server.requests();
            assert_eq!(requests.len(), 3, "{ctx}: requests seen by the server");
            // Every retry is the same request (stripe-go lesson).
            for retry in &requests[1..] {
                assert_eq!(retry.method, requests[0].method, "{ctx}");
                assert_eq!(retry.path, requests[0].path, "{ctx}");
                assert_eq!(retry.headers, requests[0].headers, "{ctx}");
                assert_eq!(retry.body, requests[0].body, "{ctx}");
            }
        }
    });
}

#[test]
fn c2_server_error_on_non_idempotent_post_is_not_retried() {
    for_each_flavor(|flavor| {
        let server = FaultServer::start([
            Step::json(503, ERROR_JSON),
            Step::json(503, ERROR_JSON),
            Step::json(200, CHALLENGE_JSON),
        ]);
        let ctx = format!("{flavor:?} challenge after 503");
        let client = new_client(flavor, &server.url());
        let (error, _) = send_err(&client, &challenge(), &ctx);
        assert!(matches!(error, Error::Api(_)), "{ctx}: {error:?}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(503), "{ctx}");
        assert_eq!(error.attempts(), 1, "{ctx}");
        assert!(error.request_may_have_been_processed(), "{ctx}");
        assert_eq!(server.request_count(), 1, "{ctx}: requests seen");

        let server = FaultServer::start([Step::json(500, ERROR_JSON), Step::json(200, TRACK_JSON)]);
        let ctx = format!("{flavor:?} track after 500");
        let client = new_client(flavor, &server.url());
        let (error, _) = send_err(&client, &track(), &ctx);
        assert_eq!(error.status().map(|s| s.as_u16()), Some(500), "{ctx}");
        assert_eq!(error.attempts(), 1, "{ctx}");
        assert_eq!(server.request_count(), 1, "{ctx}: requests seen");
    });
}

#[test]
fn c5_retries_exhausted_returns_the_last_error() {
    for_each_flavor(|flavor| {
        let ctx = format!("{flavor:?} get_user against a 503 storm");
        let server = FaultServer::start([Step::json(503, ERROR_JSON)]);
        let client = new_client(flavor, &server.url());
        let (error, elapsed) = send_err(&client, &get_user(), &ctx);
        assert!(matches!(error, Error::Api(_)), "{ctx}: {error:?}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(503), "{ctx}");
        assert_eq!(error.attempts(), 3, "{ctx}");
        assert!(error.is_retryable(), "{ctx}");
        assert_eq!(server.request_count(), 3, "{ctx}: requests seen");
        // Two backoffs of at most 20 ms each, plus slack.
        assert!(elapsed < Duration::from_secs(1), "{ctx}: took {elapsed:?}");
    });
}

// ----- C3/C4: throttling -----------------------------------------------------------------------

#[test]
fn c3_throttled_with_retry_after_is_retried_after_the_delay() {
    fn check<E>(flavor: Flavor, endpoint: &E, success: &'static str, name: &str)
    where
        E: Endpoint + Sync,
        E::Output: Send,
    {
        let ctx = format!("{flavor:?} {name} after 429 Retry-After: 1");
        let server = FaultServer::start([
            Step::json(429, THROTTLED_JSON).header("Retry-After", "1"),
            Step::json(200, success),
        ]);
        let client = new_client(flavor, &server.url());
        send_ok(&client, endpoint, &ctx);
        let requests = server.requests();
        assert_eq!(requests.len(), 2, "{ctx}: requests seen");
        let gap = requests[1].received_at - requests[0].received_at;
        assert!(
            gap >= Duration::from_secs(1),
            "{ctx}: retried after {gap:?}"
        );
        assert!(
            gap < Duration::from_millis(2500),
            "{ctx}: retried after {gap:?}"
        );
    }
    for_each_flavor(|flavor| {
        check(flavor, &get_user(), USER_JSON, "get_user");
        // 429 means "not processed": retried for non-idempotent POSTs too.
        check(flavor, &track(), TRACK_JSON, "track");
    });
}

#[test]
fn c4_retry_after_beyond_the_maximum_is_returned_at_once() {
    fn check<E>(flavor: Flavor, endpoint: &E, success: &'static str, name: &str)
    where
        E: Endpoint + Sync,
        E::Output: Send + Debug,
    {
        let ctx = format!("{flavor:?} {name} after 429 Retry-After: 3600");
        let server = FaultServer::start([
            Step::json(429, THROTTLED_JSON).header("Retry-After", "3600"),
            Step::json(200, success),
        ]);
        let client = new_client(flavor, &server.url());
        let (error, elapsed) = send_err(&client, endpoint, &ctx);
        assert!(elapsed < Duration::from_secs(1), "{ctx}: took {elapsed:?}");
        assert!(matches!(error, Error::Api(_)), "{ctx}: {error:?}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(429), "{ctx}");
        assert_eq!(
            error.retry_after(),
            Some(Duration::from_secs(3600)),
            "{ctx}"
        );
        assert_eq!(error.attempts(), 1, "{ctx}");
        assert!(!error.request_may_have_been_processed(), "{ctx}");
        assert_eq!(server.request_count(), 1, "{ctx}: requests seen");
    }
    for_each_flavor(|flavor| {
        check(flavor, &get_user(), USER_JSON, "get_user");
        check(flavor, &track(), TRACK_JSON, "track");
    });
}

/// A 429 from a gateway or proxy often has no JSON body; its `Retry-After`
/// and its "not processed" meaning must survive that.
#[test]
fn c4_non_json_429_keeps_retry_after_and_not_processed() {
    for_each_flavor(|flavor| {
        for (body, step) in [
            ("empty body", Step::status(429)),
            ("text body", Step::text(429, "Too Many Requests")),
        ] {
            let ctx = format!("{flavor:?} track, 429 with {body} and Retry-After: 3600");
            let server = FaultServer::start([step.header("Retry-After", "3600")]);
            let client = new_client(flavor, &server.url());
            let (error, elapsed) = send_err(&client, &track(), &ctx);
            assert!(elapsed < Duration::from_secs(1), "{ctx}: took {elapsed:?}");
            assert_eq!(server.request_count(), 1, "{ctx}: requests seen");
            assert_eq!(error.status().map(|s| s.as_u16()), Some(429), "{ctx}");
            assert_eq!(
                error.retry_after(),
                Some(Duration::from_secs(3600)),
                "{ctx}: {error:?}"
            );
            assert!(
                !error.request_may_have_been_processed(),
                "{ctx}: a 429 was not processed: {error:?}"
            );
        }
    });
}

// ----- C6: connection refused ------------------------------------------------------------------

#[test]
fn c6_connection_refused_is_retried_for_every_endpoint_class() {
    fn check<E>(flavor: Flavor, endpoint: &E, name: &str)
    where
        E: Endpoint + Sync,
        E::Output: Send + Debug,
    {
        let ctx = format!("{flavor:?} {name} to a closed port");
        let client = new_client(flavor, &refused_url());
        let (error, elapsed) = send_err(&client, endpoint, &ctx);
        assert!(matches!(error, Error::Transport { .. }), "{ctx}: {error:?}");
        assert_eq!(
            error.transport_kind(),
            Some(TransportErrorKind::Connect),
            "{ctx}: {error:?}"
        );
        assert!(!error.request_may_have_been_processed(), "{ctx}");
        assert!(error.is_retryable(), "{ctx}");
        assert_eq!(error.attempts(), 3, "{ctx}");
        let source = std::error::Error::source(&error);
        assert!(
            source.is_some(),
            "{ctx}: the transport's error is kept as the source"
        );
        assert!(elapsed < Duration::from_secs(2), "{ctx}: took {elapsed:?}");
    }
    for_each_flavor(|flavor| {
        check(flavor, &get_user(), "get_user");
        check(flavor, &track(), "track");
        check(flavor, &challenge(), "challenge");
    });
}

// ----- C7/C8: resets ---------------------------------------------------------------------------

/// A reset after the request was read: idempotent calls are retried, non-idempotent
/// ones are returned once, flagged as possibly processed.
fn check_reset(flavor: Flavor, step: &Step, fault: &str) {
    let ctx = format!("{flavor:?} get_user, {fault}");
    let server = FaultServer::start([step.clone()]);
    let client = new_client(flavor, &server.url());
    let (error, _) = send_err(&client, &get_user(), &ctx);
    assert!(matches!(error, Error::Transport { .. }), "{ctx}: {error:?}");
    assert_eq!(server.request_count(), 3, "{ctx}: requests seen");
    assert_eq!(error.attempts(), 3, "{ctx}");
    assert!(error.request_may_have_been_processed(), "{ctx}");

    for post in ["track", "challenge"] {
        let ctx = format!("{flavor:?} {post}, {fault}");
        let server = FaultServer::start([step.clone()]);
        let client = new_client(flavor, &server.url());
        let (error, _) = if post == "track" {
            send_err(&client, &track(), &ctx)
        } else {
            send_err(&client, &challenge(), &ctx)
        };
        assert!(matches!(error, Error::Transport { .. }), "{ctx}: {error:?}");
        assert_eq!(server.request_count(), 1, "{ctx}: requests seen");
        assert_eq!(error.attempts(), 1, "{ctx}");
        assert!(error.request_may_have_been_processed(), "{ctx}");
        let message = error.to_string();
        assert!(
            message.contains("may have been processed"),
            "{ctx}: Display does not warn: {message}"
        );
    }
}

#[test]
fn c7_reset_before_response() {
    for_each_flavor(|flavor| check_reset(flavor, &Step::reset(), "reset before the response"));
}

#[test]
fn c8_reset_mid_body() {
    for_each_flavor(|flavor| {
        check_reset(
            flavor,
            &Step::reset_mid_body(200, 100, &br#"{"userId":"#[..]),
            "reset after 10 of 100 body bytes",
        );
    });
}

// ----- C9/C10/C11: stalls and drip-feeding -----------------------------------------------------

/// The call fails with a timeout within the per-attempt timeout plus slack: once
/// for a POST (not retried), three times for a GET (retried).
fn check_timeout(flavor: Flavor, step: Step, fault: &str) {
    let ctx = format!("{flavor:?} track, {fault}");
    let server = FaultServer::start([step.clone()]);
    let client = new_client(flavor, &server.url());
    let (error, elapsed) = send_err(&client, &track(), &ctx);
    assert!(error.is_timeout(), "{ctx}: not a timeout: {error:?}");
    assert!(elapsed >= TIMEOUT - 50 * MS, "{ctx}: took {elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(2500),
        "{ctx}: took {elapsed:?}"
    );
    assert_eq!(error.attempts(), 1, "{ctx}");
    assert!(error.request_may_have_been_processed(), "{ctx}");
    assert_eq!(server.request_count(), 1, "{ctx}: requests seen");

    let ctx = format!("{flavor:?} get_user, {fault}");
    let server = FaultServer::start([step]);
    let client = new_client(flavor, &server.url());
    let (error, elapsed) = send_err(&client, &get_user(), &ctx);
    assert!(error.is_timeout(), "{ctx}: not a timeout: {error:?}");
    assert_eq!(error.attempts(), 3, "{ctx}");
    assert_eq!(server.request_count(), 3, "{ctx}: requests seen");
    // Three attempts of 500 ms, two backoffs of at most 20 ms, plus slack.
    assert!(
        elapsed >= 3 * (TIMEOUT - 50 * MS),
        "{ctx}: took {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(4500),
        "{ctx}: took {elapsed:?}"
    );
}

#[test]
fn c9_stall_before_headers_times_out() {
    for_each_flavor(|flavor| check_timeout(flavor, Step::hang(), "server never answers"));
}

#[test]
fn c10_stall_mid_body_times_out() {
    for_each_flavor(|flavor| {
        check_timeout(
            flavor,
            Step::stall_mid_body(200, 100, &br#"{"userId":"#[..], Duration::from_secs(3600)),
            "server stalls after 10 of 100 body bytes",
        );
    });
}

#[test]
fn c11_drip_fed_body_times_out() {
    for_each_flavor(|flavor| {
        check_timeout(
            flavor,
            Step::drip_feed(200, vec![b' '; 1000], 100 * MS),
            "1000-byte body dripped at 1 byte / 100 ms",
        );
    });
}

// ----- C12/C13: truncated, malformed and odd bodies --------------------------------------------

#[test]
fn c12_truncated_body_is_a_transport_error() {
    for_each_flavor(|flavor| {
        let truncated = || Step::truncated(200, 100, vec![b' '; 50]);

        let ctx = format!("{flavor:?} track, Content-Length 100 with 50 bytes then FIN");
        let server = FaultServer::start([truncated()]);
        let client = new_client(flavor, &server.url());
        let (error, _) = send_err(&client, &track(), &ctx);
        assert!(matches!(error, Error::Transport { .. }), "{ctx}: {error:?}");
        assert_eq!(
            error.transport_kind(),
            Some(TransportErrorKind::Io),
            "{ctx}"
        );
        assert_eq!(error.attempts(), 1, "{ctx}");
        assert_eq!(server.request_count(), 1, "{ctx}: requests seen");

        let ctx = format!("{flavor:?} get_user, Content-Length 100 with 50 bytes then FIN");
        let server = FaultServer::start([truncated()]);
        let client = new_client(flavor, &server.url());
        let (error, _) = send_err(&client, &get_user(), &ctx);
        assert!(matches!(error, Error::Transport { .. }), "{ctx}: {error:?}");
        assert_eq!(
            error.transport_kind(),
            Some(TransportErrorKind::Io),
            "{ctx}"
        );
        assert_eq!(error.attempts(), 3, "{ctx}");
        assert_eq!(server.request_count(), 3, "{ctx}: requests seen");
    });
}

#[test]
fn c13_undecodable_bodies_are_unexpected_responses() {
    for_each_flavor(|flavor| {
        for (name, step) in [
            ("malformed JSON", Step::json(200, r#"{"userId":"#)),
            ("empty body", Step::json(200, "")),
            ("wrong JSON type", Step::json(200, "[1,2,3]")),
        ] {
            let ctx = format!("{flavor:?} get_user, 200 with {name}");
            let server = FaultServer::start([step]);
            let client = new_client(flavor, &server.url());
            let (error, _) = send_err(&client, &get_user(), &ctx);
            assert!(
                matches!(error, Error::UnexpectedResponse(_)),
                "{ctx}: {error:?}"
            );
            assert_eq!(error.status().map(|s| s.as_u16()), Some(200), "{ctx}");
            assert_eq!(error.attempts(), 1, "{ctx}");
            assert_eq!(server.request_count(), 1, "{ctx}: requests seen");
        }

        // A proxy's HTML error page: a POST gets it at once.
        let ctx = format!("{flavor:?} challenge, HTML 502 page");
        let server = FaultServer::start([Step::html(502, HTML_502)]);
        let client = new_client(flavor, &server.url());
        let (error, _) = send_err(&client, &challenge(), &ctx);
        assert!(
            matches!(error, Error::UnexpectedResponse(_)),
            "{ctx}: {error:?}"
        );
        assert_eq!(error.status().map(|s| s.as_u16()), Some(502), "{ctx}");
        assert_eq!(error.attempts(), 1, "{ctx}");
        assert_eq!(server.request_count(), 1, "{ctx}: requests seen");

        // A GET retries the 502 (the status decides, not the body) and then
        // returns the last page as an unexpected response.
        let ctx = format!("{flavor:?} get_user, HTML 502 page");
        let server = FaultServer::start([Step::html(502, HTML_502)]);
        let client = new_client(flavor, &server.url());
        let (error, _) = send_err(&client, &get_user(), &ctx);
        assert!(
            matches!(error, Error::UnexpectedResponse(_)),
            "{ctx}: {error:?}"
        );
        assert_eq!(error.status().map(|s| s.as_u16()), Some(502), "{ctx}");
        assert_eq!(error.attempts(), 3, "{ctx}");
        assert_eq!(server.request_count(), 3, "{ctx}: requests seen");

        // ... and a GET that gets the page once, then JSON, succeeds.
        let ctx = format!("{flavor:?} get_user, HTML 502 page then 200");
        let server = FaultServer::start([Step::html(502, HTML_502), Step::json(200, USER_JSON)]);
        let client = new_client(flavor, &server.url());
        send_ok(&client, &get_user(), &ctx);
        assert_eq!(server.request_count(), 2, "{ctx}: requests seen");
    });
}

#[test]
fn c13_odd_but_valid_bodies_are_decoded() {
    for_each_flavor(|flavor| {
        let cases = [
            ("JSON as text/plain", Step::text(200, USER_JSON)),
            (
                "application/json; charset=utf-8",
                Step::body(200, USER_JSON)
                    .header("Content-Type", "application/json; charset=utf-8"),
            ),
            ("no Content-Type", Step::body(200, USER_JSON)),
            (
                "chunked",
                Step::chunked(200, [r#"{"user"#, r#"Id":"u1","#, r#""isEnrolled":true}"#])
                    .header("Content-Type", "application/json"),
            ),
            (
                "HTTP/1.0 close-delimited",
                Step::http10(200, USER_JSON).header("Content-Type", "application/json"),
            ),
        ];
        for (name, step) in cases {
            let ctx = format!("{flavor:?} get_user, {name}");
            let server = FaultServer::start([step]);
            let client = new_client(flavor, &server.url());
            // Twice: the connection must be left in a usable state (or dropped).
            for call in 1..=2 {
                let user = send_ok(&client, &get_user(), &format!("{ctx}, call {call}"));
                assert_eq!(user.user_id.as_deref(), Some("u1"), "{ctx}");
                assert!(user.is_enrolled, "{ctx}");
            }
            assert_eq!(server.request_count(), 2, "{ctx}: requests seen");
        }
    });
}

// ----- C14: huge body --------------------------------------------------------------------------

/// The response limit used by the huge-body scenarios.
const BODY_LIMIT: usize = 64 * 1024;

/// Field `index` of a `/proc/sys/net/ipv4/tcp_[rw]mem` triple (min, default, max).
fn tcp_mem(file: &str, index: usize, fallback: u64) -> u64 {
    std::fs::read_to_string(format!("/proc/sys/net/ipv4/{file}"))
        .ok()
        .and_then(|text| text.split_whitespace().nth(index)?.parse().ok())
        .unwrap_or(fallback)
}

/// Waits until the server has no open connection; whether that happened within `limit`.
fn wait_closed(server: &FaultServer, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while server.active_connections() > 0 {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(5 * MS);
    }
    true
}

#[test]
fn c14_endless_body_stops_at_the_limit() {
    // `bytes_written_total` counts what the kernel accepted, not what the
    // client read: on loopback the server's send buffer autotunes up to
    // `tcp_wmem` max (4 MiB on the CI box) and the client's receive buffer
    // holds `tcp_rmem` default (128 KiB) or more, all filled within the
    // milliseconds before the client gives up (observed: 3.9-4.7 MB for a
    // 64 KiB limit). So the bound asserted here is limit + send-buffer max +
    // receive-buffer default + 2 MiB (receive autotuning and hyper's adaptive
    // read buffer); `c14_endless_body_read_through_a_paced_relay` bounds what
    // the client really read, tightly (observed: limit + 8 KiB).
    let allowance = tcp_mem("tcp_wmem", 2, 4 << 20) + tcp_mem("tcp_rmem", 1, 128 << 10) + (2 << 20);
    for_each_flavor(move |flavor| {
        let ctx = format!("{flavor:?} get_user, endless chunked body, limit 64 KiB");
        let server = FaultServer::start([Step::endless(200)]);
        let config = config(&server.url()).with_max_response_bytes(BODY_LIMIT);
        let client = AnyClient::new(flavor, config);
        let (error, elapsed) = send_err(&client, &get_user(), &ctx);
        assert_eq!(
            error.transport_kind(),
            Some(TransportErrorKind::ResponseTooLarge),
            "{ctx}: {error:?}"
        );
        assert!(elapsed < Duration::from_secs(2), "{ctx}: took {elapsed:?}");
        assert_eq!(error.attempts(), 1, "{ctx}: not retried");
        assert!(!error.is_retryable(), "{ctx}");
        assert_eq!(server.request_count(), 1, "{ctx}: requests seen");
        // The client dropped the connection (not drained, not pooled) ...
        assert!(
            wait_closed(&server, 500 * MS),
            "{ctx}: the connection is still open"
        );
        // ... so the server stopped writing.
        let written = server.bytes_written_total();
        thread::sleep(100 * MS);
        assert_eq!(
            server.bytes_written_total(),
            written,
            "{ctx}: still writing"
        );
        eprintln!("{ctx}: the server wrote {written} bytes");
        assert!(
            written <= BODY_LIMIT as u64 + allowance,
            "{ctx}: server wrote {written} bytes (bound {})",
            BODY_LIMIT as u64 + allowance
        );
    });
}

/// A one-connection TCP relay to `target` that hands the client at most 4 KiB
/// of response every millisecond, so the kernel buffers between relay and
/// client never fill up and the bytes forwarded (returned counter) are close
/// to what the client actually read. Gives up after 5 s.
fn paced_relay(target: std::net::SocketAddr) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
    let url = format!("http://{}", listener.local_addr().expect("relay addr"));
    let forwarded = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&forwarded);
    thread::spawn(move || {
        let Ok((mut client, _)) = listener.accept() else {
            return;
        };
        let Ok(mut server) = TcpStream::connect(target) else {
            return;
        };
        let (Ok(mut request_in), Ok(mut request_out)) = (client.try_clone(), server.try_clone())
        else {
            return;
        };
        thread::spawn(move || {
            let _ = io::copy(&mut request_in, &mut request_out);
        });
        let mut buf = [0u8; 4096];
        let give_up = Instant::now() + Duration::from_secs(5);
        while Instant::now() < give_up {
            let n = match server.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if client.write_all(&buf[..n]).is_err() {
                break;
            }
            counter.fetch_add(n as u64, Ordering::SeqCst);
            thread::sleep(MS);
        }
        let _ = client.shutdown(Shutdown::Both);
        let _ = server.shutdown(Shutdown::Both);
    });
    (url, forwarded)
}

#[test]
fn c14_endless_body_read_through_a_paced_relay() {
    // What the client read, measured at a relay that paces the body: the
    // limit plus at most 64 KiB (read-ahead and the chunk or two written
    // before the relay notices the close).
    const READ_BOUND: u64 = BODY_LIMIT as u64 + 64 * 1024;
    for_each_flavor(|flavor| {
        let ctx = format!("{flavor:?} get_user, paced endless body, limit 64 KiB");
        let server = FaultServer::start([Step::endless(200)]);
        let (relay_url, forwarded) = paced_relay(server.addr());
        let config = config(&relay_url)
            .with_timeout(Duration::from_secs(5))
            .with_max_response_bytes(BODY_LIMIT);
        let client = AnyClient::new(flavor, config);
        let (error, elapsed) = send_err(&client, &get_user(), &ctx);
        assert_eq!(
            error.transport_kind(),
            Some(TransportErrorKind::ResponseTooLarge),
            "{ctx}: {error:?}"
        );
        assert!(elapsed < Duration::from_secs(2), "{ctx}: took {elapsed:?}");
        assert!(
            wait_closed(&server, Duration::from_secs(1)),
            "{ctx}: the relayed connection is still open"
        );
        let read = forwarded.load(Ordering::SeqCst);
        assert!(
            read > BODY_LIMIT as u64,
            "{ctx}: only {read} bytes forwarded"
        );
        eprintln!("{ctx}: the relay forwarded {read} bytes");
        assert!(
            read <= READ_BOUND,
            "{ctx}: the client read {read} bytes (bound {READ_BOUND})"
        );
    });
}

// ----- C15: redirects --------------------------------------------------------------------------

#[test]
fn c15_redirects_are_not_followed() {
    fn check<E>(flavor: Flavor, endpoint: &E, status: u16, name: &str)
    where
        E: Endpoint + Sync,
        E::Output: Send + Debug,
    {
        let ctx = format!("{flavor:?} {name}, {status} to another server");
        let other = FaultServer::start([Step::json(200, USER_JSON)]);
        let server =
            FaultServer::start([Step::redirect(status, format!("{}/users/u1", other.url()))]);
        let client = new_client(flavor, &server.url());
        let (error, _) = send_err(&client, endpoint, &ctx);
        assert!(
            matches!(error, Error::UnexpectedResponse(_)),
            "{ctx}: {error:?}"
        );
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{ctx}");
        assert_eq!(error.attempts(), 1, "{ctx}");
        assert_eq!(server.request_count(), 1, "{ctx}: requests seen");
        assert_eq!(other.request_count(), 0, "{ctx}: the redirect was followed");
        assert_eq!(
            other.connection_count(),
            0,
            "{ctx}: connected to the target"
        );
    }
    for_each_flavor(|flavor| {
        for status in [301, 302, 303, 307, 308] {
            check(flavor, &get_user(), status, "get_user");
        }
        check(flavor, &track(), 307, "track");
    });
}

// ----- C18/C19: connection reuse ---------------------------------------------------------------

/// `calls` sequential get_user calls on one client; returns the connections the server accepted.
fn sequential_connections(flavor: Flavor, calls: usize) -> usize {
    let ctx = format!("{flavor:?} {calls} sequential get_user");
    let server = FaultServer::start([Step::json(200, USER_JSON)]);
    let client = new_client(flavor, &server.url());
    for call in 0..calls {
        send_ok(&client, &get_user(), &format!("{ctx}, call {call}"));
    }
    assert_eq!(server.request_count(), calls, "{ctx}: requests seen");
    server.connection_count()
}

/// C18 as briefed (20 sequential calls, one connection) and as in the
/// reference (100 sequential calls, at most two).
fn check_sequential_reuse(flavor: Flavor) {
    let connections = sequential_connections(flavor, 20);
    assert_eq!(
        connections, 1,
        "{flavor:?} 20 sequential calls: connections opened"
    );
    let connections = sequential_connections(flavor, 100);
    assert!(
        connections <= 2,
        "{flavor:?} 100 sequential calls: {connections} connections opened"
    );
}

#[test]
fn c18_sequential_calls_reuse_one_connection_ureq() {
    watchdog("Ureq".into(), WATCHDOG, || {
        check_sequential_reuse(Flavor::Ureq)
    });
}

#[test]
#[ignore = "upstream: hyper-util returns an HTTP/1 connection to its pool from a spawned \
            `on_idle` task once it is ready for the next request, just after the body's end reaches \
            the caller; the next call's checkout misses it and starts a connect that is pooled as \
            a second connection (2 for 20 sequential calls, 2-4 for 100; hyperium/hyper#4134)"]
fn c18_sequential_calls_reuse_one_connection_hyper() {
    watchdog("Hyper".into(), WATCHDOG, || {
        check_sequential_reuse(Flavor::Hyper)
    });
}

/// A looser guard that holds for both transports: keep-alive is used at all
/// (no connection per request), so at least 90 % of 100 sequential calls
/// reuse a connection.
#[test]
fn c18_sequential_calls_mostly_reuse_connections() {
    for_each_flavor(|flavor| {
        let connections = sequential_connections(flavor, 100);
        assert!(
            connections <= 10,
            "{flavor:?} 100 sequential calls: {connections} connections opened"
        );
    });
}

/// The server closes (FIN or RST) every connection 10 ms after answering; 10
/// calls 50 ms apart must all succeed, and a non-idempotent call must never
/// reach the server twice.
fn check_stale_pool<E>(flavor: Flavor, endpoint: &E, body: &'static str, name: &str, reset: bool)
where
    E: Endpoint + Sync,
    E::Output: Send,
{
    let close = if reset { "RST" } else { "FIN" };
    let ctx =
        format!("{flavor:?} {name}, server {close}s each connection 10 ms after the response");
    let step = if reset {
        Step::respond_then_reset(200, body, 10 * MS)
    } else {
        Step::respond_then_close(200, body, 10 * MS)
    };
    let server = FaultServer::start([step.header("Content-Type", "application/json")]);
    let client = new_client(flavor, &server.url());
    for call in 0..10 {
        if call > 0 {
            thread::sleep(50 * MS);
        }
        send_ok(&client, endpoint, &format!("{ctx}, call {call}"));
    }
    assert_eq!(server.request_count(), 10, "{ctx}: requests seen");
}

#[test]
fn c19_stale_pooled_connection_closed_with_fin() {
    for_each_flavor(|flavor| {
        check_stale_pool(flavor, &get_user(), USER_JSON, "get_user", false);
        check_stale_pool(flavor, &track(), TRACK_JSON, "track", false);
    });
}

#[test]
fn c19_stale_pooled_connection_closed_with_rst() {
    for_each_flavor(|flavor| {
        check_stale_pool(flavor, &get_user(), USER_JSON, "get_user", true);
        check_stale_pool(flavor, &track(), TRACK_JSON, "track", true);
    });
}

// ----- D1/D2: concurrency ----------------------------------------------------------------------

/// Answers `GET /users/{id}` with that id, so mixed-up responses show.
fn echo_user_id() -> Step {
    Step::handler(|request| {
        let id = request.path_only().rsplit('/').next().unwrap_or_default();
        Step::json(
            200,
            format!(r#"{{"userId":{},"isEnrolled":true}}"#, json_string(id)),
        )
    })
}

/// A configuration for load tests: the default (generous) timeouts.
fn load_config(url: &str) -> Builder<Config> {
    Config::builder("sk_test_fault_injection")
        .with_base_url(url)
        .with_retry_policy(fast_retries())
}

#[test]
fn d1_one_client_shared_by_32_threads() {
    const THREADS: usize = 32;
    const CALLS: usize = 20;
    for_each_flavor(|flavor| {
        let ctx = format!("{flavor:?} {THREADS} threads x {CALLS} get_user");
        let server = FaultServer::start([echo_user_id()]);
        let client = Arc::new(AnyClient::new(flavor, load_config(&server.url())));
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let client = Arc::clone(&client);
                thread::spawn(move || {
                    let mut mismatches = Vec::new();
                    for c in 0..CALLS {
                        let id = format!("user-{t}-{c}");
                        match client.send(&GetUserRequest::new(id.clone())) {
                            Ok(user) if user.user_id.as_deref() == Some(id.as_str()) => {}
                            other => mismatches.push(format!("{id}: {other:?}")),
                        }
                    }
                    mismatches
                })
            })
            .collect();
        let failures: Vec<String> = workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker panicked"))
            .collect();
        assert!(failures.is_empty(), "{ctx}: {failures:#?}");
        assert_eq!(
            server.request_count(),
            THREADS * CALLS,
            "{ctx}: requests seen"
        );
        // D1 (ureq): at most one connection per thread plus a few stay open.
        // hyper-util keeps every connection it opened (its checkout races a
        // connect, see c18), so it gets no bound here.
        if flavor == Flavor::Ureq {
            let open = server.active_connections();
            assert!(open <= THREADS + 4, "{ctx}: {open} connections left open");
        }
    });
}

/// 32 threads x 20 calls on one ureq client should need about one connection
/// per thread, not one per few calls.
#[test]
fn d1_ureq_pool_keeps_a_connection_per_thread() {
    const THREADS: usize = 32;
    const CALLS: usize = 20;
    watchdog("Ureq".into(), WATCHDOG, || {
        let server = FaultServer::start([echo_user_id()]);
        let client = Arc::new(AnyClient::new(Flavor::Ureq, load_config(&server.url())));
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let client = Arc::clone(&client);
                thread::spawn(move || {
                    for c in 0..CALLS {
                        let id = format!("user-{t}-{c}");
                        client.send(&GetUserRequest::new(id)).expect("get_user");
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("worker panicked");
        }
        let opened = server.connection_count();
        assert!(
            opened <= THREADS + 4,
            "{opened} connections opened for {} calls",
            THREADS * CALLS
        );
    });
}

#[test]
fn d2_one_async_client_1000_concurrent_tasks() {
    const TASKS: usize = 1000;
    watchdog("hyper 1000 tasks".into(), WATCHDOG, || {
        let server = FaultServer::start([echo_user_id()]);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let failures = runtime.block_on(async {
            let client = authsignal_hyper::Client::builder("sk_test_fault_injection")
                .with_base_url(server.url())
                .with_retry_policy(fast_retries())
                .build()
                .expect("hyper client");
            let mut tasks = tokio::task::JoinSet::new();
            for n in 0..TASKS {
                let client = client.clone();
                tasks.spawn(async move {
                    let id = format!("user-{n}");
                    let result = client.get_user(GetUserRequest::new(id.clone())).await;
                    match result {
                        Ok(user) if user.user_id.as_deref() == Some(id.as_str()) => None,
                        other => Some(format!("{id}: {other:?}")),
                    }
                });
            }
            let mut failures = Vec::new();
            while let Some(joined) = tasks.join_next().await {
                if let Some(failure) = joined.expect("task panicked") {
                    failures.push(failure);
                }
            }
            failures
        });
        assert!(
            failures.is_empty(),
            "{} failures: {failures:#?}",
            failures.len()
        );
        assert_eq!(server.request_count(), TASKS, "requests seen");
    });
}

// ----- B5/B4 over the wire: retry budget and deadline ------------------------------------------

#[test]
fn b5_retry_budget_stops_retries_once_spent() {
    for_each_flavor(|flavor| {
        let ctx = format!("{flavor:?} 5 get_user against a 503 storm, budget 30");
        let server = FaultServer::start([Step::json(503, ERROR_JSON)]);
        let client = AnyClient::new(
            flavor,
            config(&server.url()).with_retry_budget(RetryBudget::new(30)),
        );
        let attempts: Vec<u32> = (0..5)
            .map(|_| send_err(&client, &get_user(), &ctx).0.attempts())
            .collect();
        // 30 tokens pay for two retries at 14 each (2 left): the first call
        // makes 3 attempts, every later call only its first.
        assert_eq!(attempts, [3, 1, 1, 1, 1], "{ctx}: attempts per call");
        assert_eq!(server.request_count(), 7, "{ctx}: requests seen");
    });
}

#[test]
fn b4_deadline_cuts_retries() {
    for_each_flavor(|flavor| {
        let ctx = format!("{flavor:?} get_user against a 503 storm, deadline 300 ms");
        let server = FaultServer::start([Step::json(503, ERROR_JSON)]);
        let policy = RetryPolicy::default()
            .with_backoff(200 * MS, Duration::from_secs(5))
            .with_deadline(300 * MS);
        let client = AnyClient::new(flavor, config(&server.url()).with_retry_policy(policy));
        let (error, elapsed) = send_err(&client, &get_user(), &ctx);
        // Retry 1 waits 100–200 ms and starts before 300 ms; retry 2 would
        // wait another 200–400 ms, so it would start after the deadline.
        assert_eq!(error.attempts(), 2, "{ctx}");
        assert_eq!(server.request_count(), 2, "{ctx}: requests seen");
        let requests = server.requests();
        let gap = requests[1].received_at - requests[0].received_at;
        assert!(gap >= 100 * MS, "{ctx}: retried after {gap:?}");
        assert!(elapsed < Duration::from_secs(1), "{ctx}: took {elapsed:?}");
    });
}

// ----- E: the connect phase, TLS, declared lengths, the default budget, messages ---------------

/// The connect timeout of the edge scenarios; the attempt timeout is ten times longer, so
/// a test that finishes in a few connect timeouts shows which one bounded it.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// A configuration for `url` with a short connect timeout and a long attempt timeout.
fn edge_config(url: &str) -> Builder<Config> {
    config(url)
        .with_connect_timeout(CONNECT_TIMEOUT)
        .with_timeout(ATTEMPT_TIMEOUT)
}

/// Asserts a connect-phase error: nothing sent, `attempts` attempts, `Display` naming the host.
fn assert_not_sent(error: &Error, kind: TransportErrorKind, attempts: u32, host: &str, ctx: &str) {
    assert_eq!(error.transport_kind(), Some(kind), "{ctx}: {error:?}");
    assert!(!error.request_may_have_been_processed(), "{ctx}");
    assert_eq!(error.attempts(), attempts, "{ctx}");
    let text = error.to_string();
    assert!(text.contains(host), "{ctx}: {text}");
    assert!(text.contains("(the request was not sent)"), "{ctx}: {text}");
}

#[test]
fn e1_https_to_a_plain_http_server_is_not_sent_and_is_retried() {
    for_each_flavor(|flavor| {
        let ctx = format!("{flavor:?} challenge over https to a plain-HTTP server");
        let listener = Listener::start(Behaviour::PlainHttp);
        let client = AnyClient::new(flavor, edge_config(&listener.https_url()));
        let (error, elapsed) = send_err(&client, &challenge(), &ctx);
        let host = listener.https_url()[8..].trim_end_matches("/v1").to_owned();
        // No HTTP byte was sent, so even a POST that sends an OTP is retried.
        assert_not_sent(&error, TransportErrorKind::Connect, 3, &host, &ctx);
        assert_eq!(listener.accepted(), 3, "{ctx}: connections");
        let text = error.to_string();
        assert!(
            text.starts_with(&format!(
                "could not connect to {host}: TLS handshake failed: "
            )),
            "{ctx}: {text}"
        );
        assert!(elapsed < CONNECT_TIMEOUT * 3, "{ctx}: took {elapsed:?}");
    });
}

#[test]
fn e2_an_untrusted_certificate_is_rejected_at_once() {
    for_each_flavor(|flavor| {
        let ctx = format!("{flavor:?} get_user to a self-signed TLS server");
        let listener = Listener::start(Behaviour::SelfSignedTls);
        let client = AnyClient::new(flavor, edge_config(&listener.https_url()));
        let (error, elapsed) = send_err(&client, &get_user(), &ctx);
        let host = listener.https_url()[8..].trim_end_matches("/v1").to_owned();
        // Deterministic: not retried, not even for an idempotent GET.
        assert_not_sent(
            &error,
            TransportErrorKind::InvalidCertificate,
            1,
            &host,
            &ctx,
        );
        assert!(!error.is_retryable(), "{ctx}");
        assert_eq!(listener.accepted(), 1, "{ctx}: connections");
        assert_eq!(
            error.to_string(),
            format!(
                "the TLS certificate of {host} was rejected: invalid peer certificate: \
                 UnknownIssuer (the request was not sent); 1 attempt"
            ),
            "{ctx}"
        );
        assert!(elapsed < CONNECT_TIMEOUT, "{ctx}: took {elapsed:?}");
    });
}

#[test]
fn e3_a_stalled_tls_handshake_is_bounded_by_the_connect_timeout() {
    fn check<E>(flavor: Flavor, endpoint: &E, name: &str)
    where
        E: Endpoint + Sync,
        E::Output: Send + Debug,
    {
        let ctx = format!("{flavor:?} {name} to a server that never answers the ClientHello");
        let listener = Listener::start(Behaviour::Silent);
        let client = AnyClient::new(flavor, edge_config(&listener.https_url()));
        let (error, elapsed) = send_err(&client, endpoint, &ctx);
        let host = listener.https_url()[8..].trim_end_matches("/v1").to_owned();
        assert_not_sent(&error, TransportErrorKind::Connect, 3, &host, &ctx);
        assert!(
            !error.is_timeout(),
            "{ctx}: a connect failure, not a timeout"
        );
        assert_eq!(listener.accepted(), 3, "{ctx}: connections");
        // Three connect timeouts and two short backoffs, far below one attempt timeout.
        assert!(elapsed >= CONNECT_TIMEOUT * 3, "{ctx}: took {elapsed:?}");
        assert!(
            elapsed < CONNECT_TIMEOUT * 3 + Duration::from_secs(1),
            "{ctx}: took {elapsed:?}"
        );
    }
    for_each_flavor(|flavor| {
        check(flavor, &challenge(), "challenge");
        check(flavor, &get_user(), "get_user");
    });
}

#[test]
fn e4_a_declared_length_above_the_limit_is_rejected_at_the_headers() {
    for_each_flavor(|flavor| {
        let ctx = format!("{flavor:?} get_user, Content-Length 10000000000 and a stalled body");
        let server = FaultServer::start([Step::raw(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{",
            false,
        )]);
        let client = AnyClient::new(flavor, edge_config(&server.url()));
        let (error, elapsed) = send_err(&client, &get_user(), &ctx);
        assert_eq!(
            error.transport_kind(),
            Some(TransportErrorKind::ResponseTooLarge),
            "{ctx}: {error:?}"
        );
        assert_eq!(error.attempts(), 1, "{ctx}");
        assert!(!error.is_retryable(), "{ctx}");
        assert!(error.request_may_have_been_processed(), "{ctx}");
        assert_eq!(server.request_count(), 1, "{ctx}: requests seen");
        let host = server.url()[7..].to_owned();
        assert_eq!(
            error.to_string(),
            format!(
                "the response from {host} is too large: Content-Length 10000000000 exceeds \
                 the limit of 1048576 bytes (the request may have been processed); 1 attempt"
            ),
            "{ctx}"
        );
        assert!(elapsed < Duration::from_secs(1), "{ctx}: took {elapsed:?}");
    });
}

#[test]
fn e4_a_body_at_the_limit_is_read_and_one_byte_more_is_refused() {
    for_each_flavor(|flavor| {
        let (prefix, suffix) = (r#"{"isEnrolled":true,"custom":{"pad":""#, r#""}}"#);
        let at_limit = format!(
            "{prefix}{}{suffix}",
            "x".repeat(1024 - prefix.len() - suffix.len())
        );
        let over = format!(
            "{prefix}{}{suffix}",
            "x".repeat(1025 - prefix.len() - suffix.len())
        );
        let server = FaultServer::start([Step::body(200, at_limit), Step::json(200, over)]);
        let client = AnyClient::new(flavor, config(&server.url()).with_max_response_bytes(1024));
        let ctx = format!("{flavor:?} get_user, a 1024-byte body under a 1024-byte limit");
        assert!(send_ok(&client, &get_user(), &ctx).is_enrolled, "{ctx}");
        let ctx = format!("{flavor:?} get_user, a 1025-byte body");
        let (error, _) = send_err(&client, &get_user(), &ctx);
        assert!(matches!(error, Error::Transport { .. }), "{ctx}: {error:?}");
        let kind = error.transport_kind();
        assert_eq!(
            kind,
            Some(TransportErrorKind::ResponseTooLarge),
            "{ctx}: {error:?}"
        );
        assert_eq!(
            error.attempts(),
            1,
            "{ctx}: an oversized body is not retried"
        );
        assert_eq!(server.request_count(), 2, "{ctx}: requests seen");
    });
}

#[test]
fn e5_the_default_retry_budget_caps_the_traffic_of_an_outage() {
    for_each_flavor(|flavor| {
        let ctx = format!("{flavor:?} 200 concurrent get_user against an always-503 server");
        let server = FaultServer::start([Step::json(503, ERROR_JSON)]);
        let client = Arc::new(AnyClient::new(flavor, config(&server.url())));
        let threads: Vec<_> = (0..20)
            .map(|_| {
                let client = Arc::clone(&client);
                thread::spawn(move || {
                    for _ in 0..10 {
                        assert!(client.send(&get_user()).is_err());
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("caller thread");
        }
        // 500 tokens at 14 per retry pay for 35 retries, whoever makes them.
        assert_eq!(server.request_count(), 200 + 35, "{ctx}: requests seen");

        let ctx = format!("{flavor:?} 20 get_user, budget turned off");
        let server = FaultServer::start([Step::json(503, ERROR_JSON)]);
        let client = AnyClient::new(flavor, config(&server.url()).without_retry_budget());
        for _ in 0..20 {
            assert_eq!(
                send_err(&client, &get_user(), &ctx).0.attempts(),
                3,
                "{ctx}"
            );
        }
        assert_eq!(server.request_count(), 60, "{ctx}: requests seen");
    });
}

#[test]
fn e6_transport_errors_say_what_happened_and_to_which_host() {
    let query = QueryUsersRequest::new().with_token("tok_secret_123");
    let mut refused = Vec::new();
    let mut timed_out = Vec::new();
    for flavor in Flavor::ALL {
        let url = refused_url();
        let host = url[7..].to_owned();
        let client = AnyClient::new(flavor, config(&url));
        let text = client.send(&query).unwrap_err().to_string();
        let ctx = format!("{flavor:?} query_users to a closed port");
        assert!(
            text.starts_with(&format!("could not connect to {host}: ")),
            "{ctx}: {text}"
        );
        assert!(text.to_lowercase().contains("refused"), "{ctx}: {text}");
        assert!(
            text.ends_with(" (the request was not sent); 3 attempts"),
            "{ctx}: {text}"
        );
        refused.push(text.replace(&host, "HOST"));

        let server = FaultServer::start([Step::stall(Duration::from_secs(5))]);
        let host = server.url()[7..].to_owned();
        let client = AnyClient::new(
            flavor,
            config(&server.url()).with_retry_policy(RetryPolicy::no_retries()),
        );
        let text = client.send(&query).unwrap_err().to_string();
        let ctx = format!("{flavor:?} query_users to a server that never answers");
        assert!(
            text.starts_with(&format!("timed out waiting for {host}: ")),
            "{ctx}: {text}"
        );
        assert!(
            text.ends_with(" (the request may have been processed); 1 attempt"),
            "{ctx}: {text}"
        );
        timed_out.push(text);
    }
    for text in refused.iter().chain(&timed_out) {
        for leak in ["/users", "token", "tok_secret_123", "sk_test"] {
            assert!(!text.contains(leak), "`{leak}` in {text}");
        }
    }
}

#[test]
fn e7_your_own_ureq_agent_keeps_the_configured_limits() {
    use authsignal_ureq::{UreqOptions, ureq};
    // Agents that would follow redirects, turn 4xx into errors and never time out.
    let yours = || {
        ureq::Agent::config_builder()
            .max_redirects(5)
            .http_status_as_error(true)
            .timeout_global(None)
            .build()
            .new_agent()
    };
    type Options = fn(ureq::Agent) -> UreqOptions;
    let options: [(&str, Options); 2] = [
        ("with_agent", |agent| {
            UreqOptions::default().with_agent(agent)
        }),
        ("with_agent_config", |_| {
            UreqOptions::default().with_agent_config(|agent| {
                agent
                    .max_redirects(5)
                    .http_status_as_error(true)
                    .timeout_global(None)
            })
        }),
    ];
    for (name, options) in options {
        let client = |url: &str| {
            authsignal_ureq::Client::builder("sk_test_fault_injection")
                .with_base_url(url)
                .with_timeout(TIMEOUT)
                .with_retry_policy(RetryPolicy::no_retries())
                .with_transport_options(options(yours()))
                .build()
                .expect("client")
        };

        let other = FaultServer::start([Step::json(200, USER_JSON)]);
        let server = FaultServer::start([Step::redirect(302, format!("{}/users/u1", other.url()))]);
        let error = client(&server.url()).get_user(get_user()).unwrap_err();
        assert_eq!(
            error.status().map(|s| s.as_u16()),
            Some(302),
            "{name}: {error:?}"
        );
        assert_eq!(
            other.request_count(),
            0,
            "{name}: the redirect was followed"
        );

        let server = FaultServer::start([Step::json(404, r#"{"error":"not_found"}"#)]);
        let error = client(&server.url()).get_user(get_user()).unwrap_err();
        assert!(matches!(error, Error::Api(_)), "{name}: {error:?}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(404), "{name}");

        let server = FaultServer::start([Step::stall(Duration::from_secs(5))]);
        let started = Instant::now();
        let error = client(&server.url()).get_user(get_user()).unwrap_err();
        assert!(error.is_timeout(), "{name}: {error:?}");
        assert!(
            started.elapsed() < TIMEOUT * 3,
            "{name}: took {:?}",
            started.elapsed()
        );

        let server = FaultServer::start([Step::raw(
            "HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n{",
            false,
        )]);
        let error = client(&server.url()).get_user(get_user()).unwrap_err();
        assert_eq!(
            error.transport_kind(),
            Some(TransportErrorKind::ResponseTooLarge),
            "{name}: {error:?}"
        );
    }
}

#[test]
fn e8_an_adjusted_ureq_agent_still_reports_failed_handshakes_as_not_sent() {
    use authsignal_ureq::UreqOptions;
    let listener = Listener::start(Behaviour::PlainHttp);
    let client = authsignal_ureq::Client::builder("sk_test_fault_injection")
        .with_base_url(listener.https_url())
        .with_retry_policy(RetryPolicy::no_retries())
        .with_transport_options(
            UreqOptions::default().with_agent_config(|agent| agent.max_idle_connections(1)),
        )
        .build()
        .expect("client");
    let error = client.send(&challenge()).unwrap_err();
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Connect),
        "{error:?}"
    );
    assert!(!error.request_may_have_been_processed());
}
