//! Every endpoint beyond the first ten, run through `authsignal_ureq::Client`
//! against a mockito server: the mock checks method, exact path, query,
//! `authorization` header and JSON body; the test checks the typed output.
//! Also the users pagination helper over real HTTP, including a failing page.
//!
//! The ureq crate knows no endpoint: these all come from `authsignal-core`.

use authsignal_ureq::{
    AuthScope, BatchEnrollAuthenticator, BatchEnrollVerifiedAuthenticatorsRequest,
    CallConnectMessageChannel, CallState, ChallengeRequest, ClaimChallengeRequest, Client, Config,
    CreateSessionRequest, FinishCallRequest, FromConfig, GetChallengeRequest, GetDevicesRequest,
    InvalidateDeviceRequest, QueryUserActionsRequest, QueryUsersRequest, RefreshSessionRequest,
    RetryPolicy, RevokeSessionRequest, RevokeUserSessionsRequest, SmsChannel, StartCallRequest,
    UpdateDeviceRequest, UserActionState, ValidateSessionRequest, VerificationFailureReason,
    VerificationMethod, VerifyRequest,
};
use mockito::{Matcher, Mock, Server, ServerGuard};
use serde_json::json;

const SECRET: &str = "sk_test_full_api_ureq";
/// `Basic base64("sk_test_full_api_ureq:")`.
const AUTHORIZATION: &str = "Basic c2tfdGVzdF9mdWxsX2FwaV91cmVxOg==";
/// Call Connect's own key and `Basic base64("sk_test_call_connect_ureq:")`.
const CALL_CONNECT_SECRET: &str = "sk_test_call_connect_ureq";
const CALL_CONNECT_AUTHORIZATION: &str = "Basic c2tfdGVzdF9jYWxsX2Nvbm5lY3RfdXJlcTo=";

/// A client whose Server API and Call Connect hosts are both `server`; no
/// retries, so an unexpected failure shows at once.
fn client(server: &ServerGuard) -> Client {
    let config = Config::builder(SECRET)
        .with_base_url(server.url())
        .with_call_connect_url(server.url())
        .with_retry_policy(RetryPolicy::no_retries())
        .build()
        .unwrap();
    Client::from_config(config, Default::default()).unwrap()
}

/// A mock for `method path` that requires our auth header and, for
/// requests without a body, no content type.
fn mock(server: &mut ServerGuard, method: &str, path: &str) -> Mock {
    server
        .mock(method, path)
        .match_header("authorization", AUTHORIZATION)
        .match_header("x-authsignal-version", authsignal_ureq::VERSION)
        .match_header("accept", "application/json")
}

/// A mock for a request with a JSON body equal to `body`.
fn mock_json(server: &mut ServerGuard, method: &str, path: &str, body: serde_json::Value) -> Mock {
    mock(server, method, path)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(body))
}

fn no_body(mock: Mock) -> Mock {
    mock.match_header("content-type", Matcher::Missing)
        .match_body("")
}

fn reply(mock: Mock, status: usize, body: &str) -> Mock {
    mock.with_status(status)
        .with_header("content-type", "application/json")
        .with_body(body)
        .create()
}

// ---------------------------------------------------------------------------
// Users: query and pagination
// ---------------------------------------------------------------------------

#[test]
fn query_users_sends_all_filters() {
    let mut server = Server::new();
    let m = no_body(mock(&mut server, "GET", "/users")).match_query(Matcher::Exact(
        "username=testuser&email=test%40example.com&phoneNumber=%2B1234567890&token=some-token\
         &limit=5&lastEvaluatedUserId=user-2"
            .into(),
    ));
    let m = reply(
        m,
        200,
        r#"{"users":[{"userId":"user-3","email":"test@example.com","emailVerified":true,
            "phoneNumber":"+1234567890","phoneNumberVerified":true,"username":"testuser"}],
            "lastEvaluatedUserId":"user-3","tokenPayload":{"sub":"user-3"}}"#,
    );
    let page = client(&server)
        .query_users(
            QueryUsersRequest::new()
                .with_username("testuser")
                .with_email("test@example.com")
                .with_phone_number("+1234567890")
                .with_token("some-token")
                .with_limit(5u32)
                .with_last_evaluated_user_id("user-2"),
        )
        .unwrap();
    m.assert();
    assert_eq!(page.users.len(), 1);
    assert_eq!(page.users[0].user_id, "user-3");
    assert_eq!(page.users[0].email_verified, Some(true));
    assert_eq!(page.users[0].phone_number_verified, Some(true));
    assert_eq!(page.users[0].username.as_deref(), Some("testuser"));
    assert_eq!(page.last_evaluated_user_id.as_deref(), Some("user-3"));
    assert_eq!(page.token_payload, Some(json!({"sub": "user-3"})));
}

