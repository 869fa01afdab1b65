//! Offline tests for the documented Server API beyond what the official SDKs
//! offer (the tenant's authenticator configurations, the Terminal API) and
//! for the requests and responses whose shape follows the current docs
//! (challenge resend, claim, the fields the first version lacked, error
//! codes). For each: the exact method, URI, headers and JSON body of the
//! built request, the typed output of the docs' example payloads, and
//! unknown enum values that round-trip.

use std::cell::RefCell;

use authsignal_core::{
    AuthenticatorConfiguration, BatchEnrollAuthenticator, BatchEnrollVerifiedAuthenticatorsRequest,
    ChallengeRequest, ClaimChallengeRequest, Client, Config, CreatePaymentSessionRequest, Endpoint,
    EnrollVerifiedAuthenticatorRequest, Error, ErrorCode, GetActionRequest,
    GetAuthenticatorConfigurationsRequest, GetAuthenticatorsRequest, GetPaymentSessionRequest,
    GetUserRequest, Idempotency, InvalidInput, PaymentSessionStatus, QueryUserActionsRequest,
    Service, SmsChannel, TERMINAL_HEADER, TransportError, UpdateActionRequest, UserActionState,
    VerificationMethod,
    http::{self, Method, header},
};
use base64::Engine as _;
use serde_json::{Value, json};

const SECRET: &str = "sk_test_documented_api";
const API: &str = "https://api.authsignal.com/v1";
const TERMINAL: &str = "term_5f2c9a";

fn config() -> Config {
    Config::builder(SECRET).build().unwrap()
}

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

/// Checks the headers every request carries and returns the credential
/// headers for the caller to check: `(authorization, x-authsignal-terminal)`.
fn common_headers(request: &http::Request<Vec<u8>>) -> (Option<String>, Option<String>) {
    let headers = request.headers();
    assert_eq!(headers[header::USER_AGENT], authsignal_core::USER_AGENT);
    assert_eq!(headers["x-authsignal-version"], authsignal_core::VERSION);
    assert_eq!(headers[header::ACCEPT], "application/json");
    let has_body = !request.body().is_empty();
    assert_eq!(
        headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap()),
        has_body.then_some("application/json"),
        "content-type exactly when there is a body"
    );
    // user-agent, version, accept, one credential, content-type if a body.
    assert_eq!(headers.len(), 4 + usize::from(has_body), "{headers:?}");
    let text = |name: &http::HeaderName| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    (text(&header::AUTHORIZATION), text(&TERMINAL_HEADER))
}

fn server_api_authorization() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SECRET}:"))
    )
}

fn json_body(request: &http::Request<Vec<u8>>) -> Value {
    serde_json::from_slice(request.body()).unwrap()
}

// ---------------------------------------------------------------------------
// GET /authenticators
// ---------------------------------------------------------------------------

/// The docs' example (addendum §1).
const CONFIGURATIONS: &str = r#"[
  {"authenticatorId": "3c0d5a52-7f1e-4c8b-9a61-1d2f0e9b7a10", "verificationMethod": "SMS", "isActive": true,
   "isEditableByUser": true, "isHiddenToUser": false, "smsChannel": "WHATSAPP"},
  {"authenticatorId": "b7e21f04-2d9c-4e55-8f3a-6a4c9d0e1b22", "verificationMethod": "PASSKEY", "isActive": true,
   "isEditableByUser": true, "isHiddenToUser": false},
  {"authenticatorId": "e41a9c77-5b08-4f2d-a3e6-0c8d7b6f5a33", "verificationMethod": "EMAIL_OTP", "isActive": false}
]"#;

#[test]
fn get_authenticator_configurations_is_a_bare_get_with_the_server_api_key() {
    let get = GetAuthenticatorConfigurationsRequest::new();
    assert_eq!(get, GetAuthenticatorConfigurationsRequest::default());
    let request = get.build_request(&config()).unwrap();
    assert_eq!(request.method(), Method::GET);
    assert_eq!(request.uri().to_string(), format!("{API}/authenticators"));
    assert!(request.body().is_empty());
    let (authorization, terminal) = common_headers(&request);
    assert_eq!(authorization, Some(server_api_authorization()));
    assert!(request.headers()[header::AUTHORIZATION].is_sensitive());
    assert_eq!(terminal, None);
    assert_eq!(
        <GetAuthenticatorConfigurationsRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );
    assert_eq!(
        <GetAuthenticatorConfigurationsRequest as Endpoint>::SERVICE,
        Service::Api
    );
    assert_eq!(
        <GetAuthenticatorConfigurationsRequest as Endpoint>::NAME,
        "get_authenticator_configurations"
    );
}

