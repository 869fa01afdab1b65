//! Offline error tests: every endpoint's API errors, `Retry-After` on a
//! `429`, transport failures through a closure transport, error helpers and
//! messages, secret hygiene in `Debug`/`Display`, and the core's dependency
//! tree (no I/O crates). Error bodies, non-JSON, truncated and redirect
//! responses and the status helpers are error cases of the endpoint table
//! (`tests/fixtures/get_user.json`, `track.json`), run offline and over
//! every transport.

use std::{
    collections::hash_map::RandomState,
    error::Error as _,
    hash::{BuildHasher, Hasher},
    time::Duration,
};

use authsignal_core::{
    BlockingTransport, Client, Config, Endpoint, EndpointInfo, EndpointVisitor, Error, ErrorCode,
    GetUserRequest, InvalidInput, RetryPolicy, TrackRequest, TransportError, TransportErrorKind,
    http::{self, StatusCode},
    visit_endpoints,
};
use base64::Engine as _;

type Reply = Result<http::Response<Vec<u8>>, TransportError>;

/// What the API says to a wrong key (reference §3).
const UNAUTHORIZED: &str = "The request is unauthorized. Check that your API key and region base URL are correctly configured.";

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    let response = http::Response::builder().status(status);
    response.body(body.as_bytes().to_vec()).unwrap()
}

fn get_user_error(status: u16, body: &str) -> Error {
    let result = GetUserRequest::new("u").parse_response(response(status, body));
    result.unwrap_err()
}

fn api(error: &Error) -> &authsignal_core::ApiError {
    let inner = error.api_error();
    inner.unwrap_or_else(|| panic!("expected Error::Api, got {error:?}"))
}

/// A client whose every call fails in the transport with `kind`.
fn failing(kind: TransportErrorKind, message: &'static str) -> Client<impl BlockingTransport> {
    let config = Config::builder("sk").with_retry_policy(RetryPolicy::no_retries());
    let transport = move |_: http::Request<Vec<u8>>| -> Reply {
        let source = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "os error 111");
        Err(TransportError::new(kind, message).with_source(source))
    };
    Client::with_transport(config.build().unwrap(), transport)
}

/// Parses `status` and `body` as every endpoint's response and hands the
/// error to `check`, with the endpoint's name.
struct EveryEndpoint<'a> {
    status: u16,
    body: &'a str,
    check: &'a mut dyn FnMut(&'static str, Error),
}

impl EndpointVisitor for EveryEndpoint<'_> {
    fn visit<E: Endpoint>(&mut self, _info: EndpointInfo, example: E) {
        let result = example.parse_response(response(self.status, self.body));
        let error = result
            .err()
            .unwrap_or_else(|| panic!("{}: parsed as Ok", E::NAME));
        (self.check)(E::NAME, error);
    }
}

// ---------------------------------------------------------------------------
// API error bodies
// ---------------------------------------------------------------------------

#[test]
fn every_endpoint_reports_api_errors_the_same_way() {
    let description = UNAUTHORIZED;
    let body = format!(r#"{{"error":"unauthorized","errorDescription":"{description}"}}"#);
    let mut seen = 0;
    let mut check = |name: &'static str, error: Error| {
        assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED), "{name}");
        assert_eq!(error.code(), Some(&ErrorCode::Unauthorized), "{name}");
        assert_eq!(api(&error).description.as_deref(), Some(description));
        seen += 1;
    };
    visit_endpoints(&mut EveryEndpoint {
        status: 401,
        body: &body,
        check: &mut check,
    });
    assert!(seen >= 30, "{seen} endpoints");
}

// ---------------------------------------------------------------------------
// Bodies that are not API errors
// ---------------------------------------------------------------------------