#[test]
fn query_users_with_one_filter_sends_only_that_one() {
    let mut server = Server::new();
    let m = no_body(mock(&mut server, "GET", "/users")).match_query(Matcher::AllOf(vec![
        Matcher::UrlEncoded("email".into(), "test@example.com".into()),
        Matcher::Exact("email=test%40example.com".into()),
    ]));
    let m = reply(m, 200, r#"{"users":[]}"#);
    let page = client(&server)
        .query_users(QueryUsersRequest::new().with_email("test@example.com"))
        .unwrap();
    m.assert();
    assert!(page.users.is_empty());
    assert_eq!(page.last_evaluated_user_id, None);
}

fn page_mock(server: &mut ServerGuard, query: &str, status: usize, body: &str) -> Mock {
    let m = no_body(mock(server, "GET", "/users")).match_query(Matcher::Exact(query.into()));
    reply(m, status, body)
}

#[test]
fn pagination_walks_three_pages_and_stops() {
    let mut server = Server::new();
    let pages = [
        page_mock(
            &mut server,
            "email=a%40example.com&limit=2",
            200,
            r#"{"users":[{"userId":"user-1"},{"userId":"user-2"}],"lastEvaluatedUserId":"user-2"}"#,
        ),
        page_mock(
            &mut server,
            "email=a%40example.com&limit=2&lastEvaluatedUserId=user-2",
            200,
            r#"{"users":[{"userId":"user-3"},{"userId":"user-4"}],"lastEvaluatedUserId":"user-4"}"#,
        ),
        page_mock(
            &mut server,
            "email=a%40example.com&limit=2&lastEvaluatedUserId=user-4",
            200,
            r#"{"users":[{"userId":"user-5"}]}"#,
        ),
    ];
    let client = client(&server);
    let request = QueryUsersRequest::new()
        .with_email("a@example.com")
        .with_limit(2u32);

    let mut iter = client.query_users_pages(request.clone());
    let sizes: Vec<usize> = iter
        .by_ref()
        .map(|page| page.unwrap().users.len())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    assert!(iter.next().is_none());
    for page in &pages {
        page.assert();
    }

    let ids = client
        .query_users_pages(request)
        .users()
        .map(|user| user.map(|u| u.user_id))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(ids, ["user-1", "user-2", "user-3", "user-4", "user-5"]);
}

#[test]
fn pagination_yields_page_one_then_the_error_then_nothing() {
    let mut server = Server::new();
    let first = page_mock(
        &mut server,
        "email=a%40example.com",
        200,
        r#"{"users":[{"userId":"user-1"},{"userId":"user-2"}],"lastEvaluatedUserId":"user-2"}"#,
    );
    let failing = page_mock(
        &mut server,
        "email=a%40example.com&lastEvaluatedUserId=user-2",
        500,
        r#"{"error":"internal_error","errorDescription":"Something went wrong"}"#,
    )
    .expect(1);
    let client = client(&server);
    let mut iter = client.query_users_pages(QueryUsersRequest::new().with_email("a@example.com"));

    let page = iter.next().unwrap().unwrap();
    assert_eq!(
        page.users
            .iter()
            .map(|u| u.user_id.as_str())
            .collect::<Vec<_>>(),
        ["user-1", "user-2"]
    );
    let error = iter.next().unwrap().unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(error.code().map(|c| c.as_str()), Some("internal_error"));
    assert!(iter.next().is_none());
    assert!(iter.next().is_none());
    first.assert();
    failing.assert();
}

// ---------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------

#[test]
fn query_user_actions_filters_by_date_codes_and_state() {
    let mut server = Server::new();
    let m = no_body(mock(&mut server, "GET", "/users/a%2Fb/actions")).match_query(Matcher::AllOf(
        vec![
            Matcher::UrlEncoded("fromDate".into(), "2024-05-01T00:00:00Z".into()),
            Matcher::UrlEncoded("codes".into(), "signIn,withdraw".into()),
            Matcher::UrlEncoded("state".into(), "CHALLENGE_REQUIRED".into()),
            Matcher::Regex("codes=signIn%2Cwithdraw".into()),
        ],
    ));
    let m = reply(
        m,
        200,
        r#"[{"actionCode":"signIn","idempotencyKey":"5924a649-b5d3-4baf-a4ab-4b812dde97a0",
            "createdAt":"2024-05-02T10:00:00.000Z","state":"CHALLENGE_REQUIRED",
            "stateUpdatedAt":"2024-05-02T10:00:00.000Z"}]"#,
    );
    let actions = client(&server)
        .query_user_actions(
            QueryUserActionsRequest::new("a/b")
                .with_from_date("2024-05-01T00:00:00Z")
                .with_codes(["signIn", "withdraw"])
                .with_state(UserActionState::ChallengeRequired),
        )
        .unwrap();
    m.assert();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].action_code, "signIn");
    assert_eq!(
        actions[0].idempotency_key,
        "5924a649-b5d3-4baf-a4ab-4b812dde97a0"
    );
    assert_eq!(actions[0].state, UserActionState::ChallengeRequired);
    assert_eq!(actions[0].verification_method, None);
}

