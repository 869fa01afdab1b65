//! With the `tracing` feature, a full sign-in over both transports is traced
//! at TRACE level without a single secret, token, OTP code or body.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use authsignal_core::{
    ChallengeRequest, Config, CreateSessionRequest, EnrollVerifiedAuthenticatorRequest,
    RefreshSessionRequest, TrackRequest, ValidateChallengeRequest, ValidateSessionRequest,
    VerificationMethod, VerifyRequest,
};
use authsignal_testkit::FakeAuthsignal;
use authsignal_tests::{AnyClient, Flavor};
use base64::Engine as _;
use tracing_subscriber::fmt::MakeWriter;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn a_traced_sign_in_leaks_no_secret_token_code_or_body() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeAuthsignal::start();
    let mut must_not_appear: Vec<String> = vec![
        fake.secret().to_owned(),
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", fake.secret())),
    ];

    for flavor in Flavor::ALL {
        let user = format!("traced-{flavor:?}");
        let phone = "+6427111222".to_owned();
        let config = Config::builder(fake.secret()).with_base_url(fake.base_url());
        let client = AnyClient::new(flavor, config);

        client
            .send(
                &EnrollVerifiedAuthenticatorRequest::new(&user, VerificationMethod::Sms)
                    .with_phone_number(&phone),
            )
            .unwrap();
        let tracked = client.send(&TrackRequest::new(&user, "signIn")).unwrap();
        let challenge = client
            .send(
                &ChallengeRequest::new(VerificationMethod::Sms, "signIn")
                    .with_user_id(&user)
                    .with_phone_number(&phone)
                    .with_idempotency_key(&tracked.idempotency_key),
            )
            .unwrap();
        let code = fake.last_code().unwrap();
        assert!(
            client
                .send(&VerifyRequest::new(&challenge.challenge_id, code.as_str()))
                .unwrap()
                .is_verified
        );
        let validated = client
            .send(&ValidateChallengeRequest::new(tracked.token.clone()))
            .unwrap();
        assert!(validated.is_valid);
        let session = client
            .send(&CreateSessionRequest::new("web", tracked.token.clone()))
            .unwrap();
        client
            .send(&ValidateSessionRequest::new(session.access_token.clone()))
            .unwrap();
        let refreshed = client
            .send(&RefreshSessionRequest::new(session.refresh_token.clone()))
            .unwrap();

        must_not_appear.extend([
            tracked.token.expose_secret().to_owned(),
            tracked.url.expose_secret().to_owned(),
            code,
            session.access_token.expose_secret().to_owned(),
            session.refresh_token.expose_secret().to_owned(),
            refreshed.access_token.expose_secret().to_owned(),
            refreshed.refresh_token.expose_secret().to_owned(),
            phone,
            // ids are data too: only endpoint names go into traces
            user,
            challenge.challenge_id,
            tracked.idempotency_key,
        ]);
    }

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The instrumentation is there: one span per call with the endpoint name,
    // one event per attempt with its status.
    for endpoint in [
        "track",
        "challenge",
        "verify",
        "validate_challenge",
        "create_session",
    ] {
        assert!(
            text.contains(&format!("endpoint=\"{endpoint}\"")),
            "no span for {endpoint} in:\n{text}"
        );
    }
    assert!(text.contains("status=200"), "no attempt events in:\n{text}");
    assert!(text.contains("attempt=1"), "no attempt numbers in:\n{text}");

    for secret in must_not_appear.iter().filter(|s| !s.is_empty()) {
        assert!(
            !text.contains(secret.as_str()),
            "trace output leaks {secret:?}"
        );
    }
    // No body: no JSON field names of requests or responses.
    for body_marker in [
        "phoneNumber",
        "isEnrolled",
        "accessToken",
        "verificationCode",
        "{\"",
    ] {
        assert!(
            !text.contains(body_marker),
            "trace output contains a body ({body_marker})"
        );
    }
}
