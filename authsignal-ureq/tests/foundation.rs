//! The ten foundation endpoints over the real ureq transport against a
//! mockito server: exact method, path (percent-encoding on the wire),
//! headers and JSON body, typed outputs, and the transport's error handling
//! (API errors, HTML bodies, size cap, redirects, refused connections,
//! retries).

use std::time::Duration;

use authsignal_ureq::{
    Client, ClientBuilder, DeleteAuthenticatorRequest, DeleteUserRequest,
    EnrollVerifiedAuthenticatorRequest, Error, ErrorCode, GetActionRequest,
    GetAuthenticatorsRequest, GetUserRequest, RetryPolicy, TrackRequest, TransportErrorKind,
    UpdateActionRequest, UpdateUserRequest, UserActionState, ValidateChallengeRequest,
    VerificationMethod, http::StatusCode,
};
use mockito::{Matcher, Mock, Server, ServerGuard};
use serde_json::{Value, json};

const SECRET: &str = "sk_test_ureq_F0undation";
/// `base64("sk_test_ureq_F0undation:")`, computed independently of the SDK.
const AUTHORIZATION: &str = "Basic c2tfdGVzdF91cmVxX0YwdW5kYXRpb246";

/// A user id that needs encoding: `:`, `/` and a non-ASCII letter.
const USER_ID: &str = "user:1/ü";
const USER_PATH: &str = "/users/user%3A1%2F%C3%BC";

const UNAUTHORIZED_DESCRIPTION: &str = "The request is unauthorized. Check that your API key and region base URL are correctly configured.";

