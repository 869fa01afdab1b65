//! Webhook verification (reference §5.4, reliability tests E1-E9, F3/F4):
//! the vectors of `tests/data/webhook.json`, known answers, tampering,
//! tolerance, header parsing, envelopes, and properties checked against an
//! oracle that scans the header on its own and takes the expected signature
//! from `webhook::sign`, itself pinned to the known answers here.
#![cfg(feature = "webhook")]

use std::time::Duration;

use authsignal_core::webhook::{
    self, DEFAULT_TOLERANCE, LogEventBatch, MAX_HEADER_LEN, MAX_SIGNATURES, SIGNATURE_HEADER,
    VerifiedPayload, Webhook, WebhookError, WebhookEventType,
};
use authsignal_core::{ApiSecretKey, StdTimer};
use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

/// The secret of the Go and PHP SDK vectors.
const GO: &str = "test-secret-key-123";
/// The secret of the Python SDK vectors.
const PY: &str = "YOUR_AUTHSIGNAL_SECRET_KEY";
/// A timestamp the tampering tests sign at.
const T0: i64 = 1_740_016_316;
/// The unpadded signature of `{}` with [`GO`] at 1630000000.
const EMPTY_SIG: &str = "5A34twV5yi1Tr0WX6lDL2A6Q0HumnxL7eWzln9LqYKI";

const CUSTOM_VARIABLES: &str = r#"{"version":1,"id":"bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e","source":"https://authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"7752d28e-e627-4b1b-bb81-b45d68d617bc","type":"sms.created","data":{"actionCode":"smsVerify","customVariables":{"action_journeyType":"ForgotChangePassword","retryCount":2,"isRecovery":true,"channels":["sms","email"]}}}"#;
const LOG_BATCH: &str = r#"{"records":[{"version":1,"id":"bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e","source":"https://authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"7752d28e-e627-4b1b-bb81-b45d68d617bc","type":"action.log_created","record":{"userId":"b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0","customVariables":{"journeyType":"accountRecovery"}}}]}"#;

#[derive(Deserialize)]
struct VectorFile {
    cases: Vec<Vector>,
    sdk_vectors: Vec<Vector>,
    ci_tenant_vectors: Vec<Vector>,
    header_cases: Vec<HeaderCase>,
    envelope_cases: Vec<EnvelopeCase>,
}

/// A header verified over `{}` (see the note in the data file).
#[derive(Deserialize)]
struct HeaderCase {
    header: String,
    #[serde(deserialize_with = "int_or_t")]
    now: Option<i64>,
    expect: String,
    ignoring: Option<String>,
    why: String,
}

/// When the header cases sign (`{t}` in the data file).
const T_HEADER: i64 = 1_630_000_000;

/// A `now` of a header case: a number, `"{t}"`, or null for the clock.
fn int_or_t<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s == "{t}" => Ok(Some(T_HEADER)),
        other => other
            .as_i64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(other)),
    }
}

/// A signed payload decoded as an event or a batch.
#[derive(Deserialize)]
struct EnvelopeCase {
    api: String,
    payload: Option<String>,
    remove: Option<String>,
    set: Option<serde_json::Map<String, Value>>,
    expect: String,
    reason: Option<String>,
    reason_starts: Option<String>,
    reason_contains: Option<String>,
    why: String,
}

#[derive(Deserialize, Clone)]
struct Vector {
    name: String,
    #[serde(default)]
    secret: String,
    header: String,
    payload: String,
    timestamp: Option<i64>,
    #[serde(default)]
    valid: bool,
    error: Option<String>,
}

fn vectors() -> VectorFile {
    serde_json::from_str(include_str!("data/webhook.json")).unwrap()
}

/// One of the SDK vectors, by name.
fn sdk(name: &str) -> Vector {
    let found = vectors().sdk_vectors.into_iter().find(|v| v.name == name);
    found.unwrap_or_else(|| panic!("no SDK vector {name}"))
}

impl Vector {
    fn at(&self) -> i64 {
        self.timestamp.unwrap()
    }
    fn body(&self) -> &[u8] {
        self.payload.as_bytes()
    }
    fn event(&self) -> webhook::WebhookEvent {
        let event = hook(&self.secret).construct_event(self.body(), &self.header, self.at());
        event.unwrap_or_else(|e| panic!("{}: {e:?}", self.name))
    }
}

fn key(s: &str) -> ApiSecretKey {
    ApiSecretKey::new(s)
}

fn hook(s: &str) -> Webhook {
    Webhook::new(key(s))
}

fn real_now() -> i64 {
    StdTimer::unix_now()
}

/// `payload` signed with [`GO`] at `t`.
fn signed(payload: &str, t: i64) -> String {
    webhook::sign(&key(GO), payload.as_bytes(), t)
}

/// The first `v2` value of `header`.
fn sig_of(header: &str) -> String {
    header.split_once(",v2=").unwrap().1.to_owned()
}

/// Fails unless `result` is the variant named `expected`.
#[track_caller]
fn expect<T: std::fmt::Debug>(result: &Result<T, WebhookError>, expected: &str) {
    assert_eq!(kind(result), expected, "{result:?}");
}

/// The variant a webhook call returned, by name, so one line can check it.
fn kind<T>(result: &Result<T, WebhookError>) -> &'static str {
    match result {
        Ok(_) => "Ok",
        Err(WebhookError::MissingHeader) => "MissingHeader",
        Err(WebhookError::MalformedHeader { .. }) => "MalformedHeader",
        Err(WebhookError::HeaderTooLarge { .. }) => "HeaderTooLarge",
        Err(WebhookError::TimestampTooOld { .. }) => "TimestampTooOld",
        Err(WebhookError::TimestampInFuture { .. }) => "TimestampInFuture",
        Err(WebhookError::NoMatchingSignature) => "NoMatchingSignature",
        Err(WebhookError::InvalidPayload { .. }) => "InvalidPayload",
        Err(WebhookError::BatchPassedToEventApi) => "BatchPassedToEventApi",
        Err(WebhookError::MissingRecords) => "MissingRecords",
        Err(_) => "a variant these tests do not know",
    }
}