// ---------------------------------------------------------------------------
// Authenticators: batch enroll
// ---------------------------------------------------------------------------

#[test]
fn batch_enroll_posts_authenticators_and_reads_failures() {
    let mut server = Server::new();
    let m = mock_json(
        &mut server,
        "POST",
        "/users/authenticators",
        json!({"authenticators": [
            {"userId": "user-123", "verificationMethod": "PASSKEY",
             "credentialId": "dGVzdC1jcmVkZW50aWFsLWlk", "credentialPublicKey": "pQECAyYgASFYIPr",
             "name": "iPhone"},
            {"userId": "user-456", "verificationMethod": "PASSKEY",
             "credentialId": "YW5vdGhlci1jcmVkZW50aWFs", "credentialPublicKey": "pQECAyYgASFYIKm"}
        ]}),
    );
    let m = reply(
        m,
        200,
        r#"{"total":3,"succeeded":2,"failed":1,"failures":[{"userId":"user-789",
            "credentialId":"Y29uZmxpY3RpbmctY3JlZA","errorCode":"conflict",
            "errorDescription":"Credential already exists for a different user."}]}"#,
    );
    let output = client(&server)
        .batch_enroll_verified_authenticators(BatchEnrollVerifiedAuthenticatorsRequest::new([
            BatchEnrollAuthenticator::passkey(
                "user-123",
                "dGVzdC1jcmVkZW50aWFsLWlk",
                "pQECAyYgASFYIPr",
            )
            .with_name("iPhone"),
            BatchEnrollAuthenticator::passkey(
                "user-456",
                "YW5vdGhlci1jcmVkZW50aWFs",
                "pQECAyYgASFYIKm",
            ),
        ]))
        .unwrap();
    m.assert();
    assert_eq!((output.total, output.succeeded, output.failed), (3, 2, 1));
    assert_eq!(output.failures[0].user_id, "user-789");
    assert_eq!(
        output.failures[0].error_code,
        Some(authsignal_ureq::ErrorCode::Conflict)
    );
}

