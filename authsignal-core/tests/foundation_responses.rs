//! Offline response-parsing tests for the ten foundation endpoints: realistic
//! bodies decode into typed outputs, open enums keep unknown values, unknown
//! fields and explicit nulls are tolerated, and secrets stay out of `Debug`.

use authsignal_core::{
    DeleteAuthenticatorRequest, DeleteUserRequest, Endpoint, EnrollVerifiedAuthenticatorRequest,
    Error, GetActionRequest, GetAuthenticatorsRequest, GetUserRequest, SmsChannel, TrackRequest,
    UpdateActionRequest, UpdateUserRequest, UserActionState, ValidateChallengeRequest,
    VerificationMethod, http,
};
use serde_json::json;

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn ok(body: &str) -> http::Response<Vec<u8>> {
    response(200, body)
}

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLXZhbHVl";
const URL: &str = "https://acme.authsignal.com/challenge?token=eyJhbGciOiJIUzI1NiJ9.url-token-part";

fn track_challenge_body() -> String {
    json!({
        "state": "CHALLENGE_REQUIRED",
        "idempotencyKey": "5924a649-b5d3-4baf-a4ab-4b812dde97a0",
        "url": URL,
        "token": TOKEN,
        "isEnrolled": true,
        "enrolledVerificationMethods": ["SMS", "PASSKEY"],
        "allowedVerificationMethods": ["SMS", "EMAIL_OTP", "PASSKEY"],
        "defaultVerificationMethod": "SMS",
        "ruleIds": ["rule-1", "rule-2"]
    })
    .to_string()
}

// ---------------------------------------------------------------------------
// The ten endpoints
// ---------------------------------------------------------------------------

#[test]
fn track_challenge_required() {
    let output = TrackRequest::new("user123", "signIn")
        .parse_response(ok(&track_challenge_body()))
        .unwrap();
    assert_eq!(output.state, UserActionState::ChallengeRequired);
    assert_eq!(
        output.idempotency_key,
        "5924a649-b5d3-4baf-a4ab-4b812dde97a0"
    );
    assert_eq!(output.url.expose_secret(), URL);
    assert_eq!(output.token.expose_secret(), TOKEN);
    assert!(output.is_enrolled);
    assert_eq!(
        output.enrolled_verification_methods,
        [VerificationMethod::Sms, VerificationMethod::Passkey]
    );
    assert_eq!(
        output.allowed_verification_methods,
        [
            VerificationMethod::Sms,
            VerificationMethod::EmailOtp,
            VerificationMethod::Passkey
        ]
    );
    assert_eq!(
        output.default_verification_method,
        Some(VerificationMethod::Sms)
    );
    assert_eq!(output.rule_ids, ["rule-1", "rule-2"]);
}

#[test]
fn track_allow_with_the_minimal_php_fixture() {
    let output = TrackRequest::new("123:test", "signIn")
        .parse_response(ok(
            r#"{"state":"ALLOW","idempotencyKey":"5924a649-b5d3-4baf-a4ab-4b812dde97a0","ruleIds":[]}"#,
        ))
        .unwrap();
    assert_eq!(output.state, UserActionState::Allow);
    assert_eq!(
        output.idempotency_key,
        "5924a649-b5d3-4baf-a4ab-4b812dde97a0"
    );
    assert_eq!(output.token.expose_secret(), "");
    assert_eq!(output.url.expose_secret(), "");
    assert!(!output.is_enrolled);
    assert!(output.rule_ids.is_empty());
    assert!(output.allowed_verification_methods.is_empty());
    assert_eq!(output.default_verification_method, None);
}

#[test]
fn get_action_with_rules_and_output() {
    let body = json!({
        "state": "CHALLENGE_SUCCEEDED",
        "idempotencyKey": "5924a649-b5d3-4baf-a4ab-4b812dde97a0",
        "stateUpdatedAt": "2022-07-25T03:19:00.316Z",
        "createdAt": "2022-07-25T03:18:00.000Z",
        "verificationMethod": "PASSKEY",
        "rules": [
            {"ruleId": "r-1", "name": "High risk country", "description": "Challenge users abroad"},
            {"ruleId": "r-2", "name": "New device", "metadata": {"score": 0.9}}
        ],
        "output": {"riskScore": 42, "tags": ["vpn"]},
        "ruleIds": ["r-1", "r-2"]
    });
    let output =
        GetActionRequest::new("123:test", "signIn", "5924a649-b5d3-4baf-a4ab-4b812dde97a0")
            .parse_response(ok(&body.to_string()))
            .unwrap();
    assert_eq!(output.state, UserActionState::ChallengeSucceeded);
    assert_eq!(
        output.state_updated_at.as_deref(),
        Some("2022-07-25T03:19:00.316Z")
    );
    assert_eq!(
        output.created_at.as_deref(),
        Some("2022-07-25T03:18:00.000Z")
    );
    assert_eq!(
        output.verification_method,
        Some(VerificationMethod::Passkey)
    );
    assert_eq!(
        output.idempotency_key.as_deref(),
        Some("5924a649-b5d3-4baf-a4ab-4b812dde97a0")
    );
    assert_eq!(output.rules.len(), 2);
    assert_eq!(output.rules[0].rule_id.as_deref(), Some("r-1"));
    assert_eq!(output.rules[0].name.as_deref(), Some("High risk country"));
    assert_eq!(
        output.rules[0].description.as_deref(),
        Some("Challenge users abroad")
    );
    assert_eq!(output.rules[0].metadata, None);
    assert_eq!(output.rules[1].description, None);
    assert_eq!(output.rules[1].metadata, Some(json!({"score": 0.9})));
    assert_eq!(
        output.output,
        Some(json!({"riskScore": 42, "tags": ["vpn"]}))
    );
}

