//! With the `tracing` feature, a full sign-in over every transport is traced
//! at TRACE level without a single secret, token, OTP code or body.

use std::io::{Result, Write};
use std::sync::{Arc, Mutex};

use authsignal_core::{
    ChallengeRequest, Config, CreateSessionRequest, EnrollVerifiedAuthenticatorRequest,
    RefreshSessionRequest, TrackRequest, ValidateChallengeRequest, ValidateSessionRequest,
    VerificationMethod, VerifyRequest,
};
use authsignal_testkit::FakeAuthsignal;
use authsignal_tests::{AnyClient, Flavor};
use base64::Engine as _;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

#[test]
fn a_traced_sign_in_leaks_no_secret_token_code_or_body() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeAuthsignal::start();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:", fake.secret()));
    let mut must_not_appear = vec![fake.secret().to_owned(), basic];

    for flavor in Flavor::ALL {
        let (user, phone) = (format!("traced-{flavor:?}"), "+6427111222".to_owned());
        let config = Config::builder(fake.secret()).with_base_url(fake.base_url());
        let client = AnyClient::new(flavor, config);

        let enroll = EnrollVerifiedAuthenticatorRequest::new(&user, VerificationMethod::Sms);
        client.send(&enroll.with_phone_number(&phone)).unwrap();
        let tracked = client.send(&TrackRequest::new(&user, "signIn")).unwrap();
        let challenge = ChallengeRequest::new(VerificationMethod::Sms, "signIn")
            .with_user_id(&user)
            .with_phone_number(&phone)
            .with_idempotency_key(&tracked.idempotency_key);
        let challenge = client.send(&challenge).unwrap();
        let code = fake.last_code().unwrap();
        let verify = VerifyRequest::new(&challenge.challenge_id, code.as_str());
        assert!(client.send(&verify).unwrap().is_verified);
        let validate = ValidateChallengeRequest::new(tracked.token.clone());
        assert!(client.send(&validate).unwrap().is_valid);
        let create = CreateSessionRequest::new("web", tracked.token.clone());
        let session = client.send(&create).unwrap();
        let validate = ValidateSessionRequest::new(session.access_token.clone());
        client.send(&validate).unwrap();
        let refresh = RefreshSessionRequest::new(session.refresh_token.clone());
        let refreshed = client.send(&refresh).unwrap();

        let secrets = [&tracked.token, &tracked.url, &session.access_token];
        let secrets = secrets.into_iter().chain([
            &session.refresh_token,
            &refreshed.access_token,
            &refreshed.refresh_token,
        ]);
        must_not_appear.extend(secrets.map(|secret| secret.expose_secret().to_owned()));
        // ids are data too: only endpoint names go into traces
        must_not_appear.extend([code, phone, user, challenge.challenge_id]);
        must_not_appear.push(tracked.idempotency_key);
    }

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The instrumentation is there: one span per call with the endpoint name,
    // one event per attempt with its status.
    for endpoint in "track challenge verify validate_challenge create_session".split(' ') {
        let span = format!("endpoint=\"{endpoint}\"");
        assert!(text.contains(&span), "no span for {endpoint} in:\n{text}");
    }
    assert!(text.contains("status=200"), "no attempt events in:\n{text}");
    assert!(text.contains("attempt=1"), "no attempt numbers in:\n{text}");

    for secret in must_not_appear.iter().filter(|s| !s.is_empty()) {
        assert!(!text.contains(secret), "trace output leaks {secret:?}");
    }
    // No body: no JSON field names of requests or responses.
    for marker in r#"phoneNumber isEnrolled accessToken verificationCode {""#.split(' ') {
        assert!(!text.contains(marker), "trace output has a body ({marker})");
    }
}