#[test]
fn retry_after_header_on_429() {
    let body = r#"{"error":"too_many_requests","errorDescription":"Slow down"}"#;
    let mut resp = response(429, body);
    let three = http::HeaderValue::from_static("3");
    resp.headers_mut().insert(http::header::RETRY_AFTER, three);
    let error = TrackRequest::new("u", "signIn").parse_response(resp);
    let error = error.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(api(&error).retry_after, Some(Duration::from_secs(3)));
    assert_eq!(error.code(), Some(&ErrorCode::TooManyRequests));
    assert!(error.is_retryable());
    assert!(
        !error.request_may_have_been_processed(),
        "a 429 was not processed"
    );
    let text = "Authsignal API error: HTTP 429 too_many_requests: Slow down (retry after 3 s)";
    assert_eq!(error.to_string(), text);
    // No header, no delay; only Api errors carry one.
    assert_eq!(get_user_error(429, "{}").retry_after(), None);
    assert_eq!(get_user_error(503, "").retry_after(), None);
}

#[test]
fn invalid_input_display() {
    let config = Config::builder("sk").build().unwrap();
    let error = GetUserRequest::new("").build_request(&config).unwrap_err();
    let text =
        "invalid input (nothing was sent): invalid path parameter `userId`: must not be empty";
    assert_eq!(error.to_string(), text);
    let reason = "must not be empty";
    let expected = InvalidInput::PathParameter {
        name: "userId",
        reason,
    };
    assert!(
        matches!(&error, Error::InvalidInput(e) if *e == expected),
        "{error:?}"
    );
    assert_eq!((error.attempts(), error.status()), (0, None));
    assert!(error.api_error().is_none());
    let error = Config::builder("").build().unwrap_err();
    let text = "invalid input (nothing was sent): the API secret key is empty";
    assert_eq!(error.to_string(), text);
}

// ---------------------------------------------------------------------------
// Transport errors through a closure transport
// ---------------------------------------------------------------------------

#[test]
fn connect_error_from_a_closure_transport() {
    let client = failing(TransportErrorKind::Connect, "connection refused");
    let error = client.track(TrackRequest::new("u", "signIn")).unwrap_err();
    let Error::Transport { source, attempts } = &error else {
        panic!("expected Error::Transport, got {error:?}");
    };
    assert_eq!((source.kind(), *attempts), (TransportErrorKind::Connect, 1));
    assert_eq!(error.transport_kind(), Some(TransportErrorKind::Connect));
    assert!(!error.request_may_have_been_processed());
    assert!(error.is_retryable());
    assert!(!error.is_timeout());
    assert_eq!(
        (error.status(), error.code(), error.attempts()),
        (None, None, 1)
    );
    let text = "could not connect to api.authsignal.com: connection refused (the request was not sent); 1 attempt";
    assert_eq!(error.to_string(), text);

    // The source chain: Error -> TransportError -> io::Error.
    let transport_error = error.source().unwrap();
    let transport_error = transport_error.downcast_ref::<TransportError>().unwrap();
    assert_eq!(transport_error.kind(), TransportErrorKind::Connect);
    let io = transport_error.source().unwrap();
    let io = io.downcast_ref::<std::io::Error>().unwrap();
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    assert_eq!(io.to_string(), "os error 111");
}

#[test]
fn other_transport_kinds() {
    // (kind, may have been processed, retryable, timeout)
    let table = [
        (TransportErrorKind::Connect, false, true, false),
        (TransportErrorKind::Timeout, true, true, true),
        (TransportErrorKind::Io, true, true, false),
        (TransportErrorKind::ResponseTooLarge, true, false, false),
        (TransportErrorKind::Other, true, true, false),
    ];
    for (kind, processed, retryable, timeout) in table {
        let error = failing(kind, "boom").get_user(GetUserRequest::new("u"));
        let error = error.unwrap_err();
        assert_eq!(error.transport_kind(), Some(kind));
        let may = error.request_may_have_been_processed();
        assert_eq!(may, processed, "{kind:?}");
        assert_eq!(error.is_retryable(), retryable, "{kind:?}");
        assert_eq!(error.is_timeout(), timeout, "{kind:?}");
        assert_eq!(kind.request_may_have_been_sent(), processed);
        assert!(error.to_string().contains("boom"), "{error}");
    }
}