// ---------------------------------------------------------------------------
// Vectors and known answers
// ---------------------------------------------------------------------------

#[test]
fn vector_file_cases_verify_as_labelled() {
    let cases = vectors().cases;
    assert!(cases.len() >= 9, "only {} cases", cases.len());
    let mut valid = 0;
    for case in &cases {
        let (wh, payload, name) = (hook(&case.secret), case.body(), &case.name);
        let ignoring = wh.verify_ignoring_timestamp(payload, &case.header);
        let result = match case.timestamp {
            Some(now) => wh.construct_event(payload, &case.header, now),
            None => ignoring.clone().and_then(|v| v.event()),
        };
        let expected = match (case.valid, case.error.as_deref()) {
            (true, _) => "Ok",
            (false, Some("signature mismatch")) => "NoMatchingSignature",
            (false, Some("malformed header")) => "MalformedHeader",
            (false, other) => panic!("{name}: unknown error kind {other:?}"),
        };
        assert_eq!(kind(&result), expected, "{name}: {result:?}");
        let Ok(event) = result else { continue };
        valid += 1;
        // Every member as JSON reads it, the type a known one.
        let json: Value = serde_json::from_slice(payload).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), json, "{name}");
        assert_eq!(event.event_type, WebhookEventType::EmailCreated, "{name}");
        // The pure call agrees with the one that ignores the timestamp.
        ignoring.unwrap();
        // `sign`, the property tests' oracle, makes one of its `v2` values.
        let made = webhook::sign(&key(&case.secret), payload, case.at());
        let item = format!("v2={}", sig_of(&made));
        let mut items = case.header.split(',');
        assert!(items.any(|i| i == item), "{name}: {item} not in {made}");
    }
    assert!(valid >= 2, "vector file has too few valid cases");
}

#[test]
fn sign_reproduces_the_sdk_vectors_and_known_answers() {
    for v in vectors().sdk_vectors {
        // Single-signature vectors are exactly what `sign` produces.
        if !v.header.contains(",v2=") {
            let made = webhook::sign(&key(&v.secret), v.body(), v.at());
            assert_eq!(made, v.header, "{}", v.name);
        }
        // Decoding keeps every member as JSON reads it (`\/` is `/`).
        let payload: Value = serde_json::from_str(&v.payload).unwrap();
        assert_eq!(
            serde_json::to_value(v.event()).unwrap(),
            payload,
            "{}",
            v.name
        );
        let wh = hook(&v.secret);
        let ignoring = wh.verify_ignoring_timestamp(v.body(), &v.header);
        let ignoring = ignoring.unwrap();
        assert_eq!(ignoring.timestamp(), v.at(), "{}", v.name);
        assert_eq!(ignoring.as_bytes(), v.body(), "{}", v.name);
    }
    let a = &vectors().ci_tenant_vectors[0];
    let sig_a = "jG7bIXHtFANggSxaeL9jI0CKC9jUrfDc1yv5uwtAh4Y";
    let known = [(a.body(), T0, sig_a), (b"{}", 1_630_000_000, EMPTY_SIG)];
    for (body, t, sig) in known {
        let made = webhook::sign(&key(GO), body, t);
        assert_eq!(made, format!("t={t},v2={sig}"));
    }
}

/// Keys of exactly 64 and 65 bytes, either side of the HMAC block size.
const KEY_64: &str = "sk_test_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const KEY_65: &str = "sk_test_ccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
const _: () = assert!(KEY_64.len() == 64 && KEY_65.len() == 65);

/// Keys around the 64-byte HMAC block, where RFC 2104 switches from padding
/// the key to hashing it, and the empty key. The answers come from outside
/// this crate: Python's `hmac` module and `openssl dgst -sha256 -hmac KEY`
/// over `1630000000.{}`, base64 without padding.
#[test]
fn keys_of_every_length_match_known_answers() {
    let cases = [
        ("", "Uu27MDnayWKjRc0P3V7DVhtmIsCuNrAzkKgw16Fr1yc"),
        (KEY_64, "DPih3Xidz/j4xfieqln5bq4xz1Qqu3DXdee64B3d0V0"),
        (KEY_65, "ebw6Mx+00EkCpYQ+5xOzSz+JwO2xDXd68vgJDQI+y+Q"),
        (
            "sk_test_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "R+cUJELxs4D20wkRjz9onWBNOIlb48t9c1LcLvCjFDY",
        ),
    ];
    let t = 1_630_000_000;
    for (secret, signature) in cases {
        let header = format!("t={t},v2={signature}");
        let made = webhook::sign(&key(secret), b"{}", t);
        assert_eq!(made, header, "{} bytes", secret.len());
        hook(secret).verify(b"{}", &header, t).unwrap();
        // As the second key of a rotating verifier too.
        let rotating = hook("sk_other").with_additional_key(key(secret));
        rotating.verify(b"{}", &header, t).unwrap();
    }
}

#[test]
fn vector_c_zero_tolerance_go() {
    let v = sdk("C");
    let wh = hook(GO);
    let now = wh.construct_event(v.body(), &v.header, real_now());
    expect(&now, "TimestampTooOld");
    // Padded form of the same signature.
    let padded = format!("{}=", v.header);
    wh.construct_event(v.body(), &padded, v.at()).unwrap();
}

#[test]
fn vector_d_php_escaped_slashes_are_signed_as_sent() {
    let v = sdk("D");
    // The signature covers the raw bytes, `\/` included: re-serializing the JSON changes the bytes and so breaks the signature.
    let parsed: Value = serde_json::from_str(&v.payload).unwrap();
    let reserialized = serde_json::to_vec(&parsed).unwrap();
    let result = hook(GO).verify(&reserialized, &v.header, v.at());
    expect(&result, "NoMatchingSignature");
}

