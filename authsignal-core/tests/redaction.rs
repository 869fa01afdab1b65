//! Redaction: every webhook envelope, every webhook error, the core `Error`
//! variants built from input and transport failures, and `Config` are
//! formatted with `{:?}`, `{:#?}` and (where implemented) `{}`, and none of
//! the output may contain a payload value, token, OTP code, signature or
//! secret key, while the identifying fields (event type, id, key names) stay
//! visible. Errors from response bodies and every request and response type
//! are checked by the endpoint table (`tests/fixtures`: `hidden`, `secrets`,
//! `request_secrets`).

use std::fmt::{Debug, Display};

use authsignal_core::{
    Client, Config, Error, GetUserRequest, RetryPolicy, TrackRequest, TransportError,
    TransportErrorKind, VerifyRequest, http,
};

/// The API secret key of every test here.
const SECRET: &str = "sk_test_Redaction_9f4c2e7d1b";
/// An OTP code, as sent in `email.created` / `sms.created` events.
const CODE: &str = "918273";
/// An email address (personal data in `data`).
const EMAIL: &str = "alice.private@example.org";
/// A phone number.
const PHONE: &str = "+64270001234";
/// A token, as found in log records and API responses.
const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.tok_Redaction_payload.c2lnbmF0dXJl";
/// A refresh token.
const REFRESH: &str = "rt_Redaction_7a6b5c4d3e";
/// A magic-link URL carrying a token.
const LINK: &str = "https://app.example.org/magic?token=ml_Redaction_31415";

/// Every value that must never be printed.
const NEVER: [&str; 7] = [SECRET, CODE, EMAIL, PHONE, TOKEN, REFRESH, LINK];

fn debug_forms(value: &impl Debug) -> Vec<String> {
    vec![format!("{value:?}"), format!("{value:#?}")]
}

fn all_forms(value: &(impl Debug + Display)) -> Vec<String> {
    let mut forms = debug_forms(value);
    forms.push(format!("{value}"));
    forms
}

/// `forms` plus the `Display` and `Debug` of every error in `error`'s source chain.
fn with_sources(mut forms: Vec<String>, error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut source = error.source();
    while let Some(inner) = source {
        forms.push(format!("{inner}"));
        forms.push(format!("{inner:?}"));
        source = inner.source();
    }
    forms
}

#[track_caller]
fn assert_hides(what: &str, forms: &[String], secrets: &[&str]) {
    for form in forms {
        for secret in secrets {
            assert!(
                !form.contains(secret),
                "{what}: output contains {secret:?}:\n{form}"
            );
        }
    }
}