fn config(server: &ServerGuard) -> ClientBuilder {
    Client::builder(SECRET)
        .with_base_url(server.url())
        .with_retry_policy(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
}

fn client(server: &ServerGuard) -> Client {
    config(server).build().unwrap()
}

/// A mock that only matches the exact request the SDK must send.
fn expect(server: &mut ServerGuard, method: &str, path: &str, body: Option<Value>) -> Mock {
    let mock = server
        .mock(method, path)
        .match_header("authorization", AUTHORIZATION)
        .match_header("user-agent", authsignal_ureq::USER_AGENT)
        .match_header("x-authsignal-version", authsignal_ureq::VERSION)
        .match_header("accept", "application/json")
        .match_request(|request| {
            // Each header once, and never a query string.
            request.header("user-agent").len() == 1
                && request.header("authorization").len() == 1
                && request.header("content-type").len() <= 1
                && !request.path_and_query().contains('?')
        });
    match body {
        Some(json) => mock
            .match_header("content-type", "application/json")
            .match_body(Matcher::Json(json)),
        None => mock
            .match_header("content-type", Matcher::Missing)
            .match_body(""),
    }
}

fn json_reply(mock: Mock, status: usize, body: &Value) -> Mock {
    mock.with_status(status)
        .with_header("content-type", "application/json")
        .with_body(body.to_string())
        .create()
}

// ---------------------------------------------------------------------------
// The ten endpoints
// ---------------------------------------------------------------------------

#[test]
fn track() {
    let mut server = Server::new();
    let body = json!({
        "redirectUrl": "http://localhost:3000",
        "redirectToSettings": true,
        "email": "not-a-real-email@authsignal.com",
        "phoneNumber": "1234567890",
        "ipAddress": "127.0.0.1",
        "userAgent": "Authsignal-Rust-SDK-Tests/1.0",
        "deviceId": "device123",
        "custom": {"hello": "world"}
    });
    let mock = expect(
        &mut server,
        "POST",
        &format!("{USER_PATH}/actions/signIn"),
        Some(body),
    );
    let mock = json_reply(
        mock,
        200,
        &json!({
            "state": "CHALLENGE_REQUIRED",
            "idempotencyKey": "5924a649-b5d3-4baf-a4ab-4b812dde97a0",
            "url": "https://acme.authsignal.com/challenge?token=abc",
            "token": "eyJhbGciOiJIUzI1NiJ9.test-token",
            "isEnrolled": true,
            "allowedVerificationMethods": ["SMS", "EMAIL_OTP"],
            "ruleIds": []
        }),
    );
    let output = client(&server)
        .track(
            TrackRequest::new(USER_ID, "signIn")
                .with_redirect_url("http://localhost:3000")
                .with_redirect_to_settings(true)
                .with_email("not-a-real-email@authsignal.com")
                .with_phone_number("1234567890")
                .with_ip_address("127.0.0.1")
                .with_user_agent("Authsignal-Rust-SDK-Tests/1.0")
                .with_device_id("device123")
                .with_custom(json!({"hello": "world"})),
        )
        .unwrap();
    assert_eq!(output.state, UserActionState::ChallengeRequired);
    assert_eq!(
        output.idempotency_key,
        "5924a649-b5d3-4baf-a4ab-4b812dde97a0"
    );
    assert_eq!(
        output.token.expose_secret(),
        "eyJhbGciOiJIUzI1NiJ9.test-token"
    );
    assert_eq!(
        output.url.expose_secret(),
        "https://acme.authsignal.com/challenge?token=abc"
    );
    assert!(output.is_enrolled);
    assert_eq!(
        output.allowed_verification_methods,
        [VerificationMethod::Sms, VerificationMethod::EmailOtp]
    );
    mock.assert();
}

#[test]
fn track_without_attributes_sends_an_empty_object() {
    let mut server = Server::new();
    let mock = expect(
        &mut server,
        "POST",
        "/users/user-1/actions/signIn",
        Some(json!({})),
    )
    .match_body("{}");
    let mock = json_reply(
        mock,
        200,
        &json!({"state": "ALLOW", "idempotencyKey": "k", "ruleIds": []}),
    );
    let output = client(&server)
        .track(TrackRequest::new("user-1", "signIn"))
        .unwrap();
    assert_eq!(output.state, UserActionState::Allow);
    mock.assert();
}

#[test]
fn get_action() {
    let mut server = Server::new();
    let mock = expect(
        &mut server,
        "GET",
        &format!("{USER_PATH}/actions/signIn/key%2F1%3Fx%23y"),
        None,
    );
    let mock = json_reply(
        mock,
        200,
        &json!({
            "state": "CHALLENGE_SUCCEEDED",
            "stateUpdatedAt": "2022-07-25T03:19:00.316Z",
            "createdAt": "2022-07-25T03:19:00.316Z",
            "verificationMethod": "SMS",
            "rules": [{"ruleId": "r-1", "name": "Always challenge"}],
            "output": {"score": 1}
        }),
    );
    let output = client(&server)
        .get_action(GetActionRequest::new(USER_ID, "signIn", "key/1?x#y"))
        .unwrap();
    assert_eq!(output.state, UserActionState::ChallengeSucceeded);
    assert_eq!(output.verification_method, Some(VerificationMethod::Sms));
    assert_eq!(output.rules[0].name.as_deref(), Some("Always challenge"));
    assert_eq!(output.output, Some(json!({"score": 1})));
    mock.assert();
}

#[test]
fn update_action() {
    let mut server = Server::new();
    let mock = expect(
        &mut server,
        "PATCH",
        &format!("{USER_PATH}/actions/signIn/5924a649-b5d3-4baf-a4ab-4b812dde97a0"),
        Some(json!({"state": "REVIEW_REQUIRED"})),
    );
    let mock = json_reply(mock, 200, &json!({"state": "REVIEW_REQUIRED"}));
    let output = client(&server)
        .update_action(UpdateActionRequest::new(
            USER_ID,
            "signIn",
            "5924a649-b5d3-4baf-a4ab-4b812dde97a0",
            UserActionState::ReviewRequired,
        ))
        .unwrap();
    assert_eq!(output.state, Some(UserActionState::ReviewRequired));
    mock.assert();
}

#[test]
fn validate_challenge() {
    let mut server = Server::new();
    let mock = expect(
        &mut server,
        "POST",
        "/validate",
        Some(
            json!({"token": "eyJhbGciOiJIUzI1NiJ9.test-token", "userId": USER_ID, "action": "signIn"}),
        ),
    );
    let mock = json_reply(
        mock,
        200,
        &json!({
            "isValid": true,
            "state": "CHALLENGE_SUCCEEDED",
            "userId": USER_ID,
            "action": "signIn",
            "actionCode": "signIn",
            "idempotencyKey": "k",
            "verificationMethod": "PASSKEY"
        }),
    );
    let output = client(&server)
        .validate_challenge(
            ValidateChallengeRequest::new("eyJhbGciOiJIUzI1NiJ9.test-token")
                .with_user_id(USER_ID)
                .with_action("signIn"),
        )
        .unwrap();
    assert!(output.is_valid);
    assert_eq!(output.user_id.as_deref(), Some(USER_ID));
    assert_eq!(output.action.as_deref(), Some("signIn"));
    assert_eq!(
        output.verification_method,
        Some(VerificationMethod::Passkey)
    );
    mock.assert();
}

#[test]
fn get_user() {
    let mut server = Server::new();
    let mock = expect(&mut server, "GET", USER_PATH, None);
    let mock = json_reply(
        mock,
        200,
        &json!({
            "userId": USER_ID,
            "isEnrolled": true,
            "email": "test@example.com",
            "phoneNumber": "+6427123456",
            "custom": {"foo": "bar"},
            "enrolledVerificationMethods": ["SMS"],
            "allowedVerificationMethods": ["SMS", "PASSKEY"],
            "defaultVerificationMethod": "SMS",
            "accessToken": "ignored"
        }),
    );
    let user = client(&server)
        .get_user(GetUserRequest::new(USER_ID))
        .unwrap();
    assert!(user.is_enrolled);
    assert_eq!(user.user_id.as_deref(), Some(USER_ID));
    assert_eq!(user.email.as_deref(), Some("test@example.com"));
    assert_eq!(user.custom, Some(json!({"foo": "bar"})));
    assert_eq!(
        user.default_verification_method,
        Some(VerificationMethod::Sms)
    );
    mock.assert();
}

#[test]
fn update_user() {
    let mut server = Server::new();
    let mock = expect(
        &mut server,
        "PATCH",
        USER_PATH,
        Some(json!({"email": "updated_email", "displayName": "Test User"})),
    );
    let mock = json_reply(
        mock,
        200,
        &json!({"userId": USER_ID, "email": "updated_email", "displayName": "Test User"}),
    );
    let output = client(&server)
        .update_user(
            UpdateUserRequest::new(USER_ID)
                .with_email("updated_email")
                .with_display_name("Test User"),
        )
        .unwrap();
    assert_eq!(output.user_id.as_deref(), Some(USER_ID));
    assert_eq!(output.attributes.email.as_deref(), Some("updated_email"));
    assert_eq!(output.attributes.display_name.as_deref(), Some("Test User"));
    mock.assert();
}

#[test]
fn delete_user() {
    let mut server = Server::new();
    let mock = json_reply(
        expect(&mut server, "DELETE", USER_PATH, None),
        200,
        &json!({"success": true}),
    );
    client(&server)
        .delete_user(DeleteUserRequest::new(USER_ID))
        .unwrap();
    mock.assert();

    let mut server = Server::new();
    let mock = expect(&mut server, "DELETE", "/users/1234", None)
        .with_status(204)
        .create();
    client(&server)
        .delete_user(DeleteUserRequest::new("1234"))
        .unwrap();
    mock.assert();
}

#[test]
fn get_authenticators() {
    let mut server = Server::new();
    let mock = expect(
        &mut server,
        "GET",
        &format!("{USER_PATH}/authenticators"),
        None,
    );
    let mock = json_reply(
        mock,
        200,
        &json!([{
            "userId": USER_ID,
            "userAuthenticatorId": "a-1",
            "verificationMethod": "PASSKEY",
            "createdAt": "2024-03-01T10:00:00.000Z",
            "webauthnCredential": {
                "credentialId": "cred-1",
                "deviceId": "dev-1",
                "name": "iPhone",
                "aaguidMapping": {"name": "iCloud Keychain", "svgIconLight": "data:a", "svgIconDark": "data:b"},
                "parsedUserAgent": {"ua": "Mozilla/5.0", "browser": {"name": "Chrome", "version": "124.0", "major": "124"}}
            }
        }, {
            "userAuthenticatorId": "a-2",
            "verificationMethod": "QR_CODE"
        }]),
    );
    let list = client(&server)
        .get_authenticators(GetAuthenticatorsRequest::new(USER_ID))
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].verification_method, VerificationMethod::Passkey);
    let credential = list[0].webauthn_credential.as_ref().unwrap();
    assert_eq!(
        credential.aaguid_mapping.as_ref().unwrap().name.as_deref(),
        Some("iCloud Keychain")
    );
    let agent = credential.parsed_user_agent.as_ref().unwrap();
    assert_eq!(
        agent.browser.as_ref().unwrap().name.as_deref(),
        Some("Chrome")
    );
    assert_eq!(list[1].verification_method.as_str(), "QR_CODE");
    mock.assert();
}

