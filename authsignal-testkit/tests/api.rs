//! Black-box tests of the fake through its pure `handle` (and, where the socket matters, over HTTP).

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use authsignal_core::{CallState, PaymentSessionStatus, UserActionState, VerificationMethod};
use authsignal_testkit::{ApiSecretKey, FakeAuthsignal};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use serde_json::json;

const UNAUTHORIZED: &str = "The request is unauthorized. Check that your API key and region base URL are correctly configured.";

#[test]
fn fake_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FakeAuthsignal>();
}

#[test]
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

#[test]
fn wrong_or_missing_secret_is_401_with_error_shape() {
    let fake = FakeAuthsignal::new();
    let wrong = format!("Basic {}", STANDARD.encode("sk_wrong:"));
    let no_colon = format!("Basic {}", STANDARD.encode(fake.secret()));
    for auth in [
        Some(wrong.as_str()),
        Some(no_colon.as_str()),
        Some("Bearer x"),
        None,
    ] {
        for (method, target) in [
            ("GET", "/v1/users/alice"),
            ("POST", "/v1/validate"),
            ("GET", "/nope"),
        ] {
            let resp = send_raw(&fake, method, target, auth, Some("{}"));
            assert_eq!(resp.status, 401);
            assert_eq!(
                resp.json,
                json!({
                    "error": "unauthorized",
                    "errorCode": "unauthorized",
                    "errorDescription": UNAUTHORIZED,
                })
            );
            assert_eq!(resp.header("content-type"), Some("application/json"));
        }
    }
    // Rejected requests are recorded too, with their status.
    assert_eq!(fake.request_count(), 12);
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.status == Some(http::StatusCode::UNAUTHORIZED))
    );
}

#[test]
fn unknown_routes_are_404() {
    let fake = FakeAuthsignal::new();
    for (method, path) in [
        ("GET", "/v1/nothing"),
        ("GET", "/users/alice"),
        ("GET", "/v1/users/"),
        ("PUT", "/v1/users/alice"),
        ("GET", "/v1/validate"),
        ("DELETE", "/v1/users/alice/actions/signIn"),
    ] {
        let resp = send_raw(
            &fake,
            method,
            path,
            Some(&fake.authorization_header()),
            None,
        );
        assert_error(&resp, 404, "not_found");
    }
}

