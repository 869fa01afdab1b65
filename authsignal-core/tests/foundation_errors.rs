//! Offline error tests: API error bodies, non-JSON and truncated responses,
//! redirects, transport failures through a closure transport, error helpers
//! and messages, secret hygiene in `Debug`/`Display`, and the core's
//! dependency tree (no I/O crates).

use std::{
    collections::hash_map::RandomState,
    error::Error as _,
    hash::{BuildHasher, Hasher},
    time::Duration,
};

use authsignal_core::{
    BlockingTransport, Client, Config, DeleteAuthenticatorRequest, DeleteUserRequest, Endpoint,
    EnrollVerifiedAuthenticatorRequest, Error, ErrorCode, GetActionRequest,
    GetAuthenticatorsRequest, GetUserRequest, InvalidInput, RetryPolicy, TrackRequest,
    TransportError, TransportErrorKind, UpdateActionRequest, UpdateUserRequest, UserActionState,
    ValidateChallengeRequest, VerificationMethod,
    http::{self, StatusCode},
};
use base64::Engine as _;

const UNAUTHORIZED_DESCRIPTION: &str = "The request is unauthorized. Check that your API key and region base URL are correctly configured.";

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn get_user_error(status: u16, body: &str) -> Error {
    GetUserRequest::new("u")
        .parse_response(response(status, body))
        .unwrap_err()
}

fn api(error: &Error) -> &authsignal_core::ApiError {
    error
        .api_error()
        .unwrap_or_else(|| panic!("expected Error::Api, got {error:?}"))
}