#[test]
fn enroll_verified_authenticator() {
    let mut server = Server::new();
    let mock = expect(
        &mut server,
        "POST",
        &format!("{USER_PATH}/authenticators"),
        Some(json!({"verificationMethod": "SMS", "phoneNumber": "+64270000000"})),
    );
    let mock = json_reply(
        mock,
        200,
        &json!({
            "authenticator": {
                "userId": USER_ID,
                "userAuthenticatorId": "9b2cfd40-7df2-4658-852d-a0c3456e5a2e",
                "verificationMethod": "SMS",
                "phoneNumber": "+64270000000",
                "createdAt": "2022-07-25T03:31:36.219Z"
            },
            "recoveryCodes": ["code-1", "code-2"]
        }),
    );
    let output = client(&server)
        .enroll_verified_authenticator(
            EnrollVerifiedAuthenticatorRequest::new(USER_ID, VerificationMethod::Sms)
                .with_phone_number("+64270000000"),
        )
        .unwrap();
    assert_eq!(
        output.authenticator.user_authenticator_id,
        "9b2cfd40-7df2-4658-852d-a0c3456e5a2e"
    );
    assert_eq!(
        output.authenticator.phone_number.as_deref(),
        Some("+64270000000")
    );
    assert_eq!(output.recovery_codes.len(), 2);
    assert_eq!(output.recovery_codes[1].expose_secret(), "code-2");
    mock.assert();
}

