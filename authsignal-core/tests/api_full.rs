//! Offline tests for the endpoints beyond the first ten: query users and
//! user actions, batch enroll, challenge/verify/claim/get challenge,
//! sessions, devices and Call Connect. For each: the exact method, URI
//! (path encoding, query string), headers and JSON body of the built
//! request, and the typed output of a realistic response. Also: the
//! users-pagination helper over a closure transport, and that no token or
//! code leaks into `Debug` output.

use std::{
    cell::RefCell,
    future::Future,
    pin::pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Wake},
};

use authsignal_core::{
    AsyncClient, AuthScope, BatchEnrollAuthenticator, BatchEnrollVerifiedAuthenticatorsRequest,
    CallConnectMessageChannel, CallState, ChallengeRequest, ClaimChallengeRequest, Client, Config,
    CreateSessionRequest, Endpoint, Error, ErrorCode, FinishCallRequest, GetChallengeRequest,
    GetDevicesRequest, Idempotency, InvalidInput, InvalidateDeviceRequest,
    MAX_BATCH_ENROLL_AUTHENTICATORS, NoWaitTimer, QueryUserActionsRequest, QueryUsersRequest,
    RefreshSessionRequest, RevokeSessionRequest, RevokeUserSessionsRequest, Service, SmsChannel,
    StartCallRequest, TransportError, UpdateDeviceRequest, UserActionState, ValidateSessionRequest,
    VerificationFailureReason, VerificationMethod, VerifyRequest,
    http::{self, Method},
};
use base64::Engine as _;
use serde_json::{Value, json};

const SECRET: &str = "sk_test_full_api_0123456789";
/// Call Connect's own key.
const CALL_CONNECT_SECRET: &str = "sk_test_call_connect_9876";
const API: &str = "https://api.authsignal.com/v1";
const CALL_CONNECT: &str = "https://us-connect.authsignal.com";

fn config() -> Config {
    Config::builder(SECRET)
        .with_call_connect_secret(CALL_CONNECT_SECRET)
        .build()
        .unwrap()
}

/// Checks every header of a built request: `Authorization` carries the key
/// of the request's service.
fn assert_headers(request: &http::Request<Vec<u8>>, service: Service, has_body: bool) {
    let headers = request.headers();
    let key = match service {
        Service::CallConnect => CALL_CONNECT_SECRET,
        _ => SECRET,
    };
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    );
    assert_eq!(headers[http::header::AUTHORIZATION], expected_auth.as_str());
    assert!(headers[http::header::AUTHORIZATION].is_sensitive());
    assert_eq!(
        headers[http::header::USER_AGENT],
        authsignal_core::USER_AGENT
    );
    assert_eq!(headers["x-authsignal-version"], authsignal_core::VERSION);
    assert_eq!(headers[http::header::ACCEPT], "application/json");
    if has_body {
        assert_eq!(headers[http::header::CONTENT_TYPE], "application/json");
        assert_eq!(headers.len(), 5, "unexpected headers: {headers:?}");
    } else {
        assert!(
            !headers.contains_key(http::header::CONTENT_TYPE),
            "{headers:?}"
        );
        assert_eq!(headers.len(), 4, "unexpected headers: {headers:?}");
        assert!(request.body().is_empty(), "no body expected");
    }
}