fn unexpected(error: &Error) -> &authsignal_core::UnexpectedResponse {
    match error {
        Error::UnexpectedResponse(inner) => inner,
        other => panic!("expected Error::UnexpectedResponse, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// API error bodies
// ---------------------------------------------------------------------------

#[test]
fn error_field_only() {
    let body =
        format!(r#"{{"error":"unauthorized","errorDescription":"{UNAUTHORIZED_DESCRIPTION}"}}"#);
    let error = get_user_error(401, &body);
    let inner = api(&error);
    assert_eq!(inner.status, StatusCode::UNAUTHORIZED);
    assert_eq!(inner.code, Some(ErrorCode::Unauthorized));
    assert_eq!(inner.description.as_deref(), Some(UNAUTHORIZED_DESCRIPTION));
    assert_eq!(inner.retry_after, None);
    assert_eq!(inner.attempts, 1);
    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(error.code(), Some(&ErrorCode::Unauthorized));
    assert_eq!(
        error.to_string(),
        format!("Authsignal API error: HTTP 401 unauthorized: {UNAUTHORIZED_DESCRIPTION}")
    );
}

#[test]
fn error_code_field_only() {
    let error = get_user_error(400, r#"{"errorCode":"invalid_request"}"#);
    assert_eq!(error.code(), Some(&ErrorCode::InvalidRequest));
    assert_eq!(api(&error).description, None);
    assert_eq!(
        error.to_string(),
        "Authsignal API error: HTTP 400 invalid_request"
    );
}

#[test]
fn error_code_wins_over_error() {
    let error = get_user_error(
        422,
        r#"{"error":"legacy_code","errorCode":"invalid_credential","errorDescription":"Passkey is not valid"}"#,
    );
    assert_eq!(error.code(), Some(&ErrorCode::InvalidCredential));
    assert_eq!(
        api(&error).description.as_deref(),
        Some("Passkey is not valid")
    );
    // The likely live shape: both keys with the same value.
    let body = format!(
        r#"{{"error":"unauthorized","errorCode":"unauthorized","errorDescription":"{UNAUTHORIZED_DESCRIPTION}"}}"#
    );
    let error = get_user_error(401, &body);
    assert_eq!(error.code(), Some(&ErrorCode::Unauthorized));
}

#[test]
fn empty_or_non_string_error_code_falls_back_to_error() {
    let error = get_user_error(400, r#"{"errorCode":"","error":"invalid_request"}"#);
    assert_eq!(error.code(), Some(&ErrorCode::InvalidRequest));
    let error = get_user_error(400, r#"{"errorCode":null,"error":"too_many_requests"}"#);
    assert_eq!(error.code(), Some(&ErrorCode::TooManyRequests));
    let error = get_user_error(400, r#"{"errorCode":17,"error":"invalid_configuration"}"#);
    assert_eq!(error.code(), Some(&ErrorCode::InvalidConfiguration));
}

#[test]
fn neither_field_gives_no_code() {
    let error = get_user_error(403, r#"{"message":"Forbidden"}"#);
    let inner = api(&error);
    assert_eq!(inner.status, StatusCode::FORBIDDEN);
    assert_eq!(inner.code, None);
    assert_eq!(inner.description, None);
    assert_eq!(error.code(), None);
    assert_eq!(error.to_string(), "Authsignal API error: HTTP 403");

    let error = get_user_error(404, "{}");
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(error.code(), None);
}

#[test]
fn description_without_code() {
    let error = get_user_error(400, r#"{"errorDescription":"userId is too long"}"#);
    assert_eq!(error.code(), None);
    assert_eq!(
        api(&error).description.as_deref(),
        Some("userId is too long")
    );
    assert_eq!(
        error.to_string(),
        "Authsignal API error: HTTP 400: userId is too long"
    );
}

#[test]
fn unknown_error_codes_are_kept() {
    let error = get_user_error(
        409,
        r#"{"errorCode":"credential_clash","errorDescription":"Credential already exists for a different user."}"#,
    );
    let code = error.code().unwrap();
    assert!(matches!(code, ErrorCode::Unknown(_)), "{code:?}");
    assert_eq!(code.as_str(), "credential_clash");
    assert_eq!(
        error.to_string(),
        "Authsignal API error: HTTP 409 credential_clash: Credential already exists for a different user."
    );
    // `conflict` is a known code now.
    let error = get_user_error(409, r#"{"errorCode":"conflict"}"#);
    assert_eq!(error.code(), Some(&ErrorCode::Conflict));
}

#[test]
fn every_endpoint_reports_api_errors_the_same_way() {
    let body =
        format!(r#"{{"error":"unauthorized","errorDescription":"{UNAUTHORIZED_DESCRIPTION}"}}"#);
    let errors = [
        TrackRequest::new("u", "signIn")
            .parse_response(response(401, &body))
            .map(|_| ()),
        GetActionRequest::new("u", "signIn", "k")
            .parse_response(response(401, &body))
            .map(|_| ()),
        UpdateActionRequest::new("u", "signIn", "k", UserActionState::Allow)
            .parse_response(response(401, &body))
            .map(|_| ()),
        ValidateChallengeRequest::new("t")
            .parse_response(response(401, &body))
            .map(|_| ()),
        GetUserRequest::new("u")
            .parse_response(response(401, &body))
            .map(|_| ()),
        UpdateUserRequest::new("u")
            .parse_response(response(401, &body))
            .map(|_| ()),
        DeleteUserRequest::new("u").parse_response(response(401, &body)),
        GetAuthenticatorsRequest::new("u")
            .parse_response(response(401, &body))
            .map(|_| ()),
        EnrollVerifiedAuthenticatorRequest::new("u", VerificationMethod::Sms)
            .parse_response(response(401, &body))
            .map(|_| ()),
        DeleteAuthenticatorRequest::new("u", "a").parse_response(response(401, &body)),
    ];
    for result in errors {
        let error = result.unwrap_err();
        assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
        assert_eq!(error.code(), Some(&ErrorCode::Unauthorized));
        assert_eq!(
            api(&error).description.as_deref(),
            Some(UNAUTHORIZED_DESCRIPTION)
        );
    }
}

// ---------------------------------------------------------------------------
// Bodies that are not API errors
// ---------------------------------------------------------------------------

#[test]
fn html_502_from_a_proxy_is_unexpected_with_status_and_excerpt() {
    let page = format!(
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n{}</body>\r\n</html>\r\n",
        "<!-- padding -->".repeat(50)
    );
    let error = get_user_error(502, &page);
    let inner = unexpected(&error);
    assert_eq!(inner.status, StatusCode::BAD_GATEWAY);
    assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
    assert!(inner.excerpt.starts_with("<html>"), "{:?}", inner.excerpt);
    assert!(
        inner.excerpt.contains("502 Bad Gateway"),
        "{:?}",
        inner.excerpt
    );
    assert!(
        inner.excerpt.chars().count() <= 200,
        "excerpt is {} chars",
        inner.excerpt.chars().count()
    );
    assert!(
        !inner.excerpt.contains('\r'),
        "control characters are replaced: {:?}",
        inner.excerpt
    );
    assert_eq!(error.code(), None);
    assert_eq!(error.attempts(), 1);
    assert!(error.to_string().contains("HTTP 502"), "{error}");
}

#[test]
fn empty_500_body() {
    let error = get_user_error(500, "");
    let inner = unexpected(&error);
    assert_eq!(inner.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(inner.excerpt, "");
    assert!(error.to_string().contains("HTTP 500"), "{error}");
}

#[test]
fn json_that_is_not_an_object_is_unexpected() {
    for body in [r#""Internal error""#, "[1,2]", "null", "42"] {
        let error = get_user_error(500, body);
        assert_eq!(
            unexpected(&error).status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{body}"
        );
    }
}

#[test]
fn non_json_5xx_is_still_retryable() {
    for status in [500, 502, 503, 504] {
        let error = get_user_error(status, "<html>Bad Gateway</html>");
        assert!(error.is_retryable(), "{status}");
    }
    assert!(get_user_error(503, "").is_retryable());
}

#[test]
fn truncated_json_in_a_200_does_not_leak_the_body() {
    let partial = r#"{"state":"CHALLENGE_REQUIRED","idempotencyKey":"idem-77","url":"https://x/?token=eyJleaky","token":"eyJhbGciOiJIUzI1NiJ9.partial-tok"#;
    let error = TrackRequest::new("u", "signIn")
        .parse_response(response(200, partial))
        .unwrap_err();
    let inner = unexpected(&error);
    assert_eq!(inner.status, StatusCode::OK);
    assert_eq!(inner.excerpt, "", "2xx bodies may hold tokens: no excerpt");
    assert!(!inner.reason.is_empty());
    for text in [
        inner.reason.clone(),
        error.to_string(),
        format!("{error:?}"),
        format!("{error:#?}"),
    ] {
        for leak in [
            "partial-tok",
            "eyJhbGci",
            "eyJleaky",
            "idem-77",
            "CHALLENGE_REQUIRED",
        ] {
            assert!(!text.contains(leak), "{leak:?} leaked into {text:?}");
        }
    }
    assert!(error.to_string().contains("HTTP 200"), "{error}");
    assert!(!error.is_retryable());
    assert!(
        error.request_may_have_been_processed(),
        "the server answered 200"
    );
}

#[test]
fn wrongly_typed_json_in_a_200_does_not_quote_the_value() {
    // serde's own message would quote the string value.
    let body = r#"{"state":"ALLOW","idempotencyKey":"k","isEnrolled":"tok_SECRET_value_123"}"#;
    let error = TrackRequest::new("u", "signIn")
        .parse_response(response(200, body))
        .unwrap_err();
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains("tok_SECRET_value_123"), "{text}");
    }
    // Missing required field.
    let error = TrackRequest::new("u", "signIn")
        .parse_response(response(200, r#"{"token":"tok_SECRET_value_456"}"#))
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::OK));
    assert!(!format!("{error} {error:?}").contains("tok_SECRET_value_456"));
    // Not JSON at all.
    let error = GetUserRequest::new("u")
        .parse_response(response(200, "OK tok_plain"))
        .unwrap_err();
    assert!(!format!("{error} {error:?}").contains("tok_plain"));
    // Empty 200 where a body is required.
    let error = GetUserRequest::new("u")
        .parse_response(response(200, ""))
        .unwrap_err();
    assert_eq!(unexpected(&error).status, StatusCode::OK);
}

#[test]
fn retry_after_header_on_429() {
    let mut resp = response(
        429,
        r#"{"error":"too_many_requests","errorDescription":"Slow down"}"#,
    );
    resp.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("3"),
    );
    let error = TrackRequest::new("u", "signIn")
        .parse_response(resp)
        .unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(api(&error).retry_after, Some(Duration::from_secs(3)));
    assert_eq!(error.code(), Some(&ErrorCode::TooManyRequests));
    assert!(error.is_retryable());
    assert!(
        !error.request_may_have_been_processed(),
        "a 429 was not processed"
    );
    assert_eq!(
        error.to_string(),
        "Authsignal API error: HTTP 429 too_many_requests: Slow down (retry after 3 s)"
    );
    // No header, no delay.
    let error = get_user_error(429, "{}");
    assert_eq!(error.retry_after(), None);
    // Only Api errors carry one.
    assert_eq!(get_user_error(503, "").retry_after(), None);
}

#[test]
fn redirects_are_unexpected_responses() {
    for status in [301, 302, 303, 307, 308] {
        let resp = http::Response::builder()
            .status(status)
            .header(
                http::header::LOCATION,
                "https://evil.example.com/v1/users/u",
            )
            .body(Vec::new())
            .unwrap();
        let error = GetUserRequest::new("u").parse_response(resp).unwrap_err();
        let inner = unexpected(&error);
        assert_eq!(inner.status.as_u16(), status);
        assert!(inner.reason.contains("redirect"), "{}", inner.reason);
        assert!(!error.is_retryable());
    }
    let error = get_user_error(304, "");
    assert_eq!(error.status(), Some(StatusCode::NOT_MODIFIED));
    assert!(matches!(error, Error::UnexpectedResponse(_)));
}

#[test]
fn status_helpers_table() {
    // (status, is_retryable, request_may_have_been_processed)
    let table = [
        (400, false, true),
        (401, false, true),
        (403, false, true),
        (404, false, true),
        (409, false, true),
        (422, false, true),
        (429, true, false),
        (500, true, true),
        (501, false, true),
        (502, true, true),
        (503, true, true),
        (504, true, true),
        (505, false, true),
    ];
    for (status, retryable, processed) in table {
        let error = get_user_error(status, r#"{"error":"x"}"#);
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.is_retryable(), retryable, "is_retryable for {status}");
        assert_eq!(
            error.request_may_have_been_processed(),
            processed,
            "processed for {status}"
        );
        assert_eq!(error.attempts(), 1);
        assert!(!error.is_timeout());
        assert_eq!(error.transport_kind(), None);
    }
}

#[test]
fn invalid_input_display() {
    let error = GetUserRequest::new("")
        .build_request(&Config::builder("sk").build().unwrap())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid input (nothing was sent): invalid path parameter `userId`: must not be empty"
    );
    assert!(matches!(
        error,
        Error::InvalidInput(InvalidInput::PathParameter {
            name: "userId",
            reason: "must not be empty"
        })
    ));
    assert_eq!(error.attempts(), 0);
    assert_eq!(error.status(), None);
    assert!(error.api_error().is_none());
    let error = Config::builder("").build().unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid input (nothing was sent): the API secret key is empty"
    );
}

// ---------------------------------------------------------------------------
// Transport errors through a closure transport
// ---------------------------------------------------------------------------

#[test]
fn connect_error_from_a_closure_transport() {
    let transport =
        |_request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
            Err(
                TransportError::new(TransportErrorKind::Connect, "connection refused").with_source(
                    std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "os error 111"),
                ),
            )
        };
    let config = Config::builder("sk_test")
        .with_retry_policy(RetryPolicy::no_retries())
        .build()
        .unwrap();
    let client = Client::with_transport(config, transport);
    let error = client.track(TrackRequest::new("u", "signIn")).unwrap_err();
    match &error {
        Error::Transport { source, attempts } => {
            assert_eq!(source.kind(), TransportErrorKind::Connect);
            assert_eq!(*attempts, 1);
        }
        other => panic!("expected Error::Transport, got {other:?}"),
    }
    assert_eq!(error.transport_kind(), Some(TransportErrorKind::Connect));
    assert!(!error.request_may_have_been_processed());
    assert!(error.is_retryable());
    assert!(!error.is_timeout());
    assert_eq!(error.status(), None);
    assert_eq!(error.code(), None);
    assert_eq!(error.attempts(), 1);
    assert_eq!(
        error.to_string(),
        "could not connect to api.authsignal.com: connection refused (the request was not sent); 1 attempt"
    );

    // The source chain: Error -> TransportError -> io::Error.
    let transport_error = error.source().unwrap();
    let transport_error = transport_error.downcast_ref::<TransportError>().unwrap();
    assert_eq!(transport_error.kind(), TransportErrorKind::Connect);
    let io = transport_error
        .source()
        .unwrap()
        .downcast_ref::<std::io::Error>()
        .unwrap();
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
        let transport =
            move |_r: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
                Err(TransportError::new(kind, "boom"))
            };
        let config = Config::builder("sk")
            .with_retry_policy(RetryPolicy::no_retries())
            .build()
            .unwrap();
        let error = Client::with_transport(config, transport)
            .get_user(GetUserRequest::new("u"))
            .unwrap_err();
        assert_eq!(error.transport_kind(), Some(kind));
        assert_eq!(
            error.request_may_have_been_processed(),
            processed,
            "{kind:?}"
        );
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
    (0..40u64)
        .map(|i| {
            let mut hasher = state.build_hasher();
            hasher.write_u64(i);
            let index = usize::try_from(hasher.finish() % ALPHABET.len() as u64).unwrap();
            char::from(ALPHABET[index])
        })
        .collect()
}

/// A transport that can be printed, so the whole client can.
#[derive(Debug)]
struct ScriptedTransport {
    status: u16,
    body: &'static str,
}

impl BlockingTransport for ScriptedTransport {
    fn send(
        &self,
        _request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        Ok(response(self.status, self.body))
    }
}

fn assert_no_secret(text: &str, secret: &str, what: &str) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{secret}:"));
    assert!(!text.contains(secret), "{what} contains the secret: {text}");
    assert!(
        !text.contains(&encoded),
        "{what} contains base64(secret:): {text}"
    );
    // Also no long fragment of it.
    assert!(
        !text.contains(&secret[..20]),
        "{what} contains part of the secret: {text}"
    );
    assert!(
        !text.contains(&encoded[..24]),
        "{what} contains part of the encoded secret: {text}"
    );
}

#[test]
fn the_secret_never_appears_in_debug_or_display() {
    let secret = random_secret();
    assert_eq!(secret.len(), 40);
    let config = Config::builder(secret.clone()).build().unwrap();
    assert_no_secret(&format!("{config:?}"), &secret, "Config Debug");
    assert_no_secret(&format!("{config:#?}"), &secret, "Config pretty Debug");
    assert_no_secret(
        &format!("{:?}", config.secret_key()),
        &secret,
        "ApiSecretKey Debug",
    );

    let client = Client::with_transport(
        config.clone(),
        ScriptedTransport {
            status: 401,
            body: "{}",
        },
    );
    assert_no_secret(&format!("{client:?}"), &secret, "Client Debug");
    assert_no_secret(&format!("{client:#?}"), &secret, "Client pretty Debug");

    let requests = [
        TrackRequest::new("u", "signIn").build_request(&config),
        GetActionRequest::new("u", "signIn", "k").build_request(&config),
        UpdateActionRequest::new("u", "signIn", "k", UserActionState::Allow).build_request(&config),
        ValidateChallengeRequest::new("t").build_request(&config),
        GetUserRequest::new("u").build_request(&config),
        UpdateUserRequest::new("u")
            .with_email("e")
            .build_request(&config),
        DeleteUserRequest::new("u").build_request(&config),
        GetAuthenticatorsRequest::new("u").build_request(&config),
        EnrollVerifiedAuthenticatorRequest::new("u", VerificationMethod::Sms)
            .build_request(&config),
        DeleteAuthenticatorRequest::new("u", "a").build_request(&config),
    ];
    for request in requests {
        let request = request.unwrap();
        // The secret is really there, on the wire only.
        let auth = request.headers()[http::header::AUTHORIZATION]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            auth.ends_with(&base64::engine::general_purpose::STANDARD.encode(format!("{secret}:")))
        );
        assert_no_secret(&format!("{request:?}"), &secret, "Request Debug");
        assert_no_secret(&format!("{request:#?}"), &secret, "Request pretty Debug");
        assert_no_secret(
            &format!("{:?}", request.headers()),
            &secret,
            "HeaderMap Debug",
        );
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
    let failing = |_r: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        Err(TransportError::new(
            TransportErrorKind::Io,
            "connection reset",
        ))
    };
    errors.push(
        Client::with_transport(config.clone(), failing)
            .get_user(GetUserRequest::new("u"))
            .unwrap_err(),
    );
    // The server echoing the request back (e.g. a debugging proxy) is not our leak,
    // but our own messages around it must not add the secret.
    let mut bad_key = secret.clone();
    bad_key.push('\n');
    errors.push(Config::builder(bad_key).build().unwrap_err());
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
    let output = std::process::Command::new(cargo)
        .args([
            "tree",
            "-p",
            "authsignal-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--all-features",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"authsignal-core"),
        "unexpected output: {tree}"
    );
    assert!(crates.contains(&"http"), "unexpected output: {tree}");
    for forbidden in [
        "ureq",
        "hyper",
        "hyper-util",
        "tokio",
        "rustls",
        "socket2",
        "mio",
        "reqwest",
        "native-tls",
        "async-std",
    ] {
        assert!(
            !crates.contains(&forbidden),
            "authsignal-core depends on {forbidden}:\n{tree}"
        );
    }
}

#[test]
fn huge_error_fields_are_capped_on_a_character_boundary() {
    let description = "é".repeat(512 * 1024); // 1 MiB of two-byte characters
    let body =
        serde_json::json!({"errorCode": "x".repeat(10_000), "errorDescription": description});
    let error = authsignal_core::endpoint::api_error(
        http::StatusCode::BAD_REQUEST,
        &http::HeaderMap::new(),
        body.to_string().as_bytes(),
    );
    let api = error.api_error().expect("an API error");
    let kept = api.description.as_deref().unwrap();
    assert!(kept.len() <= 400 && kept.ends_with('…') && kept.starts_with("éé"));
    assert!(api.code.as_ref().unwrap().as_str().len() <= 64);
    assert!(
        error.to_string().len() <= 600,
        "{}",
        error.to_string().len()
    );
}