#[test]
fn vector_e_php_two_keys_invalid_first() {
    let e = sdk("E");
    // Reversed order (E2) passes too.
    let sigs = e.header.split_once(",v2=").unwrap().1;
    let (first, second) = sigs.split_once(",v2=").unwrap();
    let reversed = format!("t={},v2={second},v2={first}", e.at());
    let event = hook(GO).construct_event(e.body(), &reversed, e.at());
    event.unwrap();
}

#[test]
fn vectors_a_and_b_fail_with_a_placeholder_key() {
    // Signed with the CI tenant's key, which is not public: negative tests only.
    for v in vectors().ci_tenant_vectors {
        for secret in [GO, PY, "YOUR_API_SECRET_KEY"] {
            let wh = hook(secret);
            let result = wh.construct_event(v.body(), &v.header, v.at());
            assert_eq!(kind(&result), "NoMatchingSignature", "{}", v.name);
        }
    }
}

#[test]
fn sdk_negative_vectors_of_payloads() {
    let (wh, now) = (hook(GO), real_now());
    let not_json = b"not valid json";
    let header = webhook::sign(&key(GO), not_json, now);
    let verified = wh.verify(not_json, &header, now);
    assert!(verified.is_ok());
    let event = wh.construct_event(not_json, &header, now);
    expect(&event, "InvalidPayload");
    expect(
        &verified.and_then(|v| v.log_event_batch()),
        "InvalidPayload",
    );

    let batch = br#"{"records":[]}"#;
    let header = webhook::sign(&key(GO), batch, now);
    let err = wh.construct_event(batch, &header, now).unwrap_err();
    assert_eq!(err, WebhookError::BatchPassedToEventApi);
    let text = "payload is a batch of log events; decode it with log_event_batch()";
    assert_eq!(err.to_string(), text);
    let records = wh.verify(batch, &header, now).unwrap().log_event_batch();
    assert!(records.unwrap().records.is_empty());
}

// ---------------------------------------------------------------------------
// Envelopes (E1, E8)
// ---------------------------------------------------------------------------

/// When the envelope tests sign and verify.
const T1: i64 = 1_740_000_000;

/// `payload` signed with [`GO`] at [`T1`], verified at `T1`.
fn verified(payload: &str) -> Result<VerifiedPayload<'_>, WebhookError> {
    hook(GO).verify(payload.as_bytes(), &signed(payload, T1), T1)
}

fn event_of(payload: &str) -> Result<webhook::WebhookEvent, WebhookError> {
    verified(payload).and_then(|v| v.event())
}

fn batch_of(payload: &str) -> Result<LogEventBatch, WebhookError> {
    verified(payload).and_then(|v| v.log_event_batch())
}

#[test]
fn event_with_custom_variables_keeps_nested_values() {
    let event = event_of(CUSTOM_VARIABLES).unwrap();
    assert_eq!(event.event_type, WebhookEventType::SmsCreated);
    let vars = &event.data["customVariables"];
    assert_eq!(vars["action_journeyType"], "ForgotChangePassword");
    assert_eq!(vars["retryCount"], json!(2));
    assert_eq!(vars["isRecovery"], json!(true));
    assert_eq!(vars["channels"], json!(["sms", "email"]));
    // `construct_event` is the same call.
    let header = signed(CUSTOM_VARIABLES, T1);
    let same = hook(GO).construct_event(CUSTOM_VARIABLES.as_bytes(), &header, T1);
    assert_eq!(same, Ok(event));
}

#[test]
fn log_event_batch_decodes() {
    let batch = batch_of(LOG_BATCH).unwrap();
    assert_eq!(batch.records.len(), 1);
    let rec = &batch.records[0];
    assert_eq!(rec.version, 1);
    assert_eq!(rec.event_type, WebhookEventType::ActionLogCreated);
    assert_eq!(rec.tenant_id, "7752d28e-e627-4b1b-bb81-b45d68d617bc");
    assert_eq!(rec.record["userId"], "b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0");
    let journey = &rec.record["customVariables"]["journeyType"];
    assert_eq!(journey, "accountRecovery");
    // The batch given to the single-event API, and the reverse.
    let header = signed(LOG_BATCH, T1);
    let as_event = hook(GO).construct_event(LOG_BATCH.as_bytes(), &header, T1);
    assert_eq!(as_event, Err(WebhookError::BatchPassedToEventApi));
    for not_a_batch in [CUSTOM_VARIABLES, r#"{"records":{}}"#] {
        expect(&batch_of(not_a_batch), "MissingRecords");
    }
    // Round trip through serde keeps the wire names.
    let wire = serde_json::to_value(&batch).unwrap();
    assert_eq!(wire["records"][0]["type"], "action.log_created");
    let again: LogEventBatch = serde_json::from_value(wire).unwrap();
    assert_eq!(again, batch);
}