/// Builds `endpoint`, checks method, full URI and headers, and returns the
/// JSON body (`Value::Null` when there is none).
fn build<E: Endpoint>(endpoint: &E, config: &Config, method: Method, uri: &str) -> Value {
    let request = endpoint.build_request(config).unwrap();
    assert_eq!(request.method(), method);
    assert_eq!(request.uri().to_string(), uri);
    let has_body = !request.body().is_empty();
    assert_headers(&request, E::SERVICE, has_body);
    if has_body {
        serde_json::from_slice(request.body()).unwrap()
    } else {
        Value::Null
    }
}

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn invalid_field(error: Error) -> (&'static str, String) {
    match error {
        Error::InvalidInput(InvalidInput::Field { name, reason }) => (name, reason.into_owned()),
        other => panic!("expected InvalidInput::Field, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Users: query
// ---------------------------------------------------------------------------

#[test]
fn query_users_sends_every_set_parameter_form_encoded_in_a_fixed_order() {
    let request = QueryUsersRequest::new()
        .with_username("testuser")
        .with_email("test@example.com")
        .with_phone_number("+1234567890")
        .with_token("some-token")
        .with_limit(10u32)
        .with_last_evaluated_user_id("prev-user");
    let body = build(
        &request,
        &config(),
        Method::GET,
        &format!(
            "{API}/users?username=testuser&email=test%40example.com&phoneNumber=%2B1234567890\
             &token=some-token&limit=10&lastEvaluatedUserId=prev-user"
        ),
    );
    assert_eq!(body, Value::Null);
    assert_eq!(
        <QueryUsersRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );
}

#[test]
fn query_users_without_parameters_has_no_question_mark() {
    build(
        &QueryUsersRequest::new(),
        &config(),
        Method::GET,
        &format!("{API}/users"),
    );
}

#[test]
fn query_users_sends_only_the_parameters_that_are_set() {
    let request = QueryUsersRequest::new()
        .with_username("john doe")
        .with_limit(0u32);
    build(
        &request,
        &config(),
        Method::GET,
        &format!("{API}/users?username=john+doe&limit=0"),
    );
}

#[test]
fn query_users_parses_a_page_with_cursor_and_token_payload() {
    let body = r#"{"users":[
        {"userId":"user-1","email":"user1@example.com","emailVerified":true,"phoneNumber":"+1234567890",
         "phoneNumberVerified":false,"username":"user1","displayName":"User One","isEnrolled":true,
         "enrolledVerificationMethods":["SMS","PASSKEY"],"createdAt":"2024-01-01T00:00:00Z"},
        {"userId":"user-2","email":"user2@example.com","emailVerified":false,"phoneNumber":null,
         "phoneNumberVerified":false,"username":null,"enrolledVerificationMethods":null}
      ],"lastEvaluatedUserId":"user-2","tokenPayload":{"sub":"user-2"}}"#;
    let page = QueryUsersRequest::new()
        .parse_response(response(200, body))
        .unwrap();
    assert_eq!(page.users.len(), 2);
    let first = &page.users[0];
    assert_eq!(first.user_id, "user-1");
    assert_eq!(first.email.as_deref(), Some("user1@example.com"));
    assert_eq!(first.email_verified, Some(true));
    assert_eq!(first.phone_number.as_deref(), Some("+1234567890"));
    assert_eq!(first.phone_number_verified, Some(false));
    assert_eq!(first.username.as_deref(), Some("user1"));
    assert_eq!(first.display_name.as_deref(), Some("User One"));
    assert!(first.is_enrolled);
    assert_eq!(
        first.enrolled_verification_methods,
        [VerificationMethod::Sms, VerificationMethod::Passkey]
    );
    assert_eq!(first.created_at.as_deref(), Some("2024-01-01T00:00:00Z"));
    let second = &page.users[1];
    assert_eq!(second.user_id, "user-2");
    assert_eq!(second.phone_number, None);
    assert_eq!(second.username, None);
    assert!(!second.is_enrolled);
    assert!(second.enrolled_verification_methods.is_empty());
    assert_eq!(page.last_evaluated_user_id.as_deref(), Some("user-2"));
    assert_eq!(page.token_payload, Some(json!({"sub": "user-2"})));
}

#[test]
fn query_users_parses_an_empty_last_page() {
    let page = QueryUsersRequest::new()
        .parse_response(response(200, r#"{"users":[]}"#))
        .unwrap();
    assert!(page.users.is_empty());
    assert_eq!(page.last_evaluated_user_id, None);
    assert_eq!(page.token_payload, None);
}

// ---------------------------------------------------------------------------
// Users: pagination over a closure transport
// ---------------------------------------------------------------------------

/// A fake `GET /users` server: answers each cursor with a canned page and
/// records the query strings it saw.
fn paging_transport<'a>(
    seen: &'a RefCell<Vec<String>>,
    pages: &'a [(&'a str, u16, &'a str)],
) -> impl Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> + 'a {
    move |request| {
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri().path(), "/v1/users");
        let query = request.uri().query().unwrap_or("").to_owned();
        seen.borrow_mut().push(query.clone());
        let (_, status, body) = pages
            .iter()
            .find(|(q, _, _)| *q == query)
            .unwrap_or_else(|| panic!("unexpected query {query:?}"));
        Ok(response(*status, body))
    }
}

const PAGE_1: &str =
    r#"{"users":[{"userId":"user-1"},{"userId":"user-2"}],"lastEvaluatedUserId":"user-2"}"#;
const PAGE_2: &str =
    r#"{"users":[{"userId":"user-3"},{"userId":"user-4"}],"lastEvaluatedUserId":"user-4"}"#;
const PAGE_3: &str = r#"{"users":[{"userId":"user-5"}]}"#;

#[test]
fn pages_walk_the_cursor_and_stop_after_the_page_without_one() {
    let seen = RefCell::new(Vec::new());
    let pages = [
        ("email=a%40example.com&limit=2", 200, PAGE_1),
        (
            "email=a%40example.com&limit=2&lastEvaluatedUserId=user-2",
            200,
            PAGE_2,
        ),
        (
            "email=a%40example.com&limit=2&lastEvaluatedUserId=user-4",
            200,
            PAGE_3,
        ),
    ];
    let client = Client::with_transport(config(), paging_transport(&seen, &pages));
    let request = QueryUsersRequest::new()
        .with_email("a@example.com")
        .with_limit(2u32);
    let mut iter = client.query_users_pages(request);
    let cursors: Vec<Option<String>> = iter
        .by_ref()
        .map(|page| page.unwrap().last_evaluated_user_id)
        .collect();
    assert_eq!(
        cursors,
        [Some("user-2".into()), Some("user-4".into()), None]
    );
    assert!(iter.next().is_none(), "fused after the last page");
    assert_eq!(seen.borrow().len(), 3, "exactly three requests");
}

#[test]
fn users_flattens_every_page_in_order() {
    let seen = RefCell::new(Vec::new());
    let pages = [
        ("email=a%40example.com", 200, PAGE_1),
        (
            "email=a%40example.com&lastEvaluatedUserId=user-2",
            200,
            r#"{"users":[],"lastEvaluatedUserId":"user-3"}"#,
        ),
        (
            "email=a%40example.com&lastEvaluatedUserId=user-3",
            200,
            PAGE_3,
        ),
    ];
    let client = Client::with_transport(config(), paging_transport(&seen, &pages));
    let ids = client
        .query_users_pages(QueryUsersRequest::new().with_email("a@example.com"))
        .users()
        .map(|user| user.map(|u| u.user_id))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(
        ids,
        ["user-1", "user-2", "user-5"],
        "an empty middle page does not stop the walk"
    );
    assert_eq!(seen.borrow().len(), 3);
}