#[test]
fn get_action_with_the_php_fixture() {
    let output = GetActionRequest::new("123:test", "signIn", "k")
        .parse_response(ok(r#"{"state":"ALLOW","idempotencyKey":"5924a649-b5d3-4baf-a4ab-4b812dde97a0","stateUpdatedAt":"2022-07-25T03:19:00.316Z","createdAt":"2022-07-25T03:19:00.316Z","ruleIds":[]}"#))
        .unwrap();
    assert_eq!(output.state, UserActionState::Allow);
    assert!(output.rules.is_empty());
    assert_eq!(output.output, None);
    assert_eq!(output.verification_method, None);
}

#[test]
fn update_action_returns_the_new_state() {
    let output = UpdateActionRequest::new("123:test", "signIn", "k", UserActionState::ChallengeFailed)
        .parse_response(ok(r#"{"userId":"123:test","action":"signIn","idempotencyKey":"5924a649-b5d3-4baf-a4ab-4b812dde97a0","state":"CHALLENGE_FAILED"}"#))
        .unwrap();
    assert_eq!(output.state, Some(UserActionState::ChallengeFailed));
    let output = UpdateActionRequest::new("u", "signIn", "k", UserActionState::Block)
        .parse_response(ok(r#"{"state":"BLOCK"}"#))
        .unwrap();
    assert_eq!(output.state, Some(UserActionState::Block));
}

#[test]
fn validate_challenge_with_action_only() {
    let output = ValidateChallengeRequest::new(TOKEN)
        .parse_response(ok(r#"{"state":"CHALLENGE_REQUIRED","idempotencyKey":"5924a649-b5d3-4baf-a4ab-4b812dde97a0","userId":"123:test","isValid":false,"action":"signIn"}"#))
        .unwrap();
    assert!(!output.is_valid);
    assert_eq!(output.state, Some(UserActionState::ChallengeRequired));
    assert_eq!(output.user_id.as_deref(), Some("123:test"));
    assert_eq!(output.action.as_deref(), Some("signIn"));
    assert_eq!(
        output.idempotency_key.as_deref(),
        Some("5924a649-b5d3-4baf-a4ab-4b812dde97a0")
    );
    assert_eq!(output.verification_method, None);
}

#[test]
fn validate_challenge_with_deprecated_action_code_only() {
    let output = ValidateChallengeRequest::new(TOKEN)
        .parse_response(ok(r#"{"isValid":true,"state":"CHALLENGE_SUCCEEDED","stateUpdatedAt":"2024-01-01T00:00:00.000Z","userId":"u","actionCode":"withdraw","idempotencyKey":"k","verificationMethod":"SMS","veriffSessionId":"vs-1"}"#))
        .unwrap();
    assert!(output.is_valid);
    assert_eq!(output.state, Some(UserActionState::ChallengeSucceeded));
    assert_eq!(
        output.state_updated_at.as_deref(),
        Some("2024-01-01T00:00:00.000Z")
    );
    assert_eq!(output.action.as_deref(), Some("withdraw"));
    assert_eq!(output.verification_method, Some(VerificationMethod::Sms));
    assert_eq!(output.veriff_session_id.as_deref(), Some("vs-1"));
}

#[test]
fn validate_challenge_with_both_prefers_action() {
    let output = ValidateChallengeRequest::new(TOKEN)
        .parse_response(ok(
            r#"{"isValid":true,"actionCode":"oldName","action":"newName","userId":"u"}"#,
        ))
        .unwrap();
    assert_eq!(output.action.as_deref(), Some("newName"));
    // Order in the body does not matter.
    let output = ValidateChallengeRequest::new(TOKEN)
        .parse_response(ok(
            r#"{"action":"newName","isValid":true,"actionCode":"oldName"}"#,
        ))
        .unwrap();
    assert_eq!(output.action.as_deref(), Some("newName"));
    // `action: null` falls back to `actionCode`.
    let output = ValidateChallengeRequest::new(TOKEN)
        .parse_response(ok(
            r#"{"isValid":false,"action":null,"actionCode":"oldName"}"#,
        ))
        .unwrap();
    assert_eq!(output.action.as_deref(), Some("oldName"));
    // Neither.
    let output = ValidateChallengeRequest::new(TOKEN)
        .parse_response(ok(r#"{"isValid":false,"error":"Token is expired"}"#))
        .unwrap();
    assert_eq!(output.action, None);
    assert_eq!(output.error.as_deref(), Some("Token is expired"));
}

#[test]
fn get_user_full() {
    let body = json!({
        "userId": "b60429a1-6288-43dc-80c0-6a3e73dd51b9",
        "isEnrolled": true,
        "email": "test@example.com",
        "emailVerified": true,
        "phoneNumber": "+6427123456",
        "phoneNumberVerified": false,
        "username": "test@example.com",
        "displayName": "Test User",
        "custom": {"foo": "bar", "baz": true, "qux": 123},
        "enrolledVerificationMethods": ["SMS", "PASSKEY"],
        "allowedVerificationMethods": ["SMS", "PASSKEY", "EMAIL_OTP"],
        "defaultVerificationMethod": "PASSKEY"
    });
    let user = GetUserRequest::new("b60429a1-6288-43dc-80c0-6a3e73dd51b9")
        .parse_response(ok(&body.to_string()))
        .unwrap();
    assert_eq!(
        user.user_id.as_deref(),
        Some("b60429a1-6288-43dc-80c0-6a3e73dd51b9")
    );
    assert!(user.is_enrolled);
    assert_eq!(user.email.as_deref(), Some("test@example.com"));
    assert_eq!(user.email_verified, Some(true));
    assert_eq!(user.phone_number.as_deref(), Some("+6427123456"));
    assert_eq!(user.phone_number_verified, Some(false));
    assert_eq!(user.username.as_deref(), Some("test@example.com"));
    assert_eq!(user.display_name.as_deref(), Some("Test User"));
    assert_eq!(
        user.custom,
        Some(json!({"foo": "bar", "baz": true, "qux": 123}))
    );
    assert_eq!(
        user.enrolled_verification_methods,
        [VerificationMethod::Sms, VerificationMethod::Passkey]
    );
    assert_eq!(
        user.allowed_verification_methods,
        [
            VerificationMethod::Sms,
            VerificationMethod::Passkey,
            VerificationMethod::EmailOtp
        ]
    );
    assert_eq!(
        user.default_verification_method,
        Some(VerificationMethod::Passkey)
    );
}

#[test]
fn get_user_unknown_user_and_extra_fields() {
    // The PHP fixture: extra fields are ignored.
    let user = GetUserRequest::new("123:test")
        .parse_response(ok(
            r#"{"isEnrolled":false,"accessToken":"xxxx","url":"wwwww"}"#,
        ))
        .unwrap();
    assert!(!user.is_enrolled);
    assert_eq!(user.user_id, None);
    assert_eq!(user.email, None);
    assert!(user.enrolled_verification_methods.is_empty());
    // A bare `{}` is a user that does not exist.
    let user = GetUserRequest::new("u").parse_response(ok("{}")).unwrap();
    assert!(!user.is_enrolled);
}

#[test]
fn update_user_echoes_the_attributes() {
    let output = UpdateUserRequest::new("550e8400-e29b-41d4-a716-446655440000")
        .with_email("updated_email")
        .parse_response(ok(
            r#"{"userId":"550e8400-e29b-41d4-a716-446655440000","email":"updated_email"}"#,
        ))
        .unwrap();
    assert_eq!(
        output.user_id.as_deref(),
        Some("550e8400-e29b-41d4-a716-446655440000")
    );
    assert_eq!(output.attributes.email.as_deref(), Some("updated_email"));
    assert_eq!(output.attributes.phone_number, None);

    let body = json!({
        "email": "test@example.com",
        "emailVerified": true,
        "phoneNumber": "+6427123456",
        "phoneNumberVerified": false,
        "username": "test@example.com",
        "displayName": "Test User",
        "custom": {"foo": "bar"},
        "locale": "en-NZ",
        "defaultVerificationMethod": "EMAIL_MAGIC_LINK",
        "somethingNew": {"x": 1}
    });
    let output = UpdateUserRequest::new("u")
        .parse_response(ok(&body.to_string()))
        .unwrap();
    assert_eq!(output.user_id, None);
    let a = &output.attributes;
    assert_eq!(a.email.as_deref(), Some("test@example.com"));
    assert_eq!(a.email_verified, Some(true));
    assert_eq!(a.phone_number.as_deref(), Some("+6427123456"));
    assert_eq!(a.phone_number_verified, Some(false));
    assert_eq!(a.username.as_deref(), Some("test@example.com"));
    assert_eq!(a.display_name.as_deref(), Some("Test User"));
    assert_eq!(a.custom, Some(json!({"foo": "bar"})));
    assert_eq!(a.locale.as_deref(), Some("en-NZ"));
    assert_eq!(
        a.default_verification_method,
        Some(VerificationMethod::EmailMagicLink)
    );
}

fn passkey_authenticator() -> serde_json::Value {
    json!({
        "userId": "b60429a1-6288-43dc-80c0-6a3e73dd51b9",
        "userAuthenticatorId": "f3a8e1c2-0000-4a5b-9c8d-111122223333",
        "verificationMethod": "PASSKEY",
        "createdAt": "2024-03-01T10:00:00.000Z",
        "verifiedAt": "2024-03-01T10:00:05.000Z",
        "lastVerifiedAt": "2024-06-01T08:30:00.000Z",
        "webauthnCredential": {
            "credentialId": "dGVzdC1jcmVkZW50aWFsLWlk",
            "deviceId": "device-42",
            "name": "Chrome on Mac OS",
            "aaguid": "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
            "aaguidMapping": {
                "name": "Google Password Manager",
                "svgIconLight": "data:image/svg+xml;base64,PHN2ZyBsaWdodD48L3N2Zz4=",
                "svgIconDark": "data:image/svg+xml;base64,PHN2ZyBkYXJrPjwvc3ZnPg=="
            },
            "credentialBackedUp": true,
            "credentialDeviceType": "multiDevice",
            "authenticatorAttachment": "platform",
            "parsedUserAgent": {
                "ua": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                "browser": {"name": "Chrome", "version": "124.0.0.0", "major": "124"},
                "device": {"model": "Macintosh", "type": "desktop", "vendor": "Apple"},
                "engine": {"name": "Blink", "version": "124.0.0.0"},
                "os": {"name": "Mac OS", "version": "10.15.7"},
                "cpu": {"architecture": "amd64"}
            }
        }
    })
}

#[test]
fn get_authenticators_with_a_full_passkey() {
    let body = json!([
        passkey_authenticator(),
        {
            "userId": "b60429a1-6288-43dc-80c0-6a3e73dd51b9",
            "userAuthenticatorId": "9b2cfd40-7df2-4658-852d-a0c3456e5a2e",
            "verificationMethod": "SMS",
            "createdAt": "2022-07-25T03:31:36.219Z",
            "phoneNumber": "+6427000000",
            "previousSmsChannel": "WHATSAPP"
        }
    ]);
    let list = GetAuthenticatorsRequest::new("b60429a1-6288-43dc-80c0-6a3e73dd51b9")
        .parse_response(ok(&body.to_string()))
        .unwrap();
    assert_eq!(list.len(), 2);

    let passkey = &list[0];
    assert_eq!(
        passkey.user_authenticator_id,
        "f3a8e1c2-0000-4a5b-9c8d-111122223333"
    );
    assert_eq!(passkey.verification_method, VerificationMethod::Passkey);
    assert_eq!(
        passkey.user_id.as_deref(),
        Some("b60429a1-6288-43dc-80c0-6a3e73dd51b9")
    );
    assert_eq!(
        passkey.created_at.as_deref(),
        Some("2024-03-01T10:00:00.000Z")
    );
    assert_eq!(
        passkey.verified_at.as_deref(),
        Some("2024-03-01T10:00:05.000Z")
    );
    assert_eq!(
        passkey.last_verified_at.as_deref(),
        Some("2024-06-01T08:30:00.000Z")
    );
    assert_eq!(passkey.phone_number, None);
    let credential = passkey.webauthn_credential.as_ref().unwrap();
    assert_eq!(
        credential.credential_id.as_deref(),
        Some("dGVzdC1jcmVkZW50aWFsLWlk")
    );
    assert_eq!(credential.device_id.as_deref(), Some("device-42"));
    assert_eq!(credential.name.as_deref(), Some("Chrome on Mac OS"));
    assert_eq!(
        credential.aaguid.as_deref(),
        Some("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")
    );
    assert_eq!(credential.credential_backed_up, Some(true));
    assert_eq!(
        credential.credential_device_type.as_deref(),
        Some("multiDevice")
    );
    assert_eq!(
        credential.authenticator_attachment.as_deref(),
        Some("platform")
    );
    let mapping = credential.aaguid_mapping.as_ref().unwrap();
    assert_eq!(mapping.name.as_deref(), Some("Google Password Manager"));
    assert_eq!(
        mapping.svg_icon_light.as_deref(),
        Some("data:image/svg+xml;base64,PHN2ZyBsaWdodD48L3N2Zz4=")
    );
    assert_eq!(
        mapping.svg_icon_dark.as_deref(),
        Some("data:image/svg+xml;base64,PHN2ZyBkYXJrPjwvc3ZnPg==")
    );
    let agent = credential.parsed_user_agent.as_ref().unwrap();
    assert!(agent.ua.as_deref().unwrap().contains("Chrome/124"));
    let browser = agent.browser.as_ref().unwrap();
    assert_eq!(browser.name.as_deref(), Some("Chrome"));
    assert_eq!(browser.version.as_deref(), Some("124.0.0.0"));
    assert_eq!(browser.major.as_deref(), Some("124"));
    let device = agent.device.as_ref().unwrap();
    assert_eq!(device.model.as_deref(), Some("Macintosh"));
    assert_eq!(device.device_type.as_deref(), Some("desktop"));
    assert_eq!(device.vendor.as_deref(), Some("Apple"));
    let engine = agent.engine.as_ref().unwrap();
    assert_eq!(engine.name.as_deref(), Some("Blink"));
    assert_eq!(engine.version.as_deref(), Some("124.0.0.0"));
    let os = agent.os.as_ref().unwrap();
    assert_eq!(os.name.as_deref(), Some("Mac OS"));
    assert_eq!(os.version.as_deref(), Some("10.15.7"));
    assert_eq!(
        agent.cpu.as_ref().unwrap().architecture.as_deref(),
        Some("amd64")
    );

    let sms = &list[1];
    assert_eq!(sms.verification_method, VerificationMethod::Sms);
    assert_eq!(sms.phone_number.as_deref(), Some("+6427000000"));
    assert_eq!(sms.previous_sms_channel, Some(SmsChannel::Whatsapp));
    assert_eq!(sms.webauthn_credential, None);
}

#[test]
fn get_authenticators_empty_list() {
    let list = GetAuthenticatorsRequest::new("u")
        .parse_response(ok("[]"))
        .unwrap();
    assert!(list.is_empty());
}

#[test]
fn enroll_verified_authenticator_with_recovery_codes() {
    let body = json!({
        "authenticator": {
            "userId": "user12345",
            "userAuthenticatorId": "9b2cfd40-7df2-4658-852d-a0c3456e5a2e",
            "verificationMethod": "EMAIL_OTP",
            "createdAt": "2022-07-25T03:31:36.219Z",
            "email": "not-a-real-email@authsignal.com"
        },
        "recoveryCodes": ["rc-11111-aaaaa", "rc-22222-bbbbb"]
    });
    let output = EnrollVerifiedAuthenticatorRequest::new("user12345", VerificationMethod::EmailOtp)
        .parse_response(ok(&body.to_string()))
        .unwrap();
    assert_eq!(
        output.authenticator.user_authenticator_id,
        "9b2cfd40-7df2-4658-852d-a0c3456e5a2e"
    );
    assert_eq!(
        output.authenticator.verification_method,
        VerificationMethod::EmailOtp
    );
    assert_eq!(output.authenticator.user_id.as_deref(), Some("user12345"));
    assert_eq!(
        output.authenticator.email.as_deref(),
        Some("not-a-real-email@authsignal.com")
    );
    let codes: Vec<&str> = output
        .recovery_codes
        .iter()
        .map(|c| c.expose_secret())
        .collect();
    assert_eq!(codes, ["rc-11111-aaaaa", "rc-22222-bbbbb"]);

    // Without recovery codes.
    let body = json!({"authenticator": {"userAuthenticatorId": "a-1", "verificationMethod": "SMS", "phoneNumber": "+64270000000"}});
    let output = EnrollVerifiedAuthenticatorRequest::new("u", VerificationMethod::Sms)
        .parse_response(ok(&body.to_string()))
        .unwrap();
    assert!(output.recovery_codes.is_empty());
    assert_eq!(
        output.authenticator.phone_number.as_deref(),
        Some("+64270000000")
    );
}

#[test]
fn deletes_accept_empty_json_and_204_bodies() {
    let cases = [
        (200, ""),
        (200, r#"{"success":true}"#),
        (200, r#"{"userId":"1234","deleted":true}"#),
        (204, ""),
        (202, "accepted"),
    ];
    for (status, body) in cases {
        DeleteUserRequest::new("1234")
            .parse_response(response(status, body))
            .unwrap();
        DeleteAuthenticatorRequest::new("123:test", "456:test")
            .parse_response(response(status, body))
            .unwrap();
    }
    // A 204 without any header at all.
    let bare = http::Response::builder()
        .status(204)
        .body(Vec::new())
        .unwrap();
    DeleteUserRequest::new("1234").parse_response(bare).unwrap();
}

#[test]
fn deletes_still_report_errors() {
    let error = DeleteUserRequest::new("1234")
        .parse_response(response(
            404,
            r#"{"error":"not_found","errorDescription":"User not found"}"#,
        ))
        .unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::NOT_FOUND));
    assert!(matches!(error, Error::Api(_)));
}

// ---------------------------------------------------------------------------
// Open enums, unknown fields, explicit nulls
// ---------------------------------------------------------------------------

#[test]
fn unknown_enum_values_decode_and_round_trip() {
    let mut passkey = passkey_authenticator();
    passkey["verificationMethod"] = json!("QR_CODE");
    let list = GetAuthenticatorsRequest::new("u")
        .parse_response(ok(&json!([passkey]).to_string()))
        .unwrap();
    let method = &list[0].verification_method;
    match method {
        VerificationMethod::Unknown(value) => assert_eq!(value.as_str(), "QR_CODE"),
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert_eq!(method.as_str(), "QR_CODE");
    assert_eq!(method.to_string(), "QR_CODE");
    assert_eq!(serde_json::to_value(method).unwrap(), json!("QR_CODE"));
    assert_eq!(VerificationMethod::from("QR_CODE"), *method);
    assert_ne!(*method, VerificationMethod::Sms);

    let body = json!({
        "state": "SOMETHING_NEW",
        "idempotencyKey": "k",
        "allowedVerificationMethods": ["SMS", "DIGITAL_CREDENTIAL"],
        "defaultVerificationMethod": "IN_APP"
    });
    let output = TrackRequest::new("u", "signIn")
        .parse_response(ok(&body.to_string()))
        .unwrap();
    match &output.state {
        UserActionState::Unknown(value) => assert_eq!(value.as_str(), "SOMETHING_NEW"),
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert_eq!(output.state.as_str(), "SOMETHING_NEW");
    assert_eq!(
        serde_json::to_value(&output.state).unwrap(),
        json!("SOMETHING_NEW")
    );
    assert_eq!(
        output.allowed_verification_methods[0],
        VerificationMethod::Sms
    );
    assert_eq!(
        output.allowed_verification_methods[1].as_str(),
        "DIGITAL_CREDENTIAL"
    );
    assert_eq!(
        output
            .default_verification_method
            .as_ref()
            .map(|m| m.as_str()),
        Some("IN_APP")
    );

    // An unknown state read from the API can be written back unchanged.
    let update = UpdateActionRequest::new("u", "signIn", "k", output.state.clone());
    let request = update
        .build_request(&authsignal_core::Config::builder("sk").build().unwrap())
        .unwrap();
    let sent: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(sent, json!({"state": "SOMETHING_NEW"}));
}

#[test]
fn known_enum_values_are_case_sensitive_and_exact() {
    // A value that differs only in case is not the known variant; it is kept as sent.
    let method = VerificationMethod::from("sms");
    assert!(matches!(method, VerificationMethod::Unknown(_)));
    assert_eq!(method.as_str(), "sms");
    for (wire, known) in [
        ("SMS", VerificationMethod::Sms),
        ("EMAIL_OTP", VerificationMethod::EmailOtp),
        ("EMAIL_MAGIC_LINK", VerificationMethod::EmailMagicLink),
        ("AUTHENTICATOR_APP", VerificationMethod::AuthenticatorApp),
        ("PASSKEY", VerificationMethod::Passkey),
        ("SECURITY_KEY", VerificationMethod::SecurityKey),
        ("PUSH", VerificationMethod::Push),
        ("VERIFF", VerificationMethod::Veriff),
        ("IPROOV", VerificationMethod::Iproov),
        ("IDVERSE", VerificationMethod::Idverse),
        ("PALM_BIOMETRICS_RR", VerificationMethod::PalmBiometricsRr),
        ("RECOVERY_CODE", VerificationMethod::RecoveryCode),
        ("DEVICE", VerificationMethod::Device),
        ("WHATSAPP", VerificationMethod::Whatsapp),
    ] {
        assert_eq!(VerificationMethod::from(wire), known);
        assert_eq!(known.as_str(), wire);
        assert_eq!(
            serde_json::from_value::<VerificationMethod>(json!(wire)).unwrap(),
            known
        );
    }
    for (wire, known) in [
        ("ALLOW", UserActionState::Allow),
        ("BLOCK", UserActionState::Block),
        ("CHALLENGE_REQUIRED", UserActionState::ChallengeRequired),
        ("CHALLENGE_SUCCEEDED", UserActionState::ChallengeSucceeded),
        ("CHALLENGE_FAILED", UserActionState::ChallengeFailed),
        ("REVIEW_REQUIRED", UserActionState::ReviewRequired),
        ("REVIEW_SUCCEEDED", UserActionState::ReviewSucceeded),
        ("REVIEW_FAILED", UserActionState::ReviewFailed),
    ] {
        assert_eq!(UserActionState::from(wire), known);
        assert_eq!(serde_json::to_value(&known).unwrap(), json!(wire));
    }
}

#[test]
fn unknown_fields_are_ignored_everywhere() {
    let extra = |mut v: serde_json::Value| {
        v["brandNewField"] = json!({"deeply": ["nested", 1, null]});
        v["anotherOne"] = json!(42);
        v.to_string()
    };
    let mut track: serde_json::Value = serde_json::from_str(&track_challenge_body()).unwrap();
    track["riskAssessment"] = json!({"score": 0.3});
    TrackRequest::new("u", "signIn")
        .parse_response(ok(&extra(track)))
        .unwrap();
    GetActionRequest::new("u", "signIn", "k")
        .parse_response(ok(&extra(json!({"state": "ALLOW"}))))
        .unwrap();
    UpdateActionRequest::new("u", "signIn", "k", UserActionState::Allow)
        .parse_response(ok(&extra(json!({"state": "ALLOW"}))))
        .unwrap();
    ValidateChallengeRequest::new("t")
        .parse_response(ok(&extra(json!({"isValid": true}))))
        .unwrap();
    GetUserRequest::new("u")
        .parse_response(ok(&extra(json!({"isEnrolled": true}))))
        .unwrap();
    UpdateUserRequest::new("u")
        .parse_response(ok(&extra(json!({"email": "e"}))))
        .unwrap();
    let list = GetAuthenticatorsRequest::new("u")
        .parse_response(ok(&json!([extra(passkey_authenticator())
            .parse::<serde_json::Value>()
            .unwrap()])
        .to_string()))
        .unwrap();
    assert_eq!(list.len(), 1);
    EnrollVerifiedAuthenticatorRequest::new("u", VerificationMethod::Sms)
        .parse_response(ok(&extra(json!({
            "authenticator": {"userAuthenticatorId": "a", "verificationMethod": "SMS", "isDefault": true, "oobChannel": "SMS"}
        }))))
        .unwrap();
}

#[test]
fn explicit_nulls_for_optional_fields_and_lists_are_accepted() {
    let output = TrackRequest::new("u", "signIn")
        .parse_response(ok(r#"{"state":"ALLOW","idempotencyKey":"k","isEnrolled":null,"enrolledVerificationMethods":null,"allowedVerificationMethods":null,"defaultVerificationMethod":null,"ruleIds":null}"#))
        .unwrap();
    assert!(!output.is_enrolled);
    assert!(output.enrolled_verification_methods.is_empty());
    assert!(output.allowed_verification_methods.is_empty());
    assert_eq!(output.default_verification_method, None);
    assert!(output.rule_ids.is_empty());

    let action = GetActionRequest::new("u", "signIn", "k")
        .parse_response(ok(r#"{"state":"BLOCK","stateUpdatedAt":null,"createdAt":null,"verificationMethod":null,"rules":null,"output":null,"idempotencyKey":null}"#))
        .unwrap();
    assert!(action.rules.is_empty());
    assert_eq!(action.output, None);
    assert_eq!(action.created_at, None);

    let validation = ValidateChallengeRequest::new("t")
        .parse_response(ok(r#"{"isValid":null,"state":null,"stateUpdatedAt":null,"userId":null,"action":null,"actionCode":null,"idempotencyKey":null,"verificationMethod":null,"veriffSessionId":null,"error":null}"#))
        .unwrap();
    assert!(!validation.is_valid);
    assert_eq!(validation.action, None);

    let user = GetUserRequest::new("u")
        .parse_response(ok(r#"{"userId":null,"isEnrolled":null,"email":null,"emailVerified":null,"phoneNumber":null,"phoneNumberVerified":null,"username":null,"displayName":null,"custom":null,"enrolledVerificationMethods":null,"allowedVerificationMethods":null,"defaultVerificationMethod":null}"#))
        .unwrap();
    assert!(!user.is_enrolled);
    assert_eq!(user.email, None);
    assert_eq!(user.custom, None);
    assert!(user.allowed_verification_methods.is_empty());

    let updated = UpdateUserRequest::new("u")
        .parse_response(ok(r#"{"userId":"u","email":null,"phoneNumber":null,"custom":null,"defaultVerificationMethod":null}"#))
        .unwrap();
    assert_eq!(updated.attributes.email, None);

    let list = GetAuthenticatorsRequest::new("u")
        .parse_response(ok(r#"[{"userAuthenticatorId":"a","verificationMethod":"PASSKEY","userId":null,"createdAt":null,"verifiedAt":null,"lastVerifiedAt":null,"phoneNumber":null,"email":null,"username":null,"displayName":null,"previousSmsChannel":null,"webauthnCredential":null}]"#))
        .unwrap();
    assert_eq!(list[0].webauthn_credential, None);

    let list = GetAuthenticatorsRequest::new("u")
        .parse_response(ok(r#"[{"userAuthenticatorId":"a","verificationMethod":"PASSKEY","webauthnCredential":{"credentialId":"c","deviceId":null,"name":null,"aaguid":null,"aaguidMapping":null,"credentialBackedUp":null,"credentialDeviceType":null,"authenticatorAttachment":null,"parsedUserAgent":{"ua":null,"browser":null,"device":null,"engine":null,"os":null,"cpu":null}}}]"#))
        .unwrap();
    let credential = list[0].webauthn_credential.as_ref().unwrap();
    assert_eq!(credential.aaguid_mapping, None);
    assert_eq!(credential.parsed_user_agent.as_ref().unwrap().browser, None);

    let enrolled = EnrollVerifiedAuthenticatorRequest::new("u", VerificationMethod::Sms)
        .parse_response(ok(r#"{"authenticator":{"userAuthenticatorId":"a","verificationMethod":"SMS"},"recoveryCodes":null}"#))
        .unwrap();
    assert!(enrolled.recovery_codes.is_empty());
}

#[test]
fn explicit_null_url_and_token_in_track_are_accepted() {
    let output = TrackRequest::new("u", "signIn")
        .parse_response(ok(
            r#"{"state":"ALLOW","idempotencyKey":"k","url":null,"token":null}"#,
        ))
        .unwrap();
    assert_eq!(output.state, UserActionState::Allow);
    assert_eq!(output.token.expose_secret(), "");
    assert_eq!(output.url.expose_secret(), "");
}

// ---------------------------------------------------------------------------
// Secrets stay out of Debug
// ---------------------------------------------------------------------------

#[test]
fn track_response_debug_hides_token_and_url() {
    let output = TrackRequest::new("u", "signIn")
        .parse_response(ok(&track_challenge_body()))
        .unwrap();
    let debug = format!("{output:?}");
    let pretty = format!("{output:#?}");
    for text in [&debug, &pretty] {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("c2lnbmF0dXJlLXZhbHVl"), "{text}");
        assert!(!text.contains("url-token-part"), "{text}");
        assert!(!text.contains("acme.authsignal.com"), "{text}");
    }
    // The rest is still there for diagnostics.
    assert!(debug.contains("ChallengeRequired"), "{debug}");
    assert!(
        debug.contains("5924a649-b5d3-4baf-a4ab-4b812dde97a0"),
        "{debug}"
    );
}

#[test]
fn validate_challenge_request_debug_hides_the_token() {
    let request = ValidateChallengeRequest::new(TOKEN)
        .with_user_id("user-1")
        .with_action("signIn");
    let debug = format!("{request:?} {request:#?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(!debug.contains("eyJzdWIiOiJ1c2VyLTEifQ"), "{debug}");
    assert!(debug.contains("user-1"), "{debug}");
    assert_eq!(request.token.expose_secret(), TOKEN);
}

#[test]
fn enroll_debug_hides_recovery_codes_and_otp_uri() {
    let body = json!({
        "authenticator": {"userAuthenticatorId": "a-1", "verificationMethod": "AUTHENTICATOR_APP"},
        "recoveryCodes": ["7f3k-9q2m-xx81", "p0p0-z1z1-qq77"]
    });
    let output = EnrollVerifiedAuthenticatorRequest::new("u", VerificationMethod::AuthenticatorApp)
        .parse_response(ok(&body.to_string()))
        .unwrap();
    let debug = format!("{output:?} {output:#?}");
    assert!(!debug.contains("7f3k-9q2m-xx81"), "{debug}");
    assert!(!debug.contains("p0p0-z1z1-qq77"), "{debug}");
    assert!(debug.contains("a-1"), "{debug}");
    assert_eq!(output.recovery_codes.len(), 2);

    let request =
        EnrollVerifiedAuthenticatorRequest::new("u", VerificationMethod::AuthenticatorApp)
            .with_otp_uri("otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP");
    let debug = format!("{request:?}");
    assert!(!debug.contains("JBSWY3DPEHPK3PXP"), "{debug}");
}