// ---------------------------------------------------------------------------
// Secret hygiene
// ---------------------------------------------------------------------------

/// A random 40-character alphanumeric secret, different on every run.
fn random_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let state = RandomState::new();
    let letter = |i: u64| {
        let mut hasher = state.build_hasher();
        hasher.write_u64(i);
        let index = hasher.finish() % ALPHABET.len() as u64;
        char::from(ALPHABET[usize::try_from(index).unwrap()])
    };
    (0..40u64).map(letter).collect()
}

/// A transport that can be printed, so the whole client can.
#[derive(Debug)]
struct Unauthorized;

impl BlockingTransport for Unauthorized {
    fn send(&self, _request: http::Request<Vec<u8>>) -> Reply {
        Ok(response(401, "{}"))
    }
}

#[track_caller]
fn assert_no_secret(text: &str, secret: &str, what: &str) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{secret}:"));
    // Also no long fragment of it.
    for (form, name) in [
        (secret, "the secret"),
        (&encoded, "base64(secret:)"),
        (&secret[..20], "part of the secret"),
        (&encoded[..24], "part of the encoded secret"),
    ] {
        assert!(!text.contains(form), "{what} contains {name}: {text}");
    }
}

#[test]
fn the_secret_never_appears_in_debug_or_display() {
    let secret = random_secret();
    assert_eq!(secret.len(), 40);
    let config = Config::builder(secret.clone()).build().unwrap();
    let client = Client::with_transport(config.clone(), Unauthorized);
    for (what, text) in [
        ("Config Debug", format!("{config:?}")),
        ("Config pretty Debug", format!("{config:#?}")),
        ("ApiSecretKey Debug", format!("{:?}", config.secret_key())),
        ("Client Debug", format!("{client:?}")),
        ("Client pretty Debug", format!("{client:#?}")),
    ] {
        assert_no_secret(&text, &secret, what);
    }

    // Errors of every variant.
    let mut errors = vec![
        client.get_user(GetUserRequest::new("u")).unwrap_err(),
        client.get_user(GetUserRequest::new("")).unwrap_err(),
        client
            .track(TrackRequest::new("u", "bad action"))
            .unwrap_err(),
        get_user_error(502, "<html>Bad Gateway</html>"),
        get_user_error(200, "{trunc"),
    ];
    let reset = |_r: http::Request<Vec<u8>>| -> Reply {
        Err(TransportError::new(
            TransportErrorKind::Io,
            "connection reset",
        ))
    };
    let reset = Client::with_transport(config.clone(), reset);
    errors.push(reset.get_user(GetUserRequest::new("u")).unwrap_err());
    // A key that fails validation is not echoed either.
    errors.push(Config::builder(format!("{secret}\n")).build().unwrap_err());
    for error in &errors {
        assert_no_secret(&format!("{error:?}"), &secret, "Error Debug");
        assert_no_secret(&format!("{error}"), &secret, "Error Display");
        let mut source = error.source();
        while let Some(inner) = source {
            assert_no_secret(&format!("{inner} {inner:?}"), &secret, "Error source");
            source = inner.source();
        }
    }
}

// ---------------------------------------------------------------------------
// The core does no I/O: its dependency tree has no network or runtime crate
// ---------------------------------------------------------------------------

#[test]
fn core_dependency_tree_has_no_io_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let args = "tree -p authsignal-core -e normal --prefix none --all-features";
    let output = std::process::Command::new(cargo)
        .args(args.split(' '))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo tree failed: {stderr}");
    let tree = String::from_utf8(output.stdout).unwrap();
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"authsignal-core"),
        "unexpected output: {tree}"
    );
    assert!(crates.contains(&"http"), "unexpected output: {tree}");
    let forbidden = "ureq hyper hyper-util tokio rustls socket2 mio reqwest native-tls async-std";
    for forbidden in forbidden.split(' ') {
        let found = crates.contains(&forbidden);
        assert!(!found, "authsignal-core depends on {forbidden}:\n{tree}");
    }
}