#[test]
fn batch_enroll_with_no_authenticators_sends_nothing() {
    let mut server = Server::new();
    let m = server.mock("POST", Matcher::Any).expect(0).create();
    let error = client(&server)
        .batch_enroll_verified_authenticators(BatchEnrollVerifiedAuthenticatorsRequest::new([]))
        .unwrap_err();
    assert!(
        matches!(error, authsignal_ureq::Error::InvalidInput(_)),
        "{error:?}"
    );
    m.assert();
}

// ---------------------------------------------------------------------------
// Challenges
// ---------------------------------------------------------------------------

#[test]
fn challenge_verify_claim_and_get_challenge() {
    let mut server = Server::new();
    let challenge = mock_json(
        &mut server,
        "POST",
        "/challenge",
        json!({"verificationMethod": "SMS", "action": "signIn", "phoneNumber": "+6427123456",
               "smsChannel": "WHATSAPP", "scope": "add:authenticators update:authenticators"}),
    );
    let challenge = reply(
        challenge,
        200,
        r#"{"challengeId":"ch-1","idempotencyKey":"idem-1","expiresAt":1735689600}"#,
    );
    let verify = mock_json(
        &mut server,
        "POST",
        "/verify",
        json!({"challengeId": "ch-1", "verificationCode": "123456"}),
    );
    let verify = reply(
        verify,
        200,
        r#"{"isVerified":false,"failureReason":"CODE_INVALID_OR_EXPIRED"}"#,
    );
    let claim = mock_json(
        &mut server,
        "POST",
        "/claim",
        json!({"challengeId": "ch-1", "userId": "user-1"}),
    );
    let claim = reply(
        claim,
        200,
        r#"{"token":"eyJhbGciOiJIUzI1NiJ9.claim","verificationMethod":"SMS"}"#,
    );
    let get = no_body(mock(&mut server, "GET", "/challenges")).match_query(Matcher::Exact(
        "challengeId=ch-1&userId=user-1&action=signIn&verificationMethod=SMS".into(),
    ));
    let get = reply(
        get,
        200,
        r#"{"challengeId":"ch-1","expiresAt":1735689600,"verificationMethod":"SMS",
            "smsChannel":"WHATSAPP","phoneNumber":"+6427123456","action":"signIn"}"#,
    );
    let client = client(&server);

    let started = client
        .challenge(
            ChallengeRequest::new(VerificationMethod::Sms, "signIn")
                .with_phone_number("+6427123456")
                .with_sms_channel(SmsChannel::Whatsapp)
                .with_scopes([
                    AuthScope::AddAuthenticators,
                    AuthScope::UpdateAuthenticators,
                ]),
        )
        .unwrap();
    assert_eq!(started.challenge_id, "ch-1");
    assert_eq!(started.idempotency_key.as_deref(), Some("idem-1"));
    assert_eq!(started.expires_at, 1_735_689_600);

    let verified = client.verify(VerifyRequest::new("ch-1", "123456")).unwrap();
    assert!(!verified.is_verified);
    assert_eq!(
        verified.failure_reason,
        Some(VerificationFailureReason::CodeInvalidOrExpired)
    );

    let claimed = client
        .claim_challenge(ClaimChallengeRequest::new("user-1", "ch-1"))
        .unwrap();
    assert_eq!(claimed.token.expose_secret(), "eyJhbGciOiJIUzI1NiJ9.claim");
    assert_eq!(claimed.verification_method, Some(VerificationMethod::Sms));

    let found = client
        .get_challenge(
            GetChallengeRequest::new()
                .with_challenge_id("ch-1")
                .with_user_id("user-1")
                .with_action("signIn")
                .with_verification_method(VerificationMethod::Sms),
        )
        .unwrap();
    assert_eq!(found.challenge_id.as_deref(), Some("ch-1"));
    assert_eq!(found.expires_at, Some(1_735_689_600));
    assert_eq!(found.sms_channel, Some(SmsChannel::Whatsapp));
    assert_eq!(found.action.as_deref(), Some("signIn"));

    for m in [challenge, verify, claim, get] {
        m.assert();
    }
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

