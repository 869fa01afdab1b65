//! The fake's clock: OTP, token and session expiry driven by `advance`.

mod common;

use std::time::Duration;

use authsignal_core::VerificationMethod;
use authsignal_testkit::FakeAuthsignal;
use common::*;
use serde_json::json;

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn otp_codes_last_five_minutes() {
    let fake = FakeAuthsignal::new();
    fake.add_authenticator("kim", VerificationMethod::Sms, Some("+64270000002"));
    let start = |fake: &FakeAuthsignal| {
        let challenged = post(
            fake,
            "/challenge",
            &json!({"verificationMethod": "SMS", "action": "signIn", "userId": "kim"}),
        );
        let id = challenged.str("challengeId");
        (id.clone(), fake.last_code_for(&id).unwrap())
    };
    let verify = |fake: &FakeAuthsignal, id: &str, code: &str| {
        post(
            fake,
            "/verify",
            &json!({"challengeId": id, "verificationCode": code}),
        )
        .json
    };
    let (id, code) = start(&fake);
    fake.advance(4 * MINUTE);
    assert_eq!(verify(&fake, &id, &code)["isVerified"], true);
    let (id, code) = start(&fake);
    fake.advance(5 * MINUTE + Duration::from_secs(1));
    let late = verify(&fake, &id, &code);
    assert_eq!(late["isVerified"], false);
    assert_eq!(late["failureReason"], "CODE_INVALID_OR_EXPIRED");
}

#[test]
fn tokens_last_ten_minutes_and_sessions_an_hour() {
    let fake = FakeAuthsignal::new();
    let token = post(&fake, "/users/lee/actions/signIn", &json!({})).str("token");
    fake.advance(9 * MINUTE);
    let session = post(
        &fake,
        "/sessions",
        &json!({"clientId": "web", "token": token}),
    );
    assert_eq!(session.status, 200, "{}", session.body);
    let access = session.str("accessToken");
    let later = post(&fake, "/users/lee/actions/signIn", &json!({})).str("token");
    fake.advance(2 * MINUTE);
    let validated = post(&fake, "/validate", &json!({"token": token}));
    assert_eq!(validated.json["isValid"], false);
    assert!(
        validated.json["error"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    assert_eq!(
        post(&fake, "/validate", &json!({"token": later})).json["isValid"],
        true
    );

    let check =
        |fake: &FakeAuthsignal| post(fake, "/sessions/validate", &json!({"accessToken": access}));
    assert_eq!(check(&fake).status, 200);
    // Created 2 minutes ago: 58 more and a second end its hour.
    fake.advance(58 * MINUTE + Duration::from_secs(1));
    assert_error(&check(&fake), 400, "invalid_request");
    // The refresh token outlives the access token.
    let refreshed = post(
        &fake,
        "/sessions/refresh",
        &json!({"refreshToken": session.str("refreshToken")}),
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
}

#[test]
fn timestamps_follow_the_clock() {
    let fake = FakeAuthsignal::new();
    let first = post(&fake, "/users/mo/actions/signIn", &json!({})).str("idempotencyKey");
    fake.advance(Duration::from_secs(24 * 60 * 60));
    let second = post(&fake, "/users/mo/actions/signIn", &json!({})).str("idempotencyKey");
    let created = |key: &str| {
        let action = get(&fake, &format!("/users/mo/actions/signIn/{key}"));
        time::OffsetDateTime::parse(
            action.json["createdAt"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let gap = created(&second) - created(&first);
    assert!(
        gap >= time::Duration::hours(24) && gap < time::Duration::hours(25),
        "{gap}"
    );
}