#[test]
fn pages_yield_the_error_then_nothing() {
    let seen = RefCell::new(Vec::new());
    let pages = [
        ("username=x", 200, PAGE_1),
        (
            "username=x&lastEvaluatedUserId=user-2",
            400,
            r#"{"error":"invalid_request","errorDescription":"bad cursor"}"#,
        ),
    ];
    let client = Client::with_transport(config(), paging_transport(&seen, &pages));
    let mut iter = client.query_users_pages(QueryUsersRequest::new().with_username("x"));
    assert_eq!(iter.next().unwrap().unwrap().users.len(), 2);
    let error = iter.next().unwrap().unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::BAD_REQUEST));
    assert_eq!(error.code().map(|c| c.as_str()), Some("invalid_request"));
    assert!(iter.next().is_none());
    assert!(iter.next().is_none());
    assert_eq!(seen.borrow().len(), 2, "no request after the error");

    seen.borrow_mut().clear();
    let mut users = client
        .query_users_pages(QueryUsersRequest::new().with_username("x"))
        .users();
    assert_eq!(users.next().unwrap().unwrap().user_id, "user-1");
    assert_eq!(users.next().unwrap().unwrap().user_id, "user-2");
    assert!(users.next().unwrap().is_err());
    assert!(users.next().is_none());
}

#[test]
fn pages_stop_when_the_cursor_does_not_move() {
    let seen = RefCell::new(Vec::new());
    let stuck = r#"{"users":[{"userId":"user-9"}],"lastEvaluatedUserId":"user-9"}"#;
    let pages = [("lastEvaluatedUserId=user-9", 200, stuck)];
    let client = Client::with_transport(config(), paging_transport(&seen, &pages));
    let request = QueryUsersRequest::new().with_last_evaluated_user_id("user-9");
    assert_eq!(client.query_users_pages(request).count(), 1);
    assert_eq!(seen.borrow().len(), 1);
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Arc::new(ThreadWaker(std::thread::current())).into();
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn async_pages_walk_the_cursor_too() {
    let seen = Mutex::new(Vec::new());
    let transport = |request: http::Request<Vec<u8>>| {
        let query = request.uri().query().unwrap_or("").to_owned();
        seen.lock().unwrap().push(query.clone());
        let body = match query.as_str() {
            "email=a%40example.com" => PAGE_1,
            "email=a%40example.com&lastEvaluatedUserId=user-2" => PAGE_3,
            other => panic!("unexpected query {other:?}"),
        };
        std::future::ready(Ok::<_, TransportError>(response(200, body)))
    };
    let client = AsyncClient::with_transport(config(), transport, NoWaitTimer);
    let mut pages = client.query_users_pages(QueryUsersRequest::new().with_email("a@example.com"));
    let mut ids = Vec::new();
    while let Some(page) = block_on(pages.next_page()) {
        ids.extend(page.unwrap().users.into_iter().map(|u| u.user_id));
    }
    assert_eq!(ids, ["user-1", "user-2", "user-5"]);
    assert!(block_on(pages.next_page()).is_none());
    assert_eq!(seen.lock().unwrap().len(), 2);
}

// ---------------------------------------------------------------------------
// Actions: query a user's actions
// ---------------------------------------------------------------------------

#[test]
fn query_user_actions_encodes_path_and_filters() {
    let request = QueryUserActionsRequest::new("a/b")
        .with_from_date("2024-01-01T00:00:00Z")
        .with_codes(["signIn", "withdraw"])
        .with_state(UserActionState::ChallengeRequired);
    build(
        &request,
        &config(),
        Method::GET,
        &format!(
            "{API}/users/a%2Fb/actions?fromDate=2024-01-01T00%3A00%3A00Z&codes=signIn%2Cwithdraw\
             &state=CHALLENGE_REQUIRED"
        ),
    );
    assert_eq!(
        <QueryUserActionsRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );
}

#[test]
fn query_user_actions_without_filters_has_no_query() {
    build(
        &QueryUserActionsRequest::new("a b"),
        &config(),
        Method::GET,
        &format!("{API}/users/a%20b/actions"),
    );
    build(
        &QueryUserActionsRequest::new("u").with_code("signIn"),
        &config(),
        Method::GET,
        &format!("{API}/users/u/actions?codes=signIn"),
    );
}

#[test]
fn query_user_actions_rejects_a_code_that_would_split() {
    let error = QueryUserActionsRequest::new("u")
        .with_code("sign,in")
        .build_request(&config())
        .unwrap_err();
    assert_eq!(invalid_field(error).0, "codes");
    assert!(
        QueryUserActionsRequest::new("")
            .build_request(&config())
            .is_err()
    );
}

#[test]
fn query_user_actions_parses_a_bare_array() {
    let body = r#"[
        {"actionCode":"signIn","idempotencyKey":"5924a649-b5d3-4baf-a4ab-4b812dde97a0",
         "createdAt":"2024-05-01T10:00:00.000Z","updatedAt":"2024-05-01T10:01:00.000Z",
         "state":"CHALLENGE_SUCCEEDED","stateUpdatedAt":"2024-05-01T10:01:00.000Z",
         "verificationMethod":"SMS","verifiedByAuthenticatorId":"auth-1"},
        {"actionCode":"withdraw","idempotencyKey":"k2","createdAt":"2024-05-02T10:00:00.000Z",
         "state":"SOMETHING_NEW"}
    ]"#;
    let actions = QueryUserActionsRequest::new("u")
        .parse_response(response(200, body))
        .unwrap();
    assert_eq!(actions.len(), 2);
    let first = &actions[0];
    assert_eq!(first.action_code, "signIn");
    assert_eq!(
        first.idempotency_key,
        "5924a649-b5d3-4baf-a4ab-4b812dde97a0"
    );
    assert_eq!(
        first.created_at.as_deref(),
        Some("2024-05-01T10:00:00.000Z")
    );
    assert_eq!(
        first.updated_at.as_deref(),
        Some("2024-05-01T10:01:00.000Z")
    );
    assert_eq!(first.state, UserActionState::ChallengeSucceeded);
    assert_eq!(
        first.state_updated_at.as_deref(),
        Some("2024-05-01T10:01:00.000Z")
    );
    assert_eq!(first.verification_method, Some(VerificationMethod::Sms));
    assert_eq!(
        first.verified_by_authenticator_id.as_deref(),
        Some("auth-1")
    );
    assert_eq!(actions[1].state.as_str(), "SOMETHING_NEW");
    assert_eq!(actions[1].verification_method, None);
}