#[track_caller]
fn assert_shows(what: &str, forms: &[String], needles: &[&str]) {
    for form in forms {
        for needle in needles {
            assert!(
                form.contains(needle),
                "{what}: output lacks {needle:?}:\n{form}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Webhook envelopes and errors
// ---------------------------------------------------------------------------

#[cfg(feature = "webhook")]
mod webhooks {
    use super::*;

    use authsignal_core::ApiSecretKey;
    use authsignal_core::webhook::{
        self, LogEventBatch, MAX_HEADER_LEN, MAX_SIGNATURES, VerifiedPayload, Webhook,
        WebhookError, WebhookEventType,
    };

    const NOW: i64 = 1_740_016_316;
    const EVENT_ID: &str = "bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e";
    const TENANT: &str = "7752d28e-e627-4b1b-bb81-b45d68d617bc";

    fn secret() -> ApiSecretKey {
        ApiSecretKey::new(SECRET)
    }

    fn hook() -> Webhook {
        Webhook::new(secret())
    }

    fn event_body() -> String {
        format!(
            r#"{{"version":1,"id":"{EVENT_ID}","source":"https://authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"{TENANT}","type":"email.created","data":{{"to":"{EMAIL}","code":"{CODE}","url":"{LINK}","userId":"user-42","actionCode":"signIn","customVariables":{{"phone":"{PHONE}"}}}}}}"#
        )
    }

    fn batch_body() -> String {
        format!(
            r#"{{"records":[{{"version":1,"id":"log-1","source":"https://authsignal.com","time":"2025-02-20T01:51:57.000Z","tenantId":"{TENANT}","type":"action.log_created","record":{{"token":"{TOKEN}","refreshToken":"{REFRESH}","userId":"user-42"}}}},{{"version":1,"id":"log-2","source":"https://authsignal.com","time":"2025-02-20T01:51:58.000Z","tenantId":"{TENANT}","type":"challenge.log_created","record":{{"verificationCode":"{CODE}","email":"{EMAIL}"}}}}]}}"#
        )
    }

    /// The `v2` value of a header made by [`webhook::sign`].
    fn signature_of(header: &str) -> String {
        header.split_once(",v2=").unwrap().1.to_owned()
    }

    /// Everything that must stay hidden for a payload signed with `header`.
    fn never_with(header: &str) -> Vec<String> {
        let mut all: Vec<String> = NEVER.iter().map(|s| (*s).to_owned()).collect();
        all.push(signature_of(header));
        all
    }

    fn as_strs(values: &[String]) -> Vec<&str> {
        values.iter().map(String::as_str).collect()
    }

    #[test]
    fn webhook_event_debug_shows_envelope_and_keys_not_values() {
        let body = event_body();
        let header = webhook::sign(&secret(), body.as_bytes(), NOW);
        let event = hook()
            .construct_event(body.as_bytes(), &header, NOW)
            .unwrap();
        // The values are really there, for code that reads them.
        assert_eq!(event.data["code"], CODE);
        assert_eq!(event.data["to"], EMAIL);

        let forms = debug_forms(&event);
        assert_hides("WebhookEvent", &forms, &as_strs(&never_with(&header)));
        assert_hides("WebhookEvent", &forms, &["user-42", "signIn"]);
        // The envelope, then the keys of `data`, but no value.
        let shows = |needles: &[&str]| assert_shows("WebhookEvent", &forms, needles);
        shows(&["WebhookEvent", "EmailCreated", EVENT_ID, TENANT]);
        shows(&["2025-02-20T01:51:56.070Z", "https://authsignal.com"]);
        shows(&["version: 1", "\"to\"", "\"code\"", "\"url\"", "\"userId\""]);
        shows(&["\"actionCode\"", "\"customVariables\"", "<redacted>"]);
        // Nested objects are not opened: their keys are data too.
        assert_hides("WebhookEvent", &forms, &["\"phone\""]);
    }

    #[test]
    fn webhook_event_with_unknown_type_and_non_object_data() {
        // A hand-built event (the fields are public) whose `data` is not an object.
        let body = event_body();
        let header = webhook::sign(&secret(), body.as_bytes(), NOW);
        let mut event = hook()
            .construct_event(body.as_bytes(), &header, NOW)
            .unwrap();
        event.event_type = WebhookEventType::from("user.deleted");
        event.data = serde_json::Value::String(CODE.to_owned());
        let forms = debug_forms(&event);
        assert_hides("WebhookEvent", &forms, &NEVER);
        assert_shows(
            "WebhookEvent",
            &forms,
            &["user.deleted", EVENT_ID, "data: <redacted>"],
        );

        event.data = serde_json::json!([CODE, EMAIL, {"token": TOKEN}]);
        assert_hides("WebhookEvent", &debug_forms(&event), &NEVER);
    }

    #[test]
    fn log_event_batch_debug_shows_envelopes_and_keys_not_values() {
        let body = batch_body();
        let header = webhook::sign(&secret(), body.as_bytes(), NOW);
        let batch: LogEventBatch = hook()
            .verify(body.as_bytes(), &header, NOW)
            .and_then(|v| v.log_event_batch())
            .unwrap();
        assert_eq!(batch.records.len(), 2);
        assert_eq!(batch.records[0].record["token"], TOKEN);
        assert_eq!(batch.records[1].record["verificationCode"], CODE);

        let never = never_with(&header);
        let forms = debug_forms(&batch);
        assert_hides("LogEventBatch", &forms, &as_strs(&never));
        assert_hides("LogEventBatch", &forms, &["user-42"]);
        let shows = |needles: &[&str]| assert_shows("LogEventBatch", &forms, needles);
        shows(&[
            "LogEventBatch",
            "LogEvent",
            "ActionLogCreated",
            "ChallengeLogCreated",
        ]);
        shows(&["log-1", "log-2", TENANT, "\"token\"", "\"refreshToken\""]);
        shows(&[
            "\"userId\"",
            "\"verificationCode\"",
            "\"email\"",
            "<redacted>",
        ]);

        for record in &batch.records {
            let forms = debug_forms(record);
            assert_hides("LogEvent", &forms, &as_strs(&never));
            assert_shows("LogEvent", &forms, &["LogEvent", &record.id, "record: {"]);
        }
    }

    #[test]
    fn verified_payload_and_webhook_debug_hide_body_key_and_signature() {
        let body = event_body();
        let header = webhook::sign(&secret(), body.as_bytes(), NOW);
        let verifier = hook().with_additional_key(ApiSecretKey::new("sk_test_Old_Redaction_key"));
        let verified = verifier.verify(body.as_bytes(), &header, NOW).unwrap();
        assert_eq!(verified.as_bytes(), body.as_bytes());

        let never = never_with(&header);
        let forms = debug_forms(&verified);
        assert_hides("VerifiedPayload", &forms, &as_strs(&never));
        assert_hides(
            "VerifiedPayload",
            &forms,
            &[EVENT_ID, "email.created", "{\""],
        );
        assert_shows(
            "VerifiedPayload",
            &forms,
            &["VerifiedPayload", &body.len().to_string(), &NOW.to_string()],
        );

        let forms = debug_forms(&verifier);
        assert_hides(
            "Webhook",
            &forms,
            &[SECRET, "sk_test_Old_Redaction_key", "sk_"],
        );
        assert_shows("Webhook", &forms, &["Webhook", "2 redacted"]);
        assert_hides("ApiSecretKey", &debug_forms(&secret()), &[SECRET]);
    }

    /// `body` verified against `header` at [`NOW`].
    fn verify<'a>(body: &'a str, header: &str) -> Result<VerifiedPayload<'a>, WebhookError> {
        hook().verify(body.as_bytes(), header, NOW)
    }

    /// Produces every `WebhookError` variant from payloads and headers full of
    /// secrets, each with what must stay hidden.
    fn every_webhook_error() -> Vec<(&'static str, WebhookError, Vec<String>)> {
        let (event, batch) = (event_body(), batch_body());
        let sign = |body: &str| webhook::sign(&secret(), body.as_bytes(), NOW);
        let good = sign(&event);
        let other_key = ApiSecretKey::new("sk_test_Someone_else");
        let wrong_key = webhook::sign(&other_key, event.as_bytes(), NOW);
        let construct = |body: &str, header: &str, now: i64| {
            hook()
                .construct_event(body.as_bytes(), header, now)
                .map(drop)
        };
        // A header whose timestamp is bad but whose signature is real.
        let signature = signature_of(&good);
        let malformed = format!("t=17400x,v2={signature}");
        let too_long = format!("t={NOW}{}", format!(",v2={signature}").repeat(200));
        assert!(too_long.len() > MAX_HEADER_LEN);
        let count = MAX_SIGNATURES + 1;
        let too_many = format!("t={NOW}{}", format!(",v2={signature}").repeat(count));
        let tampered = event.replace(CODE, "000000");
        // Signed, but not a valid envelope: a missing field, truncated JSON,
        // not an object, and values of the wrong type for `json::<T>()`.
        let no_id = event.replace(&format!(r#""id":"{EVENT_ID}","#), "");
        let truncated = &event[..event.len() - 40];
        let array = format!(r#"["{CODE}","{TOKEN}"]"#);
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Mine {
            data: MineData,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct MineData {
            code: u32,
            to: u32,
        }
        let no_headers = http::HeaderMap::new();
        let missing = webhook::signature_header(&no_headers);
        let mine = verify(&event, &good).and_then(|v| v.json::<Mine>());
        let records = verify(&event, &good).and_then(|v| v.log_event_batch());
        let too_old = construct(&event, &good, NOW + 600);
        let in_future = construct(&event, &good, NOW - 600);
        let other_key = construct(&event, &wrong_key, NOW);
        let changed = construct(&tampered, &good, NOW);
        // A payload signed with the right key, given to `construct_event`.
        let signed = |name, body: &str| row(name, construct(body, &sign(body), NOW), &sign(body));
        vec![
            row("MissingHeader", missing, &good),
            row("MalformedHeader", verify(&event, &malformed), &good),
            row("HeaderTooLarge (length)", verify(&event, &too_long), &good),
            row("HeaderTooLarge (count)", verify(&event, &too_many), &good),
            row("TimestampTooOld", too_old, &good),
            row("TimestampInFuture", in_future, &good),
            row("NoMatchingSignature (wrong key)", other_key, &wrong_key),
            row("NoMatchingSignature (tampered)", changed, &good),
            signed("InvalidPayload (missing id)", &no_id),
            signed("InvalidPayload (truncated)", truncated),
            signed("InvalidPayload (not an object)", &array),
            row("InvalidPayload (json::<T> type mismatch)", mine, &good),
            signed("BatchPassedToEventApi", &batch),
            row("MissingRecords", records, &good),
        ]
    }

    /// The error of `result`, named, with what must stay hidden for a
    /// payload signed with `header`.
    fn row<T: std::fmt::Debug>(
        name: &'static str,
        result: Result<T, WebhookError>,
        header: &str,
    ) -> (&'static str, WebhookError, Vec<String>) {
        (name, result.expect_err(name), never_with(header))
    }

    #[test]
    fn webhook_errors_hide_payload_signatures_and_key() {
        let errors = every_webhook_error();
        let variants: Vec<String> = errors
            .iter()
            .map(|(_, e, _)| {
                format!("{e:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        for expected in [
            "MissingHeader",
            "MalformedHeader",
            "HeaderTooLarge",
            "TimestampTooOld",
            "TimestampInFuture",
            "NoMatchingSignature",
            "InvalidPayload",
            "BatchPassedToEventApi",
            "MissingRecords",
        ] {
            assert!(
                variants.iter().any(|v| v == expected),
                "no {expected} among {variants:?}"
            );
        }
        for (name, error, never) in &errors {
            let forms = with_sources(all_forms(error), error);
            assert_hides(name, &forms, &as_strs(never));
            // No payload fragment either: no event id, user id or JSON text.
            assert_hides(name, &forms, &[EVENT_ID, "user-42", "{\"", "\":\""]);
            assert!(!error.to_string().is_empty(), "{name}");
        }
        // The clock error says which clock to look at.
        let future = errors
            .iter()
            .find(|(name, ..)| *name == "TimestampInFuture");
        let future = future.unwrap().1.to_string();
        assert!(future.contains("clock"), "{future}");
    }
}

// ---------------------------------------------------------------------------
// Core errors, Config, requests and responses
// ---------------------------------------------------------------------------

fn config() -> Config {
    Config::builder(SECRET)
        .with_retry_policy(RetryPolicy::no_retries())
        .build()
        .unwrap()
}

/// The secret key as it travels in the `Authorization` header.
fn basic_credentials() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{SECRET}:"))
}

#[track_caller]
fn assert_error_hides(what: &str, error: &Error) {
    let forms = with_sources(all_forms(error), error);
    assert_hides(what, &forms, &NEVER);
    assert_hides(what, &forms, &[&basic_credentials()]);
}

#[test]
fn invalid_input_hides_the_rejected_value() {
    let client = Client::with_transport(config(), |_r: http::Request<Vec<u8>>| {
        Err::<http::Response<Vec<u8>>, _>(TransportError::new(TransportErrorKind::Other, "unused"))
    });
    let bad_track = TrackRequest::new(format!("u/{CODE}"), "");
    let errors = [
        client.send(&GetUserRequest::new("")).unwrap_err(),
        client.send(&bad_track).unwrap_err(),
        Config::builder(format!("{SECRET}\n")).build().unwrap_err(),
    ];
    for error in &errors {
        assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
        assert_error_hides("Error::InvalidInput", error);
        let forms = debug_forms(error);
        assert_shows("Error::InvalidInput", &forms, &["InvalidInput"]);
        assert!(error.to_string().starts_with("invalid input"), "{error}");
    }
}

#[test]
fn transport_error_hides_request_and_secret() {
    let transport = |request: http::Request<Vec<u8>>| {
        // The request really carries the secret and the code.
        let auth = request.headers()[http::header::AUTHORIZATION].to_str();
        assert!(auth.unwrap().ends_with(&basic_credentials()));
        assert!(String::from_utf8_lossy(request.body()).contains(CODE));
        let source = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "os error 104");
        let error = TransportError::new(TransportErrorKind::Io, "connection reset");
        Err::<http::Response<Vec<u8>>, _>(error.with_source(source))
    };
    let client = Client::with_transport(config(), transport);
    let error = client.send(&VerifyRequest::new("challenge-1", CODE));
    let error = error.unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_error_hides("Error::Transport", &error);
    let forms = all_forms(&error);
    assert_shows("Error::Transport", &forms, &["connection reset", "attempt"]);
}

#[test]
fn config_hides_the_secret_key() {
    let forms = debug_forms(&config());
    assert_hides("Config", &forms, &[SECRET, &basic_credentials()]);
    assert_shows("Config", &forms, &["Config", "api.authsignal.com"]);
}
