//! One sign-in flow over every way to run the fake: the in-process
//! blocking and async transports, and the loopback socket server.

use authsignal_core::{
    AsyncClient, AsyncTransport, BlockingTransport, ChallengeRequest, Client,
    EnrollVerifiedAuthenticatorRequest, Error, NoWaitTimer, TrackRequest, TrackResponse,
    UserActionState, ValidateChallengeRequest, ValidateChallengeResponse, VerificationMethod,
    VerifyRequest,
};
use authsignal_testkit::FakeAuthsignal;
use http::Method;

fn enrol() -> EnrollVerifiedAuthenticatorRequest {
    EnrollVerifiedAuthenticatorRequest::new("alice", VerificationMethod::Sms)
        .with_phone_number("+64270000001")
}

fn challenge(tracked: &TrackResponse) -> ChallengeRequest {
    let challenge = ChallengeRequest::new(VerificationMethod::Sms, "signIn").with_user_id("alice");
    challenge.with_idempotency_key(tracked.idempotency_key.clone())
}

/// What the flow's last answer must say.
fn assert_signed_in(validated: ValidateChallengeResponse) {
    assert!(validated.is_valid);
    assert_eq!(validated.user_id.as_deref(), Some("alice"));
    assert_eq!(validated.state, Some(UserActionState::ChallengeSucceeded));
}

/// Enrol, track, challenge, verify, validate (async twin of
/// `blocking_sign_in`).
async fn sign_in<T, Tm>(fake: &FakeAuthsignal, client: &AsyncClient<T, Tm>) -> Result<(), Error>
where
    T: AsyncTransport + Sync,
    Tm: authsignal_core::AsyncTimer + Sync,
{
    client.enroll_verified_authenticator(enrol()).await?;
    let tracked = client.track(TrackRequest::new("alice", "signIn")).await?;
    assert_eq!(tracked.state, UserActionState::ChallengeRequired);
    let id = client.challenge(challenge(&tracked)).await?.challenge_id;
    let code = fake.last_code_for(&id).expect("a code");
    assert!(
        client
            .verify(VerifyRequest::new(id, code))
            .await?
            .is_verified
    );
    let validate = ValidateChallengeRequest::new(tracked.token);
    assert_signed_in(client.validate_challenge(validate).await?);
    Ok(())
}

/// Enrol, track, challenge, verify, validate, asserting each answer.
fn blocking_sign_in<T: BlockingTransport>(
    fake: &FakeAuthsignal,
    client: &Client<T>,
) -> Result<(), Error> {
    client.enroll_verified_authenticator(enrol())?;
    let tracked = client.track(TrackRequest::new("alice", "signIn"))?;
    assert_eq!(tracked.state, UserActionState::ChallengeRequired);
    let id = client.challenge(challenge(&tracked))?.challenge_id;
    let code = fake.last_code_for(&id).expect("a code");
    assert!(client.verify(VerifyRequest::new(id, code))?.is_verified);
    let validate = ValidateChallengeRequest::new(tracked.token);
    assert_signed_in(client.validate_challenge(validate)?);
    Ok(())
}

/// What every run of the flow must have sent, in order.
fn assert_flow_requests(fake: &FakeAuthsignal) {
    let seen: Vec<(Method, String)> = fake
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    let paths = "/v1/users/alice/authenticators /v1/users/alice/actions/signIn /v1/challenge /v1/verify /v1/validate";
    let expected: Vec<(Method, String)> = paths
        .split(' ')
        .map(|p| (Method::POST, p.to_owned()))
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
    blocking_sign_in(&fake, &client).expect("sign in");
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
    blocking_sign_in(&fake, &client).expect("sign in");
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