#[test]
fn authenticator_configurations_parse_from_the_docs_example() {
    let configurations: Vec<AuthenticatorConfiguration> =
        GetAuthenticatorConfigurationsRequest::new()
            .parse_response(response(200, CONFIGURATIONS))
            .unwrap();
    assert_eq!(configurations.len(), 3);
    let sms = &configurations[0];
    assert_eq!(sms.authenticator_id, "3c0d5a52-7f1e-4c8b-9a61-1d2f0e9b7a10");
    assert_eq!(sms.verification_method, VerificationMethod::Sms);
    assert!(sms.is_active);
    assert_eq!(sms.is_editable_by_user, Some(true));
    assert_eq!(sms.is_hidden_to_user, Some(false));
    assert_eq!(sms.sms_channel, Some(SmsChannel::Whatsapp));
    let passkey = &configurations[1];
    assert_eq!(passkey.verification_method, VerificationMethod::Passkey);
    assert_eq!(passkey.sms_channel, None);
    let email = &configurations[2];
    assert_eq!(email.verification_method, VerificationMethod::EmailOtp);
    assert!(!email.is_active);
    assert_eq!(email.is_editable_by_user, None);
    assert_eq!(email.is_hidden_to_user, None);

    // An empty tenant.
    let none = GetAuthenticatorConfigurationsRequest::new()
        .parse_response(response(200, "[]"))
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn authenticator_configurations_keep_unknown_methods_and_channels() {
    let body = r#"[{"authenticatorId":"x-1","verificationMethod":"QR_CODE","isActive":true,
        "smsChannel":"RCS","futureField":{"a":1}}]"#;
    let configurations = GetAuthenticatorConfigurationsRequest::new()
        .parse_response(response(200, body))
        .unwrap();
    let only = &configurations[0];
    assert!(only.verification_method.is_unknown());
    assert_eq!(only.verification_method.as_str(), "QR_CODE");
    let channel = only.sms_channel.as_ref().unwrap();
    assert!(channel.is_unknown());
    // Unknown values serialize back unchanged.
    assert_eq!(
        serde_json::to_value(&only.verification_method).unwrap(),
        json!("QR_CODE")
    );
    assert_eq!(serde_json::to_value(channel).unwrap(), json!("RCS"));
    // A required field missing is an unexpected response, not a panic.
    let error = GetAuthenticatorConfigurationsRequest::new()
        .parse_response(response(
            200,
            r#"[{"verificationMethod":"SMS","isActive":true}]"#,
        ))
        .unwrap_err();
    assert!(matches!(error, Error::UnexpectedResponse(_)), "{error:?}");
}

// ---------------------------------------------------------------------------
// Terminal API
// ---------------------------------------------------------------------------

#[test]
fn create_payment_session_posts_amount_reference_and_currency_with_the_terminal_header() {
    let create = CreatePaymentSessionRequest::new(TERMINAL, 42.5, "POS-0093-118", "NZD");
    let request = create.build_request(&config()).unwrap();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(
        request.uri().to_string(),
        format!("{API}/terminal/payment-session")
    );
    let (authorization, terminal) = common_headers(&request);
    assert_eq!(authorization, None, "no Server API key on the Terminal API");
    assert_eq!(terminal.as_deref(), Some(TERMINAL));
    assert!(request.headers()[&TERMINAL_HEADER].is_sensitive());
    assert_eq!(
        json_body(&request),
        json!({"amount": 42.5, "reference": "POS-0093-118", "currency": "NZD"})
    );
    // Whole amounts go out as JSON numbers too.
    let whole = CreatePaymentSessionRequest::new(TERMINAL, 100.0, "POS-2", "AUD")
        .build_request(&config())
        .unwrap();
    assert_eq!(json_body(&whole)["amount"], json!(100.0));

    assert_eq!(
        <CreatePaymentSessionRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );
    assert_eq!(
        <CreatePaymentSessionRequest as Endpoint>::SERVICE,
        Service::Terminal
    );
    assert_eq!(
        <CreatePaymentSessionRequest as Endpoint>::NAME,
        "create_payment_session"
    );
}

#[test]
fn create_payment_session_refuses_an_amount_json_cannot_carry() {
    for amount in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let error = CreatePaymentSessionRequest::new(TERMINAL, amount, "POS-1", "NZD")
            .build_request(&config())
            .unwrap_err();
        match error {
            Error::InvalidInput(InvalidInput::Field { name, .. }) => assert_eq!(name, "amount"),
            other => panic!("{amount}: {other:?}"),
        }
    }
}