// ---------------------------------------------------------------------------
// Authenticators: batch enroll
// ---------------------------------------------------------------------------

#[test]
fn batch_enroll_posts_the_authenticators() {
    let request =
        BatchEnrollVerifiedAuthenticatorsRequest::new([BatchEnrollAuthenticator::passkey(
            "user-123",
            "dGVzdC1jcmVkZW50aWFsLWlk",
            "pQECAyYgASFYIPr",
        )
        .with_name("iPhone")
        .with_transports(["internal", "hybrid"])
        .with_aaguid("fbfc3007-154e-4ecc-8c0b-6e020557d7bd")])
        .with_authenticator(BatchEnrollAuthenticator::new(
            "user-456",
            VerificationMethod::Passkey,
            "YW5vdGhlci1jcmVkZW50aWFs",
            "pQECAyYgASFYIKm",
        ));
    let body = build(
        &request,
        &config(),
        Method::POST,
        &format!("{API}/users/authenticators"),
    );
    assert_eq!(
        body,
        json!({"authenticators": [
            {"userId": "user-123", "verificationMethod": "PASSKEY",
             "credentialId": "dGVzdC1jcmVkZW50aWFsLWlk", "credentialPublicKey": "pQECAyYgASFYIPr",
             "name": "iPhone", "transports": ["internal", "hybrid"],
             "aaguid": "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"},
            {"userId": "user-456", "verificationMethod": "PASSKEY",
             "credentialId": "YW5vdGhlci1jcmVkZW50aWFs", "credentialPublicKey": "pQECAyYgASFYIKm"}
        ]})
    );
    assert_eq!(
        <BatchEnrollVerifiedAuthenticatorsRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );
}

#[test]
fn batch_enroll_rejects_zero_or_more_than_1000_authenticators() {
    let one = BatchEnrollAuthenticator::passkey("u", "c", "k");
    let empty = BatchEnrollVerifiedAuthenticatorsRequest::new([]);
    let (name, reason) = invalid_field(empty.build_request(&config()).unwrap_err());
    assert_eq!(name, "authenticators");
    assert!(reason.contains("1000"), "{reason}");

    let too_many = BatchEnrollVerifiedAuthenticatorsRequest::new(vec![one.clone(); 1001]);
    assert_eq!(
        invalid_field(too_many.build_request(&config()).unwrap_err()).0,
        "authenticators"
    );

    let max =
        BatchEnrollVerifiedAuthenticatorsRequest::new(vec![one; MAX_BATCH_ENROLL_AUTHENTICATORS]);
    let request = max.build_request(&config()).unwrap();
    let body: Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(body["authenticators"].as_array().unwrap().len(), 1000);
}

#[test]
fn batch_enroll_parses_counts_and_failures() {
    let body = r#"{"total":3,"succeeded":2,"failed":1,"failures":[{"userId":"user-789",
        "credentialId":"Y29uZmxpY3RpbmctY3JlZA","errorCode":"conflict",
        "errorDescription":"Credential already exists for a different user."}]}"#;
    let request =
        BatchEnrollVerifiedAuthenticatorsRequest::new([BatchEnrollAuthenticator::passkey(
            "u", "c", "k",
        )]);
    let output = request.parse_response(response(200, body)).unwrap();
    assert_eq!((output.total, output.succeeded, output.failed), (3, 2, 1));
    assert_eq!(output.failures.len(), 1);
    let failure = &output.failures[0];
    assert_eq!(failure.user_id, "user-789");
    assert_eq!(failure.credential_id, "Y29uZmxpY3RpbmctY3JlZA");
    assert_eq!(failure.error_code, Some(ErrorCode::Conflict));
    assert_eq!(
        failure.error_description.as_deref(),
        Some("Credential already exists for a different user.")
    );
}

// ---------------------------------------------------------------------------
// Challenges: challenge, verify, claim, get
// ---------------------------------------------------------------------------

#[test]
fn challenge_posts_required_fields_only_by_default() {
    let body = build(
        &ChallengeRequest::new(VerificationMethod::Sms, "signIn"),
        &config(),
        Method::POST,
        &format!("{API}/challenge"),
    );
    assert_eq!(
        body,
        json!({"verificationMethod": "SMS", "action": "signIn"})
    );
    assert_eq!(
        <ChallengeRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );
}

