//! Webhook verification (reference §5.4, reliability tests E1-E9, F3/F4):
//! the vectors of `tests/data/webhook.json`, known answers, tampering,
//! tolerance, header parsing, envelopes, secret hygiene, and properties
//! checked against an oracle that scans the header on its own and takes the
//! expected signature from `webhook::sign`, itself pinned to the known
//! answers here.
#![cfg(feature = "webhook")]

use std::{collections::HashSet, time::Duration};

use authsignal_core::webhook::{
    self, DEFAULT_TOLERANCE, LogEventBatch, MAX_HEADER_LEN, MAX_SIGNATURES, SIGNATURE_HEADER,
    Webhook, WebhookError, WebhookEventType,
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

/// The reason of an `InvalidPayload` error, or a panic.
fn invalid_payload_reason(result: Result<impl std::fmt::Debug, WebhookError>) -> String {
    match result {
        Err(WebhookError::InvalidPayload { reason }) => reason.into_owned(),
        other => panic!("expected InvalidPayload, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Vectors and known answers
// ---------------------------------------------------------------------------

#[test]
fn vector_file_cases_verify_as_labelled() {
    let cases = vectors().cases;
    assert!(
        cases.len() >= 9,
        "expected at least 9 cases, got {}",
        cases.len()
    );
    let mut valid = 0;
    for case in &cases {
        let (wh, payload, name) = (hook(&case.secret), case.body(), &case.name);
        let result = match case.timestamp {
            Some(now) => wh.construct_event(payload, &case.header, now),
            None => wh
                .verify_ignoring_timestamp(payload, &case.header)
                .and_then(|v| v.event()),
        };
        let expected = match (case.valid, case.error.as_deref()) {
            (true, _) => "Ok",
            (false, Some("signature mismatch")) => "NoMatchingSignature",
            (false, Some("malformed header")) => "MalformedHeader",
            (false, other) => panic!("{name}: unexpected error kind in vector file: {other:?}"),
        };
        assert_eq!(kind(&result), expected, "{name}: {result:?}");
        let Ok(event) = result else { continue };
        valid += 1;
        assert_eq!(event.version, 1, "{name}");
        assert_eq!(event.event_type, WebhookEventType::EmailCreated, "{name}");
        assert_eq!(event.id, "bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e");
        assert_eq!(event.source, "https://authsignal.com");
        assert_eq!(event.time, "2025-02-20T01:51:56.070Z");
        assert_eq!(event.tenant_id, "7752d28e-e627-4b1b-bb81-b45d68d617bc");
        assert_eq!(event.data["actionCode"], "accountRecovery");
        assert_eq!(event.data["code"], "157743");
        // The pure call agrees with the one that ignores the timestamp.
        wh.verify_ignoring_timestamp(payload, &case.header).unwrap();
        // `sign`, the property tests' oracle, reproduces one of its `v2` values.
        let expected = sig_of(&webhook::sign(&key(&case.secret), payload, case.at()));
        assert!(
            case.header
                .split(',')
                .any(|item| item == format!("v2={expected}")),
            "{name}: {expected} not in {}",
            case.header
        );
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
        assert_eq!(v.event().version, 1, "{}", v.name);
        let ignoring = hook(&v.secret)
            .verify_ignoring_timestamp(v.body(), &v.header)
            .unwrap();
        assert_eq!(
            (ignoring.timestamp(), ignoring.as_bytes()),
            (v.at(), v.body())
        );
    }
    let a = &vectors().ci_tenant_vectors[0];
    let known = [
        (
            a.body(),
            1_740_016_316,
            "jG7bIXHtFANggSxaeL9jI0CKC9jUrfDc1yv5uwtAh4Y",
        ),
        (b"{}".as_slice(), 1_630_000_000, EMPTY_SIG),
    ];
    for (body, t, sig) in known {
        assert_eq!(webhook::sign(&key(GO), body, t), format!("t={t},v2={sig}"));
    }
}

/// Keys around the 64-byte HMAC block, where RFC 2104 switches from padding
/// the key to hashing it, and the empty key. The answers come from outside
/// this crate: Python's `hmac` module and `openssl dgst -sha256 -hmac KEY`
/// over `1630000000.{}`, base64 without padding.
#[test]
fn keys_of_every_length_match_known_answers() {
    let cases = [
        ("", "Uu27MDnayWKjRc0P3V7DVhtmIsCuNrAzkKgw16Fr1yc"),
        (
            "sk_test_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "DPih3Xidz/j4xfieqln5bq4xz1Qqu3DXdee64B3d0V0",
        ),
        (
            "sk_test_ccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
            "ebw6Mx+00EkCpYQ+5xOzSz+JwO2xDXd68vgJDQI+y+Q",
        ),
        (
            "sk_test_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "R+cUJELxs4D20wkRjz9onWBNOIlb48t9c1LcLvCjFDY",
        ),
    ];
    let t = 1_630_000_000;
    for (secret, signature) in cases {
        let header = format!("t={t},v2={signature}");
        assert_eq!(
            webhook::sign(&key(secret), b"{}", t),
            header,
            "{} bytes",
            secret.len()
        );
        hook(secret).verify(b"{}", &header, t).unwrap();
        // As the second key of a rotating verifier too.
        let rotating = hook("sk_other").with_additional_key(key(secret));
        rotating.verify(b"{}", &header, t).unwrap();
    }
    assert_eq!((cases[1].0.len(), cases[2].0.len()), (64, 65));
}

#[test]
fn vector_c_zero_tolerance_go() {
    let v = sdk("C");
    let event = v.event();
    assert_eq!(event.event_type, WebhookEventType::from("test"));
    assert_eq!(event.event_type.as_str(), "test");
    assert_eq!((event.tenant_id.as_str(), &event.data), ("t", &json!({})));
    let wh = hook(GO);
    assert_eq!(
        kind(&wh.construct_event(v.body(), &v.header, real_now())),
        "TimestampTooOld"
    );
    // Padded form of the same signature.
    wh.construct_event(v.body(), &format!("{}=", v.header), v.at())
        .unwrap();
}

#[test]
fn vector_d_php_escaped_slashes() {
    let v = sdk("D");
    let event = v.event();
    // `\/` in the raw bytes decodes to `/`: the signature covered the raw bytes.
    assert_eq!(event.source, "https://authsignal.com");
    assert_eq!(event.data["to"], "test@example.com");
    // Re-serializing the JSON changes the bytes and so breaks the signature.
    let parsed: Value = serde_json::from_str(&v.payload).unwrap();
    let reserialized = serde_json::to_vec(&parsed).unwrap();
    let result = hook(GO).verify(&reserialized, &v.header, v.at());
    assert_eq!(result.err(), Some(WebhookError::NoMatchingSignature));
}

#[test]
fn vector_e_and_g_two_signatures_in_either_order() {
    let e = sdk("E");
    assert_eq!(e.event().data["code"], "718190");
    // Reversed order (E2) passes too.
    let (first, second) = e
        .header
        .split_once(",v2=")
        .unwrap()
        .1
        .split_once(",v2=")
        .unwrap();
    let reversed = format!("t={},v2={second},v2={first}", e.at());
    hook(GO)
        .construct_event(e.body(), &reversed, e.at())
        .unwrap();
    // G: the valid signature first, then an invalid one.
    assert_eq!(sdk("G").event().id, "af7be03c-ea8f-4739-b18e-8b48fcbe4e38");
}

#[test]
fn vector_f_python_spaced_json() {
    let event = sdk("F").event();
    assert_eq!(event.data["to"], "not-a-real-email@authsignal.com");
    assert_eq!(event.event_type, WebhookEventType::EmailCreated);
}

#[test]
fn vectors_a_and_b_fail_with_a_placeholder_key() {
    // Signed with the CI tenant's key, which is not public: negative tests only.
    for v in vectors().ci_tenant_vectors {
        for secret in [GO, PY, "YOUR_API_SECRET_KEY"] {
            let result = hook(secret).construct_event(v.body(), &v.header, v.at());
            assert_eq!(result, Err(WebhookError::NoMatchingSignature), "{}", v.name);
        }
    }
}

#[test]
fn sdk_negative_vectors() {
    let wh = hook(GO);
    let now = real_now();
    for (header, expected) in [
        ("123".to_owned(), "MalformedHeader"),
        (
            "t=1630000000,v2=invalid_signature".to_owned(),
            "TimestampTooOld",
        ),
        (
            format!("t={now},v2=invalid_signature"),
            "NoMatchingSignature",
        ),
        (String::new(), "MalformedHeader"),
        ("v2=someSignature".to_owned(), "MalformedHeader"),
        ("t=1234567890".to_owned(), "MalformedHeader"),
    ] {
        assert_eq!(
            kind(&wh.verify(b"{}", &header, now)),
            expected,
            "{header:?}"
        );
    }
    let not_json = "not valid json";
    let header = signed(not_json, now);
    let verified = wh.verify(not_json.as_bytes(), &header, now);
    assert!(verified.is_ok());
    assert_eq!(
        kind(&wh.construct_event(not_json.as_bytes(), &header, now)),
        "InvalidPayload"
    );
    assert_eq!(
        kind(&verified.and_then(|v| v.log_event_batch())),
        "InvalidPayload"
    );

    let batch = r#"{"records":[]}"#;
    let header = signed(batch, now);
    let err = wh
        .construct_event(batch.as_bytes(), &header, now)
        .unwrap_err();
    assert_eq!(err, WebhookError::BatchPassedToEventApi);
    assert_eq!(
        err.to_string(),
        "payload is a batch of log events; decode it with log_event_batch()"
    );
    let records = wh
        .verify(batch.as_bytes(), &header, now)
        .and_then(|v| v.log_event_batch());
    assert!(records.unwrap().records.is_empty());
}

// ---------------------------------------------------------------------------
// Envelopes (E1, E8)
// ---------------------------------------------------------------------------

#[test]
fn event_with_custom_variables_keeps_nested_values() {
    let t = 1_740_000_000;
    let event =
        hook(GO).construct_event(CUSTOM_VARIABLES.as_bytes(), &signed(CUSTOM_VARIABLES, t), t);
    let event = event.unwrap();
    assert_eq!(event.event_type, WebhookEventType::SmsCreated);
    let vars = &event.data["customVariables"];
    assert_eq!(vars["action_journeyType"], "ForgotChangePassword");
    assert_eq!(vars["retryCount"], json!(2));
    assert_eq!(vars["isRecovery"], json!(true));
    assert_eq!(vars["channels"], json!(["sms", "email"]));
}

#[test]
fn log_event_batch_decodes() {
    let t = 1_740_000_000;
    let wh = hook(GO);
    let batch_of = |payload: &str| {
        wh.verify(payload.as_bytes(), &signed(payload, t), t)
            .and_then(|v| v.log_event_batch())
    };
    let batch = batch_of(LOG_BATCH).unwrap();
    assert_eq!(batch.records.len(), 1);
    let rec = &batch.records[0];
    assert_eq!(rec.version, 1);
    assert_eq!(rec.event_type, WebhookEventType::ActionLogCreated);
    assert_eq!(rec.tenant_id, "7752d28e-e627-4b1b-bb81-b45d68d617bc");
    assert_eq!(rec.record["userId"], "b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0");
    assert_eq!(
        rec.record["customVariables"]["journeyType"],
        "accountRecovery"
    );
    // The batch given to the single-event API, and the reverse.
    let as_event = wh.construct_event(LOG_BATCH.as_bytes(), &signed(LOG_BATCH, t), t);
    assert_eq!(as_event, Err(WebhookError::BatchPassedToEventApi));
    for not_a_batch in [CUSTOM_VARIABLES, r#"{"records":{}}"#] {
        assert_eq!(
            batch_of(not_a_batch),
            Err(WebhookError::MissingRecords),
            "{not_a_batch}"
        );
    }
    // Round trip through serde keeps the wire names.
    let again: LogEventBatch =
        serde_json::from_value(serde_json::to_value(&batch).unwrap()).unwrap();
    assert_eq!(again, batch);
    let wire = serde_json::to_value(&batch).unwrap();
    assert_eq!(wire["records"][0]["type"], "action.log_created");
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

    // 1. `event()`, on every valid case of the vector file; `construct_event`
    //    gives the same result.
    for case in vectors().cases.iter().filter(|c| c.valid) {
        let wh = hook(&case.secret);
        let (payload, now) = (case.body(), case.at());
        let verified = wh.verify(payload, &case.header, now).unwrap();
        assert_eq!((verified.as_bytes(), verified.timestamp()), (payload, now));
        let event = verified.event().unwrap();
        assert_eq!(
            event.event_type,
            WebhookEventType::EmailCreated,
            "{}",
            case.name
        );
        assert_eq!(event.data["code"], "157743");
        assert_eq!(wh.construct_event(payload, &case.header, now), Ok(event));
        // 3. `json::<T>()`, into the caller's own type.
        let data = MyData {
            action_code: "accountRecovery".into(),
            code: "157743".into(),
        };
        let tenant_id = "7752d28e-e627-4b1b-bb81-b45d68d617bc".into();
        let mine = MyEvent {
            kind: "email.created".into(),
            tenant_id,
            data,
        };
        assert_eq!(verified.json::<MyEvent>().unwrap(), mine);
        assert_eq!(verified.json::<Value>().unwrap()["version"], 1);
        // Not a batch.
        assert_eq!(
            verified.log_event_batch(),
            Err(WebhookError::MissingRecords)
        );
    }

    // 2. `log_event_batch()`.
    let t = 1_740_000_000;
    let wh = hook(GO);
    let verified = wh
        .verify(LOG_BATCH.as_bytes(), &signed(LOG_BATCH, t), t)
        .unwrap();
    let batch = verified.log_event_batch().unwrap();
    assert_eq!(batch.records.len(), 1);
    assert_eq!(
        batch.records[0].event_type,
        WebhookEventType::ActionLogCreated
    );
    let journey = &batch.records[0].record["customVariables"]["journeyType"];
    assert_eq!(journey, "accountRecovery");
    assert_eq!(verified.json::<MyBatch>().unwrap().records.len(), 1);
    assert_eq!(verified.event(), Err(WebhookError::BatchPassedToEventApi));
    // The same through `verify_ignoring_timestamp`, a day later.
    let later = wh.verify_ignoring_timestamp(LOG_BATCH.as_bytes(), &signed(LOG_BATCH, t - 86_400));
    let later = later.unwrap();
    assert_eq!(later.log_event_batch(), Ok(batch));
    assert_eq!(kind(&later.json::<MyEvent>()), "InvalidPayload");
}

#[test]
fn default_tolerance_with_system_clock() {
    // `StdTimer::unix_now` is what a service passes as `now`.
    let payload = r#"{"version":1,"type":"test.event","id":"123","source":"test","time":"2025-01-01T00:00:00Z","tenantId":"tenant","data":{}}"#;
    let header = signed(payload, StdTimer::unix_now());
    let wh = hook(GO);
    let event = wh.construct_event(payload.as_bytes(), &header, StdTimer::unix_now());
    assert_eq!(event.unwrap().event_type.as_str(), "test.event");
    wh.verify(payload.as_bytes(), &header, StdTimer::unix_now())
        .unwrap();
    let old = signed(payload, 1_630_000_000);
    let result = wh.verify(payload.as_bytes(), &old, StdTimer::unix_now());
    assert_eq!(kind(&result), "TimestampTooOld");
    let batch_header = signed(LOG_BATCH, StdTimer::unix_now());
    let batch = wh.verify(LOG_BATCH.as_bytes(), &batch_header, StdTimer::unix_now());
    assert_eq!(
        batch
            .and_then(|v| v.log_event_batch())
            .unwrap()
            .records
            .len(),
        1
    );
    // The clock reads whole seconds since 1970 (this test runs after 2023).
    let now = StdTimer::unix_now();
    assert!(
        now > 1_700_000_000 && now < i64::from(u32::MAX) * 4,
        "{now}"
    );
}

#[test]
fn envelope_validation_rejects_missing_fields() {
    let t = 1_740_000_000;
    let wh = hook(GO);
    let event = |payload: &str| wh.construct_event(payload.as_bytes(), &signed(payload, t), t);
    let base: Value = serde_json::from_str(&sdk("C").payload).unwrap();
    for field in [
        "version", "type", "id", "source", "time", "tenantId", "data",
    ] {
        let mut v = base.clone();
        v.as_object_mut().unwrap().remove(field);
        let reason = invalid_payload_reason(event(&v.to_string()));
        assert!(reason.contains(field), "{field}: {reason}");
    }
    let bad = [
        ("version", json!(0)),
        ("version", json!("1")),
        ("type", json!("  ")),
        ("id", json!(7)),
        ("data", json!("text")),
        ("data", Value::Null),
    ];
    for (field, value) in bad {
        let mut v = base.clone();
        v[field] = value.clone();
        assert_eq!(
            kind(&event(&v.to_string())),
            "InvalidPayload",
            "{field} = {value}"
        );
    }
    for payload in ["[]", "1", "\"x\"", "null", ""] {
        assert_eq!(kind(&event(payload)), "InvalidPayload", "{payload}");
    }
    // A record without `record`, and a record that is not an object.
    let no_record = r#"{"records":[{"version":1,"type":"action.log_created","id":"1","source":"s","time":"x","tenantId":"t"}]}"#;
    for payload in [no_record, r#"{"records":[1]}"#] {
        let batch = wh.verify(payload.as_bytes(), &signed(payload, t), t);
        assert_eq!(
            kind(&batch.and_then(|v| v.log_event_batch())),
            "InvalidPayload"
        );
    }
    // Unknown fields are ignored.
    let mut extra = base.clone();
    extra["somethingNew"] = json!({"a": 1});
    event(&extra.to_string()).unwrap();
}

#[test]
fn envelope_decoding_names_the_problem() {
    let t = 1_740_000_000;
    let wh = hook(GO);
    let event = |payload: &str| wh.construct_event(payload.as_bytes(), &signed(payload, t), t);
    let batch = |payload: &str| {
        wh.verify(payload.as_bytes(), &signed(payload, t), t)
            .and_then(|v| v.log_event_batch())
    };
    let c = sdk("C").payload;
    let base: Value = serde_json::from_str(&c).unwrap();

    // A field of the wrong type is named, like a missing one.
    for (field, value) in [
        ("type", json!(1)),
        ("id", json!(7)),
        ("source", json!(["s"])),
        ("time", json!({})),
        ("tenantId", json!(true)),
        ("version", json!(-1)),
        ("version", json!(1.5)),
        ("version", json!(4_294_967_296_u64)),
        ("data", json!([1])),
    ] {
        let mut v = base.clone();
        v[field] = value.clone();
        let reason = invalid_payload_reason(event(&v.to_string()));
        assert!(
            reason.contains(&format!("'{field}'")),
            "{field} = {value}: {reason}"
        );
    }

    // Only a JSON object is an envelope, even when an array lists the
    // fields in order.
    let positional = r#"[1,"email.created","1","s","2025-01-01T00:00:00Z","t",{}]"#;
    for payload in ["[]", "1", "\"x\"", "null", "true", positional, " \n[1]"] {
        assert_eq!(
            invalid_payload_reason(event(payload)),
            "not a JSON object",
            "{payload}"
        );
        assert_eq!(
            invalid_payload_reason(batch(payload)),
            "not a JSON object",
            "{payload}"
        );
    }
    let item = format!(r#"{{"records":[{positional}]}}"#);
    assert!(invalid_payload_reason(batch(&item)).contains("not an object"));

    // Broken JSON is described by category and position only.
    let empty = "truncated or empty JSON at line 1 column 0";
    assert_eq!(invalid_payload_reason(event("")), empty);
    assert!(invalid_payload_reason(event("{\"version\":")).starts_with("truncated or empty JSON"));
    assert!(invalid_payload_reason(event("nulx")).starts_with("invalid JSON"));
    assert!(invalid_payload_reason(event(&format!("{c} x"))).starts_with("invalid JSON"));
    // A repeated envelope field is ambiguous, hence rejected.
    let repeated = c.replacen(r#""id":"1""#, r#""id":"1","id":"2""#, 1);
    assert!(invalid_payload_reason(event(&repeated)).starts_with("JSON of an unexpected shape"));

    // A `records` key marks a batch whatever its value.
    let mut with_records = base.clone();
    with_records["records"] = Value::Null;
    assert_eq!(
        event(&with_records.to_string()),
        Err(WebhookError::BatchPassedToEventApi)
    );
    // `records` missing, null or not an array: not a batch.
    for payload in [r#"{}"#, r#"{"records":null}"#, r#"{"records":"x"}"#] {
        assert_eq!(
            batch(payload),
            Err(WebhookError::MissingRecords),
            "{payload}"
        );
    }
    // Fields of the other envelope are ignored, not required.
    let mut event_with_record = base.clone();
    event_with_record["record"] = json!("x");
    assert_eq!(event(&event_with_record.to_string()).unwrap().id, "1");
}

#[test]
fn invalid_payload_reason_does_not_echo_payload_values() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Mine {
        code: u32,
    }
    let t = 1_740_000_000;
    let verified =
        |payload: &'static str| hook(GO).verify(payload.as_bytes(), &signed(payload, t), t);
    let err = verified(r#"{"code":"SECRET-OTP-991"}"#)
        .unwrap()
        .json::<Mine>()
        .unwrap_err();
    assert!(matches!(err, WebhookError::InvalidPayload { .. }));
    assert!(!err.to_string().contains("SECRET-OTP-991"), "{err}");
    let bad = verified(r#"{"code": SECRET-OTP-991}"#).unwrap();
    assert!(!bad.event().unwrap_err().to_string().contains("SECRET"));
    assert!(
        !bad.json::<Value>()
            .unwrap_err()
            .to_string()
            .contains("SECRET")
    );
    // `json` into a matching type works.
    let good = verified(r#"{"code":5}"#).unwrap();
    assert_eq!(good.json::<Mine>().unwrap().code, 5);
    assert!(!format!("{good:?}").contains("code"));
}

#[test]
fn binary_payload_verifies_then_fails_as_json() {
    let t = 1_740_000_000;
    let body: Vec<u8> = (0..=255u8).rev().chain(0..=255u8).collect();
    let header = webhook::sign(&key(GO), &body, t);
    let wh = hook(GO);
    assert_eq!(wh.verify(&body, &header, t).unwrap().as_bytes(), &body[..]);
    assert_eq!(
        kind(&wh.construct_event(&body, &header, t)),
        "InvalidPayload"
    );
}

#[test]
fn event_type_is_open_and_round_trips() {
    use WebhookEventType as T;
    let known = [
        ("email.created", T::EmailCreated),
        ("sms.created", T::SmsCreated),
        ("push.created", T::PushCreated),
        ("authenticator.created", T::AuthenticatorCreated),
        ("authenticator.updated", T::AuthenticatorUpdated),
        ("authenticator.deleted", T::AuthenticatorDeleted),
        ("action.verify", T::ActionVerify),
        ("action.log_created", T::ActionLogCreated),
        ("challenge.log_created", T::ChallengeLogCreated),
    ];
    let unknown = ["user.deleted", "", "EMAIL.CREATED", "email.created "];
    let rows = known.map(|(s, v)| (s, Some(v)));
    for (s, known) in rows.into_iter().chain(unknown.map(|s| (s, None))) {
        let v = T::from(s);
        if let Some(known) = &known {
            assert_eq!(&v, known, "{s}");
        }
        let is_unknown = matches!(v, T::Unknown(_));
        assert_eq!((is_unknown, v.is_unknown()), (known.is_none(), is_unknown));
        assert_eq!(T::from(s.to_owned()), v, "{s}");
        assert_eq!(s.parse::<T>().unwrap(), v, "{s}");
        assert_eq!(v.as_str(), s);
        assert_eq!(serde_json::to_value(&v).unwrap(), json!(s));
        assert_eq!(serde_json::from_value::<T>(json!(s)).unwrap(), v);
        if !is_unknown {
            assert_eq!(v.to_string(), s);
        }
    }
}

// ---------------------------------------------------------------------------
// Tampering (E3)
// ---------------------------------------------------------------------------

/// The vector A body signed with [`GO`] at [`T0`], and a verifier for it.
fn signed_a() -> (Vec<u8>, String, Webhook) {
    let body = vectors().ci_tenant_vectors[0].payload.clone().into_bytes();
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
            assert_eq!(
                result.err(),
                Some(WebhookError::NoMatchingSignature),
                "byte {i} bit {bit}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, body.len() * 8);
    // Truncation and extension too.
    assert!(wh.verify(&body[..body.len() - 1], &header, T0).is_err());
    assert!(wh.verify(&[&body[..], b" "].concat(), &header, T0).is_err());
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
            let no_match = Some(WebhookError::NoMatchingSignature);
            assert_eq!(
                wh.verify_ignoring_timestamp(&body, &tampered).err(),
                no_match,
                "{tampered}"
            );
            // Also with `now` equal to the forged timestamp.
            let forged_t: i64 = changed.parse().unwrap();
            assert_eq!(
                wh.verify(&body, &tampered, forged_t).err(),
                no_match,
                "{tampered}"
            );
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
            let tampered = format!("{t_item},v2={}", String::from_utf8(changed).unwrap());
            let result = wh.verify(&body, &tampered, T0);
            assert_eq!(
                result.err(),
                Some(WebhookError::NoMatchingSignature),
                "{tampered}"
            );
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
        assert_eq!(
            result.err(),
            Some(WebhookError::NoMatchingSignature),
            "{other}"
        );
    }
}

#[test]
fn wrong_key_is_rejected_and_rotation_accepts_either() {
    let body = sdk("C").payload.into_bytes();
    let (old, new) = (key("sk_old"), key("sk_new"));
    let from_old = webhook::sign(&old, &body, T0);
    let from_new = webhook::sign(&new, &body, T0);
    let only_new = Webhook::new(new.clone());
    let result = only_new.verify(&body, &from_old, T0);
    assert_eq!(result.err(), Some(WebhookError::NoMatchingSignature));
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

#[test]
fn tolerance_boundaries_both_directions() {
    let body = b"{}";
    let t = 1_700_000_000;
    let header = webhook::sign(&key(GO), body, t);
    let wh = hook(GO);
    assert_eq!(wh.tolerance(), DEFAULT_TOLERANCE);
    assert_eq!(DEFAULT_TOLERANCE, Duration::from_secs(300));
    for now in [t, t + 300, t - 300] {
        wh.verify(body, &header, now).unwrap();
    }
    let (age, tolerance) = (Duration::from_secs(301), DEFAULT_TOLERANCE);
    let old = wh.verify(body, &header, t + 301).err();
    assert_eq!(old, Some(WebhookError::TimestampTooOld { age, tolerance }));
    let ahead = age;
    let future = wh.verify(body, &header, t - 301).err();
    assert_eq!(
        future,
        Some(WebhookError::TimestampInFuture { ahead, tolerance })
    );

    // (tolerance, offsets that pass, offsets that fail as too old / in the
    // future). Zero means "exactly now", not "disabled"; sub-second parts are
    // ignored.
    let table: [(Duration, &[i64], &[(i64, &str)]); 3] = [
        (
            Duration::from_secs(60),
            &[-60, 60],
            &[(-61, "TimestampInFuture"), (61, "TimestampTooOld")],
        ),
        (
            Duration::ZERO,
            &[0],
            &[(1, "TimestampTooOld"), (-1, "TimestampInFuture")],
        ),
        (
            Duration::from_millis(1_999),
            &[1],
            &[(2, "TimestampTooOld")],
        ),
    ];
    for (tolerance, pass, fail) in table {
        let wh = hook(GO).with_tolerance(tolerance);
        for offset in pass {
            wh.verify(body, &header, t + offset).unwrap();
        }
        for (offset, expected) in fail {
            let result = wh.verify(body, &header, t + offset);
            assert_eq!(kind(&result), *expected, "{tolerance:?} {offset}");
        }
    }

    // The timestamp check runs before the signature check.
    assert_eq!(
        kind(&wh.verify(b"tampered", &header, t + 301)),
        "TimestampTooOld"
    );
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
        assert_eq!(
            rotated.with_tolerance(DEFAULT_TOLERANCE).tolerance(),
            DEFAULT_TOLERANCE
        );
        assert!(format!("{wh:?}").contains(&format!("{d:?}")));
    }
    // The tolerance read back is the one `verify` applies.
    let (body, t) = (b"{}", 1_700_000_000);
    let header = webhook::sign(&key(GO), body, t);
    let wh = hook(GO).with_tolerance(Duration::from_secs(90));
    let (limit, tolerance) = (
        i64::try_from(wh.tolerance().as_secs()).unwrap(),
        wh.tolerance(),
    );
    wh.verify(body, &header, t + limit).unwrap();
    wh.verify(body, &header, t - limit).unwrap();
    let (age, ahead) = (Duration::from_secs(91), Duration::from_secs(91));
    let old = wh.verify(body, &header, t + limit + 1).err();
    assert_eq!(old, Some(WebhookError::TimestampTooOld { age, tolerance }));
    let future = wh.verify(body, &header, t - limit - 1).err();
    assert_eq!(
        future,
        Some(WebhookError::TimestampInFuture { ahead, tolerance })
    );
}

#[test]
fn tolerance_arithmetic_does_not_overflow() {
    let body = b"{}";
    let max = webhook::sign(&key(GO), body, i64::MAX);
    let zero = webhook::sign(&key(GO), body, 0);
    let wh = hook(GO);
    for now in [i64::MIN, -1, 0, 1, real_now(), i64::MAX - 301] {
        assert_eq!(
            kind(&wh.verify(body, &max, now)),
            "TimestampInFuture",
            "{now}"
        );
    }
    assert_eq!(kind(&wh.verify(body, &zero, i64::MAX)), "TimestampTooOld");
    wh.verify(body, &max, i64::MAX).unwrap();
    wh.verify(body, &zero, 0).unwrap();
    wh.verify(body, &zero, -300).unwrap();
    assert_eq!(kind(&wh.verify(body, &zero, i64::MIN)), "TimestampInFuture");
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
    assert_eq!(
        kind(&wh.verify(&body, &header, real_now())),
        "TimestampTooOld"
    );
    assert_eq!(
        kind(&wh.construct_event(&body, &header, real_now())),
        "TimestampTooOld"
    );
    // Ignoring the time still checks the signature and the format.
    let other = wh.verify_ignoring_timestamp(b"other", &header).err();
    assert_eq!(other, Some(WebhookError::NoMatchingSignature));
    assert_eq!(
        kind(&wh.verify_ignoring_timestamp(b"{}", "v2=abc")),
        "MalformedHeader"
    );
}

// ---------------------------------------------------------------------------
// Header format (E6)
// ---------------------------------------------------------------------------

#[test]
fn malformed_timestamps() {
    let wh = hook(GO);
    let sig = format!("v2={EMPTY_SIG}");
    for t in [
        "-1",
        "12345678901234567890",
        "00000000000000000001",
        "9223372036854775808",
        "abc",
        "",
        "+5",
        "1.5",
        "1e9",
        "0x10",
        "１２３",
        "16300 00000",
    ] {
        let header = format!("t={t},{sig}");
        assert_eq!(
            kind(&wh.verify(b"{}", &header, 0)),
            "MalformedHeader",
            "t={t}"
        );
        let ignoring = wh.verify_ignoring_timestamp(b"{}", &header);
        assert_eq!(kind(&ignoring), "MalformedHeader", "t={t}");
    }
    // Two `t` items, even identical ones; `t=` only, no `v2`; `v1` only.
    for (header, now) in [
        (format!("t=1630000000,t=1630000000,{sig}"), 1_630_000_000),
        (format!("t=1630000000,{sig},t=1"), 1_630_000_000),
        ("t=".to_owned(), 0),
        ("t=1630000000,v1=abc".to_owned(), 1_630_000_000),
    ] {
        assert_eq!(
            kind(&wh.verify(b"{}", &header, now)),
            "MalformedHeader",
            "{header}"
        );
    }
    // The largest i64 is still a valid number.
    let largest = wh.verify(b"{}", &format!("t=9223372036854775807,{sig}"), 0);
    assert_eq!(kind(&largest), "TimestampInFuture");
}

#[test]
fn lenient_but_exact_item_parsing() {
    let wh = hook(GO);
    let (t, sig) = (1_630_000_000, EMPTY_SIG);
    for header in [
        format!(" t={t} , v2={sig} "),
        format!("\tt={t},\tv2={sig}\t"),
        format!("t = {t} ,v2 = {sig}"),
        format!("v2={sig},t={t}"),
        format!("v1=old,t={t},v3=future,v2={sig}"),
        format!("t={t},junk,v2={sig},"),
        format!("t={t},v2={sig}="),
        format!("t={t},v2=,v2={sig}"),
    ] {
        wh.verify(b"{}", &header, t)
            .unwrap_or_else(|e| panic!("{header}: {e:?}"));
    }
    for header in [
        format!("t={t},v2={sig}=="),
        format!("t={t},v2={sig}=x"),
        format!("t={t},v2=x{sig}"),
        format!("t={t},V2={sig},v2=x"),
        format!("t={t},v2="),
        format!("t={t},v2=!!!"),
        format!("t={t},v2={sig} x"),
    ] {
        let result = wh.verify(b"{}", &header, t).err();
        assert_eq!(result, Some(WebhookError::NoMatchingSignature), "{header}");
    }
    // Keys are case-sensitive: `T=` is unknown, so there is no `t`; `V2=` is
    // no signature.
    for header in [format!("T={t},v2={sig}"), format!("t={t},V2={sig}")] {
        assert_eq!(
            kind(&wh.verify(b"{}", &header, t)),
            "MalformedHeader",
            "{header}"
        );
    }
}

#[test]
fn oversized_headers_are_rejected_before_hmac() {
    let wh = hook(GO);
    let t = 1_630_000_000;
    let valid = webhook::sign(&key(GO), b"{}", t);

    // Exactly at the length limit: still parsed and verified.
    let pad = MAX_HEADER_LEN - valid.len() - ",x=".len();
    let at_limit = format!("{valid},x={}", "a".repeat(pad));
    assert_eq!(at_limit.len(), MAX_HEADER_LEN);
    wh.verify(b"{}", &at_limit, t).unwrap();
    // One byte more: rejected even though it carries a valid signature, and
    // before the timestamp check.
    let over = format!("{at_limit}a");
    assert_eq!(kind(&wh.verify(b"{}", &over, t)), "HeaderTooLarge");
    assert_eq!(kind(&wh.verify(b"{}", &over, i64::MAX)), "HeaderTooLarge");
    assert_eq!(
        kind(&wh.verify_ignoring_timestamp(b"{}", &over)),
        "HeaderTooLarge"
    );

    // 1 MiB header and 10 000 `v2` entries.
    let mib = format!("{valid},{}", "v".repeat(1 << 20));
    let start = std::time::Instant::now();
    assert_eq!(kind(&wh.verify(b"{}", &mib, t)), "HeaderTooLarge");
    let many = format!("{valid},{}", vec!["v2=AAAA"; 10_000].join(","));
    assert_eq!(kind(&wh.verify(b"{}", &many, t)), "HeaderTooLarge");
    assert!(start.elapsed() < Duration::from_secs(1));

    // Signature count: MAX_SIGNATURES accepted, one more rejected.
    let sig = sig_of(&valid);
    let junk = |n: usize| vec!["v2=AAAA"; n].join(",");
    let at_count = format!("t={t},{},v2={sig}", junk(MAX_SIGNATURES - 1));
    wh.verify(b"{}", &at_count, t).unwrap();
    let over_count = format!("t={t},{},v2={sig}", junk(MAX_SIGNATURES));
    assert!(over_count.len() < MAX_HEADER_LEN);
    assert_eq!(kind(&wh.verify(b"{}", &over_count, t)), "HeaderTooLarge");
    let empty_sigs = format!("t={t},{}", vec!["v2="; MAX_SIGNATURES + 1].join(","));
    assert_eq!(kind(&wh.verify(b"{}", &empty_sigs, t)), "HeaderTooLarge");
}

// ---------------------------------------------------------------------------
// HeaderMap helpers
// ---------------------------------------------------------------------------

#[test]
fn header_map_helpers() {
    // With an `http::HeaderMap`: `signature_header`, then the one entry point.
    let wh = hook(GO);
    let t = 1_740_000_000;
    let from_headers = |headers: &HeaderMap, body: &'static str| {
        webhook::signature_header(headers).and_then(|h| wh.verify(body.as_bytes(), h, t))
    };
    let mut headers = HeaderMap::new();
    let event = webhook::signature_header(&headers)
        .and_then(|h| wh.construct_event(CUSTOM_VARIABLES.as_bytes(), h, t));
    assert_eq!(event, Err(WebhookError::MissingHeader));
    assert_eq!(
        webhook::signature_header(&headers),
        Err(WebhookError::MissingHeader)
    );
    let missing = from_headers(&headers, CUSTOM_VARIABLES).err();
    assert_eq!(missing, Some(WebhookError::MissingHeader));

    let value = HeaderValue::from_str(&signed(CUSTOM_VARIABLES, t)).unwrap();
    headers.insert("X-Signature-V2", value.clone());
    assert!(headers.contains_key(SIGNATURE_HEADER));
    assert_eq!(
        webhook::signature_header(&headers),
        Ok(value.to_str().unwrap())
    );
    let event = from_headers(&headers, CUSTOM_VARIABLES).and_then(|v| v.event());
    assert_eq!(event.unwrap().event_type, WebhookEventType::SmsCreated);

    // Appending a second value is ambiguous and rejected.
    headers.append("x-signature-v2", value);
    assert_eq!(
        kind(&webhook::signature_header(&headers)),
        "MalformedHeader"
    );
    assert_eq!(
        kind(&from_headers(&headers, CUSTOM_VARIABLES)),
        "MalformedHeader"
    );

    let mut batch_headers = HeaderMap::new();
    let batch_value = HeaderValue::from_str(&signed(LOG_BATCH, t)).unwrap();
    batch_headers.insert("x-SIGNATURE-v2", batch_value);
    let batch = from_headers(&batch_headers, LOG_BATCH).and_then(|v| v.log_event_batch());
    assert_eq!(batch.unwrap().records.len(), 1);

    let mut opaque = HeaderMap::new();
    opaque.insert(
        SIGNATURE_HEADER,
        HeaderValue::from_bytes(b"t=1,v2=\xff").unwrap(),
    );
    assert_eq!(kind(&webhook::signature_header(&opaque)), "MalformedHeader");
    assert_eq!(kind(&from_headers(&opaque, "{}")), "MalformedHeader");
}

// ---------------------------------------------------------------------------
// Secret hygiene
// ---------------------------------------------------------------------------

#[test]
fn no_secret_or_signature_in_debug_or_display() {
    let secret = key("sk_live_VERY_SECRET_value_42");
    let wh = Webhook::new(secret.clone()).with_additional_key(key("sk_live_OTHER_secret"));
    let dbg = format!("{wh:?} {wh:#?}");
    assert!(
        !dbg.contains("VERY_SECRET") && !dbg.contains("OTHER_secret"),
        "{dbg}"
    );

    let t = 1_740_000_000;
    let body = sdk("C").payload.into_bytes();
    let good = webhook::sign(&secret, &body, t);
    let expected_sig = sig_of(&good);
    let foreign_sig = "zI5rg1XJtKH8dXTX9VCSwy07qTPJliXkK9ppgNjmzqw";
    let batch = br#"{"records":[]}"#;
    let batch_header = webhook::sign(&secret, batch, t);
    let not_json = webhook::sign(&secret, b"not json", t);

    let mut missing = HeaderMap::new();
    missing.insert("other", HeaderValue::from_static("x"));
    let verify = |header: &str, now: i64| wh.verify(&body, header, now).map(drop);
    let errors = [
        webhook::signature_header(&missing).and_then(|h| wh.construct_event(&body, h, t).map(drop)),
        verify(&format!("t=abc,v2={expected_sig}"), t),
        verify(&format!("t={t},v1={expected_sig}"), t),
        verify(&format!("{good},{}", "x".repeat(MAX_HEADER_LEN)), t),
        verify(&good, t + 10_000),
        verify(&good, t - 10_000),
        wh.verify(b"tampered", &good, t).map(drop),
        verify(&format!("t={t},v2={foreign_sig}"), t),
        wh.construct_event(b"not json", &not_json, t).map(drop),
        wh.construct_event(batch, &batch_header, t).map(drop),
        wh.verify(&body, &good, t)
            .and_then(|v| v.log_event_batch())
            .map(drop),
    ];
    let errors = errors.map(Result::unwrap_err);
    let mut kinds = HashSet::new();
    for err in &errors {
        let text = format!("{err} | {err:?}");
        assert!(!text.contains("VERY_SECRET"), "{text}");
        assert!(!text.contains(&expected_sig), "{text}");
        assert!(!text.contains(foreign_sig), "{text}");
        assert!(!text.is_empty());
        kinds.insert(std::mem::discriminant(err));
    }
    // Every variant was produced by a real call.
    assert_eq!(kinds.len(), 9, "{errors:?}");
    let future = errors[5].to_string();
    assert!(future.contains("clock"), "{future}");
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