#[test]
fn get_payment_session_polls_one_session_by_id() {
    let get = GetPaymentSessionRequest::new(TERMINAL, "9a7c3e21-0b4d-4f6a-8e15-2d3c4b5a6f70");
    let request = get.build_request(&config()).unwrap();
    assert_eq!(request.method(), Method::GET);
    assert_eq!(
        request.uri().to_string(),
        format!("{API}/terminal/payment-session/9a7c3e21-0b4d-4f6a-8e15-2d3c4b5a6f70")
    );
    assert!(request.body().is_empty());
    let (authorization, terminal) = common_headers(&request);
    assert_eq!(authorization, None);
    assert_eq!(terminal.as_deref(), Some(TERMINAL));
    assert_eq!(
        <GetPaymentSessionRequest as Endpoint>::IDEMPOTENCY,
        Idempotency::Idempotent
    );
    assert_eq!(
        <GetPaymentSessionRequest as Endpoint>::SERVICE,
        Service::Terminal
    );

    // The id is one percent-encoded segment; an empty one is refused.
    let odd = GetPaymentSessionRequest::new(TERMINAL, "a/b c")
        .build_request(&config())
        .unwrap();
    assert_eq!(odd.uri().path(), "/v1/terminal/payment-session/a%2Fb%20c");
    for id in ["", ".", ".."] {
        let error = GetPaymentSessionRequest::new(TERMINAL, id)
            .build_request(&config())
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidInput(InvalidInput::PathParameter {
                    name: "challengeId",
                    ..
                })
            ),
            "{id:?}: {error:?}"
        );
    }
}

#[test]
fn payment_sessions_parse_from_the_docs_examples() {
    let created = CreatePaymentSessionRequest::new(TERMINAL, 42.5, "POS-0093-118", "NZD")
        .parse_response(response(
            200,
            r#"{"challengeId": "9a7c3e21-0b4d-4f6a-8e15-2d3c4b5a6f70", "status": "PENDING", "reference": "POS-0093-118"}"#,
        ))
        .unwrap();
    assert_eq!(created.challenge_id, "9a7c3e21-0b4d-4f6a-8e15-2d3c4b5a6f70");
    assert_eq!(created.status, PaymentSessionStatus::Pending);
    assert_eq!(created.reference.as_deref(), Some("POS-0093-118"));
    assert!(!created.status.is_final());

    let polled = GetPaymentSessionRequest::new(TERMINAL, &created.challenge_id)
        .parse_response(response(
            200,
            r#"{"challengeId": "9a7c3e21-0b4d-4f6a-8e15-2d3c4b5a6f70", "status": "COMPLETED", "reference": "POS-0093-118"}"#,
        ))
        .unwrap();
    assert_eq!(polled.status, PaymentSessionStatus::Completed);
    assert!(polled.status.is_final());

    // The reference may be missing; the id and status may not.
    let bare = GetPaymentSessionRequest::new(TERMINAL, "ps-1")
        .parse_response(response(
            200,
            r#"{"challengeId":"ps-1","status":"EXPIRED"}"#,
        ))
        .unwrap();
    assert_eq!(bare.reference, None);
    for body in [r#"{"status":"PENDING"}"#, r#"{"challengeId":"ps-1"}"#] {
        let error = GetPaymentSessionRequest::new(TERMINAL, "ps-1")
            .parse_response(response(200, body))
            .unwrap_err();
        assert!(matches!(error, Error::UnexpectedResponse(_)), "{body}");
    }
}

#[test]
fn payment_session_statuses_are_open() {
    for (wire, status, is_final) in [
        ("PENDING", PaymentSessionStatus::Pending, false),
        ("COMPLETED", PaymentSessionStatus::Completed, true),
        ("EXPIRED", PaymentSessionStatus::Expired, true),
        ("FAILED", PaymentSessionStatus::Failed, true),
    ] {
        assert_eq!(PaymentSessionStatus::from(wire), status);
        assert_eq!(status.as_str(), wire);
        assert_eq!(status.is_final(), is_final, "{wire}");
        assert_eq!(serde_json::to_value(&status).unwrap(), json!(wire));
    }
    let session = GetPaymentSessionRequest::new(TERMINAL, "ps-1")
        .parse_response(response(
            200,
            r#"{"challengeId":"ps-1","status":"REFUNDED"}"#,
        ))
        .unwrap();
    assert!(session.status.is_unknown());
    assert_eq!(session.status.as_str(), "REFUNDED");
    assert_eq!(
        serde_json::to_value(&session.status).unwrap(),
        json!("REFUNDED")
    );
    // A polling loop stops on a status it does not know.
    assert!(session.status.is_final());
}