#[test]
fn challenge_posts_every_set_field_with_space_joined_scopes() {
    // A resend that also names the method and action sends them too.
    let request = ChallengeRequest::resend("ch-1")
        .with_verification_method(VerificationMethod::EmailOtp)
        .with_action("signUp")
        .with_idempotency_key("idem-1")
        .with_user_id("user-1")
        .with_email("test@example.com")
        .with_phone_number("+6427123456")
        .with_sms_channel(SmsChannel::Whatsapp)
        .with_locale("en-NZ")
        .with_device_id("dev-1")
        .with_ip_address("203.0.113.7")
        .with_user_agent("Mozilla/5.0")
        .with_custom(json!({"plan": "gold", "n": 3}))
        .with_scope(AuthScope::AddAuthenticators)
        .with_scopes([AuthScope::UpdateAuthenticators]);
    let body = build(
        &request,
        &config(),
        Method::POST,
        &format!("{API}/challenge"),
    );
    assert_eq!(
        body,
        json!({
            "verificationMethod": "EMAIL_OTP", "action": "signUp", "challengeId": "ch-1",
            "idempotencyKey": "idem-1", "userId": "user-1", "email": "test@example.com",
            "phoneNumber": "+6427123456", "smsChannel": "WHATSAPP", "locale": "en-NZ",
            "deviceId": "dev-1", "ipAddress": "203.0.113.7", "userAgent": "Mozilla/5.0",
            "custom": {"plan": "gold", "n": 3},
            "scope": "add:authenticators update:authenticators"
        })
    );
}

#[test]
fn challenge_parses_a_64_bit_expiry() {
    let body = r#"{"challengeId":"ch-1","idempotencyKey":"idem-1","expiresAt":4102444800000}"#;
    let output = ChallengeRequest::new(VerificationMethod::Sms, "signIn")
        .parse_response(response(200, body))
        .unwrap();
    assert_eq!(output.challenge_id, "ch-1");
    assert_eq!(output.idempotency_key.as_deref(), Some("idem-1"));
    assert_eq!(
        output.expires_at, 4_102_444_800_000,
        "milliseconds beyond 2038 fit"
    );
}

#[test]
fn verify_posts_the_code_and_parses_the_outcome() {
    let request = VerifyRequest::new("ch-1", "123456");
    let body = build(&request, &config(), Method::POST, &format!("{API}/verify"));
    assert_eq!(
        body,
        json!({"challengeId": "ch-1", "verificationCode": "123456"})
    );
    assert_eq!(
        <VerifyRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );

    let ok = request
        .parse_response(response(
            200,
            r#"{"isVerified":true,"email":null,"phoneNumber":"+6427123456","verificationMethod":"SMS"}"#,
        ))
        .unwrap();
    assert!(ok.is_verified);
    assert_eq!(ok.phone_number.as_deref(), Some("+6427123456"));
    assert_eq!(ok.email, None);
    assert_eq!(ok.verification_method, Some(VerificationMethod::Sms));
    assert_eq!(ok.failure_reason, None);

    let failed = request
        .parse_response(response(
            200,
            r#"{"isVerified":false,"failureReason":"MAX_ATTEMPTS_EXCEEDED"}"#,
        ))
        .unwrap();
    assert!(!failed.is_verified);
    assert_eq!(
        failed.failure_reason,
        Some(VerificationFailureReason::MaxAttemptsExceeded)
    );
}

#[test]
fn claim_never_sends_an_unset_skip_flag() {
    let body = build(
        &ClaimChallengeRequest::new("user-1", "ch-1"),
        &config(),
        Method::POST,
        &format!("{API}/claim"),
    );
    assert_eq!(body, json!({"challengeId": "ch-1", "userId": "user-1"}));

    let request = ClaimChallengeRequest::new("user-1", "ch-1").with_skip_verification_check(false);
    let body = build(&request, &config(), Method::POST, &format!("{API}/claim"));
    assert_eq!(
        body,
        json!({"challengeId": "ch-1", "userId": "user-1", "skipVerificationCheck": false})
    );
    assert_eq!(
        <ClaimChallengeRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );

    let output = request
        .parse_response(response(
            200,
            r#"{"token":"eyJhbGciOiJIUzI1NiJ9.claimed","verificationMethod":"EMAIL_OTP"}"#,
        ))
        .unwrap();
    assert_eq!(output.token.expose_secret(), "eyJhbGciOiJIUzI1NiJ9.claimed");
    assert_eq!(
        output.verification_method,
        Some(VerificationMethod::EmailOtp)
    );
}

#[test]
fn get_challenge_is_a_get_with_query_parameters() {
    let request = GetChallengeRequest::new()
        .with_challenge_id("ch 1")
        .with_user_id("user@1")
        .with_action("signIn")
        .with_verification_method(VerificationMethod::Sms);
    let body = build(
        &request,
        &config(),
        Method::GET,
        &format!(
            "{API}/challenges?challengeId=ch+1&userId=user%401&action=signIn&verificationMethod=SMS"
        ),
    );
    assert_eq!(body, Value::Null);
    build(
        &GetChallengeRequest::new().with_challenge_id("ch-1"),
        &config(),
        Method::GET,
        &format!("{API}/challenges?challengeId=ch-1"),
    );
    build(
        &GetChallengeRequest::new(),
        &config(),
        Method::GET,
        &format!("{API}/challenges"),
    );
    assert_eq!(
        <GetChallengeRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );
}