/// `verify` is the one entry point; what it returns decodes three ways.
#[test]
fn verify_then_decode_as_event_batch_or_own_type() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct MyEvent {
        #[serde(rename = "type")]
        kind: String,
        tenant_id: String,
        data: MyData,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct MyData {
        action_code: String,
        code: String,
    }
    #[derive(Debug, Deserialize)]
    struct MyBatch {
        records: Vec<Value>,
    }
    let mine: MyEvent = serde_json::from_value(json!({
        "type": "email.created",
        "tenantId": "7752d28e-e627-4b1b-bb81-b45d68d617bc",
        "data": {"actionCode": "accountRecovery", "code": "157743"},
    }))
    .unwrap();

    // 1. `event()`, on every valid case of the vector file; `construct_event`
    //    gives the same result.
    for case in vectors().cases.iter().filter(|c| c.valid) {
        let (wh, payload, now) = (hook(&case.secret), case.body(), case.at());
        let verified = wh.verify(payload, &case.header, now).unwrap();
        assert_eq!(verified.as_bytes(), payload);
        assert_eq!(verified.timestamp(), now);
        // The fields of that event: vector_file_cases_verify_as_labelled.
        let event = verified.event().unwrap();
        let constructed = wh.construct_event(payload, &case.header, now);
        assert_eq!(constructed, Ok(event), "{}", case.name);
        // 3. `json::<T>()`, into the caller's own type.
        assert_eq!(verified.json::<MyEvent>().unwrap(), mine);
        assert_eq!(verified.json::<Value>().unwrap()["version"], 1);
        // Not a batch.
        expect(&verified.log_event_batch(), "MissingRecords");
    }

    // 2. `log_event_batch()` (its records: log_event_batch_decodes).
    let verified = verified(LOG_BATCH).unwrap();
    let batch = verified.log_event_batch().unwrap();
    assert_eq!(verified.json::<MyBatch>().unwrap().records.len(), 1);
    let event = verified.event();
    assert_eq!(event, Err(WebhookError::BatchPassedToEventApi));
    // The same through `verify_ignoring_timestamp`, a day later.
    let header = signed(LOG_BATCH, T1 - 86_400);
    let later = hook(GO).verify_ignoring_timestamp(LOG_BATCH.as_bytes(), &header);
    let later = later.unwrap();
    assert_eq!(later.log_event_batch(), Ok(batch));
    expect(&later.json::<MyEvent>(), "InvalidPayload");
}

#[test]
fn default_tolerance_with_system_clock() {
    // `StdTimer::unix_now` is what a service passes as `now`.
    let payload = r#"{"version":1,"type":"test.event","id":"123","source":"test","time":"2025-01-01T00:00:00Z","tenantId":"tenant","data":{}}"#;
    let body = payload.as_bytes();
    let header = signed(payload, StdTimer::unix_now());
    let wh = hook(GO);
    let event = wh.construct_event(body, &header, StdTimer::unix_now());
    assert_eq!(event.unwrap().event_type.as_str(), "test.event");
    wh.verify(body, &header, StdTimer::unix_now()).unwrap();
    let old = signed(payload, 1_630_000_000);
    expect(
        &wh.verify(body, &old, StdTimer::unix_now()),
        "TimestampTooOld",
    );
    let header = signed(LOG_BATCH, StdTimer::unix_now());
    let batch = wh.verify(LOG_BATCH.as_bytes(), &header, StdTimer::unix_now());
    let batch = batch.unwrap().log_event_batch().unwrap();
    assert_eq!(batch.records.len(), 1);
    // The clock reads whole seconds since 1970 (this test runs after 2023).
    let now = StdTimer::unix_now();
    let in_range = now > 1_700_000_000 && now < i64::from(u32::MAX) * 4;
    assert!(in_range, "{now}");
}

#[test]
fn envelope_table() {
    let c = sdk("C").payload;
    for case in vectors().envelope_cases {
        let mut doc: Value = serde_json::from_str(&c).unwrap();
        if let Some(field) = &case.remove {
            doc.as_object_mut().unwrap().remove(field);
        }
        for (field, value) in case.set.iter().flatten() {
            doc[field] = value.clone();
        }
        let payload = match &case.payload {
            Some(p) => p.replace("{C}", &c),
            None => doc.to_string(),
        };
        let why = format!("{payload:?}: {}", case.why);
        let result = match case.api.as_str() {
            "event" => event_of(&payload).map(|e| assert_eq!(e.id, "1", "{why}")),
            "batch" => batch_of(&payload).map(drop),
            other => panic!("{why}: no API {other:?}"),
        };
        assert_eq!(kind(&result), case.expect, "{why}");
        let Err(WebhookError::InvalidPayload { reason }) = result else {
            continue;
        };
        if let Some(exact) = &case.reason {
            assert_eq!(reason, exact.as_str(), "{why}");
        }
        let starts = case.reason_starts.as_deref().unwrap_or("");
        assert!(reason.starts_with(starts), "{why}: {reason}");
        let contains = case.reason_contains.as_deref().unwrap_or("");
        assert!(reason.contains(contains), "{why}: {reason}");
    }
}