#[test]
fn a_point_of_sale_starts_a_session_and_polls_it_through_a_client() {
    let seen = RefCell::new(Vec::new());
    let polls = RefCell::new(0);
    let transport =
        |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
            let terminal = request.headers()[&TERMINAL_HEADER]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(!request.headers().contains_key(header::AUTHORIZATION));
            seen.borrow_mut().push((
                request.method().clone(),
                request.uri().path().to_owned(),
                terminal,
            ));
            let body = if request.method() == Method::POST {
                r#"{"challengeId":"ps-9","status":"PENDING","reference":"POS-7"}"#
            } else {
                *polls.borrow_mut() += 1;
                if *polls.borrow() < 3 {
                    r#"{"challengeId":"ps-9","status":"PENDING","reference":"POS-7"}"#
                } else {
                    r#"{"challengeId":"ps-9","status":"COMPLETED","reference":"POS-7"}"#
                }
            };
            Ok(response(200, body))
        };
    let client = Client::with_transport(config(), transport);
    let session = client
        .create_payment_session(CreatePaymentSessionRequest::new(
            "term-A", 9.99, "POS-7", "NZD",
        ))
        .unwrap();
    let mut status = session.status;
    while !status.is_final() {
        status = client
            .get_payment_session(GetPaymentSessionRequest::new(
                "term-A",
                &session.challenge_id,
            ))
            .unwrap()
            .status;
    }
    assert_eq!(status, PaymentSessionStatus::Completed);
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 4);
    assert_eq!(
        seen[0],
        (
            Method::POST,
            "/v1/terminal/payment-session".to_owned(),
            "term-A".to_owned()
        )
    );
    assert!(seen[1..].iter().all(|(m, p, t)| m == Method::GET
        && p == "/v1/terminal/payment-session/ps-9"
        && t == "term-A"));
}

// ---------------------------------------------------------------------------
// POST /challenge: start or resend
// ---------------------------------------------------------------------------

const CHALLENGE_ID: &str = "5d0e8f61-3a2b-4c7d-9e10-7f6a5b4c3d21";

fn invalid_field(error: Error) -> (&'static str, String) {
    match error {
        Error::InvalidInput(InvalidInput::Field { name, reason }) => (name, reason.into_owned()),
        other => panic!("expected InvalidInput::Field, got {other:?}"),
    }
}

#[test]
fn a_resend_sends_the_challenge_id_alone() {
    let resend = ChallengeRequest::resend(CHALLENGE_ID);
    assert_eq!(resend.challenge_id.as_deref(), Some(CHALLENGE_ID));
    assert_eq!(resend.verification_method, None);
    assert_eq!(resend.action, None);
    let request = resend.build_request(&config()).unwrap();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri().to_string(), format!("{API}/challenge"));
    let (authorization, terminal) = common_headers(&request);
    assert_eq!(authorization, Some(server_api_authorization()));
    assert_eq!(terminal, None);
    assert_eq!(json_body(&request), json!({"challengeId": CHALLENGE_ID}));

    // The response is the usual one (the addendum's example).
    let output = resend
        .parse_response(response(
            200,
            r#"{"challengeId": "5d0e8f61-3a2b-4c7d-9e10-7f6a5b4c3d21", "idempotencyKey": "c2b1a098-7f6e-4d5c-b4a3-92817f6e5d4c", "expiresAt": 1764662700}"#,
        ))
        .unwrap();
    assert_eq!(output.challenge_id, CHALLENGE_ID);
    assert_eq!(
        output.idempotency_key.as_deref(),
        Some("c2b1a098-7f6e-4d5c-b4a3-92817f6e5d4c")
    );
    assert_eq!(output.expires_at, 1_764_662_700);
}

#[test]
fn a_resend_may_also_name_the_method_and_action() {
    let request = ChallengeRequest::resend(CHALLENGE_ID)
        .with_verification_method(VerificationMethod::Sms)
        .with_action("signIn")
        .build_request(&config())
        .unwrap();
    assert_eq!(
        json_body(&request),
        json!({"challengeId": CHALLENGE_ID, "verificationMethod": "SMS", "action": "signIn"})
    );
}

#[test]
fn a_start_sends_the_method_and_action_and_no_challenge_id() {
    let start = ChallengeRequest::new(VerificationMethod::Whatsapp, "signIn")
        .with_phone_number("+6421555012");
    assert_eq!(start.challenge_id, None);
    let request = start.build_request(&config()).unwrap();
    assert_eq!(
        json_body(&request),
        json!({"verificationMethod": "WHATSAPP", "action": "signIn", "phoneNumber": "+6421555012"})
    );
}