#[test]
fn get_challenge_parses_the_challenge() {
    let body = r#"{"challengeId":"ch-1","expiresAt":1735689600,"verificationMethod":"SMS",
        "smsChannel":"WHATSAPP","phoneNumber":"+6427123456","email":null,"action":"signIn"}"#;
    let output = GetChallengeRequest::new()
        .parse_response(response(200, body))
        .unwrap();
    assert_eq!(output.challenge_id.as_deref(), Some("ch-1"));
    assert_eq!(output.expires_at, Some(1_735_689_600));
    assert_eq!(output.verification_method, Some(VerificationMethod::Sms));
    assert_eq!(output.sms_channel, Some(SmsChannel::Whatsapp));
    assert_eq!(output.phone_number.as_deref(), Some("+6427123456"));
    assert_eq!(output.email, None);
    assert_eq!(output.action.as_deref(), Some("signIn"));

    let numeric = GetChallengeRequest::new()
        .parse_response(response(200, r#"{"action":7}"#))
        .unwrap();
    assert_eq!(
        numeric.action.as_deref(),
        Some("7"),
        "the docs type action as a number"
    );
    let empty = GetChallengeRequest::new()
        .parse_response(response(200, "{}"))
        .unwrap();
    assert_eq!(empty.challenge_id, None);
    assert_eq!(empty.expires_at, None);
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

#[test]
fn create_session_posts_client_and_token() {
    let request = CreateSessionRequest::new("client-1", "eyJ.challenge-token");
    let body = build(
        &request,
        &config(),
        Method::POST,
        &format!("{API}/sessions"),
    );
    assert_eq!(
        body,
        json!({"clientId": "client-1", "token": "eyJ.challenge-token"})
    );
    let with_action = build(
        &CreateSessionRequest::new("client-1", "t").with_action("signIn"),
        &config(),
        Method::POST,
        &format!("{API}/sessions"),
    );
    assert_eq!(
        with_action,
        json!({"clientId": "client-1", "token": "t", "action": "signIn"})
    );
    assert_eq!(
        <CreateSessionRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );

    let output = request
        .parse_response(response(
            200,
            r#"{"accessToken":"at-secret-1","refreshToken":"rt-secret-1"}"#,
        ))
        .unwrap();
    assert_eq!(output.access_token.expose_secret(), "at-secret-1");
    assert_eq!(output.refresh_token.expose_secret(), "rt-secret-1");
}

#[test]
fn validate_session_posts_the_token_and_parses_the_user() {
    let request = ValidateSessionRequest::new("at-secret-1");
    let body = build(
        &request,
        &config(),
        Method::POST,
        &format!("{API}/sessions/validate"),
    );
    assert_eq!(body, json!({"accessToken": "at-secret-1"}));
    let with_clients = build(
        &ValidateSessionRequest::new("at").with_client_ids(["web", "ios"]),
        &config(),
        Method::POST,
        &format!("{API}/sessions/validate"),
    );
    assert_eq!(
        with_clients,
        json!({"accessToken": "at", "clientIds": ["web", "ios"]})
    );
    assert_eq!(
        <ValidateSessionRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );

    let body = r#"{"user":{"userId":"user-1","email":"test@example.com","phoneNumber":"+6427123456",
        "username":"tester","displayName":"Test User","custom":{"foo":"bar","n":1}},
        "expiresAt":1735689600,"verificationMethod":"PASSKEY"}"#;
    let output = request.parse_response(response(200, body)).unwrap();
    assert_eq!(output.user.user_id, "user-1");
    assert_eq!(
        output.user.attributes.email.as_deref(),
        Some("test@example.com")
    );
    assert_eq!(
        output.user.attributes.phone_number.as_deref(),
        Some("+6427123456")
    );
    assert_eq!(output.user.attributes.username.as_deref(), Some("tester"));
    assert_eq!(
        output.user.attributes.display_name.as_deref(),
        Some("Test User")
    );
    assert_eq!(
        output.user.attributes.custom,
        Some(json!({"foo": "bar", "n": 1}))
    );
    assert_eq!(output.expires_at, 1_735_689_600);
    assert_eq!(
        output.verification_method,
        Some(VerificationMethod::Passkey)
    );
}

#[test]
fn refresh_session_rotates_tokens() {
    let request = RefreshSessionRequest::new("rt-secret-1");
    let body = build(
        &request,
        &config(),
        Method::POST,
        &format!("{API}/sessions/refresh"),
    );
    assert_eq!(body, json!({"refreshToken": "rt-secret-1"}));
    assert_eq!(
        <RefreshSessionRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );
    let output = request
        .parse_response(response(
            200,
            r#"{"accessToken":"at-secret-2","refreshToken":"rt-secret-2"}"#,
        ))
        .unwrap();
    assert_eq!(output.access_token.expose_secret(), "at-secret-2");
    assert_eq!(output.refresh_token.expose_secret(), "rt-secret-2");
}

