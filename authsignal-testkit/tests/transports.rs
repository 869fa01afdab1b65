//! One sign-in flow over every way to run the fake: the in-process
//! blocking and async transports, and the loopback socket server.

use authsignal_core::{
    AsyncClient, AsyncTransport, BlockingTransport, ChallengeRequest, Client,
    EnrollVerifiedAuthenticatorRequest, Error, NoWaitTimer, TrackRequest, UserActionState,
    ValidateChallengeRequest, VerificationMethod, VerifyRequest,
};
use authsignal_testkit::FakeAuthsignal;
use http::Method;

/// Enrol, track, challenge, verify, validate (async twin of
/// `blocking_sign_in`).
async fn sign_in<T, Tm>(fake: &FakeAuthsignal, client: &AsyncClient<T, Tm>) -> Result<(), Error>
where
    T: AsyncTransport + Sync,
    Tm: authsignal_core::AsyncTimer + Sync,
{
    client
        .enroll_verified_authenticator(
            EnrollVerifiedAuthenticatorRequest::new("alice", VerificationMethod::Sms)
                .with_phone_number("+64270000001"),
        )
        .await?;
    let tracked = client.track(TrackRequest::new("alice", "signIn")).await?;
    assert_eq!(tracked.state, UserActionState::ChallengeRequired);
    let challenge = client
        .challenge(
            ChallengeRequest::new(VerificationMethod::Sms, "signIn")
                .with_user_id("alice")
                .with_idempotency_key(tracked.idempotency_key.clone()),
        )
        .await?;
    let code = fake.last_code_for(&challenge.challenge_id).expect("a code");
    let verified = client
        .verify(VerifyRequest::new(challenge.challenge_id, code))
        .await?;
    assert!(verified.is_verified);
    let validated = client
        .validate_challenge(ValidateChallengeRequest::new(tracked.token))
        .await?;
    assert!(validated.is_valid);
    assert_eq!(validated.user_id.as_deref(), Some("alice"));
    assert_eq!(validated.state, Some(UserActionState::ChallengeSucceeded));
    Ok(())
}

/// Enrol, track, challenge, verify, validate, asserting each answer.
fn blocking_sign_in<T: BlockingTransport>(fake: &FakeAuthsignal, client: &Client<T>) {
    client
        .enroll_verified_authenticator(
            EnrollVerifiedAuthenticatorRequest::new("alice", VerificationMethod::Sms)
                .with_phone_number("+64270000001"),
        )
        .expect("enrol");
    let tracked = client
        .track(TrackRequest::new("alice", "signIn"))
        .expect("track");
    assert_eq!(tracked.state, UserActionState::ChallengeRequired);
    let challenge = client
        .challenge(
            ChallengeRequest::new(VerificationMethod::Sms, "signIn")
                .with_user_id("alice")
                .with_idempotency_key(tracked.idempotency_key.clone()),
        )
        .expect("challenge");
    let code = fake.last_code_for(&challenge.challenge_id).expect("a code");
    let verified = client
        .verify(VerifyRequest::new(challenge.challenge_id, code))
        .expect("verify");
    assert!(verified.is_verified);
    let validated = client
        .validate_challenge(ValidateChallengeRequest::new(tracked.token))
        .expect("validate");
    assert!(validated.is_valid);
    assert_eq!(validated.user_id.as_deref(), Some("alice"));
    assert_eq!(validated.state, Some(UserActionState::ChallengeSucceeded));
}

/// What every run of the flow must have sent, in order.
fn assert_flow_requests(fake: &FakeAuthsignal) {
    let seen: Vec<(Method, String)> = fake
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    let expected = [
        (Method::POST, "/v1/users/alice/authenticators"),
        (Method::POST, "/v1/users/alice/actions/signIn"),
        (Method::POST, "/v1/challenge"),
        (Method::POST, "/v1/verify"),
        (Method::POST, "/v1/validate"),
    ];
    let expected: Vec<(Method, String)> = expected
        .into_iter()
        .map(|(m, p)| (m, p.to_owned()))
        .collect();
    assert_eq!(seen, expected);
    let track = &fake.requests()[1];
    assert_eq!(track.body, Some(serde_json::json!({})));
    assert_eq!(
        track.header("authorization"),
        Some(fake.authorization_header().as_str())
    );
}

#[test]
fn in_process_blocking_transport() {
    let fake = FakeAuthsignal::new();
    let client = Client::with_transport(fake.config(), fake.transport());
    blocking_sign_in(&fake, &client);
    assert_flow_requests(&fake);
}

#[tokio::test]
async fn in_process_async_transport() {
    let fake = FakeAuthsignal::new();
    let client = AsyncClient::with_transport(fake.config(), fake.transport(), NoWaitTimer);
    sign_in(&fake, &client).await.expect("sign in");
    assert_flow_requests(&fake);
}

#[test]
fn loopback_server_with_a_real_transport() {
    let fake = FakeAuthsignal::start();
    let client: authsignal_ureq::Client = fake.config_builder().build().expect("client");
    blocking_sign_in(&fake, &client);
    assert_flow_requests(&fake);
}

#[test]
fn config_points_at_the_fake_with_both_keys() {
    let fake = FakeAuthsignal::start();
    let config = fake.config();
    assert_eq!(config.base_url(), fake.base_url());
    assert_eq!(config.call_connect_url(), fake.call_connect_url());
    assert_eq!(config.secret_key().expose_secret(), fake.secret());
    assert!(config.has_call_connect_secret());
    assert_eq!(
        config.retry_policy(),
        &authsignal_core::RetryPolicy::no_retries()
    );
}