#[test]
fn a_challenge_is_either_a_start_or_a_resend_never_half_of_one() {
    let mut no_action = ChallengeRequest::new(VerificationMethod::Sms, "signIn");
    no_action.action = None;
    let mut no_method = ChallengeRequest::new(VerificationMethod::Sms, "signIn");
    no_method.verification_method = None;
    let empty_action = ChallengeRequest::new(VerificationMethod::Sms, "");
    let mut neither = ChallengeRequest::resend(CHALLENGE_ID);
    neither.challenge_id = None;
    for (request, field) in [
        (no_action, "action"),
        (no_method, "verificationMethod"),
        (empty_action, "action"),
        (neither, "verificationMethod"),
        (ChallengeRequest::resend(""), "challengeId"),
    ] {
        let (name, reason) = invalid_field(request.build_request(&config()).unwrap_err());
        assert_eq!(name, field, "{request:?}");
        if field != "challengeId" {
            assert!(reason.contains("ChallengeRequest::resend"), "{reason}");
        }
    }
    // Through a client nothing is sent.
    let sent = RefCell::new(0);
    let transport = |_: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        *sent.borrow_mut() += 1;
        Ok(response(200, "{}"))
    };
    let client = Client::with_transport(config(), transport);
    let error = client.challenge(ChallengeRequest::resend("")).unwrap_err();
    assert_eq!(error.attempts(), 0);
    assert_eq!(*sent.borrow(), 0);
}

// ---------------------------------------------------------------------------
// POST /claim: exactly the documented fields
// ---------------------------------------------------------------------------

#[test]
fn claim_sends_exactly_the_documented_fields() {
    let claim = ClaimChallengeRequest::new("usr_8841", CHALLENGE_ID);
    assert_eq!(claim.user_id, "usr_8841", "the user id comes first");
    let request = claim.build_request(&config()).unwrap();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri().to_string(), format!("{API}/claim"));
    assert_eq!(common_headers(&request).0, Some(server_api_authorization()));
    assert_eq!(
        json_body(&request),
        json!({"challengeId": CHALLENGE_ID, "userId": "usr_8841"})
    );
    let skip = ClaimChallengeRequest::new("usr_8841", CHALLENGE_ID)
        .with_skip_verification_check(true)
        .build_request(&config())
        .unwrap();
    let body = json_body(&skip);
    assert_eq!(
        body,
        json!({"challengeId": CHALLENGE_ID, "userId": "usr_8841", "skipVerificationCheck": true})
    );

    let claimed = claim
        .parse_response(response(
            200,
            r#"{"token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c3JfODg0MSJ9.c2lnbmF0dXJl", "verificationMethod": "SMS"}"#,
        ))
        .unwrap();
    assert!(claimed.token.expose_secret().ends_with(".c2lnbmF0dXJl"));
    assert_eq!(claimed.verification_method, Some(VerificationMethod::Sms));
    assert!(!format!("{claimed:?}").contains("c2lnbmF0dXJl"));
}

// ---------------------------------------------------------------------------
// Fields the first version lacked
// ---------------------------------------------------------------------------

#[test]
fn get_user_reads_locale_and_does_without_the_verified_flags() {
    // The docs' example (addendum §6.1).
    let user = GetUserRequest::new("usr_8841")
        .parse_response(response(
            200,
            r#"{"isEnrolled": true, "email": "ana@example.org", "phoneNumber": "+6421555012", "username": "ana@example.org",
                "displayName": "Ana Ruiz", "allowedVerificationMethods": ["SMS", "PASSKEY"], "enrolledVerificationMethods": ["SMS"],
                "defaultVerificationMethod": "SMS", "custom": {"tier": "gold"}, "locale": "es"}"#,
        ))
        .unwrap();
    assert_eq!(user.locale.as_deref(), Some("es"));
    assert_eq!(user.email_verified, None);
    assert_eq!(user.phone_number_verified, None);
    assert_eq!(
        user.enrolled_verification_methods,
        [VerificationMethod::Sms]
    );
    assert_eq!(
        user.default_verification_method,
        Some(VerificationMethod::Sms)
    );
    // `DEVICE` is a method the docs list for the default.
    let device = GetUserRequest::new("u")
        .parse_response(response(
            200,
            r#"{"isEnrolled":true,"defaultVerificationMethod":"DEVICE"}"#,
        ))
        .unwrap();
    assert_eq!(
        device.default_verification_method,
        Some(VerificationMethod::Device)
    );
}