#[test]
fn revoke_session_and_revoke_all_accept_any_success_body() {
    let request = RevokeSessionRequest::new("at-secret-1");
    let body = build(
        &request,
        &config(),
        Method::POST,
        &format!("{API}/sessions/revoke"),
    );
    assert_eq!(body, json!({"accessToken": "at-secret-1"}));
    assert_eq!(
        <RevokeSessionRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );
    request.parse_response(response(200, "")).unwrap();
    request
        .parse_response(response(200, r#"{"success":true}"#))
        .unwrap();

    let all = RevokeUserSessionsRequest::new("user-1");
    let body = build(
        &all,
        &config(),
        Method::POST,
        &format!("{API}/sessions/user/revoke"),
    );
    assert_eq!(body, json!({"userId": "user-1"}));
    assert_eq!(
        <RevokeUserSessionsRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );
    all.parse_response(response(204, "")).unwrap();
    let error = all
        .parse_response(response(
            401,
            r#"{"error":"unauthorized","errorDescription":"bad key"}"#,
        ))
        .unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert_eq!(error.code().map(|c| c.as_str()), Some("unauthorized"));
}

// ---------------------------------------------------------------------------
// Devices
// ---------------------------------------------------------------------------

const DEVICE: &str = r#"{"userId":"user ü","deviceId":"dev/1","createdAt":"2023-11-07T05:31:56Z",
    "authenticatedAt":"2023-11-07T05:31:56Z","invalidatedAt":"2023-11-07T05:31:56Z",
    "rememberedUntil":"2030-01-01T00:00:00Z","lastVerificationMethod":"SMS"}"#;

#[test]
fn get_devices_encodes_unicode_and_parses_the_list() {
    let request = GetDevicesRequest::new("user ü");
    let body = build(
        &request,
        &config(),
        Method::GET,
        &format!("{API}/users/user%20%C3%BC/devices"),
    );
    assert_eq!(body, Value::Null);
    assert_eq!(
        <GetDevicesRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );

    let devices = request
        .parse_response(response(
            200,
            &format!(r#"[{DEVICE},{{"userId":"u","deviceId":"d2"}}]"#),
        ))
        .unwrap();
    assert_eq!(devices.len(), 2);
    let device = &devices[0];
    assert_eq!(device.user_id, "user ü");
    assert_eq!(device.device_id, "dev/1");
    assert_eq!(device.created_at.as_deref(), Some("2023-11-07T05:31:56Z"));
    assert_eq!(
        device.authenticated_at.as_deref(),
        Some("2023-11-07T05:31:56Z")
    );
    assert_eq!(
        device.invalidated_at.as_deref(),
        Some("2023-11-07T05:31:56Z")
    );
    assert_eq!(
        device.remembered_until.as_deref(),
        Some("2030-01-01T00:00:00Z")
    );
    assert_eq!(
        device.last_verification_method,
        Some(VerificationMethod::Sms)
    );
    assert_eq!(devices[1].device_id, "d2");
    assert_eq!(devices[1].last_verification_method, None);
}

#[test]
fn update_device_sends_a_timestamp_or_an_explicit_null() {
    let remember = UpdateDeviceRequest::remember_until("a/b", "dev 1", "2030-01-01T00:00:00Z");
    let body = build(
        &remember,
        &config(),
        Method::PATCH,
        &format!("{API}/users/a%2Fb/devices/dev%201"),
    );
    assert_eq!(body, json!({"rememberedUntil": "2030-01-01T00:00:00Z"}));

    let forget = UpdateDeviceRequest::forget("a/b", "dev 1");
    let body = build(
        &forget,
        &config(),
        Method::PATCH,
        &format!("{API}/users/a%2Fb/devices/dev%201"),
    );
    assert_eq!(body, json!({"rememberedUntil": null}));
    assert!(
        body.as_object().unwrap().contains_key("rememberedUntil"),
        "null is sent, not omitted"
    );
    assert_eq!(
        <UpdateDeviceRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );

    let device = forget.parse_response(response(200, DEVICE)).unwrap();
    assert_eq!(device.device_id, "dev/1");
    assert!(
        UpdateDeviceRequest::forget("u", "..")
            .build_request(&config())
            .is_err()
    );
}

#[test]
fn invalidate_device_posts_without_a_body() {
    let request = InvalidateDeviceRequest::new("user-1", "dev:1");
    let body = build(
        &request,
        &config(),
        Method::POST,
        &format!("{API}/users/user-1/devices/dev%3A1/invalidate"),
    );
    assert_eq!(body, Value::Null);
    assert_eq!(
        <InvalidateDeviceRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );
    let device = request.parse_response(response(200, DEVICE)).unwrap();
    assert_eq!(
        device.invalidated_at.as_deref(),
        Some("2023-11-07T05:31:56Z")
    );
    assert!(
        InvalidateDeviceRequest::new("user-1", "")
            .build_request(&config())
            .is_err()
    );
}

// ---------------------------------------------------------------------------
// Call Connect
// ---------------------------------------------------------------------------

#[test]
fn start_call_goes_to_the_call_connect_host() {
    let request = StartCallRequest::new("3f1c7c3e-9a47-4d8b-a1b2-1f0e6d2c9b7a")
        .with_phone_number("+6427123456");
    let body = build(
        &request,
        &config(),
        Method::POST,
        &format!("{CALL_CONNECT}/call/start"),
    );
    assert_eq!(
        body,
        json!({"referenceId": "3f1c7c3e-9a47-4d8b-a1b2-1f0e6d2c9b7a", "phoneNumber": "+6427123456"})
    );
    assert_eq!(
        <StartCallRequest as Endpoint>::SERVICE,
        Service::CallConnect
    );
    assert_eq!(
        <StartCallRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );

    let full = StartCallRequest::new("ref-1")
        .with_phone_number("+6427123456")
        .with_country("NZ")
        .with_user_id("user-1")
        .with_username("tester")
        .with_channel(CallConnectMessageChannel::Whatsapp)
        .with_email("test@example.com")
        .with_locale("en-NZ")
        .with_action_code("callCenter");
    let custom = Config::builder(SECRET)
        .with_call_connect_url("https://connect.example.com/")
        .with_call_connect_secret(CALL_CONNECT_SECRET)
        .build()
        .unwrap();
    let body = build(
        &full,
        &custom,
        Method::POST,
        "https://connect.example.com/call/start",
    );
    assert_eq!(
        body,
        json!({"referenceId": "ref-1", "phoneNumber": "+6427123456", "country": "NZ",
               "userId": "user-1", "username": "tester", "channel": "WHATSAPP",
               "email": "test@example.com", "locale": "en-NZ", "actionCode": "callCenter"})
    );
    // The Server API base URL does not affect Call Connect, nor the reverse.
    let other_api = Config::builder(SECRET)
        .with_base_url("https://eu.api.authsignal.com/v1")
        .with_call_connect_secret(CALL_CONNECT_SECRET)
        .build()
        .unwrap();
    build(
        &request,
        &other_api,
        Method::POST,
        &format!("{CALL_CONNECT}/call/start"),
    );

    let output = request
        .parse_response(response(
            200,
            r#"{"messageId":"msg-1","channel":"WHATSAPP","phoneNumber":"+6427123456"}"#,
        ))
        .unwrap();
    assert_eq!(output.message_id.as_deref(), Some("msg-1"));
    assert_eq!(output.channel, Some(CallConnectMessageChannel::Whatsapp));
    assert_eq!(output.phone_number.as_deref(), Some("+6427123456"));
    assert_eq!(output.error, None);

    let refused = request
        .parse_response(response(
            200,
            r#"{"error":"no_channel","errorCode":"no_channel","errorDescription":"No channel available"}"#,
        ))
        .unwrap();
    assert_eq!(refused.error_code.as_deref(), Some("no_channel"));
    assert_eq!(
        refused.error_description.as_deref(),
        Some("No channel available")
    );
}

#[test]
fn finish_call_posts_the_outcome() {
    let request = FinishCallRequest::new("ref-1", CallState::ChallengeSucceeded);
    let body = build(
        &request,
        &config(),
        Method::POST,
        &format!("{CALL_CONNECT}/call/finish"),
    );
    assert_eq!(
        body,
        json!({"referenceId": "ref-1", "state": "CHALLENGE_SUCCEEDED"})
    );
    assert_eq!(
        <FinishCallRequest as Endpoint>::SERVICE,
        Service::CallConnect
    );
    assert_eq!(
        <FinishCallRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );

    let full = FinishCallRequest::new("ref-1", CallState::ChallengeFailed)
        .with_user_id("user-1")
        .with_payload(json!({"agent": "a-7"}));
    let body = build(
        &full,
        &config(),
        Method::POST,
        &format!("{CALL_CONNECT}/call/finish"),
    );
    assert_eq!(
        body,
        json!({"referenceId": "ref-1", "state": "CHALLENGE_FAILED", "userId": "user-1",
               "payload": {"agent": "a-7"}})
    );
    assert!(
        request
            .parse_response(response(200, r#"{"success":true}"#))
            .unwrap()
            .success
    );
    assert!(
        !request
            .parse_response(response(200, r#"{"success":false}"#))
            .unwrap()
            .success
    );
}

#[test]
fn finish_call_success_reads_a_bool_or_the_strings_true_and_false() {
    let request = FinishCallRequest::new("ref-1", CallState::ChallengeSucceeded);
    let success = |body: &str| {
        request
            .parse_response(response(200, body))
            .map(|o| o.success)
    };
    // The newest docs type `success` as a boolean, an older revision as a string.
    assert!(success(r#"{"success":true}"#).unwrap());
    assert!(success(r#"{"success":"true"}"#).unwrap());
    assert!(!success(r#"{"success":"false"}"#).unwrap());
    assert!(!success(r#"{"success":false}"#).unwrap());
    assert!(!success(r#"{"success":null}"#).unwrap());
    assert!(!success("{}").unwrap());
    // Anything else is not a success flag.
    for body in [
        r#"{"success":"yes"}"#,
        r#"{"success":1}"#,
        r#"{"success":"TRUE"}"#,
    ] {
        let error = success(body).unwrap_err();
        assert!(
            matches!(error, Error::UnexpectedResponse(_)),
            "{body}: {error:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Secrets stay out of Debug
// ---------------------------------------------------------------------------

#[test]
fn debug_output_never_shows_tokens_or_codes() {
    let secrets = ["SECRET-TOKEN-1", "SECRET-TOKEN-2", "987654"];
    let assert_hidden = |debug: String| {
        for secret in secrets {
            assert!(!debug.contains(secret), "{secret} leaked in {debug}");
        }
        assert!(debug.contains("redacted"), "{debug}");
    };

    assert_hidden(format!("{:?}", VerifyRequest::new("ch-1", "987654")));
    assert_hidden(format!(
        "{:?}",
        CreateSessionRequest::new("client", "SECRET-TOKEN-1")
    ));
    assert_hidden(format!(
        "{:?}",
        ValidateSessionRequest::new("SECRET-TOKEN-1")
    ));
    assert_hidden(format!(
        "{:?}",
        RefreshSessionRequest::new("SECRET-TOKEN-2")
    ));
    assert_hidden(format!("{:?}", RevokeSessionRequest::new("SECRET-TOKEN-1")));
    assert_hidden(format!(
        "{:?}",
        QueryUsersRequest::new().with_token("SECRET-TOKEN-1")
    ));

    let tokens = r#"{"accessToken":"SECRET-TOKEN-1","refreshToken":"SECRET-TOKEN-2"}"#;
    let created = CreateSessionRequest::new("c", "t")
        .parse_response(response(200, tokens))
        .unwrap();
    assert_hidden(format!("{created:?}"));
    let refreshed = RefreshSessionRequest::new("t")
        .parse_response(response(200, tokens))
        .unwrap();
    assert_hidden(format!("{refreshed:?}"));
    let claimed = ClaimChallengeRequest::new("u", "ch")
        .parse_response(response(
            200,
            r#"{"token":"SECRET-TOKEN-1","verificationMethod":"SMS"}"#,
        ))
        .unwrap();
    assert_hidden(format!("{claimed:?}"));

    // Nor in the Debug of a pagination iterator over a token query.
    let client = Client::with_transport(config(), |_: http::Request<Vec<u8>>| {
        Ok::<_, TransportError>(response(200, r#"{"users":[]}"#))
    });
    assert_hidden(format!(
        "{:?}",
        client.query_users_pages(QueryUsersRequest::new().with_token("SECRET-TOKEN-1"))
    ));
}
