//! The real API's rules the fake enforces (reference addendum §6, §8), and
//! seed files.

mod common;

use authsignal_core::UserActionState;
use authsignal_testkit::FakeAuthsignal;
use common::*;
use serde_json::json;

#[test]
fn query_users_needs_a_filter() {
    let fake = FakeAuthsignal::new();
    post(&fake, "/users/u1", &json!({"email": "a@example.com"}));
    let description = assert_error(&get(&fake, "/users"), 400, "invalid_request");
    assert!(description.contains("username"), "{description}");
    assert_error(&get(&fake, "/users?limit=10"), 400, "invalid_request");
    assert_error(&get(&fake, "/users?email="), 400, "invalid_request");
    let found = get(&fake, "/users?email=a%40example.com");
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.json["users"][0]["userId"], "u1");
}

#[test]
fn enrolment_validates_per_method_and_hands_out_recovery_codes_once() {
    let fake = FakeAuthsignal::new();
    let path = "/users/ana/authenticators";
    let missing = post(
        &fake,
        path,
        &json!({"verificationMethod": "AUTHENTICATOR_APP"}),
    );
    assert!(assert_error(&missing, 400, "invalid_request").contains("otpUri"));
    let app = post(
        &fake,
        path,
        &json!({"verificationMethod": "AUTHENTICATOR_APP", "otpUri": "otpauth://totp/x?secret=ABC"}),
    );
    assert_eq!(app.status, 200, "{}", app.body);
    assert_eq!(
        app.json["authenticator"]["verificationMethod"],
        "AUTHENTICATOR_APP"
    );
    let codes = app.json["recoveryCodes"]
        .as_array()
        .expect("recovery codes");
    assert_eq!(codes.len(), 10);
    assert!(
        codes
            .iter()
            .all(|c| c.as_str().is_some_and(|c| c.len() == 9))
    );
    // The second enrolment gets none.
    let sms = post(
        &fake,
        path,
        &json!({"verificationMethod": "SMS", "phoneNumber": "+64270000009"}),
    );
    assert_eq!(sms.status, 200, "{}", sms.body);
    assert!(sms.json.get("recoveryCodes").is_none(), "{}", sms.body);
    // The deprecated `oobChannel` is still accepted.
    let oob = post(
        &fake,
        path,
        &json!({"verificationMethod": "EMAIL_OTP", "email": "ana@example.com", "oobChannel": "EMAIL_OTP"}),
    );
    assert_eq!(oob.status, 200, "{}", oob.body);
}

#[test]
fn a_chosen_outcome_reads_as_a_rule_on_get_action() {
    let fake = FakeAuthsignal::new();
    fake.set_action_outcome("withdraw", UserActionState::Block);
    let tracked = post(&fake, "/users/bo/actions/withdraw", &json!({}));
    let key = tracked.str("idempotencyKey");
    let action = get(&fake, &format!("/users/bo/actions/withdraw/{key}"));
    assert_eq!(action.json["state"], "BLOCK");
    assert_eq!(action.json["ruleIds"], json!(["fake-rule-withdraw"]));
    assert_eq!(action.json["priorityRuleId"], "fake-rule-withdraw");
    // A default outcome triggered no rule.
    let plain = post(&fake, "/users/bo/actions/signIn", &json!({}));
    let key = plain.str("idempotencyKey");
    let action = get(&fake, &format!("/users/bo/actions/signIn/{key}"));
    assert_eq!(action.json["ruleIds"], json!([]));
    assert!(action.json.get("priorityRuleId").is_none());
}

const SEED: &str = r#"{
  "users": [{"userId": "alice", "email": "alice@example.com", "username": "alice", "displayName": "Alice"}],
  "authenticators": [{"userId": "alice", "verificationMethod": "SMS", "phoneNumber": "+64270000001"}],
  "actionOutcomes": {"withdraw": "REVIEW_REQUIRED"}
}"#;

#[test]
fn a_seed_file_loads_users_authenticators_and_outcomes() {
    let fake = FakeAuthsignal::new();
    fake.load_seed(SEED).expect("a valid seed");
    let user = get(&fake, "/users/alice");
    assert_eq!(user.json["isEnrolled"], true);
    assert_eq!(user.json["email"], "alice@example.com");
    assert_eq!(user.json["displayName"], "Alice");
    assert_eq!(user.json["phoneNumber"], "+64270000001");
    let list = get(&fake, "/users/alice/authenticators");
    assert_eq!(list.json[0]["verificationMethod"], "SMS");
    let tracked = post(&fake, "/users/alice/actions/withdraw", &json!({}));
    assert_eq!(tracked.json["state"], "REVIEW_REQUIRED");
}

#[test]
fn a_bad_seed_file_loads_nothing() {
    let fake = FakeAuthsignal::new();
    let bad_state = SEED.replace("REVIEW_REQUIRED", "MAYBE");
    let error = fake.load_seed(&bad_state).unwrap_err();
    assert!(error.to_string().contains("MAYBE"), "{error}");
    let bad_method = SEED.replace("\"SMS\"", "\"CARRIER_PIGEON\"");
    assert!(
        fake.load_seed(&bad_method)
            .unwrap_err()
            .to_string()
            .contains("CARRIER_PIGEON")
    );
    assert!(
        fake.load_seed(r#"{"user": []}"#).is_err(),
        "unknown keys are refused"
    );
    assert!(fake.load_seed("not json").is_err());
    assert_eq!(get(&fake, "/users/alice").json["isEnrolled"], false);
}