#[test]
fn invalid_payload_reason_does_not_echo_payload_values() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Mine {
        code: u32,
    }
    let verified_payload = verified(r#"{"code":"SECRET-OTP-991"}"#).unwrap();
    let err = verified_payload.json::<Mine>().unwrap_err();
    assert!(matches!(err, WebhookError::InvalidPayload { .. }));
    assert!(!err.to_string().contains("SECRET-OTP-991"), "{err}");
    let bad = verified(r#"{"code": SECRET-OTP-991}"#).unwrap();
    let errors = [bad.event().unwrap_err(), bad.json::<Value>().unwrap_err()];
    for err in errors {
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
    // `json` into a matching type works.
    let good = verified(r#"{"code":5}"#).unwrap();
    assert_eq!(good.json::<Mine>().unwrap().code, 5);
    assert!(!format!("{good:?}").contains("code"));
}

#[test]
fn binary_payload_verifies_then_fails_as_json() {
    let body: Vec<u8> = (0..=255u8).rev().chain(0..=255u8).collect();
    let header = webhook::sign(&key(GO), &body, T1);
    let wh = hook(GO);
    assert_eq!(wh.verify(&body, &header, T1).unwrap().as_bytes(), &body[..]);
    expect(&wh.construct_event(&body, &header, T1), "InvalidPayload");
}

// ---------------------------------------------------------------------------
// Tampering (E3)
// ---------------------------------------------------------------------------

/// The vector A body signed with [`GO`] at [`T0`], and a verifier for it.
fn signed_a() -> (Vec<u8>, String, Webhook) {
    let body = vectors().ci_tenant_vectors[0].body().to_vec();
    let header = webhook::sign(&key(GO), &body, T0);
    (body, header, hook(GO))
}

#[test]
fn every_single_byte_change_of_the_body_is_rejected() {
    let (body, header, wh) = signed_a();
    wh.verify(&body, &header, T0).unwrap();
    let mut checked = 0;
    for i in 0..body.len() {
        for bit in 0..8 {
            let mut tampered = body.clone();
            tampered[i] ^= 1 << bit;
            let result = wh.verify(&tampered, &header, T0);
            let what = format!("byte {i} bit {bit}");
            assert_eq!(kind(&result), "NoMatchingSignature", "{what}");
            checked += 1;
        }
    }
    assert_eq!(checked, body.len() * 8);
    // Truncation and extension too.
    assert!(wh.verify(&body[..body.len() - 1], &header, T0).is_err());
    let longer = [&body[..], b" "].concat();
    assert!(wh.verify(&longer, &header, T0).is_err());
}

#[test]
fn every_change_of_a_timestamp_digit_is_rejected() {
    let (body, header, wh) = signed_a();
    let (t_item, sig_item) = header.split_once(',').unwrap();
    let digits = t_item.strip_prefix("t=").unwrap();
    for i in 0..digits.len() {
        for d in b'0'..=b'9' {
            let mut changed = digits.as_bytes().to_vec();
            if changed[i] == d {
                continue;
            }
            changed[i] = d;
            let changed = String::from_utf8(changed).unwrap();
            let tampered = format!("t={changed},{sig_item}");
            let ignoring = wh.verify_ignoring_timestamp(&body, &tampered);
            assert_eq!(kind(&ignoring), "NoMatchingSignature", "{tampered}");
            // Also with `now` equal to the forged timestamp.
            let forged_t: i64 = changed.parse().unwrap();
            let at_forged = wh.verify(&body, &tampered, forged_t);
            assert_eq!(kind(&at_forged), "NoMatchingSignature", "{tampered}");
        }
    }
    // A leading zero denotes the same number; the MAC covers the parsed
    // integer re-stringified (as every Authsignal SDK does), so it verifies.
    let zero = format!("t=0{digits},{sig_item}");
    assert_eq!(wh.verify(&body, &zero, T0).unwrap().timestamp(), T0);
}

#[test]
fn every_single_character_change_of_the_signature_is_rejected() {
    let (body, header, wh) = signed_a();
    let t_item = header.split_once(',').unwrap().0;
    let sig = sig_of(&header);
    assert_eq!(sig.len(), 43);
    let mut checked = 0;
    for i in 0..sig.len() {
        for c in 0x21u8..0x7f {
            if c == sig.as_bytes()[i] || c == b',' {
                continue;
            }
            let mut changed = sig.as_bytes().to_vec();
            changed[i] = c;
            let changed = String::from_utf8(changed).unwrap();
            let tampered = format!("{t_item},v2={changed}");
            let result = wh.verify(&body, &tampered, T0);
            assert_eq!(kind(&result), "NoMatchingSignature", "{tampered}");
            checked += 1;
        }
    }
    assert!(checked > 43 * 90);
    // Dropping a character, adding one, or the URL-safe alphabet (not the
    // wire format) is rejected as well.
    let url_safe = sig.replace('+', "-").replace('/', "_");
    let mut others = vec![sig[..42].to_owned(), format!("{sig}A")];
    others.extend((url_safe != sig).then_some(url_safe));
    for other in others {
        let result = wh.verify(&body, &format!("{t_item},v2={other}"), T0);
        assert_eq!(kind(&result), "NoMatchingSignature", "{other}");
    }
}

#[test]
fn wrong_key_is_rejected_and_rotation_accepts_either() {
    let body = sdk("C").payload.into_bytes();
    let (old, new) = (key("sk_old"), key("sk_new"));
    let from_old = webhook::sign(&old, &body, T0);
    let from_new = webhook::sign(&new, &body, T0);
    let only_new = Webhook::new(new.clone());
    expect(
        &only_new.verify(&body, &from_old, T0),
        "NoMatchingSignature",
    );
    let both = Webhook::new(new).with_additional_key(old);
    both.verify(&body, &from_old, T0).unwrap();
    both.verify(&body, &from_new, T0).unwrap();
    // Both signatures in one header, either order, plus garbage (E2).
    let (s_old, s_new) = (sig_of(&from_old), sig_of(&from_new));
    for h in [
        format!("t={T0},v2={s_old},v2={s_new}"),
        format!("t={T0},v2={s_new},v2={s_old}"),
        format!("t={T0},v2={s_new},v2=garbage"),
        format!("t={T0},v2=garbage,v2={s_new}"),
    ] {
        only_new.verify(&body, &h, T0).unwrap();
    }
}

// ---------------------------------------------------------------------------
// Tolerance (E4, E5)
// ---------------------------------------------------------------------------

/// `TimestampTooOld` (positive `skew`) or `TimestampInFuture` of `skew`
/// seconds against `tolerance`.
fn out_of_tolerance(skew: i64, tolerance: Duration) -> WebhookError {
    let by = Duration::from_secs(skew.unsigned_abs());
    match skew {
        1.. => WebhookError::TimestampTooOld { age: by, tolerance },
        _ => WebhookError::TimestampInFuture {
            ahead: by,
            tolerance,
        },
    }
}

#[test]
fn tolerance_boundaries_both_directions() {
    let body = b"{}";
    let t = 1_700_000_000;
    let header = webhook::sign(&key(GO), body, t);
    let wh = hook(GO);
    assert_eq!(wh.tolerance(), DEFAULT_TOLERANCE);
    // (tolerance, skews that pass, skews that fail): the default is 300 s.
    // Zero means "exactly now", not "disabled"; sub-second parts are ignored.
    let secs = Duration::from_secs;
    let table: [(Duration, &[i64], &[i64]); 4] = [
        (DEFAULT_TOLERANCE, &[0, 300, -300], &[301, -301]),
        (secs(60), &[-60, 60], &[-61, 61]),
        (Duration::ZERO, &[0], &[1, -1]),
        (Duration::from_millis(1_999), &[1], &[2]),
    ];
    for (tolerance, pass, fail) in table {
        let wh = hook(GO).with_tolerance(tolerance);
        for skew in pass {
            wh.verify(body, &header, t + skew).unwrap();
        }
        for &skew in fail {
            let result = wh.verify(body, &header, t + skew).err();
            let expected = out_of_tolerance(skew, tolerance);
            assert_eq!(result, Some(expected), "{tolerance:?} {skew}");
        }
    }
    // The timestamp check runs before the signature check.
    let tampered = wh.verify(b"tampered", &header, t + 301);
    expect(&tampered, "TimestampTooOld");
}

#[test]
fn with_tolerance_sets_what_tolerance_reads() {
    assert_eq!(hook(GO).tolerance(), DEFAULT_TOLERANCE);
    for d in [
        Duration::ZERO,
        Duration::from_millis(1_500),
        Duration::from_secs(60),
        Duration::from_secs(86_400),
        Duration::MAX,
    ] {
        let wh = hook(GO).with_tolerance(d);
        assert_eq!(wh.tolerance(), d);
        // Adding a key or cloning keeps it; the last setter wins.
        let rotated = wh.clone().with_additional_key(key("sk_old"));
        assert_eq!(rotated.tolerance(), d);
        let reset = rotated.with_tolerance(DEFAULT_TOLERANCE);
        assert_eq!(reset.tolerance(), DEFAULT_TOLERANCE);
        assert!(format!("{wh:?}").contains(&format!("{d:?}")));
    }
    // The tolerance read back is the one `verify` applies.
    let (body, t) = (b"{}", 1_700_000_000);
    let header = webhook::sign(&key(GO), body, t);
    let wh = hook(GO).with_tolerance(Duration::from_secs(90));
    let limit = i64::try_from(wh.tolerance().as_secs()).unwrap();
    wh.verify(body, &header, t + limit).unwrap();
    wh.verify(body, &header, t - limit).unwrap();
    for skew in [limit + 1, -limit - 1] {
        let result = wh.verify(body, &header, t + skew).err();
        let expected = out_of_tolerance(skew, wh.tolerance());
        assert_eq!(result, Some(expected), "{skew}");
    }
}

#[test]
fn tolerance_arithmetic_does_not_overflow() {
    let body = b"{}";
    let max = webhook::sign(&key(GO), body, i64::MAX);
    let zero = webhook::sign(&key(GO), body, 0);
    let wh = hook(GO);
    for now in [i64::MIN, -1, 0, 1, real_now(), i64::MAX - 301] {
        let result = wh.verify(body, &max, now);
        assert_eq!(kind(&result), "TimestampInFuture", "{now}");
    }
    expect(&wh.verify(body, &zero, i64::MAX), "TimestampTooOld");
    wh.verify(body, &max, i64::MAX).unwrap();
    wh.verify(body, &zero, 0).unwrap();
    wh.verify(body, &zero, -300).unwrap();
    expect(&wh.verify(body, &zero, i64::MIN), "TimestampInFuture");
    let huge = hook(GO).with_tolerance(Duration::MAX);
    huge.verify(body, &max, i64::MIN).unwrap();
    huge.verify(body, &zero, i64::MAX).unwrap();
    // i64::MAX re-stringifies exactly, so ignoring the time it verifies.
    wh.verify_ignoring_timestamp(body, &max).unwrap();
}

#[test]
fn verify_ignoring_timestamp_accepts_a_2021_request() {
    let body = sdk("C").payload.into_bytes();
    let header = webhook::sign(&key(GO), &body, 1_630_000_000);
    let wh = hook(GO);
    let verified = wh.verify_ignoring_timestamp(&body, &header).unwrap();
    assert_eq!(verified.event().unwrap().id, "1");
    expect(&wh.verify(&body, &header, real_now()), "TimestampTooOld");
    let event = wh.construct_event(&body, &header, real_now());
    expect(&event, "TimestampTooOld");
    // Ignoring the time still checks the signature and the format.
    let other = wh.verify_ignoring_timestamp(b"other", &header);
    expect(&other, "NoMatchingSignature");
    let no_t = wh.verify_ignoring_timestamp(b"{}", "v2=abc");
    expect(&no_t, "MalformedHeader");
}

// ---------------------------------------------------------------------------
// Header format (E6)
// ---------------------------------------------------------------------------

#[test]
fn header_parsing_table() {
    let wh = hook(GO);
    for case in vectors().header_cases {
        let now = case.now.unwrap_or_else(real_now);
        let header = case.header.replace("{t}", &T_HEADER.to_string());
        let header = header.replace("{sig}", EMPTY_SIG);
        let header = header.replace("{now}", &now.to_string());
        let why = format!("{header:?}: {}", case.why);
        let result = wh.verify(b"{}", &header, now);
        assert_eq!(kind(&result), case.expect, "{why}");
        if let Some(expected) = &case.ignoring {
            let ignoring = wh.verify_ignoring_timestamp(b"{}", &header);
            assert_eq!(kind(&ignoring), expected, "{why}");
        }
    }
}

#[test]
fn oversized_headers_are_rejected_before_hmac() {
    let wh = hook(GO);
    let t = 1_630_000_000;
    let valid = webhook::sign(&key(GO), b"{}", t);
    let too_large = |header: &str, now: i64| {
        expect(&wh.verify(b"{}", header, now), "HeaderTooLarge");
    };

    // Exactly at the length limit: still parsed and verified.
    let pad = MAX_HEADER_LEN - valid.len() - ",x=".len();
    let at_limit = format!("{valid},x={}", "a".repeat(pad));
    assert_eq!(at_limit.len(), MAX_HEADER_LEN);
    wh.verify(b"{}", &at_limit, t).unwrap();
    // One byte more: rejected even though it carries a valid signature, and
    // before the timestamp check.
    let over = format!("{at_limit}a");
    too_large(&over, t);
    too_large(&over, i64::MAX);
    let ignoring = wh.verify_ignoring_timestamp(b"{}", &over);
    expect(&ignoring, "HeaderTooLarge");

    // 1 MiB header and 10 000 `v2` entries.
    let start = std::time::Instant::now();
    too_large(&format!("{valid},{}", "v".repeat(1 << 20)), t);
    too_large(&format!("{valid},{}", ["v2=AAAA"; 10_000].join(",")), t);
    assert!(start.elapsed() < Duration::from_secs(1));

    // Signature count: MAX_SIGNATURES accepted, one more rejected.
    let sig = sig_of(&valid);
    let junk = |n: usize| vec!["v2=AAAA"; n].join(",");
    let at_count = format!("t={t},{},v2={sig}", junk(MAX_SIGNATURES - 1));
    wh.verify(b"{}", &at_count, t).unwrap();
    let over_count = format!("t={t},{},v2={sig}", junk(MAX_SIGNATURES));
    assert!(over_count.len() < MAX_HEADER_LEN);
    too_large(&over_count, t);
    too_large(
        &format!("t={t},{}", vec!["v2="; MAX_SIGNATURES + 1].join(",")),
        t,
    );
}

// ---------------------------------------------------------------------------
// HeaderMap helpers
// ---------------------------------------------------------------------------

#[test]
fn header_map_helpers() {
    // With an `http::HeaderMap`: `signature_header`, then the one entry point.
    let wh = hook(GO);
    let from_headers = |headers: &HeaderMap, body: &'static str| {
        let header = webhook::signature_header(headers)?;
        wh.verify(body.as_bytes(), header, T1)
    };
    let mut headers = HeaderMap::new();
    let header = webhook::signature_header(&headers);
    assert_eq!(header, Err(WebhookError::MissingHeader));
    let event = header.and_then(|h| wh.construct_event(b"{}", h, T1));
    assert_eq!(event, Err(WebhookError::MissingHeader));
    expect(&from_headers(&headers, CUSTOM_VARIABLES), "MissingHeader");

    let value = HeaderValue::from_str(&signed(CUSTOM_VARIABLES, T1)).unwrap();
    headers.insert("X-Signature-V2", value.clone());
    assert!(headers.contains_key(SIGNATURE_HEADER));
    let header = webhook::signature_header(&headers);
    assert_eq!(header, Ok(value.to_str().unwrap()));
    let event = from_headers(&headers, CUSTOM_VARIABLES).unwrap().event();
    assert_eq!(event.unwrap().event_type, WebhookEventType::SmsCreated);

    // Appending a second value is ambiguous and rejected.
    headers.append("x-signature-v2", value);
    expect(&webhook::signature_header(&headers), "MalformedHeader");
    expect(&from_headers(&headers, CUSTOM_VARIABLES), "MalformedHeader");

    let mut batch_headers = HeaderMap::new();
    let batch_value = HeaderValue::from_str(&signed(LOG_BATCH, T1)).unwrap();
    batch_headers.insert("x-SIGNATURE-v2", batch_value);
    let batch = from_headers(&batch_headers, LOG_BATCH).unwrap();
    assert_eq!(batch.log_event_batch().unwrap().records.len(), 1);

    let mut opaque = HeaderMap::new();
    let bytes = HeaderValue::from_bytes(b"t=1,v2=\xff").unwrap();
    opaque.insert(SIGNATURE_HEADER, bytes);
    expect(&webhook::signature_header(&opaque), "MalformedHeader");
    expect(&from_headers(&opaque, "{}"), "MalformedHeader");
}

// ---------------------------------------------------------------------------
// Properties (F3/F4 on stable)
// ---------------------------------------------------------------------------

const PROPS_SECRET: &str = "sk_test_props_secret";

/// The `v2` value `webhook::sign` produces for `body` at `t`.
fn oracle_signature(secret: &str, t: i64, body: &[u8]) -> String {
    sig_of(&webhook::sign(&ApiSecretKey::new(secret), body, t))
}

/// Independent check that `header` really carries a valid signature for
/// `body` at `now`: one `t` within 300 s of `now`, and a `v2` item equal to the
/// oracle signature (modulo whitespace and `=` padding).
fn oracle_accepts(secret: &str, header: &str, body: &[u8], now: Option<i64>) -> bool {
    if header.len() > MAX_HEADER_LEN {
        return false;
    }
    let items: Vec<(&str, &str)> = header
        .split(',')
        .filter_map(|item| item.split_once('='))
        .map(|(k, v)| (k.trim_ascii(), v.trim_ascii()))
        .collect();
    let values = |key: &str| -> Vec<&str> {
        items
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .collect()
    };
    let (ts, sigs) = (values("t"), values("v2"));
    if ts.len() != 1 || sigs.is_empty() || sigs.len() > MAX_SIGNATURES {
        return false;
    }
    if !ts[0].bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some(t) = ts[0]
        .parse::<u64>()
        .ok()
        .and_then(|t| i64::try_from(t).ok())
    else {
        return false;
    };
    if now.is_some_and(|now| (i128::from(now) - i128::from(t)).abs() > 300) {
        return false;
    }
    let expected = oracle_signature(secret, t, body);
    sigs.iter()
        .any(|s| s.strip_suffix('=').unwrap_or(s) == expected)
}

/// Header strategy: mostly header-shaped strings made of `t`/`v2`/other items
/// with arbitrary values, plus wholly arbitrary strings.
fn header_strategy() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        "[0-9]{0,21}",
        "-?[0-9]{1,20}",
        "[A-Za-z0-9+/=]{0,50}",
        any::<i64>().prop_map(|n| n.to_string()),
        ".{0,20}",
    ];
    let key = prop_oneof![
        Just("t".to_owned()),
        Just("v2".to_owned()),
        Just("v1".to_owned()),
        Just(" t ".to_owned()),
        Just("\tv2".to_owned()),
        "[a-zA-Z0-9 ]{0,3}",
    ];
    let item = prop_oneof![
        (key, value).prop_map(|(k, v)| format!("{k}={v}")),
        ".{0,10}"
    ];
    prop_oneof![
        3 => prop::collection::vec(item, 0..40).prop_map(|items| items.join(",")),
        1 => ".{0,300}",
        1 => any::<String>(),
    ]
}