#[test]
fn get_action_reads_rule_ids_and_the_priority_rule() {
    // The docs' example (addendum §6.2).
    let action = GetActionRequest::new("usr_8841", "signIn", "k")
        .parse_response(response(
            200,
            r#"{"state": "CHALLENGE_SUCCEEDED", "createdAt": "2026-11-30T21:04:11.512Z", "stateUpdatedAt": "2026-11-30T21:05:02.090Z",
                "verificationMethod": "PASSKEY", "output": {}, "priorityRuleId": "rule_new_device",
                "ruleIds": ["rule_new_device", "rule_high_amount"],
                "rules": [{"ruleId": "rule_new_device", "name": "New device"}, {"ruleId": "rule_high_amount", "name": "High amount"}]}"#,
        ))
        .unwrap();
    assert_eq!(action.state, UserActionState::ChallengeSucceeded);
    assert_eq!(action.priority_rule_id.as_deref(), Some("rule_new_device"));
    assert_eq!(action.rule_ids, ["rule_new_device", "rule_high_amount"]);
    assert_eq!(action.rules.len(), 2);
    assert_eq!(action.rules[0].name.as_deref(), Some("New device"));
    // `null` lists read as empty.
    let bare = GetActionRequest::new("u", "signIn", "k")
        .parse_response(response(
            200,
            r#"{"state":"ALLOW","ruleIds":null,"priorityRuleId":null}"#,
        ))
        .unwrap();
    assert!(bare.rule_ids.is_empty());
    assert_eq!(bare.priority_rule_id, None);
}

#[test]
fn user_actions_carry_user_agent_ip_address_and_country() {
    // The docs' example (addendum §6.3).
    let actions = QueryUserActionsRequest::new("usr_8841")
        .parse_response(response(
            200,
            r#"[{"actionCode": "signIn", "idempotencyKey": "1f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f", "createdAt": "2026-11-29T08:15:00.000Z",
                 "updatedAt": "2026-11-29T08:15:40.000Z", "state": "CHALLENGE_SUCCEEDED", "stateUpdatedAt": "2026-11-29T08:15:40.000Z",
                 "verificationMethod": "SMS", "verifiedByAuthenticatorId": "a1b2c3d4-0000-4e5f-8a9b-112233445566",
                 "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2)", "ipAddress": "203.0.113.7", "countryCode": "NZ"}]"#,
        ))
        .unwrap();
    let action = &actions[0];
    assert_eq!(
        action.user_agent.as_deref(),
        Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2)")
    );
    assert_eq!(action.ip_address.as_deref(), Some("203.0.113.7"));
    assert_eq!(action.country_code.as_deref(), Some("NZ"));
    assert_eq!(
        action.verified_by_authenticator_id.as_deref(),
        Some("a1b2c3d4-0000-4e5f-8a9b-112233445566")
    );
}

#[test]
fn enroll_sends_a_passkey_with_the_batch_endpoint_field_names() {
    let request =
        EnrollVerifiedAuthenticatorRequest::passkey("usr_8841", "Y3JlZC0x", "pQECAyYgASFYIPr")
            .with_name("MacBook")
            .with_is_default(true)
            .build_request(&config())
            .unwrap();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(
        request.uri().to_string(),
        format!("{API}/users/usr_8841/authenticators")
    );
    assert_eq!(common_headers(&request).0, Some(server_api_authorization()));
    assert_eq!(
        json_body(&request),
        json!({"verificationMethod": "PASSKEY", "credentialId": "Y3JlZC0x",
               "credentialPublicKey": "pQECAyYgASFYIPr", "name": "MacBook", "isDefault": true})
    );
    // The same names as one item of the batch endpoint.
    let batch = BatchEnrollVerifiedAuthenticatorsRequest::new([BatchEnrollAuthenticator::passkey(
        "usr_8841",
        "Y3JlZC0x",
        "pQECAyYgASFYIPr",
    )
    .with_name("MacBook")])
    .build_request(&config())
    .unwrap();
    let item = json_body(&batch)["authenticators"][0].clone();
    for field in ["credentialId", "credentialPublicKey", "name"] {
        assert_eq!(item[field], json_body(&request)[field], "{field}");
    }
}