#[test]
fn delete_authenticator() {
    let mut server = Server::new();
    let mock = expect(
        &mut server,
        "DELETE",
        &format!("{USER_PATH}/authenticators/auth%201%2B2"),
        None,
    )
    .with_status(204)
    .create();
    client(&server)
        .delete_authenticator(DeleteAuthenticatorRequest::new(USER_ID, "auth 1+2"))
        .unwrap();
    mock.assert();
}

// ---------------------------------------------------------------------------
// Errors over the wire
// ---------------------------------------------------------------------------

#[test]
fn unauthorized_becomes_a_typed_api_error() {
    let mut server = Server::new();
    let mock = json_reply(
        expect(&mut server, "GET", "/users/u", None),
        401,
        &json!({"error": "unauthorized", "errorDescription": UNAUTHORIZED_DESCRIPTION}),
    );
    let error = client(&server)
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    let api = error
        .api_error()
        .unwrap_or_else(|| panic!("expected Error::Api, got {error:?}"));
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.code, Some(ErrorCode::Unauthorized));
    assert_eq!(api.description.as_deref(), Some(UNAUTHORIZED_DESCRIPTION));
    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(error.attempts(), 1, "401 is not retried");
    assert!(
        error.to_string().contains(UNAUTHORIZED_DESCRIPTION),
        "{error}"
    );
    assert!(!format!("{error:?} {error}").contains(SECRET));
    mock.assert();
}

#[test]
fn html_404_is_an_unexpected_response_with_status() {
    let mut server = Server::new();
    let mock = server
        .mock("GET", "/users/u/authenticators")
        .with_status(404)
        .with_header("content-type", "text/html")
        .with_body("<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>")
        .create();
    let error = client(&server)
        .get_authenticators(GetAuthenticatorsRequest::new("u"))
        .unwrap_err();
    match &error {
        Error::UnexpectedResponse(inner) => {
            assert_eq!(inner.status, StatusCode::NOT_FOUND);
            assert!(
                inner.excerpt.contains("404 Not Found"),
                "{:?}",
                inner.excerpt
            );
        }
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    mock.assert();
}

#[test]
fn oversized_response_is_a_transport_error() {
    let mut server = Server::new();
    let padding = "x".repeat(2048);
    let mock = server
        .mock("GET", "/users/u")
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(json!({"isEnrolled": true, "custom": {"pad": padding}}).to_string())
        .expect(1)
        .create();
    let config = config(&server).with_max_response_bytes(1024);
    let error = config
        .build()
        .unwrap()
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::ResponseTooLarge),
        "{error:?}"
    );
    assert!(matches!(error, Error::Transport { .. }));
    assert_eq!(error.attempts(), 1, "an oversized body is not retried");
    mock.assert();
}