/// A signed header, possibly mutated, and the data needed to judge it.
#[derive(Debug, Clone)]
struct Scenario {
    body: Vec<u8>,
    t: i64,
    now: i64,
    header: String,
    /// Whether the header was built to be valid (unmutated, within tolerance).
    should_pass: bool,
}

/// Replaces the byte at `at` with `byte`; whether that changed anything.
fn mutate(bytes: &mut [u8], (at, byte): (prop::sample::Index, u8)) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let i = at.index(bytes.len());
    let changed = bytes[i] != byte;
    bytes[i] = byte;
    changed
}

fn scenario_strategy() -> impl Strategy<Value = Scenario> {
    let mutation = || prop::option::of((any::<prop::sample::Index>(), any::<u8>()));
    (
        prop::collection::vec(any::<u8>(), 0..200),
        0i64..4_000_000_000,
        -400i64..=400,
        (0usize..4, 0usize..4), // junk signatures before and after
        (any::<bool>(), any::<bool>(), any::<bool>()), // pad, whitespace, include the real one
        (mutation(), mutation()), // a header byte, a body byte
    )
        .prop_map(
            |(mut body, t, skew, (before, after), (pad, space, include), muts)| {
                let sig = oracle_signature(PROPS_SECRET, t, &body) + if pad { "=" } else { "" };
                let ws = if space { " " } else { "" };
                let mut items = vec![format!("{ws}t={t}{ws}")];
                items.extend((0..before).map(|i| format!("{ws}v2=junk{i}AAAA{ws}")));
                items.extend(include.then(|| format!("{ws}v2={sig}{ws}")));
                items.extend((0..after).map(|i| format!("v2=BBBB{i}")));
                let mut header = items.join(",").into_bytes();
                let header_changed = muts.0.is_some_and(|m| mutate(&mut header, m));
                let body_changed = muts.1.is_some_and(|m| mutate(&mut body, m));
                Scenario {
                    now: t.saturating_add(skew),
                    should_pass: include && !header_changed && !body_changed && skew.abs() <= 300,
                    body,
                    t,
                    header: String::from_utf8_lossy(&header).into_owned(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Never panics, and never accepts unless the header carries the correct
    /// signature (independent oracle) within the tolerance.
    #[test]
    fn verify_never_accepts_without_the_right_signature(
        header in header_strategy(),
        body in prop::collection::vec(any::<u8>(), 0..256),
        now in prop_oneof![any::<i64>(), 0i64..2_000_000_000],
    ) {
        let wh = Webhook::new(ApiSecretKey::new(PROPS_SECRET));
        let result = wh.verify(&body, &header, now);
        if result.is_ok() {
            prop_assert!(oracle_accepts(PROPS_SECRET, &header, &body, Some(now)), "accepted {header:?}");
        }
        let ignoring = wh.verify_ignoring_timestamp(&body, &header);
        if ignoring.is_ok() {
            prop_assert!(oracle_accepts(PROPS_SECRET, &header, &body, None), "accepted {header:?}");
        }
        // Oversized headers are always rejected as such.
        if header.len() > MAX_HEADER_LEN {
            prop_assert_eq!(kind(&result), "HeaderTooLarge");
        }
        // Decoding from arbitrary (here: unverified-looking) results never panics.
        if let Ok(v) = ignoring {
            let _ = v.event();
            let _ = v.log_event_batch();
        }
    }

    /// Near-valid headers: sound (every Ok is confirmed by the oracle) and
    /// complete (every intact header within tolerance is accepted).
    #[test]
    fn near_valid_headers_sound_and_complete(s in scenario_strategy()) {
        let wh = Webhook::new(ApiSecretKey::new(PROPS_SECRET));
        let result = wh.verify(&s.body, &s.header, s.now);
        if result.is_ok() {
            prop_assert!(oracle_accepts(PROPS_SECRET, &s.header, &s.body, Some(s.now)), "{s:?}");
            prop_assert_eq!(result.as_ref().map(|v| v.timestamp()).ok(), Some(s.t));
        }
        if s.should_pass {
            prop_assert!(result.is_ok(), "{:?}: {:?}", s, result);
        }
        // A correct signature with a wrong key never passes.
        let other = Webhook::new(ApiSecretKey::new("sk_test_other"));
        prop_assert!(other.verify(&s.body, &s.header, s.now).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// `sign` always verifies at the same `now`, for any secret (including
    /// ones longer than the SHA-256 block) and body, and matches the oracle.
    #[test]
    fn sign_always_verifies(
        secret in prop_oneof![".{0,80}", "[a-z]{60,200}"],
        body in prop::collection::vec(any::<u8>(), 0..300),
        t in prop_oneof![0i64..=i64::MAX, 1_600_000_000i64..1_900_000_000],
    ) {
        let key = ApiSecretKey::new(secret.clone());
        let header = webhook::sign(&key, &body, t);
        // `t={t},v2=` then a SHA-256 tag in unpadded standard base64; its
        // value is pinned by the known answers above.
        let sig = header.strip_prefix(&format!("t={t},v2=")).unwrap();
        prop_assert_eq!(sig.len(), 43);
        prop_assert_eq!(STANDARD_NO_PAD.decode(sig).unwrap().len(), 32);
        prop_assert_eq!(webhook::sign(&key, &body, t), header.clone());
        // Every byte of the key counts, also past the 64-byte HMAC block.
        let other = webhook::sign(&ApiSecretKey::new(format!("{secret}x")), &body, t);
        prop_assert_ne!(&other, &header);
        let wh = Webhook::new(key.clone());
        prop_assert!(wh.verify(&body, &header, t).is_ok());
        prop_assert!(wh.verify_ignoring_timestamp(&body, &header).is_ok());
        // And as the additional key of a rotating verifier.
        let rotating = Webhook::new(ApiSecretKey::new(format!("{secret}-new"))).with_additional_key(key);
        prop_assert!(rotating.verify(&body, &header, t).is_ok());
    }
}