#[test]
fn session_lifecycle() {
    let mut server = Server::new();
    let create = mock_json(
        &mut server,
        "POST",
        "/sessions",
        json!({"clientId": "web", "token": "eyJ.challenge", "action": "signIn"}),
    );
    let create = reply(
        create,
        200,
        r#"{"accessToken":"at-1","refreshToken":"rt-1"}"#,
    );
    let validate = mock_json(
        &mut server,
        "POST",
        "/sessions/validate",
        json!({"accessToken": "at-1", "clientIds": ["web"]}),
    );
    let validate = reply(
        validate,
        200,
        r#"{"user":{"userId":"user-1","email":"test@example.com","displayName":"Test User"},
            "expiresAt":1735689600,"verificationMethod":"EMAIL_OTP"}"#,
    );
    let refresh = mock_json(
        &mut server,
        "POST",
        "/sessions/refresh",
        json!({"refreshToken": "rt-1"}),
    );
    let refresh = reply(
        refresh,
        200,
        r#"{"accessToken":"at-2","refreshToken":"rt-2"}"#,
    );
    let revoke = mock_json(
        &mut server,
        "POST",
        "/sessions/revoke",
        json!({"accessToken": "at-2"}),
    );
    let revoke = reply(revoke, 200, r#"{"success":true}"#);
    let revoke_all = mock_json(
        &mut server,
        "POST",
        "/sessions/user/revoke",
        json!({"userId": "user-1"}),
    );
    let revoke_all = reply(revoke_all, 200, "");
    let client = client(&server);

    let tokens = client
        .create_session(CreateSessionRequest::new("web", "eyJ.challenge").with_action("signIn"))
        .unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "at-1");
    assert_eq!(tokens.refresh_token.expose_secret(), "rt-1");

    let session = client
        .validate_session(ValidateSessionRequest::new(tokens.access_token).with_client_ids(["web"]))
        .unwrap();
    assert_eq!(session.user.user_id, "user-1");
    assert_eq!(
        session.user.attributes.email.as_deref(),
        Some("test@example.com")
    );
    assert_eq!(
        session.user.attributes.display_name.as_deref(),
        Some("Test User")
    );
    assert_eq!(session.expires_at, 1_735_689_600);
    assert_eq!(
        session.verification_method,
        Some(VerificationMethod::EmailOtp)
    );

    let rotated = client
        .refresh_session(RefreshSessionRequest::new(tokens.refresh_token))
        .unwrap();
    assert_eq!(rotated.access_token.expose_secret(), "at-2");
    assert_eq!(rotated.refresh_token.expose_secret(), "rt-2");

    client
        .revoke_session(RevokeSessionRequest::new(rotated.access_token))
        .unwrap();
    client
        .revoke_user_sessions(RevokeUserSessionsRequest::new("user-1"))
        .unwrap();

    for m in [create, validate, refresh, revoke, revoke_all] {
        m.assert();
    }
}

// ---------------------------------------------------------------------------
// Devices
// ---------------------------------------------------------------------------

const DEVICE: &str = r#"{"userId":"user 1","deviceId":"dev/1","createdAt":"2023-11-07T05:31:56Z",
    "authenticatedAt":"2023-11-07T05:31:56Z","rememberedUntil":"2030-01-01T00:00:00Z",
    "lastVerificationMethod":"PASSKEY"}"#;