#[test]
fn response_at_the_size_limit_is_accepted() {
    let mut server = Server::new();
    let prefix = r#"{"isEnrolled":true,"custom":{"pad":""#;
    let suffix = r#""}}"#;
    let body = format!(
        "{prefix}{}{suffix}",
        "x".repeat(1024 - prefix.len() - suffix.len())
    );
    assert_eq!(body.len(), 1024);
    let mock = server
        .mock("GET", "/users/u")
        .with_status(200)
        .with_body(body)
        .create();
    let config = config(&server).with_max_response_bytes(1024);
    let user = config
        .build()
        .unwrap()
        .get_user(GetUserRequest::new("u"))
        .unwrap();
    assert!(user.is_enrolled);
    mock.assert();
}

#[test]
fn redirects_are_not_followed() {
    let mut elsewhere = Server::new();
    let stolen = elsewhere.mock("GET", Matcher::Any).expect(0).create();
    let mut server = Server::new();
    let redirect = server
        .mock("GET", "/users/u")
        .with_status(302)
        .with_header("location", &format!("{}/users/u", elsewhere.url()))
        .expect(1)
        .create();
    let error = client(&server)
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    match &error {
        Error::UnexpectedResponse(inner) => assert_eq!(inner.status, StatusCode::FOUND),
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
    assert_eq!(error.attempts(), 1);
    redirect.assert();
    stolen.assert();
}

fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn connection_refused_is_a_connect_error() {
    let url = refused_url();
    let config = Client::builder(SECRET)
        .with_base_url(url.as_str())
        .with_retry_policy(RetryPolicy::no_retries());
    let error = config
        .build()
        .unwrap()
        .track(TrackRequest::new("u", "signIn"))
        .unwrap_err();
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Connect),
        "{error:?}"
    );
    assert!(!error.request_may_have_been_processed());
    assert!(error.is_retryable());
    assert_eq!(error.attempts(), 1);
    assert!(
        std::error::Error::source(&error).is_some(),
        "the ureq error is kept as the source"
    );
    assert!(!format!("{error:?} {error}").contains(SECRET));

    // With retries, even a non-idempotent call is re-sent: it never left.
    let config = Client::builder(SECRET)
        .with_base_url(url)
        .with_retry_policy(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        );
    let error = config
        .build()
        .unwrap()
        .track(TrackRequest::new("u", "signIn"))
        .unwrap_err();
    assert_eq!(error.transport_kind(), Some(TransportErrorKind::Connect));
    assert_eq!(error.attempts(), 3);
}

#[test]
fn idempotent_calls_are_retried_on_the_wire() {
    let mut server = Server::new();
    let mock = expect(&mut server, "GET", "/users/u", None)
        .with_status(503)
        .with_body("Service Unavailable")
        .expect(3)
        .create();
    let error = client(&server)
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(error.attempts(), 3);
    mock.assert();
}

#[test]
fn non_idempotent_calls_are_sent_once_on_5xx() {
    let mut server = Server::new();
    let mock = expect(
        &mut server,
        "POST",
        "/users/u/actions/signIn",
        Some(json!({})),
    )
    .with_status(503)
    .with_body(r#"{"error":"unavailable"}"#)
    .expect(1)
    .create();
    let error = client(&server)
        .track(TrackRequest::new("u", "signIn"))
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(error.attempts(), 1);
    assert!(error.request_may_have_been_processed());
    mock.assert();
}

#[test]
fn slow_response_times_out() {
    let mut server = Server::new();
    let mock = server
        .mock("GET", "/users/u")
        .with_status(200)
        .with_chunked_body(|writer| {
            writer.write_all(b"{\"isEnrolled\":")?;
            std::thread::sleep(Duration::from_millis(1500));
            writer.write_all(b"true}")
        })
        .expect(1)
        .create();
    let config = config(&server)
        .with_timeout(Duration::from_millis(300))
        .with_retry_policy(RetryPolicy::no_retries());
    let started = std::time::Instant::now();
    let error = config
        .build()
        .unwrap()
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Timeout),
        "{error:?}"
    );
    assert!(error.is_timeout());
    assert!(error.request_may_have_been_processed());
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "took {:?}",
        started.elapsed()
    );
    mock.assert();
}