#[test]
fn enroll_can_still_send_the_deprecated_oob_channel() {
    let request = EnrollVerifiedAuthenticatorRequest::new("u", VerificationMethod::EmailOtp)
        .with_email("ana@example.org")
        .with_oob_channel(VerificationMethod::EmailOtp)
        .build_request(&config())
        .unwrap();
    assert_eq!(
        json_body(&request),
        json!({"verificationMethod": "EMAIL_OTP", "email": "ana@example.org", "oobChannel": "EMAIL_OTP"})
    );
    // Unset, it is not sent.
    let plain = EnrollVerifiedAuthenticatorRequest::new("u", VerificationMethod::Sms)
        .with_phone_number("+6421555012")
        .build_request(&config())
        .unwrap();
    assert_eq!(
        json_body(&plain),
        json!({"verificationMethod": "SMS", "phoneNumber": "+6421555012"})
    );
}

#[test]
fn enroll_reads_recovery_codes_as_secrets_and_their_absence_as_none() {
    // The docs' example (addendum §6.5).
    let enroll = EnrollVerifiedAuthenticatorRequest::new("usr_8841", VerificationMethod::Sms);
    let enrolled = enroll
        .parse_response(response(
            200,
            r#"{"authenticator": {"userAuthenticatorId": "6e5d4c3b-2a19-4087-b6c5-d4e3f2a1b0c9", "userId": "usr_8841",
                  "verificationMethod": "SMS", "phoneNumber": "+6421555012", "createdAt": "2026-12-01T02:10:44.301Z",
                  "verifiedAt": "2026-12-01T02:10:44.301Z"},
                "recoveryCodes": ["k3v9-2mqa", "p8x1-77rd", "z0c4-hh5t"]}"#,
        ))
        .unwrap();
    let codes: Vec<_> = enrolled
        .recovery_codes
        .iter()
        .map(|c| c.expose_secret())
        .collect();
    assert_eq!(codes, ["k3v9-2mqa", "p8x1-77rd", "z0c4-hh5t"]);
    assert!(!format!("{enrolled:?}").contains("k3v9-2mqa"));
    // A tenant may skip or hide them.
    for body in [
        r#"{"authenticator":{"userAuthenticatorId":"a","verificationMethod":"SMS"}}"#,
        r#"{"authenticator":{"userAuthenticatorId":"a","verificationMethod":"SMS"},"recoveryCodes":null}"#,
    ] {
        assert!(
            enroll
                .parse_response(response(200, body))
                .unwrap()
                .recovery_codes
                .is_empty()
        );
    }
}

#[test]
fn previous_sms_channel_is_an_open_enum() {
    // The docs' example (addendum §6.6), then one with a channel not known yet.
    let authenticators = GetAuthenticatorsRequest::new("usr_8841")
        .parse_response(response(
            200,
            r#"[{"userAuthenticatorId": "6e5d4c3b-2a19-4087-b6c5-d4e3f2a1b0c9", "verificationMethod": "SMS", "phoneNumber": "+6421555012",
                 "createdAt": "2026-12-01T02:10:44.301Z", "lastVerifiedAt": "2026-12-01T09:31:02.777Z", "previousSmsChannel": "WHATSAPP"},
                {"userAuthenticatorId": "b", "verificationMethod": "SMS", "previousSmsChannel": "RCS"},
                {"userAuthenticatorId": "c", "verificationMethod": "SMS", "previousSmsChannel": "DEFAULT"},
                {"userAuthenticatorId": "d", "verificationMethod": "PASSKEY"}]"#,
        ))
        .unwrap();
    assert_eq!(
        authenticators[0].previous_sms_channel,
        Some(SmsChannel::Whatsapp)
    );
    assert_eq!(
        authenticators[0].last_verified_at.as_deref(),
        Some("2026-12-01T09:31:02.777Z")
    );
    let unknown = authenticators[1].previous_sms_channel.as_ref().unwrap();
    assert!(unknown.is_unknown());
    assert_eq!(serde_json::to_value(unknown).unwrap(), json!("RCS"));
    assert_eq!(
        authenticators[2].previous_sms_channel,
        Some(SmsChannel::Default)
    );
    assert_eq!(authenticators[3].previous_sms_channel, None);
}