#[test]
fn bad_requests_are_400_invalid_request() {
    let fake = FakeAuthsignal::new();
    let auth = fake.authorization_header();
    let cases: Vec<(&str, &str, &str)> = vec![
        ("POST", "/v1/validate", "{not json"),
        ("POST", "/v1/validate", "[1,2]"),
        ("POST", "/v1/validate", "{}"),
        ("POST", "/v1/validate", r#"{"token": 42}"#),
        ("POST", "/v1/users/alice/actions/sign%20in", "{}"),
        (
            "POST",
            "/v1/users/alice/actions/signIn",
            r#"{"custom": "x"}"#,
        ),
        (
            "POST",
            "/v1/users/alice/actions/signIn",
            r#"{"redirectToSettings": "yes"}"#,
        ),
        (
            "POST",
            "/v1/users/alice/authenticators",
            r#"{"phoneNumber":"+1"}"#,
        ),
        (
            "POST",
            "/v1/users/alice/authenticators",
            r#"{"verificationMethod":"SMS"}"#,
        ),
        (
            "POST",
            "/v1/users/alice/authenticators",
            r#"{"verificationMethod":"PUSH"}"#,
        ),
        ("PATCH", "/v1/users/alice", r#"{"emailVerified":"true"}"#),
        ("POST", "/v1/challenge", r#"{"verificationMethod":"SMS"}"#),
        (
            "POST",
            "/v1/challenge",
            r#"{"verificationMethod":"PASSKEY","action":"a"}"#,
        ),
        ("POST", "/v1/verify", r#"{"challengeId":"x"}"#),
        ("POST", "/v1/sessions", r#"{"token":"x"}"#),
        ("GET", "/v1/users?limit=zero", ""),
        ("GET", "/v1/users/alice/actions?state=NOPE", ""),
        ("GET", "/v1/users/alice/actions?fromDate=yesterday", ""),
        ("GET", "/v1/users/%zz", ""),
    ];
    let long_action = format!("/v1/users/alice/actions/{}", "a".repeat(65));
    for (method, target, body) in cases
        .into_iter()
        .chain([("POST", long_action.as_str(), "{}")])
    {
        let resp = send_raw(&fake, method, target, Some(&auth), Some(body));
        let description = assert_error(&resp, 400, "invalid_request");
        assert!(!description.is_empty(), "{method} {target}");
    }
}

#[test]
fn unknown_user_is_not_enrolled() {
    let fake = FakeAuthsignal::new();
    let resp = get(&fake, "/users/nobody");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json["isEnrolled"], false);
    assert_eq!(resp.json["userId"], "nobody");
    assert_eq!(resp.json["enrolledVerificationMethods"], json!([]));
}

#[test]
fn update_get_and_delete_user() {
    let fake = FakeAuthsignal::new();
    let updated = patch(
        &fake,
        "/users/u1",
        &json!({
            "email": "test@example.com",
            "emailVerified": true,
            "phoneNumber": "+6427123456",
            "username": "test@example.com",
            "displayName": "Test User",
            "custom": {"foo": "bar", "n": 1},
        }),
    );
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.json["userId"], "u1");
    assert_eq!(updated.json["email"], "test@example.com");
    assert_eq!(updated.json["emailVerified"], true);
    assert_eq!(updated.json["phoneNumberVerified"], false);
    assert_eq!(updated.json["custom"], json!({"foo": "bar", "n": 1}));

    // Omitted fields stay, null clears, POST works as an update too.
    let again = post(
        &fake,
        "/users/u1",
        &json!({"displayName": null, "username": "u-one"}),
    );
    assert_eq!(again.status, 200);
    assert_eq!(again.json["email"], "test@example.com");
    assert_eq!(again.json["username"], "u-one");
    assert!(again.json.get("displayName").is_none());

    let user = get(&fake, "/users/u1");
    assert_eq!(user.json["isEnrolled"], false);
    assert_eq!(user.json["phoneNumber"], "+6427123456");
    assert_eq!(user.json["custom"]["foo"], "bar");

    fake.add_authenticator("u1", VerificationMethod::Sms, Some("+6427123456"));
    let user = get(&fake, "/users/u1");
    assert_eq!(user.json["isEnrolled"], true);
    assert_eq!(user.json["enrolledVerificationMethods"], json!(["SMS"]));
    assert_eq!(user.json["defaultVerificationMethod"], "SMS");

    let deleted = delete(&fake, "/users/u1");
    assert_eq!(deleted.status, 200);
    let user = get(&fake, "/users/u1");
    assert_eq!(user.json["isEnrolled"], false);
    assert!(user.json.get("email").is_none());
    assert_eq!(get(&fake, "/users/u1/authenticators").json, json!([]));
}

#[test]
fn query_users_filters_and_pages() {
    let fake = FakeAuthsignal::new();
    for i in 1..=5 {
        patch(
            &fake,
            &format!("/users/user-{i}"),
            &json!({"email": if i % 2 == 0 { "even@example.com" } else { "odd@example.com" }, "username": format!("name{i}")}),
        );
    }
    let first = get(&fake, "/users?email=odd%40example.com&limit=2");
    assert_eq!(first.status, 200, "{}", first.body);
    let ids: Vec<_> = first.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["user-1", "user-3"]);
    assert_eq!(first.json["lastEvaluatedUserId"], "user-3");
    assert_eq!(first.json["users"][0]["emailVerified"], false);

    let last = get(
        &fake,
        "/users?email=ODD%40example.com&limit=2&lastEvaluatedUserId=user-3",
    );
    assert_eq!(last.json["users"].as_array().unwrap().len(), 1);
    assert_eq!(last.json["users"][0]["userId"], "user-5");
    assert!(
        last.json.get("lastEvaluatedUserId").is_none(),
        "{}",
        last.body
    );

    let by_name = get(&fake, "/users?username=name4");
    assert_eq!(by_name.json["users"][0]["userId"], "user-4");
    assert!(by_name.json.get("lastEvaluatedUserId").is_none());

    let none = get(&fake, "/users?phoneNumber=%2B1");
    assert_eq!(none.json, json!({"users": []}));

    // The token filter finds the user a track token belongs to.
    let tracked = post(&fake, "/users/user-2/actions/signIn", &json!({}));
    let by_token = get(&fake, &format!("/users?token={}", tracked.str("token")));
    assert_eq!(by_token.json["users"][0]["userId"], "user-2");
    assert_eq!(by_token.json["tokenPayload"]["sub"], "user-2");
}

#[test]
fn percent_encoded_user_id() {
    let fake = FakeAuthsignal::new();
    let tracked = post(&fake, "/users/a%2Fb/actions/signIn", &json!({}));
    assert_eq!(tracked.status, 200, "{}", tracked.body);
    let user = get(&fake, "/users/a%2Fb");
    assert_eq!(user.json["userId"], "a/b");
    // `/users/a/b` is a different route altogether.
    assert_error(&get(&fake, "/users/a/b"), 404, "not_found");
    let other = get(&fake, "/users/a");
    assert_eq!(other.json["userId"], "a");

    // Other characters and the literal plus in a path.
    let odd_id = "123:test +ü?#%";
    let enc = seg(odd_id);
    let enrolled = post(
        &fake,
        &format!("/users/{enc}/authenticators"),
        &json!({"verificationMethod": "EMAIL_OTP", "email": "x@example.com"}),
    );
    assert_eq!(enrolled.json["authenticator"]["userId"], odd_id);
    assert_eq!(get(&fake, "/users/a+b").json["userId"], "a+b");

    let validated = post(&fake, "/validate", &json!({"token": tracked.str("token")}));
    assert_eq!(validated.json["userId"], "a/b");
    let paths: Vec<_> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths[0], "/v1/users/a%2Fb/actions/signIn");
}

#[test]
fn authenticators_enroll_list_delete() {
    let fake = FakeAuthsignal::new();
    let enrolled = post(
        &fake,
        "/users/user12345/authenticators",
        &json!({"verificationMethod": "EMAIL_OTP", "email": "not-a-real-email@authsignal.com"}),
    );
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    let authenticator = &enrolled.json["authenticator"];
    assert_eq!(authenticator["userId"], "user12345");
    assert_eq!(authenticator["verificationMethod"], "EMAIL_OTP");
    assert_eq!(authenticator["email"], "not-a-real-email@authsignal.com");
    assert!(authenticator["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(authenticator["verifiedAt"].is_string());
    let id = authenticator["userAuthenticatorId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36);

    // Same email again: the same authenticator.
    let again = post(
        &fake,
        "/users/user12345/authenticators",
        &json!({"verificationMethod": "EMAIL_OTP", "email": "not-a-real-email@authsignal.com"}),
    );
    assert_eq!(
        again.json["authenticator"]["userAuthenticatorId"],
        id.as_str()
    );
    let sms = post(
        &fake,
        "/users/user12345/authenticators",
        &json!({"verificationMethod": "SMS", "phoneNumber": "+64270000000", "isDefault": true}),
    );
    assert_eq!(sms.json["authenticator"]["phoneNumber"], "+64270000000");

    let list = get(&fake, "/users/user12345/authenticators");
    assert_eq!(list.json.as_array().unwrap().len(), 2);
    let user = get(&fake, "/users/user12345");
    assert_eq!(user.json["defaultVerificationMethod"], "SMS");
    assert_eq!(user.json["email"], "not-a-real-email@authsignal.com");
    assert_eq!(user.json["emailVerified"], true);

    let deleted = delete(&fake, &format!("/users/user12345/authenticators/{id}"));
    assert_eq!(deleted.status, 200);
    assert_eq!(
        get(&fake, "/users/user12345/authenticators")
            .json
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_error(
        &delete(&fake, &format!("/users/user12345/authenticators/{id}")),
        404,
        "not_found",
    );
}

#[test]
fn batch_enroll_reports_conflicts() {
    let fake = FakeAuthsignal::new();
    let resp = post(
        &fake,
        "/users/authenticators",
        &json!({"authenticators": [
            {"userId": "user-123", "verificationMethod": "PASSKEY", "credentialId": "cred-1", "credentialPublicKey": "pk", "name": "iPhone"},
            {"userId": "user-456", "verificationMethod": "PASSKEY", "credentialId": "cred-2", "credentialPublicKey": "pk"},
            {"userId": "user-789", "verificationMethod": "PASSKEY", "credentialId": "cred-1", "credentialPublicKey": "pk"},
            {"userId": "user-789", "verificationMethod": "PASSKEY"},
        ]}),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json["total"], 4);
    assert_eq!(resp.json["succeeded"], 2);
    assert_eq!(resp.json["failed"], 2);
    assert_eq!(
        resp.json["failures"][0],
        json!({
            "userId": "user-789",
            "credentialId": "cred-1",
            "errorCode": "conflict",
            "errorDescription": "Credential already exists for a different user.",
        })
    );
    assert_eq!(resp.json["failures"][1]["errorCode"], "invalid_request");
    let list = get(&fake, "/users/user-123/authenticators");
    assert_eq!(list.json[0]["verificationMethod"], "PASSKEY");
    assert_eq!(list.json[0]["webauthnCredential"]["credentialId"], "cred-1");
    assert_eq!(list.json[0]["webauthnCredential"]["name"], "iPhone");

    let bad = post(
        &fake,
        "/users/authenticators",
        &json!({"authenticators": "x"}),
    );
    assert_error(&bad, 400, "invalid_request");
}

#[test]
fn devices_from_track_attributes() {
    let fake = FakeAuthsignal::new();
    assert_eq!(get(&fake, "/users/dev-user/devices").json, json!([]));
    post(
        &fake,
        "/users/dev-user/actions/signIn",
        &json!({"deviceId": "device123"}),
    );
    let devices = get(&fake, "/users/dev-user/devices");
    assert_eq!(devices.json[0]["deviceId"], "device123");
    assert_eq!(devices.json[0]["userId"], "dev-user");
    assert!(devices.json[0]["createdAt"].is_string());

    let remembered = patch(
        &fake,
        "/users/dev-user/devices/device123",
        &json!({"rememberedUntil": "2030-01-01T00:00:00Z"}),
    );
    assert_eq!(remembered.status, 200, "{}", remembered.body);
    assert_eq!(
        remembered.json["rememberedUntil"],
        "2030-01-01T00:00:00.000Z"
    );
    let cleared = patch(
        &fake,
        "/users/dev-user/devices/device123",
        &json!({"rememberedUntil": null}),
    );
    assert!(cleared.json.get("rememberedUntil").is_none());
    assert_error(
        &patch(&fake, "/users/dev-user/devices/device123", &json!({})),
        400,
        "invalid_request",
    );

    let invalidated = post(
        &fake,
        "/users/dev-user/devices/device123/invalidate",
        &json!({}),
    );
    assert_eq!(invalidated.status, 200);
    assert!(invalidated.json["invalidatedAt"].is_string());
    // No body at all, as PHP sends it.
    let bare = send_raw(
        &fake,
        "POST",
        "/v1/users/dev-user/devices/device123/invalidate",
        Some(&fake.authorization_header()),
        None,
    );
    assert_eq!(bare.status, 200);
    assert_error(
        &post(&fake, "/users/dev-user/devices/nope/invalidate", &json!({})),
        404,
        "not_found",
    );
}

#[test]
fn sign_in_flow_happy_path() {
    let fake = FakeAuthsignal::new();
    let phone = "+6427000000";
    fake.add_authenticator("alice", VerificationMethod::Sms, Some(phone));

    let tracked = post(
        &fake,
        "/users/alice/actions/signIn",
        &json!({"redirectUrl": "https://app.example/back", "deviceId": "d1"}),
    );
    assert_eq!(tracked.status, 200, "{}", tracked.body);
    assert_eq!(tracked.json["state"], "CHALLENGE_REQUIRED");
    assert_eq!(tracked.json["isEnrolled"], true);
    assert_eq!(tracked.json["enrolledVerificationMethods"], json!(["SMS"]));
    assert_eq!(tracked.json["defaultVerificationMethod"], "SMS");
    assert_eq!(tracked.json["ruleIds"], json!([]));
    assert!(
        !tracked.json["allowedVerificationMethods"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let key = tracked.str("idempotencyKey");
    let token = tracked.str("token");
    assert!(
        tracked
            .str("url")
            .starts_with("https://fake.authsignal.test/challenge?token=")
    );

    // Pending: not valid yet, and not consumed.
    let pending = post(&fake, "/validate", &json!({"token": token}));
    assert_eq!(pending.json["isValid"], false);
    assert_eq!(pending.json["state"], "CHALLENGE_REQUIRED");
    assert_eq!(pending.json["idempotencyKey"], key.as_str());

    let challenged = post(
        &fake,
        "/challenge",
        &json!({"verificationMethod": "SMS", "action": "signIn", "idempotencyKey": key, "userId": "alice"}),
    );
    assert_eq!(challenged.status, 200, "{}", challenged.body);
    assert_eq!(challenged.json["idempotencyKey"], key.as_str());
    let challenge_id = challenged.str("challengeId");
    let expires_at = challenged.json["expiresAt"].as_i64().unwrap();
    assert!(
        expires_at > 1_700_000_000 && expires_at < 100_000_000_000,
        "unix seconds"
    );
    let code = fake.last_code().unwrap();
    assert_eq!(code.len(), 6);
    assert_eq!(fake.last_code_for(&challenge_id), Some(code.clone()));
    assert_eq!(fake.last_challenge_id(), Some(challenge_id.clone()));

    let info = get(&fake, &format!("/challenges?challengeId={challenge_id}"));
    assert_eq!(info.status, 200);
    assert_eq!(info.json["action"], "signIn");
    assert_eq!(info.json["verificationMethod"], "SMS");
    assert_eq!(info.json["phoneNumber"], phone);
    assert_eq!(info.json["expiresAt"], expires_at);

    let verified = post(
        &fake,
        "/verify",
        &json!({"challengeId": challenge_id, "verificationCode": code}),
    );
    assert_eq!(
        verified.json,
        json!({"isVerified": true, "verificationMethod": "SMS", "phoneNumber": phone})
    );
    assert_eq!(
        fake.action_state("alice", "signIn", &key),
        Some(UserActionState::ChallengeSucceeded)
    );
    let action = get(&fake, &format!("/users/alice/actions/signIn/{key}"));
    assert_eq!(action.json["state"], "CHALLENGE_SUCCEEDED");
    assert_eq!(action.json["verificationMethod"], "SMS");
    assert_eq!(action.json["rules"], json!([]));
    assert_eq!(action.json["output"], json!({}));

    let validated = post(
        &fake,
        "/validate",
        &json!({"token": token, "userId": "alice", "action": "signIn"}),
    );
    assert_eq!(validated.json["isValid"], true, "{}", validated.body);
    assert_eq!(validated.json["state"], "CHALLENGE_SUCCEEDED");
    assert_eq!(validated.json["userId"], "alice");
    assert_eq!(validated.json["action"], "signIn");
    assert_eq!(validated.json["actionCode"], "signIn");
    assert_eq!(validated.json["idempotencyKey"], key.as_str());
    assert_eq!(validated.json["verificationMethod"], "SMS");
    assert!(validated.json["stateUpdatedAt"].is_string());

    // The device was authenticated by the challenge.
    let devices = get(&fake, "/users/alice/devices");
    assert_eq!(devices.json[0]["lastVerificationMethod"], "SMS");
    assert!(devices.json[0]["authenticatedAt"].is_string());

    // The code works once.
    let reused = post(
        &fake,
        "/verify",
        &json!({"challengeId": challenge_id, "verificationCode": code}),
    );
    assert_eq!(reused.json["isVerified"], false);
}

#[test]
fn used_token_validates_only_once() {
    let fake = FakeAuthsignal::new();
    let flow = sign_in(&fake, "bob", "signIn", "+15550001");
    let first = post(&fake, "/validate", &json!({"token": flow.token}));
    assert_eq!(first.json["isValid"], true);
    let second = post(&fake, "/validate", &json!({"token": flow.token}));
    assert_eq!(second.status, 200);
    assert_eq!(second.json["isValid"], false);
    assert_eq!(second.json["state"], "CHALLENGE_SUCCEEDED");
    assert!(second.json["error"].is_string());
}

#[test]
fn allow_token_validates_with_allow() {
    let fake = FakeAuthsignal::new();
    let tracked = post(&fake, "/users/carol/actions/signIn", &json!({}));
    assert_eq!(tracked.json["state"], "ALLOW");
    assert_eq!(tracked.json["isEnrolled"], false);
    assert!(tracked.json.get("defaultVerificationMethod").is_none());
    let validated = post(&fake, "/validate", &json!({"token": tracked.str("token")}));
    assert_eq!(validated.json["isValid"], true);
    assert_eq!(validated.json["state"], "ALLOW");
    assert!(validated.json.get("verificationMethod").is_none());
}

#[test]
fn unknown_mismatched_and_expired_tokens_are_invalid() {
    let fake = FakeAuthsignal::new();
    let unknown = post(
        &fake,
        "/validate",
        &json!({"token": "eyJhbGciOiJIUzI1NiJ9.garbage"}),
    );
    assert_eq!(unknown.status, 200);
    assert_eq!(unknown.json["isValid"], false);
    assert!(unknown.json["error"].is_string());

    let tracked = post(&fake, "/users/dave/actions/signIn", &json!({}));
    let token = tracked.str("token");
    let wrong_user = post(
        &fake,
        "/validate",
        &json!({"token": token, "userId": "eve"}),
    );
    assert_eq!(wrong_user.json["isValid"], false);
    let wrong_action = post(
        &fake,
        "/validate",
        &json!({"token": token, "action": "transfer"}),
    );
    assert_eq!(wrong_action.json["isValid"], false);

    fake.advance(Duration::from_secs(10 * 60 + 1));
    let expired = post(&fake, "/validate", &json!({"token": token}));
    assert_eq!(expired.json["isValid"], false);
    assert!(expired.json["error"].as_str().unwrap().contains("expired"));
    assert_error(
        &post(
            &fake,
            "/sessions",
            &json!({"clientId": "web", "token": token}),
        ),
        400,
        "invalid_request",
    );
    // Tokens issued after the call are fine.
    let fresh = post(&fake, "/users/dave/actions/signIn", &json!({}));
    assert_eq!(
        post(&fake, "/validate", &json!({"token": fresh.str("token")})).json["isValid"],
        true
    );
}

#[test]
fn wrong_code_then_max_attempts() {
    let fake = FakeAuthsignal::new();
    fake.add_authenticator("erin", VerificationMethod::Sms, Some("+15550002"));
    let tracked = post(&fake, "/users/erin/actions/signIn", &json!({}));
    let key = tracked.str("idempotencyKey");
    let challenged = post(
        &fake,
        "/challenge",
        &json!({"verificationMethod": "SMS", "action": "signIn", "idempotencyKey": key}),
    );
    let challenge_id = challenged.str("challengeId");
    let code = fake.last_code().unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };

    for _ in 0..3 {
        let resp = post(
            &fake,
            "/verify",
            &json!({"challengeId": challenge_id, "verificationCode": wrong}),
        );
        assert_eq!(
            resp.json,
            json!({"isVerified": false, "failureReason": "CODE_INVALID_OR_EXPIRED"})
        );
    }
    let locked = post(
        &fake,
        "/verify",
        &json!({"challengeId": challenge_id, "verificationCode": code}),
    );
    assert_eq!(
        locked.json,
        json!({"isVerified": false, "failureReason": "MAX_ATTEMPTS_EXCEEDED"})
    );
    assert_eq!(
        fake.action_state("erin", "signIn", &key),
        Some(UserActionState::ChallengeFailed)
    );
    let validated = post(&fake, "/validate", &json!({"token": tracked.str("token")}));
    assert_eq!(validated.json["isValid"], false);
    assert_eq!(validated.json["state"], "CHALLENGE_FAILED");

    // A wrong code once, then the right one, still works.
    let tracked = post(&fake, "/users/erin/actions/signIn", &json!({}));
    let challenged = post(
        &fake,
        "/challenge",
        &json!({"verificationMethod": "SMS", "action": "signIn", "idempotencyKey": tracked.str("idempotencyKey")}),
    );
    let challenge_id = challenged.str("challengeId");
    let code = fake.last_code_for(&challenge_id).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    post(
        &fake,
        "/verify",
        &json!({"challengeId": challenge_id, "verificationCode": wrong}),
    );
    let ok = post(
        &fake,
        "/verify",
        &json!({"challengeId": challenge_id, "verificationCode": code}),
    );
    assert_eq!(ok.json["isVerified"], true);

    // Expired challenges and unknown ids.
    let challenged = post(
        &fake,
        "/challenge",
        &json!({"verificationMethod": "SMS", "action": "signIn", "userId": "erin"}),
    );
    let challenge_id = challenged.str("challengeId");
    let code = fake.last_code().unwrap();
    fake.advance(Duration::from_secs(5 * 60 + 1));
    let expired = post(
        &fake,
        "/verify",
        &json!({"challengeId": challenge_id, "verificationCode": code}),
    );
    assert_eq!(expired.json["failureReason"], "CODE_INVALID_OR_EXPIRED");
    let unknown = post(
        &fake,
        "/verify",
        &json!({"challengeId": "nope", "verificationCode": "123456"}),
    );
    assert_eq!(unknown.json["failureReason"], "CODE_INVALID_OR_EXPIRED");
}

#[test]
fn blocked_action() {
    let fake = FakeAuthsignal::new();
    fake.add_authenticator("frank", VerificationMethod::Sms, Some("+15550003"));
    fake.set_action_outcome("withdraw", UserActionState::Block);
    let tracked = post(&fake, "/users/frank/actions/withdraw", &json!({}));
    assert_eq!(tracked.json["state"], "BLOCK");
    let validated = post(&fake, "/validate", &json!({"token": tracked.str("token")}));
    assert_eq!(validated.json["isValid"], false);
    assert_eq!(validated.json["state"], "BLOCK");
    assert_error(
        &post(
            &fake,
            "/challenge",
            &json!({"verificationMethod": "SMS", "action": "withdraw", "idempotencyKey": tracked.str("idempotencyKey")}),
        ),
        400,
        "invalid_request",
    );
    assert_error(
        &post(
            &fake,
            "/sessions",
            &json!({"clientId": "web", "token": tracked.str("token")}),
        ),
        400,
        "invalid_request",
    );

    // Other outcomes, and back to the default.
    fake.set_action_outcome("withdraw", UserActionState::ReviewRequired);
    let review = post(&fake, "/users/frank/actions/withdraw", &json!({}));
    assert_eq!(review.json["state"], "REVIEW_REQUIRED");
    fake.set_action_outcome("withdraw", UserActionState::Allow);
    assert_eq!(
        post(&fake, "/users/frank/actions/withdraw", &json!({})).json["state"],
        "ALLOW"
    );
    fake.set_action_outcome("withdraw", UserActionState::ChallengeRequired);
    assert_eq!(
        post(&fake, "/users/nobody/actions/withdraw", &json!({})).json["state"],
        "CHALLENGE_REQUIRED"
    );
    fake.clear_action_outcome("withdraw");
    assert_eq!(
        post(&fake, "/users/frank/actions/withdraw", &json!({})).json["state"],
        "CHALLENGE_REQUIRED"
    );
}

#[test]
fn track_idempotency_and_empty_bodies() {
    let fake = FakeAuthsignal::new();
    let first = post(
        &fake,
        "/users/gina/actions/signIn",
        &json!({"idempotencyKey": "my-key"}),
    );
    assert_eq!(first.json["idempotencyKey"], "my-key");
    let replay = post(
        &fake,
        "/users/gina/actions/signIn",
        &json!({"idempotencyKey": "my-key"}),
    );
    assert_eq!(replay.json["token"], first.json["token"]);
    assert_error(
        &post(
            &fake,
            "/users/gina/actions/transfer",
            &json!({"idempotencyKey": "my-key"}),
        ),
        400,
        "invalid_request",
    );
    // No body (PHP) and the .NET default body both work.
    let bare = send_raw(
        &fake,
        "POST",
        "/v1/users/gina/actions/signIn",
        Some(&fake.authorization_header()),
        None,
    );
    assert_eq!(bare.status, 200, "{}", bare.body);
    let dotnet = post(
        &fake,
        "/users/gina/actions/signIn",
        &json!({"redirectToSettings": false, "custom": null}),
    );
    assert_eq!(dotnet.status, 200);
}

#[test]
fn actions_get_update_query() {
    let fake = FakeAuthsignal::new();
    let a = post(&fake, "/users/hank/actions/signIn", &json!({})).str("idempotencyKey");
    let b = post(&fake, "/users/hank/actions/transfer", &json!({})).str("idempotencyKey");

    let got = get(&fake, &format!("/users/hank/actions/signIn/{a}"));
    assert_eq!(got.json["state"], "ALLOW");
    assert!(got.json["createdAt"].is_string());
    assert_error(
        &get(&fake, &format!("/users/hank/actions/transfer/{a}")),
        404,
        "not_found",
    );
    assert_error(
        &get(&fake, &format!("/users/other/actions/signIn/{a}")),
        404,
        "not_found",
    );

    let updated = patch(
        &fake,
        &format!("/users/hank/actions/transfer/{b}"),
        &json!({"state": "REVIEW_REQUIRED"}),
    );
    // The whole action comes back, as the docs show.
    assert_eq!(updated.json["state"], "REVIEW_REQUIRED");
    assert_eq!(updated.json["idempotencyKey"], b.as_str());
    assert!(updated.json["createdAt"].is_string());
    assert!(updated.json["stateUpdatedAt"].is_string());
    assert_eq!(updated.json["ruleIds"], json!([]));
    assert_error(
        &patch(
            &fake,
            &format!("/users/hank/actions/transfer/{b}"),
            &json!({"state": "MAYBE"}),
        ),
        400,
        "invalid_request",
    );

    let all = get(&fake, "/users/hank/actions");
    let codes: Vec<_> = all
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["actionCode"].clone())
        .collect();
    assert_eq!(codes, [json!("transfer"), json!("signIn")]);
    let only = get(&fake, "/users/hank/actions?codes=signIn");
    assert_eq!(only.json.as_array().unwrap().len(), 1);
    assert_eq!(only.json[0]["idempotencyKey"], a.as_str());
    let both = get(
        &fake,
        "/users/hank/actions?codes=signIn%2Ctransfer&fromDate=2020-01-01T00%3A00%3A00Z",
    );
    assert_eq!(both.json.as_array().unwrap().len(), 2);
    let review = get(&fake, "/users/hank/actions?state=REVIEW_REQUIRED");
    assert_eq!(review.json.as_array().unwrap().len(), 1);
    assert_eq!(review.json[0]["state"], "REVIEW_REQUIRED");
    let future = get(&fake, "/users/hank/actions?fromDate=2999-01-01");
    assert_eq!(future.json, json!([]));

    // A REVIEW_SUCCEEDED override makes the token valid.
    let tracked = post(&fake, "/users/hank/actions/payout", &json!({}));
    let key = tracked.str("idempotencyKey");
    patch(
        &fake,
        &format!("/users/hank/actions/payout/{key}"),
        &json!({"state": "REVIEW_SUCCEEDED"}),
    );
    let validated = post(&fake, "/validate", &json!({"token": tracked.str("token")}));
    assert_eq!(validated.json["isValid"], true);
    assert_eq!(validated.json["state"], "REVIEW_SUCCEEDED");
}

#[test]
fn challenge_claim_flow() {
    let fake = FakeAuthsignal::new();
    // Email OTP before we know the user (sign-up style).
    let challenged = post(
        &fake,
        "/challenge",
        &json!({"verificationMethod": "EMAIL_OTP", "action": "signUp", "email": "new@example.com"}),
    );
    assert_eq!(challenged.status, 200, "{}", challenged.body);
    let challenge_id = challenged.str("challengeId");
    let key = challenged.str("idempotencyKey");

    let early = post(
        &fake,
        "/claim",
        &json!({"challengeId": challenge_id, "userId": "ivy"}),
    );
    assert_error(&early, 400, "invalid_request");

    let code = fake.last_code().unwrap();
    let verified = post(
        &fake,
        "/verify",
        &json!({"challengeId": challenge_id, "verificationCode": code}),
    );
    assert_eq!(
        verified.json,
        json!({"isVerified": true, "verificationMethod": "EMAIL_OTP", "email": "new@example.com"})
    );

    let claimed = post(
        &fake,
        "/claim",
        &json!({"challengeId": challenge_id, "userId": "ivy"}),
    );
    assert_eq!(claimed.status, 200, "{}", claimed.body);
    assert_eq!(claimed.json["verificationMethod"], "EMAIL_OTP");
    let token = claimed.str("token");
    assert_error(
        &post(
            &fake,
            "/claim",
            &json!({"challengeId": challenge_id, "userId": "ivy"}),
        ),
        400,
        "invalid_request",
    );

    let user = get(&fake, "/users/ivy");
    assert_eq!(user.json["email"], "new@example.com");
    assert_eq!(user.json["emailVerified"], true);

    let validated = post(&fake, "/validate", &json!({"token": token}));
    assert_eq!(validated.json["isValid"], true, "{}", validated.body);
    assert_eq!(validated.json["state"], "CHALLENGE_SUCCEEDED");
    assert_eq!(validated.json["userId"], "ivy");
    assert_eq!(validated.json["action"], "signUp");
    assert_eq!(validated.json["idempotencyKey"], key.as_str());
    assert_eq!(validated.json["verificationMethod"], "EMAIL_OTP");
    assert_eq!(
        post(&fake, "/validate", &json!({"token": token})).json["isValid"],
        false
    );

    // A claimed token also opens a session.
    let session = post(
        &fake,
        "/sessions",
        &json!({"clientId": "web", "token": token}),
    );
    assert_eq!(session.status, 200, "{}", session.body);
    let user = post(
        &fake,
        "/sessions/validate",
        &json!({"accessToken": session.str("accessToken")}),
    );
    assert_eq!(user.json["user"]["userId"], "ivy");
    assert_eq!(user.json["verificationMethod"], "EMAIL_OTP");

    // Lookups by filter; POST variant with a body; no match is 404.
    let info = get(
        &fake,
        "/challenges?action=signUp&verificationMethod=EMAIL_OTP",
    );
    assert_eq!(info.json["challengeId"], challenge_id.as_str());
    assert_eq!(info.json["email"], "new@example.com");
    let posted = post(&fake, "/challenges", &json!({"challengeId": challenge_id}));
    assert_eq!(posted.json["challengeId"], challenge_id.as_str());
    assert_error(
        &get(&fake, "/challenges?challengeId=nope"),
        404,
        "not_found",
    );

    // Missing contact details are a 400; a re-send gives a new code.
    assert_error(
        &post(
            &fake,
            "/challenge",
            &json!({"verificationMethod": "SMS", "action": "signUp"}),
        ),
        400,
        "invalid_request",
    );
    let c = post(
        &fake,
        "/challenge",
        &json!({"verificationMethod": "WHATSAPP", "action": "x", "phoneNumber": "+1555"}),
    );
    let id = c.str("challengeId");
    let resent = post(
        &fake,
        "/challenge",
        &json!({"verificationMethod": "WHATSAPP", "action": "x", "challengeId": id}),
    );
    assert_eq!(resent.json["challengeId"], id.as_str());
    let code = fake.last_code_for(&id).unwrap();
    let ok = post(
        &fake,
        "/verify",
        &json!({"challengeId": id, "verificationCode": code}),
    );
    assert_eq!(ok.json["isVerified"], true);
    assert_eq!(ok.json["verificationMethod"], "WHATSAPP");
}

#[test]
fn sessions_create_validate_refresh_revoke() {
    let fake = FakeAuthsignal::new();
    patch(
        &fake,
        "/users/jane",
        &json!({"email": "jane@example.com", "custom": {"tier": "gold"}}),
    );
    let flow = sign_in(&fake, "jane", "signIn", "+15550004");
    let validated = post(&fake, "/validate", &json!({"token": flow.token}));
    assert_eq!(validated.json["isValid"], true);

    let created = post(
        &fake,
        "/sessions",
        &json!({"clientId": "web", "token": flow.token, "action": "signIn"}),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let access = created.str("accessToken");
    let refresh = created.str("refreshToken");
    // One session per token.
    assert_error(
        &post(
            &fake,
            "/sessions",
            &json!({"clientId": "web", "token": flow.token}),
        ),
        400,
        "invalid_request",
    );

    let session = post(
        &fake,
        "/sessions/validate",
        &json!({"accessToken": access, "clientIds": ["web", "ios"]}),
    );
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(session.json["user"]["userId"], "jane");
    assert_eq!(session.json["user"]["email"], "jane@example.com");
    assert_eq!(session.json["user"]["custom"]["tier"], "gold");
    assert_eq!(session.json["verificationMethod"], "SMS");
    let expires_at = session.json["expiresAt"].as_i64().unwrap();
    assert!(expires_at > 1_700_000_000 && expires_at < 100_000_000_000);
    assert_error(
        &post(
            &fake,
            "/sessions/validate",
            &json!({"accessToken": access, "clientIds": ["ios"]}),
        ),
        400,
        "invalid_request",
    );

    // Refresh rotates both tokens.
    let refreshed = post(
        &fake,
        "/sessions/refresh",
        &json!({"refreshToken": refresh}),
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let access2 = refreshed.str("accessToken");
    let refresh2 = refreshed.str("refreshToken");
    assert_ne!(access2, access);
    assert_ne!(refresh2, refresh);
    assert_error(
        &post(
            &fake,
            "/sessions/refresh",
            &json!({"refreshToken": refresh}),
        ),
        400,
        "invalid_request",
    );
    assert_error(
        &post(&fake, "/sessions/validate", &json!({"accessToken": access})),
        400,
        "invalid_request",
    );
    assert_eq!(
        post(
            &fake,
            "/sessions/validate",
            &json!({"accessToken": access2})
        )
        .status,
        200
    );

    // Expired access tokens fail; the refresh token still works.
    fake.advance(Duration::from_secs(60 * 60 + 1));
    assert_error(
        &post(
            &fake,
            "/sessions/validate",
            &json!({"accessToken": access2}),
        ),
        400,
        "invalid_request",
    );
    let refreshed = post(
        &fake,
        "/sessions/refresh",
        &json!({"refreshToken": refresh2}),
    );
    let access3 = refreshed.str("accessToken");
    let refresh3 = refreshed.str("refreshToken");
    assert_eq!(
        post(
            &fake,
            "/sessions/validate",
            &json!({"accessToken": access3})
        )
        .status,
        200
    );

    // Revoke one session.
    let revoked = post(&fake, "/sessions/revoke", &json!({"accessToken": access3}));
    assert_eq!(revoked.status, 200);
    assert_error(
        &post(
            &fake,
            "/sessions/validate",
            &json!({"accessToken": access3}),
        ),
        400,
        "invalid_request",
    );
    assert_error(
        &post(
            &fake,
            "/sessions/refresh",
            &json!({"refreshToken": refresh3}),
        ),
        400,
        "invalid_request",
    );
    assert_eq!(
        post(
            &fake,
            "/sessions/revoke",
            &json!({"accessToken": "unknown"})
        )
        .status,
        200
    );

    // Revoke all of a user's sessions.
    let t1 = post(&fake, "/users/jane/actions/signIn", &json!({}));
    let t2 = post(&fake, "/users/jane/actions/signIn", &json!({}));
    fake.set_action_outcome("signIn", UserActionState::Allow);
    let t3 = post(&fake, "/users/jane/actions/signIn", &json!({}));
    // Pending actions cannot open sessions.
    assert_error(
        &post(
            &fake,
            "/sessions",
            &json!({"clientId": "web", "token": t1.str("token")}),
        ),
        400,
        "invalid_request",
    );
    let _ = t2;
    let s3 = post(
        &fake,
        "/sessions",
        &json!({"clientId": "web", "token": t3.str("token")}),
    );
    let other = post(&fake, "/users/kim/actions/signIn", &json!({}));
    let s4 = post(
        &fake,
        "/sessions",
        &json!({"clientId": "web", "token": other.str("token")}),
    );
    let all = post(&fake, "/sessions/user/revoke", &json!({"userId": "jane"}));
    assert_eq!(all.status, 200);
    assert_error(
        &post(
            &fake,
            "/sessions/validate",
            &json!({"accessToken": s3.str("accessToken")}),
        ),
        400,
        "invalid_request",
    );
    assert_eq!(
        post(
            &fake,
            "/sessions/validate",
            &json!({"accessToken": s4.str("accessToken")})
        )
        .json["user"]["userId"],
        "kim"
    );
}

#[test]
fn requests_are_recorded() {
    let fake = FakeAuthsignal::new();
    post(
        &fake,
        "/users/x/actions/signIn",
        &json!({"email": "x@example.com"}),
    );
    get(&fake, "/users?email=x%40example.com");
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
    assert_eq!(
        requests[0].header("authorization"),
        Some(fake.authorization_header().as_str())
    );
    let encoded = fake.authorization_header()["Basic ".len()..].to_owned();
    assert!(!format!("{:?}", requests[0]).contains(&encoded));
    fake.clear_requests();
    assert_eq!(fake.request_count(), 0);
}

#[test]
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
    let targets = [
        "/v1/users/authenticators",
        "/v1/validate",
        "/v1/sessions",
        "/v1/users/u/actions/a/k",
        "/v1/challenge",
        "/v1/claim",
        "/v1/challenges",
    ];
    for body in bodies {
        for target in targets {
            for method in ["POST", "PATCH"] {
                let resp = send_raw(&fake, method, target, Some(&auth), Some(body));
                assert!(resp.status < 500, "{method} {target} {body}: {}", resp.body);
            }
        }
    }
    assert_eq!(get(&fake, "/users/still-alive").status, 200);
}

#[test]
fn webhook_signing_is_reexported() {
    let fake = FakeAuthsignal::start_with_secret("test-secret-key-123");
    let header = authsignal_testkit::sign(&fake.api_secret_key(), b"{}", 1_630_000_000);
    assert_eq!(
        header,
        "t=1630000000,v2=5A34twV5yi1Tr0WX6lDL2A6Q0HumnxL7eWzln9LqYKI"
    );
    let _: ApiSecretKey = fake.api_secret_key();
}

#[test]
fn drop_stops_the_server() {
    let fake = FakeAuthsignal::start();
    let addr = fake.addr().unwrap();
    assert_eq!(get(&fake, "/users/x").status, 200);
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

#[test]
fn call_connect_needs_its_own_key() {
    let fake = FakeAuthsignal::new();
    assert_eq!(fake.call_connect_url(), "https://authsignal-fake.invalid");
    assert!(fake.call_connect_secret().starts_with("sk_test_fake_cc_"));
    assert_ne!(fake.call_connect_secret(), fake.secret());
    assert_eq!(
        fake.call_connect_authorization_header(),
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:", fake.call_connect_secret()))
        )
    );
    assert!(!format!("{fake:?}").contains(fake.call_connect_secret()));
    let connect = fake.call_connect_authorization_header();
    let server_api = fake.authorization_header();
    let start = r#"{"referenceId":"call-1","phoneNumber":"+6427123456","channel":"WHATSAPP"}"#;

    // The Server API key does not open Call Connect…
    for auth in [Some(server_api.as_str()), None] {
        let resp = send_raw(&fake, "POST", "/call/start", auth, Some(start));
        assert_error(&resp, 401, "unauthorized");
    }
    // …nor the Call Connect key the Server API.
    let resp = send_raw(&fake, "GET", "/v1/users/alice", Some(&connect), None);
    assert_error(&resp, 401, "unauthorized");
    // Call Connect paths have no `/v1`.
    let resp = send_raw(
        &fake,
        "POST",
        "/v1/call/start",
        Some(&server_api),
        Some(start),
    );
    assert_error(&resp, 404, "not_found");

    let resp = send_raw(&fake, "POST", "/call/start", Some(&connect), Some(start));
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert!(!resp.str("messageId").is_empty());
    assert_eq!(resp.json["channel"], "WHATSAPP");
    assert_eq!(resp.json["phoneNumber"], "+6427123456");
    assert_eq!(fake.call_outcome("call-1"), None);

    let by_email = r#"{"referenceId":"call-2","email":"a@example.com"}"#;
    let resp = send_raw(&fake, "POST", "/call/start", Some(&connect), Some(by_email));
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json["channel"], "EMAIL");
    assert_eq!(resp.json["email"], "a@example.com");
    assert!(resp.json.get("phoneNumber").is_none());

    for bad in [
        r#"{"phoneNumber":"+6427123456"}"#,
        r#"{"referenceId":"call-3"}"#,
        r#"{"referenceId":"call-3","channel":"EMAIL","phoneNumber":"+6427123456"}"#,
        r#"{"referenceId":"call-3","channel":"FAX","phoneNumber":"+6427123456"}"#,
    ] {
        let resp = send_raw(&fake, "POST", "/call/start", Some(&connect), Some(bad));
        assert_error(&resp, 400, "invalid_request");
    }

    let finish = r#"{"referenceId":"call-1","state":"CHALLENGE_SUCCEEDED","userId":"u1","payload":{"agent":"a-7"}}"#;
    let resp = send_raw(&fake, "POST", "/call/finish", Some(&connect), Some(finish));
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json, json!({"success": true}));
    assert_eq!(
        fake.call_outcome("call-1"),
        Some(CallState::ChallengeSucceeded)
    );

    let unknown = r#"{"referenceId":"never","state":"CHALLENGE_FAILED"}"#;
    let resp = send_raw(&fake, "POST", "/call/finish", Some(&connect), Some(unknown));
    assert_error(&resp, 404, "not_found");
    let bad_state = r#"{"referenceId":"call-1","state":"MAYBE"}"#;
    let resp = send_raw(
        &fake,
        "POST",
        "/call/finish",
        Some(&connect),
        Some(bad_state),
    );
    assert_error(&resp, 400, "invalid_request");
}

#[test]
fn authenticator_configurations_are_listed() {
    let fake = FakeAuthsignal::new();
    let resp = get(&fake, "/authenticators");
    assert_eq!(resp.status, 200, "{}", resp.body);
    let configurations = resp.json.as_array().expect("a bare array");
    assert_eq!(configurations.len(), 6);
    let sms = &configurations[0];
    assert_eq!(sms["verificationMethod"], "SMS");
    assert_eq!(sms["smsChannel"], "WHATSAPP");
    assert_eq!(sms["isActive"], true);
    assert!(!sms["authenticatorId"].as_str().unwrap().is_empty());
    assert!(
        configurations
            .iter()
            .any(|c| c["verificationMethod"] == "SECURITY_KEY" && c["isActive"] == false)
    );
    assert!(
        configurations[1..]
            .iter()
            .all(|c| c.get("smsChannel").is_none())
    );
    // It is a Server API route: the API key is needed.
    let resp = send_raw(&fake, "GET", "/v1/authenticators", None, None);
    assert_error(&resp, 401, "unauthorized");
}

#[test]
fn payment_sessions_need_a_paired_terminal() {
    let fake = FakeAuthsignal::new();
    let create = r#"{"amount":42.5,"reference":"POS-0093-118","currency":"NZD"}"#;
    let terminal = |id| [("x-authsignal-terminal", id)];

    // Nobody is paired yet; the Server API key does not open the Terminal API.
    let resp = send_with_headers(
        &fake,
        "POST",
        "/v1/terminal/payment-session",
        &terminal("term-1"),
        Some(create),
    );
    assert_error(&resp, 401, "unauthorized");
    let server_api = fake.authorization_header();
    let resp = send_raw(
        &fake,
        "POST",
        "/v1/terminal/payment-session",
        Some(&server_api),
        Some(create),
    );
    assert_error(&resp, 401, "unauthorized");

    fake.add_terminal("term-1");
    fake.add_terminal("term-2");
    let resp = send_with_headers(
        &fake,
        "POST",
        "/v1/terminal/payment-session",
        &terminal("term-1"),
        Some(create),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json["status"], "PENDING");
    assert_eq!(resp.json["reference"], "POS-0093-118");
    let id = resp.str("challengeId");

    let path = format!("/v1/terminal/payment-session/{id}");
    let poll = |terminal_id| send_with_headers(&fake, "GET", &path, &terminal(terminal_id), None);
    let resp = poll("term-1");
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.json,
        json!({"challengeId": id, "status": "PENDING", "reference": "POS-0093-118"})
    );
    // Another terminal cannot see it; an unknown one is not let in.
    assert_error(&poll("term-2"), 404, "not_found");
    assert_error(&poll("term-3"), 401, "unauthorized");

    // The customer approves at the terminal.
    assert!(fake.set_payment_session_status(&id, PaymentSessionStatus::Completed));
    assert_eq!(poll("term-1").json["status"], "COMPLETED");
    assert!(!fake.set_payment_session_status(&id, PaymentSessionStatus::from("REFUNDED")));
    assert!(!fake.set_payment_session_status("nope", PaymentSessionStatus::Failed));
    assert_eq!(poll("term-1").json["status"], "COMPLETED");

    let unknown = send_with_headers(
        &fake,
        "GET",
        "/v1/terminal/payment-session/nope",
        &terminal("term-1"),
        None,
    );
    assert_error(&unknown, 404, "not_found");
    let bad = send_with_headers(
        &fake,
        "POST",
        "/v1/terminal/payment-session",
        &terminal("term-1"),
        Some(r#"{"amount":"42.5"}"#),
    );
    assert_error(&bad, 400, "invalid_request");
}

#[test]
fn challenge_resend_by_challenge_id_alone() {
    let fake = FakeAuthsignal::new();
    let started = post(
        &fake,
        "/challenge",
        &json!({"verificationMethod": "SMS", "action": "signIn", "phoneNumber": "+6421555012"}),
    );
    assert_eq!(started.status, 200, "{}", started.body);
    let id = started.str("challengeId");
    let first_code = fake.last_code_for(&id).unwrap();

    // The documented shape without a challenge id still needs both fields.
    for body in [
        json!({"verificationMethod": "SMS"}),
        json!({"action": "signIn"}),
        json!({}),
    ] {
        assert_error(&post(&fake, "/challenge", &body), 400, "invalid_request");
    }

    let resent = post(&fake, "/challenge", &json!({"challengeId": id}));
    assert_eq!(resent.status, 200, "{}", resent.body);
    assert_eq!(resent.json["challengeId"], id.as_str());
    assert_eq!(
        resent.json["idempotencyKey"],
        started.json["idempotencyKey"]
    );
    assert!(resent.json["expiresAt"].as_i64() >= started.json["expiresAt"].as_i64());
    assert_eq!(fake.last_challenge_id().as_deref(), Some(id.as_str()));
    let code = fake.last_code_for(&id).unwrap();
    // Only the newest code works (a six-digit clash is possible, so only
    // check the old one when it differs).
    if code != first_code {
        let old = post(
            &fake,
            "/verify",
            &json!({"challengeId": id, "verificationCode": first_code}),
        );
        assert_eq!(old.json["isVerified"], false);
    }
    // A resend that names a different method or action is refused.
    for body in [
        json!({"challengeId": id, "verificationMethod": "EMAIL_OTP"}),
        json!({"challengeId": id, "action": "withdraw"}),
    ] {
        assert_error(&post(&fake, "/challenge", &body), 400, "invalid_request");
    }
    let code = fake.last_code_for(&id).unwrap();
    let ok = post(
        &fake,
        "/verify",
        &json!({"challengeId": id, "verificationCode": code}),
    );
    assert_eq!(ok.json["isVerified"], true, "{}", ok.body);
    assert_eq!(ok.json["phoneNumber"], "+6421555012");

    // A verified (or unknown) challenge cannot be re-sent.
    for unknown in [id.as_str(), "nope"] {
        assert_error(
            &post(&fake, "/challenge", &json!({"challengeId": unknown})),
            400,
            "invalid_request",
        );
    }
}

#[test]
fn documented_fields_of_users_actions_and_authenticators() {
    let fake = FakeAuthsignal::new();
    // get user: `locale`.
    patch(&fake, "/users/ana", &json!({"locale": "es"}));
    assert_eq!(get(&fake, "/users/ana").json["locale"], "es");

    // get action: `ruleIds`; listed actions: the IP address and user agent
    // given to track (no `countryCode`: the fake does not geolocate).
    let tracked = post(
        &fake,
        "/users/ana/actions/signIn",
        &json!({"ipAddress": "203.0.113.7", "userAgent": "Mozilla/5.0"}),
    );
    let key = tracked.str("idempotencyKey");
    let action = get(&fake, &format!("/users/ana/actions/signIn/{key}"));
    assert_eq!(action.json["ruleIds"], json!([]));
    let listed = get(&fake, "/users/ana/actions");
    assert_eq!(listed.json[0]["ipAddress"], "203.0.113.7");
    assert_eq!(listed.json[0]["userAgent"], "Mozilla/5.0");
    // The fake "geolocates" every IP address to New Zealand.
    assert_eq!(listed.json[0]["countryCode"], "NZ");

    // enroll: a passkey needs its credential id and public key.
    let passkey = post(
        &fake,
        "/users/ana/authenticators",
        &json!({"verificationMethod": "PASSKEY", "credentialId": "Y3JlZA", "credentialPublicKey": "pk", "name": "MacBook"}),
    );
    assert_eq!(passkey.status, 200, "{}", passkey.body);
    let credential = &passkey.json["authenticator"]["webauthnCredential"];
    assert_eq!(credential["credentialId"], "Y3JlZA");
    assert_eq!(credential["name"], "MacBook");
    for body in [
        json!({"verificationMethod": "PASSKEY", "credentialId": "Y3JlZA"}),
        json!({"verificationMethod": "PASSKEY", "credentialPublicKey": "pk"}),
        json!({"verificationMethod": "SMS", "phoneNumber": "+6421555012", "oobChannel": "FAX"}),
    ] {
        assert_error(
            &post(&fake, "/users/ana/authenticators", &body),
            400,
            "invalid_request",
        );
    }
    // The deprecated `oobChannel` is still accepted.
    let sms = post(
        &fake,
        "/users/ana/authenticators",
        &json!({"verificationMethod": "SMS", "phoneNumber": "+6421555012", "oobChannel": "SMS"}),
    );
    assert_eq!(sms.status, 200, "{}", sms.body);
    assert!(
        sms.json["authenticator"]
            .get("previousSmsChannel")
            .is_none()
    );

    // previousSmsChannel: the channel of the last verified SMS challenge.
    let challenge = post(
        &fake,
        "/challenge",
        &json!({"verificationMethod": "SMS", "action": "signIn", "userId": "ana",
                "phoneNumber": "+6421555012", "smsChannel": "WHATSAPP"}),
    );
    let id = challenge.str("challengeId");
    let code = fake.last_code_for(&id).unwrap();
    let verified = post(
        &fake,
        "/verify",
        &json!({"challengeId": id, "verificationCode": code}),
    );
    assert_eq!(verified.json["isVerified"], true);
    let listed = get(&fake, "/users/ana/authenticators");
    let sms = listed
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["verificationMethod"] == "SMS")
        .unwrap();
    assert_eq!(sms["previousSmsChannel"], "WHATSAPP");
}