#[test]
fn devices_list_update_and_invalidate() {
    let mut server = Server::new();
    let list = no_body(mock(&mut server, "GET", "/users/user%201/devices"));
    let list = reply(list, 200, &format!("[{DEVICE}]"));
    let remember = mock_json(
        &mut server,
        "PATCH",
        "/users/user%201/devices/dev%2F1",
        json!({"rememberedUntil": "2030-01-01T00:00:00Z"}),
    );
    let remember = reply(remember, 200, DEVICE);
    let forget = mock(&mut server, "PATCH", "/users/user%201/devices/dev%2F1")
        .match_header("content-type", "application/json")
        .match_body(Matcher::AllOf(vec![
            Matcher::Json(json!({"rememberedUntil": null})),
            Matcher::Regex(r#""rememberedUntil"\s*:\s*null"#.into()),
        ]));
    let forget = reply(
        forget,
        200,
        r#"{"userId":"user 1","deviceId":"dev/1","createdAt":"2023-11-07T05:31:56Z"}"#,
    );
    let invalidate = no_body(mock(
        &mut server,
        "POST",
        "/users/user%201/devices/dev%2F1/invalidate",
    ));
    let invalidate = reply(
        invalidate,
        200,
        r#"{"userId":"user 1","deviceId":"dev/1","createdAt":"2023-11-07T05:31:56Z",
            "invalidatedAt":"2024-01-01T00:00:00Z"}"#,
    );
    let client = client(&server);

    let devices = client
        .get_devices(GetDevicesRequest::new("user 1"))
        .unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].device_id, "dev/1");
    assert_eq!(
        devices[0].last_verification_method,
        Some(VerificationMethod::Passkey)
    );

    let remembered = client
        .update_device(UpdateDeviceRequest::remember_until(
            "user 1",
            "dev/1",
            "2030-01-01T00:00:00Z",
        ))
        .unwrap();
    assert_eq!(
        remembered.remembered_until.as_deref(),
        Some("2030-01-01T00:00:00Z")
    );
    remember.assert();

    let forgotten = client
        .update_device(UpdateDeviceRequest::forget("user 1", "dev/1"))
        .unwrap();
    assert_eq!(forgotten.remembered_until, None);
    forget.assert();

    let invalidated = client
        .invalidate_device(InvalidateDeviceRequest::new("user 1", "dev/1"))
        .unwrap();
    assert_eq!(
        invalidated.invalidated_at.as_deref(),
        Some("2024-01-01T00:00:00Z")
    );

    list.assert();
    invalidate.assert();
}

// ---------------------------------------------------------------------------
// Call Connect
// ---------------------------------------------------------------------------

#[test]
fn call_connect_start_and_finish_use_the_call_connect_host() {
    let mut api = Server::new();
    let mut connect = Server::new();
    let nothing_on_api = api.mock("POST", Matcher::Any).expect(0).create();
    // Call Connect gets its own key, never the Server API key.
    let mut call_connect = |path: &str, body: serde_json::Value| {
        connect
            .mock("POST", path)
            .match_header("authorization", CALL_CONNECT_AUTHORIZATION)
            .match_header("x-authsignal-version", authsignal_ureq::VERSION)
            .match_header("accept", "application/json")
            .match_header("content-type", "application/json")
            .match_body(Matcher::Json(body))
    };
    let start = call_connect(
        "/call/start",
        json!({"referenceId": "ref-1", "phoneNumber": "+6427123456", "channel": "WHATSAPP"}),
    );
    let start = reply(
        start,
        200,
        r#"{"messageId":"msg-1","channel":"WHATSAPP","phoneNumber":"+6427123456"}"#,
    );
    let finish = call_connect(
        "/call/finish",
        json!({"referenceId": "ref-1", "state": "CHALLENGE_SUCCEEDED", "userId": "user-1"}),
    );
    let finish = reply(finish, 200, r#"{"success":true}"#);

    let config = Config::builder(SECRET)
        .with_base_url(api.url())
        .with_call_connect_url(connect.url())
        .with_call_connect_secret(CALL_CONNECT_SECRET)
        .with_retry_policy(RetryPolicy::no_retries())
        .build()
        .unwrap();
    let client = Client::from_config(config, Default::default()).unwrap();

    let started = client
        .start_call(
            StartCallRequest::new("ref-1")
                .with_phone_number("+6427123456")
                .with_channel(CallConnectMessageChannel::Whatsapp),
        )
        .unwrap();
    assert_eq!(started.message_id.as_deref(), Some("msg-1"));
    assert_eq!(started.channel, Some(CallConnectMessageChannel::Whatsapp));
    assert_eq!(started.error, None);

    let finished = client
        .finish_call(
            FinishCallRequest::new("ref-1", CallState::ChallengeSucceeded).with_user_id("user-1"),
        )
        .unwrap();
    assert!(finished.success);

    start.assert();
    finish.assert();
    nothing_on_api.assert();
}
