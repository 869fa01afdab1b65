//! An MFA sign-in with an OTP step, end to end:
//! track → challenge → verify → validate → session.
//!
//! With no environment it runs against an in-process fake Authsignal
//! (`authsignal-testkit`), so it needs no account and no network:
//!
//! ```sh
//! cargo run -p authsignal-ureq --example quickstart
//! ```
//!
//! With `AUTHSIGNAL_SECRET_KEY` set (and optionally `AUTHSIGNAL_API_URL`,
//! `QUICKSTART_PHONE` and `QUICKSTART_USER_ID`) it talks to the real API and
//! asks for the code that was sent to the phone.

use std::io::{BufRead, Write};

use authsignal_testkit::FakeAuthsignal;
use authsignal_ureq::{
    ChallengeRequest, Client, CreateSessionRequest, EnrollVerifiedAuthenticatorRequest,
    TrackRequest, UserActionState, ValidateChallengeRequest, ValidateSessionRequest,
    VerificationMethod, VerifyRequest,
};

const ACTION: &str = "signIn";
const CLIENT_ID: &str = "quickstart-web";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the fake alive for the whole run; it stops when dropped.
    let (builder, fake) = match std::env::var("AUTHSIGNAL_SECRET_KEY") {
        Ok(secret) => {
            let mut builder = Client::builder(secret);
            if let Ok(url) = std::env::var("AUTHSIGNAL_API_URL") {
                builder = builder.with_base_url(url);
            }
            (builder, None)
        }
        Err(_) => {
            let fake = FakeAuthsignal::start();
            println!("Using an in-process fake Authsignal at {}", fake.base_url());
            (
                Client::builder(fake.secret()).with_base_url(fake.base_url()),
                Some(fake),
            )
        }
    };
    let client = builder.build()?;
    if fake.is_none() {
        println!("Using the Authsignal API at {}", client.config().base_url());
    }
    let user_id = std::env::var("QUICKSTART_USER_ID").unwrap_or_else(|_| "quickstart-user".into());
    let phone = std::env::var("QUICKSTART_PHONE").unwrap_or_else(|_| "+6427000000".into());

    if fake.is_some() {
        // A fresh fake has no users: give ours an SMS authenticator so that
        // signing in asks for a second factor.
        client.enroll_verified_authenticator(
            EnrollVerifiedAuthenticatorRequest::new(&user_id, VerificationMethod::Sms)
                .with_phone_number(&phone),
        )?;
        println!("0. enrolled an SMS authenticator for {user_id}");
    }

    // 1. The user submitted their password: ask Authsignal what to do.
    let tracked = client.track(
        TrackRequest::new(&user_id, ACTION)
            .with_ip_address("203.0.113.7")
            .with_user_agent("quickstart/1.0"),
    )?;
    println!(
        "1. track {ACTION}: state {}, idempotency key {}",
        tracked.state, tracked.idempotency_key
    );

    match tracked.state {
        UserActionState::Allow => println!("   allowed without a challenge"),
        UserActionState::ChallengeRequired => {
            // 2. Send an OTP by SMS, tied to the tracked action.
            let challenge = client.challenge(
                ChallengeRequest::new(VerificationMethod::Sms, ACTION)
                    .with_user_id(&user_id)
                    .with_phone_number(&phone)
                    .with_idempotency_key(&tracked.idempotency_key),
            )?;
            println!("2. challenge sent: id {}", challenge.challenge_id);

            // 3. The user types the code.
            let code = match &fake {
                Some(fake) => fake.last_code().ok_or("the fake sent no code")?,
                None => prompt("   code from the SMS: ")?,
            };
            let verified =
                client.verify(VerifyRequest::new(&challenge.challenge_id, code.as_str()))?;
            println!("3. verify: verified {}", verified.is_verified);
            if !verified.is_verified {
                return Err(format!("wrong code ({:?})", verified.failure_reason).into());
            }
        }
        other => return Err(format!("sign-in not allowed: {other}").into()),
    }

    // 4. Check the outcome on the server before trusting the user.
    let validated = client.validate_challenge(
        ValidateChallengeRequest::new(tracked.token.clone())
            .with_user_id(&user_id)
            .with_action(ACTION),
    )?;
    let state = validated.state.as_ref().map_or("none", |s| s.as_str());
    println!("4. validate: valid {}, state {state}", validated.is_valid);
    if !validated.is_valid {
        return Err("the challenge token is not valid".into());
    }

    // 5. Start a session from the validated token.
    let session = client.create_session(CreateSessionRequest::new(CLIENT_ID, tracked.token))?;
    let checked = client.validate_session(
        ValidateSessionRequest::new(session.access_token.clone()).with_client_ids([CLIENT_ID]),
    )?;
    println!(
        "5. session for {} (tokens are redacted: {:?}), expires at {}",
        checked.user.user_id, session.access_token, checked.expires_at
    );
    println!("Signed in.");
    Ok(())
}

fn prompt(question: &str) -> std::io::Result<String> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}
