//! The quickstart's MFA sign-in on the async client:
//! track → challenge → verify → validate → session, on tokio + hyper.
//!
//! ```sh
//! cargo run -p authsignal-hyper --example async_sign_in
//! ```
//!
//! It runs against an in-process fake Authsignal (`authsignal-testkit`); the
//! calls are the same against the real API.

use authsignal_hyper::{
    ChallengeRequest, Client, CreateSessionRequest, EnrollVerifiedAuthenticatorRequest,
    TrackRequest, UserActionState, ValidateChallengeRequest, VerificationMethod, VerifyRequest,
};
use authsignal_testkit::FakeAuthsignal;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fake = FakeAuthsignal::start();
    let client = Client::builder(fake.secret())
        .with_base_url(fake.base_url())
        .build()?;
    let user = "async-user";

    client
        .enroll_verified_authenticator(
            EnrollVerifiedAuthenticatorRequest::new(user, VerificationMethod::EmailOtp)
                .with_email("async-user@example.com"),
        )
        .await?;

    let tracked = client.track(TrackRequest::new(user, "signIn")).await?;
    println!("track: {}", tracked.state);
    if tracked.state != UserActionState::ChallengeRequired {
        return Err(format!("expected a challenge, got {}", tracked.state).into());
    }

    let challenge = client
        .challenge(
            ChallengeRequest::new(VerificationMethod::EmailOtp, "signIn")
                .with_user_id(user)
                .with_email("async-user@example.com")
                .with_idempotency_key(&tracked.idempotency_key),
        )
        .await?;
    let code = fake.last_code().ok_or("the fake sent no code")?;
    let verified = client
        .verify(VerifyRequest::new(&challenge.challenge_id, code.as_str()))
        .await?;
    println!("verify: {}", verified.is_verified);

    let validated = client
        .validate_challenge(
            ValidateChallengeRequest::new(tracked.token.clone())
                .with_user_id(user)
                .with_action("signIn"),
        )
        .await?;
    println!("validate: {} ({:?})", validated.is_valid, validated.state);

    // Sessions for several browser tabs at once: the client is Clone + Send,
    // its futures can be spawned.
    let session = client
        .create_session(CreateSessionRequest::new("web", tracked.token))
        .await?;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let client = client.clone();
        let access_token = session.access_token.clone();
        tasks.spawn(async move {
            client
                .validate_session(authsignal_hyper::ValidateSessionRequest::new(access_token))
                .await
        });
    }
    while let Some(result) = tasks.join_next().await {
        println!("session valid for {}", result??.user.user_id);
    }
    Ok(())
}