#[test]
fn update_action_decodes_whatever_subset_of_the_action_arrives() {
    let update =
        UpdateActionRequest::new("usr_8841", "signIn", "k", UserActionState::ReviewSucceeded);
    // The request is unchanged: `{"state": …}`.
    let request = update.build_request(&config()).unwrap();
    assert_eq!(request.method(), Method::PATCH);
    assert_eq!(json_body(&request), json!({"state": "REVIEW_SUCCEEDED"}));

    // The docs: a full action object.
    let full = update
        .parse_response(response(
            200,
            r#"{"state":"REVIEW_SUCCEEDED","createdAt":"2026-11-30T21:04:11.512Z","stateUpdatedAt":"2026-11-30T21:09:00.000Z",
                "output":{"note":"ok"},"verificationMethod":"SMS","ruleIds":["rule_review"]}"#,
        ))
        .unwrap();
    assert_eq!(full.state, Some(UserActionState::ReviewSucceeded));
    assert_eq!(full.created_at.as_deref(), Some("2026-11-30T21:04:11.512Z"));
    assert_eq!(
        full.state_updated_at.as_deref(),
        Some("2026-11-30T21:09:00.000Z")
    );
    assert_eq!(full.output, Some(json!({"note": "ok"})));
    assert_eq!(full.verification_method, Some(VerificationMethod::Sms));
    assert_eq!(full.rule_ids, ["rule_review"]);
    // The PHP mock's shape.
    let php = update
        .parse_response(response(
            200,
            r#"{"userId":"usr_8841","action":"signIn","idempotencyKey":"k","state":"REVIEW_SUCCEEDED"}"#,
        ))
        .unwrap();
    assert_eq!(php.user_id.as_deref(), Some("usr_8841"));
    assert_eq!(php.action.as_deref(), Some("signIn"));
    assert_eq!(php.idempotency_key.as_deref(), Some("k"));
    // Nothing at all, or nulls: still a success.
    for body in ["{}", r#"{"state":null,"ruleIds":null,"output":null}"#] {
        let empty = update.parse_response(response(200, body)).unwrap();
        assert_eq!(empty.state, None, "{body}");
        assert!(empty.rule_ids.is_empty());
    }
    // An unknown state round-trips.
    let future = update
        .parse_response(response(200, r#"{"state":"ESCALATED"}"#))
        .unwrap();
    assert_eq!(
        future.state.as_ref().map(UserActionState::as_str),
        Some("ESCALATED")
    );
}

// ---------------------------------------------------------------------------
// Error codes
// ---------------------------------------------------------------------------

#[test]
fn every_known_error_code_maps_to_its_variant() {
    let codes = [
        (400, "invalid_request", ErrorCode::InvalidRequest),
        (401, "unauthorized", ErrorCode::Unauthorized),
        (404, "not_found", ErrorCode::NotFound),
        (422, "invalid_request_token", ErrorCode::InvalidRequestToken),
        (429, "too_many_requests", ErrorCode::TooManyRequests),
        (
            400,
            "invalid_configuration",
            ErrorCode::InvalidConfiguration,
        ),
        (400, "invalid_credential", ErrorCode::InvalidCredential),
        (409, "conflict", ErrorCode::Conflict),
    ];
    for (status, wire, code) in codes {
        assert_eq!(ErrorCode::from(wire), code);
        assert_eq!(code.as_str(), wire);
        assert!(!code.is_unknown(), "{wire}");
        // As the raw error body carries it: both `error` and `errorCode`.
        let body = format!(
            r#"{{"error":"{wire}","errorCode":"{wire}","errorDescription":"body.verificationMethod must be equal to one of the allowed values"}}"#
        );
        let error = GetUserRequest::new("u")
            .parse_response(response(status, &body))
            .unwrap_err();
        assert_eq!(error.code(), Some(&code), "{wire}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
    }
    // A code this version does not know keeps its text.
    let error = GetUserRequest::new("u")
        .parse_response(response(403, r#"{"errorCode":"forbidden_region"}"#))
        .unwrap_err();
    let code = error.code().unwrap();
    assert!(code.is_unknown());
    assert_eq!(code.as_str(), "forbidden_region");
    assert_eq!(
        serde_json::to_value(code).unwrap(),
        json!("forbidden_region")
    );
}

#[test]
fn a_batch_failure_carries_a_typed_error_code() {
    let outcome = BatchEnrollVerifiedAuthenticatorsRequest::new([BatchEnrollAuthenticator::passkey(
        "u", "c", "k",
    )])
    .parse_response(response(
        200,
        r#"{"total":3,"succeeded":1,"failed":2,"failures":[
            {"userId":"u2","credentialId":"c2","errorCode":"conflict","errorDescription":"Credential already exists for a different user."},
            {"userId":"u3","credentialId":"c3","errorCode":"credential_revoked"}]}"#,
    ))
    .unwrap();
    assert_eq!(outcome.failures[0].error_code, Some(ErrorCode::Conflict));
    let unknown = outcome.failures[1].error_code.as_ref().unwrap();
    assert_eq!(unknown.as_str(), "credential_revoked");
    assert!(unknown.is_unknown());
}
