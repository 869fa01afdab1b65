//! What the endpoint table (`tests/fixtures/`, requests as JSON) cannot
//! state: an amount JSON cannot carry, a batch of 1,000 or 1,001 items,
//! and which fields the constructors fill.

use authsignal_core::{
    AuthScope, BatchEnrollAuthenticator, BatchEnrollVerifiedAuthenticatorsRequest,
    ChallengeRequest, ClaimChallengeRequest, Config, CreatePaymentSessionRequest, Endpoint,
    EnrollVerifiedAuthenticatorRequest, Error, GetAuthenticatorConfigurationsRequest, InvalidInput,
    MAX_BATCH_ENROLL_AUTHENTICATORS, VerificationMethod,
};

fn config() -> Config {
    Config::builder("sk_test_requests").build().unwrap()
}

#[test]
fn create_payment_session_refuses_an_amount_json_cannot_carry() {
    let config = config();
    for amount in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let error = CreatePaymentSessionRequest::new("term_5f2c9a", amount, "POS-1", "NZD")
            .build_request(&config)
            .unwrap_err();
        match error {
            Error::InvalidInput(InvalidInput::Field { name, .. }) => assert_eq!(name, "amount"),
            other => panic!("{amount}: {other:?}"),
        }
    }
}

#[test]
fn a_batch_holds_at_most_1000_authenticators() {
    let one = BatchEnrollAuthenticator::passkey("u", "c", "k");
    let max = BatchEnrollVerifiedAuthenticatorsRequest::new(vec![
        one.clone();
        MAX_BATCH_ENROLL_AUTHENTICATORS
    ]);
    let request = max.build_request(&config()).unwrap();
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(body["authenticators"].as_array().unwrap().len(), 1000);
    let too_many = BatchEnrollVerifiedAuthenticatorsRequest::new(vec![one; 1001]);
    match too_many.build_request(&config()) {
        Err(Error::InvalidInput(InvalidInput::Field { name, reason })) => {
            assert_eq!(name, "authenticators");
            assert!(reason.contains("1000"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn constructors_fill_the_fields_they_name() {
    let resend = ChallengeRequest::resend("ch-1");
    assert_eq!(resend.challenge_id.as_deref(), Some("ch-1"));
    assert_eq!(resend.verification_method, None);
    assert_eq!(resend.action, None);
    let start = ChallengeRequest::new(VerificationMethod::Whatsapp, "signIn");
    assert_eq!(start.challenge_id, None);
    assert_eq!(
        start.verification_method,
        Some(VerificationMethod::Whatsapp)
    );
    assert_eq!(start.action.as_deref(), Some("signIn"));
    let claim = ClaimChallengeRequest::new("usr_8841", "ch-1");
    assert_eq!(claim.user_id, "usr_8841", "the user id comes first");
    assert_eq!(claim.challenge_id, "ch-1");
    assert_eq!(
        GetAuthenticatorConfigurationsRequest::new(),
        GetAuthenticatorConfigurationsRequest::default()
    );
    // Scopes add up, one at a time or several.
    let scoped = ChallengeRequest::resend("ch-1")
        .with_scope(AuthScope::AddAuthenticators)
        .with_scopes([AuthScope::UpdateAuthenticators]);
    assert_eq!(
        scoped.scope,
        [
            AuthScope::AddAuthenticators,
            AuthScope::UpdateAuthenticators
        ]
    );
    let passkey = EnrollVerifiedAuthenticatorRequest::passkey("u", "cred", "key");
    assert_eq!(passkey.verification_method, VerificationMethod::Passkey);
    assert_eq!(passkey.credential_id.as_deref(), Some("cred"));
    assert_eq!(passkey.credential_public_key.as_deref(), Some("key"));
    let item = BatchEnrollAuthenticator::passkey("u", "cred", "key");
    assert_eq!(
        item,
        BatchEnrollAuthenticator::new("u", VerificationMethod::Passkey, "cred", "key")
    );
    let batch =
        BatchEnrollVerifiedAuthenticatorsRequest::new([item.clone()]).with_authenticator(item);
    assert_eq!(batch.authenticators.len(), 2);
}
