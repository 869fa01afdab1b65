//! Known-answer, tamper, boundary and envelope tests for webhook verification
//! (reference §5.4 and reliability tests E1-E9).
#![cfg(feature = "webhook")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::time::Duration;

use authsignal_core::webhook::{
    self, DEFAULT_TOLERANCE, MAX_HEADER_LEN, MAX_SIGNATURES, SIGNATURE_HEADER, Webhook,
    WebhookError, WebhookEventType,
};
use authsignal_core::{ApiSecretKey, StdTimer};
use http::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

/// The shared webhook test vectors, copied into the repository so the tests
/// need nothing outside it.
const VECTORS: &str = include_str!("data/webhook.json");

const GO_PHP_SECRET: &str = "test-secret-key-123";
const PY_SECRET: &str = "YOUR_AUTHSIGNAL_SECRET_KEY";

fn key(s: &str) -> ApiSecretKey {
    ApiSecretKey::new(s)
}

fn hook(s: &str) -> Webhook {
    Webhook::new(key(s))
}

fn real_now() -> i64 {
    StdTimer::unix_now()
}

fn is_malformed(r: &Result<impl std::fmt::Debug, WebhookError>) -> bool {
    matches!(r, Err(WebhookError::MalformedHeader { .. }))
}

fn is_too_large(r: &Result<impl std::fmt::Debug, WebhookError>) -> bool {
    matches!(r, Err(WebhookError::HeaderTooLarge { .. }))
}

// ---------------------------------------------------------------------------
// tests/data/webhook.json (the shared webhook test vectors)
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct VectorFile {
    cases: Vec<VectorCase>,
}

#[derive(Deserialize)]
struct VectorCase {
    name: String,
    secret: String,
    header: String,
    payload: String,
    timestamp: Option<i64>,
    valid: bool,
    error: Option<String>,
}

#[test]
fn shared_vector_file_all_cases() {
    let file: VectorFile = serde_json::from_str(VECTORS).unwrap();
    assert!(
        file.cases.len() >= 9,
        "expected at least 9 cases, got {}",
        file.cases.len()
    );
    let mut valid = 0;
    for case in &file.cases {
        let wh = hook(&case.secret);
        let payload = case.payload.as_bytes();
        let result = match case.timestamp {
            Some(now) => wh.construct_event(payload, &case.header, now),
            None => wh
                .verify_ignoring_timestamp(payload, &case.header)
                .and_then(|v| v.event()),
        };
        if case.valid {
            valid += 1;
            let event = result.unwrap_or_else(|e| panic!("{}: expected Ok, got {e:?}", case.name));
            assert_eq!(event.version, 1, "{}", case.name);
            assert_eq!(
                event.event_type,
                WebhookEventType::EmailCreated,
                "{}",
                case.name
            );
            assert_eq!(event.id, "bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e");
            assert_eq!(event.source, "https://authsignal.com");
            assert_eq!(event.time, "2025-02-20T01:51:56.070Z");
            assert_eq!(event.tenant_id, "7752d28e-e627-4b1b-bb81-b45d68d617bc");
            assert_eq!(event.data["actionCode"], "accountRecovery");
            assert_eq!(event.data["code"], "157743");
            // The pure call agrees with the one that ignores the timestamp.
            wh.verify_ignoring_timestamp(payload, &case.header).unwrap();
        } else {
            match case.error.as_deref() {
                Some("signature mismatch") => assert_eq!(
                    result,
                    Err(WebhookError::NoMatchingSignature),
                    "{}",
                    case.name
                ),
                Some("malformed header") => {
                    assert!(is_malformed(&result), "{}: got {result:?}", case.name);
                }
                other => panic!(
                    "{}: unexpected error kind in vector file: {other:?}",
                    case.name
                ),
            }
        }
    }
    assert!(valid >= 2, "vector file has too few valid cases");
}

// ---------------------------------------------------------------------------
// Reference §5.4.2 deterministic vectors
// ---------------------------------------------------------------------------

const VECTOR_A_PAYLOAD: &str = r#"{"version":1,"id":"bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e","source":"https://authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"7752d28e-e627-4b1b-bb81-b45d68d617bc","type":"email.created","data":{"to":"chris@authsignal.com","code":"157743","userId":"b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0","actionCode":"accountRecovery","idempotencyKey":"ba8c1a7c-775d-4dff-9abe-be798b7b8bb9","verificationMethod":"EMAIL_OTP"}}"#;
const VECTOR_A_HEADER: &str = "t=1740016316,v2=NwFcIT68pK7g+m365Jj4euXj/ke3GSnkTpMPcRVi5q4";
const VECTOR_B_PAYLOAD: &str = r#"{"version":1,"id":"af7be03c-ea8f-4739-b18e-8b48fcbe4e38","source":"https://authsignal.com","time":"2025-02-20T01:47:17.248Z","tenantId":"7752d28e-e627-4b1b-bb81-b45d68d617bc","type":"email.created","data":{"to":"chris@authsignal.com","code":"718190","userId":"b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0","actionCode":"accountRecovery","idempotencyKey":"68d68190-fac9-4e91-b277-c63d31d3c6b1","verificationMethod":"EMAIL_OTP"}}"#;
const VECTOR_B_HEADER: &str = "t=1740016037,v2=zI5rg1XJtKH8dXTX9VCSwy07qTPJliXkK9ppgNjmzqw,v2=KMg8mXXGO/SmNNmcszKXI4UaEVHLc21YNWthHfispQo";

const VECTOR_C_PAYLOAD: &str = r#"{"version":1,"type":"test","id":"1","source":"test","time":"2025-01-01T00:00:00Z","tenantId":"t","data":{}}"#;
const VECTOR_C_HEADER: &str = "t=1630000000,v2=TzrqYzWE62QTfBfCp/f4UHLeOMyAxvxnjCpT5BcANcI";

const VECTOR_D_PAYLOAD: &str = r#"{"version":1,"id":"bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e","source":"https:\/\/authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"7752d28e-e627-4b1b-bb81-b45d68d617bc","type":"email.created","data":{"to":"test@example.com","code":"157743","userId":"b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0","actionCode":"accountRecovery","idempotencyKey":"ba8c1a7c-775d-4dff-9abe-be798b7b8bb9","verificationMethod":"EMAIL_OTP"}}"#;
const VECTOR_D_HEADER: &str = "t=1740016316,v2=SNGTPzF3TToPgo8hEoitYTm1X0DGh7AGlTZ1rp87q7g";

const VECTOR_E_PAYLOAD: &str = r#"{"version":1,"id":"af7be03c-ea8f-4739-b18e-8b48fcbe4e38","source":"https:\/\/authsignal.com","time":"2025-02-20T01:47:17.248Z","tenantId":"7752d28e-e627-4b1b-bb81-b45d68d617bc","type":"email.created","data":{"to":"test@example.com","code":"718190","userId":"b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0","actionCode":"accountRecovery","idempotencyKey":"68d68190-fac9-4e91-b277-c63d31d3c6b1","verificationMethod":"EMAIL_OTP"}}"#;
const VECTOR_E_HEADER: &str = "t=1740016037,v2=zI5rg1XJtKH8dXTX9VCSwy07qTPJliXkK9ppgNjmzqw,v2=9CMnl6v1KnHhSwV7HOb6RD6aNtwFaHMEU0JWd0507lU";

const VECTOR_F_PAYLOAD: &str = r#"{"version": 1, "id": "bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e", "source": "https://authsignal.com", "time": "2025-02-20T01:51:56.070Z", "tenantId": "7752d28e-e627-4b1b-bb81-b45d68d617bc", "type": "email.created", "data": {"to": "not-a-real-email@authsignal.com", "code": "157743", "userId": "b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0", "actionCode": "accountRecovery", "idempotencyKey": "ba8c1a7c-775d-4dff-9abe-be798b7b8bb9", "verificationMethod": "EMAIL_OTP"}}"#;
const VECTOR_F_HEADER: &str = "t=1740016316,v2=WTqinPUw05cuxMxbuYbm6+nNFh98V3eChMxPQEyyfyM";

const VECTOR_G_PAYLOAD: &str = r#"{"version": 1, "id": "af7be03c-ea8f-4739-b18e-8b48fcbe4e38", "source": "https://authsignal.com", "time": "2025-02-20T01:47:17.248Z", "tenantId": "7752d28e-e627-4b1b-bb81-b45d68d617bc", "type": "email.created", "data": {"to": "not-a-real-email@authsignal.com", "code": "718190", "userId": "b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0", "actionCode": "accountRecovery", "idempotencyKey": "68d68190-fac9-4e91-b277-c63d31d3c6b1", "verificationMethod": "EMAIL_OTP"}}"#;
const VECTOR_G_HEADER: &str =
    "t=1740016037,v2=mXk9AUyajBd9Gr/K3dNZJMMgxF66kzfNkVip3VW1mPQ,v2=dummyInvalidSignature";

#[test]
fn vector_c_zero_tolerance_go() {
    let wh = hook(GO_PHP_SECRET);
    let payload = VECTOR_C_PAYLOAD.as_bytes();
    let event = wh
        .construct_event(payload, VECTOR_C_HEADER, 1_630_000_000)
        .unwrap();
    assert_eq!(event.event_type, WebhookEventType::from("test"));
    assert_eq!(event.event_type.as_str(), "test");
    assert_eq!(event.tenant_id, "t");
    assert_eq!(event.data, json!({}));
    let ignoring = wh
        .verify_ignoring_timestamp(payload, VECTOR_C_HEADER)
        .unwrap();
    assert_eq!(ignoring.timestamp(), 1_630_000_000);
    assert_eq!(ignoring.as_bytes(), payload);
    assert!(matches!(
        wh.construct_event(payload, VECTOR_C_HEADER, real_now()),
        Err(WebhookError::TimestampTooOld { .. })
    ));
    // Padded form of the same signature.
    let padded = format!("{VECTOR_C_HEADER}=");
    wh.construct_event(payload, &padded, 1_630_000_000).unwrap();
}

#[test]
fn vector_d_php_escaped_slashes() {
    let event = hook(GO_PHP_SECRET)
        .construct_event(VECTOR_D_PAYLOAD.as_bytes(), VECTOR_D_HEADER, 1_740_016_316)
        .unwrap();
    // `\/` in the raw bytes decodes to `/`: the signature covered the raw bytes.
    assert_eq!(event.source, "https://authsignal.com");
    assert_eq!(event.data["to"], "test@example.com");
    // Re-serializing the JSON changes the bytes and so breaks the signature.
    let reserialized =
        serde_json::to_vec(&serde_json::from_str::<Value>(VECTOR_D_PAYLOAD).unwrap()).unwrap();
    assert_eq!(
        hook(GO_PHP_SECRET)
            .verify(&reserialized, VECTOR_D_HEADER, 1_740_016_316)
            .err(),
        Some(WebhookError::NoMatchingSignature)
    );
}

#[test]
fn vector_e_php_two_keys_invalid_first() {
    let event = hook(GO_PHP_SECRET)
        .construct_event(VECTOR_E_PAYLOAD.as_bytes(), VECTOR_E_HEADER, 1_740_016_037)
        .unwrap();
    assert_eq!(event.data["code"], "718190");
    // Reversed order (E2) passes too.
    let reversed = "t=1740016037,v2=9CMnl6v1KnHhSwV7HOb6RD6aNtwFaHMEU0JWd0507lU,v2=zI5rg1XJtKH8dXTX9VCSwy07qTPJliXkK9ppgNjmzqw";
    hook(GO_PHP_SECRET)
        .construct_event(VECTOR_E_PAYLOAD.as_bytes(), reversed, 1_740_016_037)
        .unwrap();
}

#[test]
fn vector_f_python_spaced_json() {
    let event = hook(PY_SECRET)
        .construct_event(VECTOR_F_PAYLOAD.as_bytes(), VECTOR_F_HEADER, 1_740_016_316)
        .unwrap();
    assert_eq!(event.data["to"], "not-a-real-email@authsignal.com");
    assert_eq!(event.event_type, WebhookEventType::EmailCreated);
}

#[test]
fn vector_g_python_valid_first_then_invalid() {
    let event = hook(PY_SECRET)
        .construct_event(VECTOR_G_PAYLOAD.as_bytes(), VECTOR_G_HEADER, 1_740_016_037)
        .unwrap();
    assert_eq!(event.id, "af7be03c-ea8f-4739-b18e-8b48fcbe4e38");
}

#[test]
fn synthetic_extras_match_sign() {
    let secret = key(GO_PHP_SECRET);
    assert_eq!(
        webhook::sign(&secret, VECTOR_A_PAYLOAD.as_bytes(), 1_740_016_316),
        "t=1740016316,v2=jG7bIXHtFANggSxaeL9jI0CKC9jUrfDc1yv5uwtAh4Y"
    );
    assert_eq!(
        webhook::sign(&secret, b"{}", 1_630_000_000),
        "t=1630000000,v2=5A34twV5yi1Tr0WX6lDL2A6Q0HumnxL7eWzln9LqYKI"
    );
    // The other deterministic vectors are reproduced by `sign` too.
    assert_eq!(
        webhook::sign(&secret, VECTOR_C_PAYLOAD.as_bytes(), 1_630_000_000),
        VECTOR_C_HEADER
    );
    assert_eq!(
        webhook::sign(&secret, VECTOR_D_PAYLOAD.as_bytes(), 1_740_016_316),
        VECTOR_D_HEADER
    );
    assert_eq!(
        webhook::sign(&key(PY_SECRET), VECTOR_F_PAYLOAD.as_bytes(), 1_740_016_316),
        VECTOR_F_HEADER
    );
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
        Webhook::new(key("sk_other"))
            .with_additional_key(key(secret))
            .verify(b"{}", &header, t)
            .unwrap();
    }
    assert_eq!(cases[1].0.len(), 64);
    assert_eq!(cases[2].0.len(), 65);
}

#[test]
fn vectors_a_and_b_fail_with_a_placeholder_key() {
    // Signed with the CI tenant's key, which is not public: negative tests only.
    for secret in [GO_PHP_SECRET, PY_SECRET, "YOUR_API_SECRET_KEY"] {
        assert_eq!(
            hook(secret).construct_event(
                VECTOR_A_PAYLOAD.as_bytes(),
                VECTOR_A_HEADER,
                1_740_016_316
            ),
            Err(WebhookError::NoMatchingSignature)
        );
        assert_eq!(
            hook(secret).construct_event(
                VECTOR_B_PAYLOAD.as_bytes(),
                VECTOR_B_HEADER,
                1_740_016_037
            ),
            Err(WebhookError::NoMatchingSignature)
        );
    }
}

#[test]
fn sdk_negative_vectors() {
    let wh = hook(GO_PHP_SECRET);
    let now = real_now();
    assert!(is_malformed(&wh.verify(b"{}", "123", now)));
    assert!(matches!(
        wh.verify(b"{}", "t=1630000000,v2=invalid_signature", now),
        Err(WebhookError::TimestampTooOld { .. })
    ));
    assert_eq!(
        wh.verify(b"{}", &format!("t={now},v2=invalid_signature"), now)
            .err(),
        Some(WebhookError::NoMatchingSignature)
    );
    assert!(is_malformed(&wh.verify(b"{}", "", now)));
    assert!(is_malformed(&wh.verify(b"{}", "v2=someSignature", now)));
    assert!(is_malformed(&wh.verify(b"{}", "t=1234567890", now)));

    let not_json = b"not valid json";
    let header = webhook::sign(&key(GO_PHP_SECRET), not_json, now);
    assert!(wh.verify(not_json, &header, now).is_ok());
    assert!(matches!(
        wh.construct_event(not_json, &header, now),
        Err(WebhookError::InvalidPayload { .. })
    ));
    assert!(matches!(
        wh.verify(not_json, &header, now)
            .and_then(|v| v.log_event_batch()),
        Err(WebhookError::InvalidPayload { .. })
    ));

    let batch = br#"{"records":[]}"#;
    let header = webhook::sign(&key(GO_PHP_SECRET), batch, now);
    let err = wh.construct_event(batch, &header, now).unwrap_err();
    assert_eq!(err, WebhookError::BatchPassedToEventApi);
    assert_eq!(
        err.to_string(),
        "payload is a batch of log events; decode it with log_event_batch()"
    );
    assert!(
        wh.verify(batch, &header, now)
            .and_then(|v| v.log_event_batch())
            .unwrap()
            .records
            .is_empty()
    );
}

// ---------------------------------------------------------------------------
// Envelopes (E1, E8)
// ---------------------------------------------------------------------------

const CUSTOM_VARIABLES: &str = r#"{"version":1,"id":"bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e","source":"https://authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"7752d28e-e627-4b1b-bb81-b45d68d617bc","type":"sms.created","data":{"actionCode":"smsVerify","customVariables":{"action_journeyType":"ForgotChangePassword","retryCount":2,"isRecovery":true,"channels":["sms","email"]}}}"#;
const LOG_BATCH: &str = r#"{"records":[{"version":1,"id":"bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e","source":"https://authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"7752d28e-e627-4b1b-bb81-b45d68d617bc","type":"action.log_created","record":{"userId":"b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0","customVariables":{"journeyType":"accountRecovery"}}}]}"#;

fn signed(payload: &str, t: i64) -> String {
    webhook::sign(&key(GO_PHP_SECRET), payload.as_bytes(), t)
}

#[test]
fn event_with_custom_variables_keeps_nested_values() {
    let t = 1_740_000_000;
    let event = hook(GO_PHP_SECRET)
        .construct_event(CUSTOM_VARIABLES.as_bytes(), &signed(CUSTOM_VARIABLES, t), t)
        .unwrap();
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
    let wh = hook(GO_PHP_SECRET);
    let header = signed(LOG_BATCH, t);
    let batch = wh
        .verify(LOG_BATCH.as_bytes(), &header, t)
        .and_then(|v| v.log_event_batch())
        .unwrap();
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
    assert_eq!(
        wh.construct_event(LOG_BATCH.as_bytes(), &header, t),
        Err(WebhookError::BatchPassedToEventApi)
    );
    assert_eq!(
        wh.verify(CUSTOM_VARIABLES.as_bytes(), &signed(CUSTOM_VARIABLES, t), t)
            .and_then(|v| v.log_event_batch()),
        Err(WebhookError::MissingRecords)
    );
    let not_array = r#"{"records":{}}"#;
    assert_eq!(
        wh.verify(not_array.as_bytes(), &signed(not_array, t), t)
            .and_then(|v| v.log_event_batch()),
        Err(WebhookError::MissingRecords)
    );
    // Round trip through serde keeps the wire names.
    let again: authsignal_core::webhook::LogEventBatch =
        serde_json::from_value(serde_json::to_value(&batch).unwrap()).unwrap();
    assert_eq!(again, batch);
    assert_eq!(
        serde_json::to_value(&batch).unwrap()["records"][0]["type"],
        "action.log_created"
    );
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
    let file: VectorFile = serde_json::from_str(VECTORS).unwrap();
    for case in file.cases.iter().filter(|c| c.valid) {
        let wh = hook(&case.secret);
        let payload = case.payload.as_bytes();
        let now = case.timestamp.unwrap();
        let verified = wh.verify(payload, &case.header, now).unwrap();
        assert_eq!(verified.as_bytes(), payload);
        assert_eq!(verified.timestamp(), now);
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
        let mine: MyEvent = verified.json().unwrap();
        assert_eq!(
            mine,
            MyEvent {
                kind: "email.created".into(),
                tenant_id: "7752d28e-e627-4b1b-bb81-b45d68d617bc".into(),
                data: MyData {
                    action_code: "accountRecovery".into(),
                    code: "157743".into(),
                },
            }
        );
        assert_eq!(verified.json::<Value>().unwrap()["version"], 1);
        // Not a batch.
        assert_eq!(
            verified.log_event_batch(),
            Err(WebhookError::MissingRecords)
        );
    }

    // 2. `log_event_batch()`.
    let t = 1_740_000_000;
    let wh = hook(GO_PHP_SECRET);
    let verified = wh
        .verify(LOG_BATCH.as_bytes(), &signed(LOG_BATCH, t), t)
        .unwrap();
    let batch = verified.log_event_batch().unwrap();
    assert_eq!(batch.records.len(), 1);
    assert_eq!(
        batch.records[0].event_type,
        WebhookEventType::ActionLogCreated
    );
    assert_eq!(
        batch.records[0].record["customVariables"]["journeyType"],
        "accountRecovery"
    );
    assert_eq!(verified.json::<MyBatch>().unwrap().records.len(), 1);
    assert_eq!(verified.event(), Err(WebhookError::BatchPassedToEventApi));
    // The same through `verify_ignoring_timestamp`, a day later.
    let later = wh
        .verify_ignoring_timestamp(LOG_BATCH.as_bytes(), &signed(LOG_BATCH, t - 86_400))
        .unwrap();
    assert_eq!(later.log_event_batch(), Ok(batch));
    assert!(matches!(
        later.json::<MyEvent>(),
        Err(WebhookError::InvalidPayload { .. })
    ));
}

#[test]
fn default_tolerance_with_system_clock() {
    // `StdTimer::unix_now` is what a service passes as `now`.
    let payload = r#"{"version":1,"type":"test.event","id":"123","source":"test","time":"2025-01-01T00:00:00Z","tenantId":"tenant","data":{}}"#;
    let header = signed(payload, StdTimer::unix_now());
    let wh = hook(GO_PHP_SECRET);
    let event = wh
        .construct_event(payload.as_bytes(), &header, StdTimer::unix_now())
        .unwrap();
    assert_eq!(event.event_type.as_str(), "test.event");
    wh.verify(payload.as_bytes(), &header, StdTimer::unix_now())
        .unwrap();
    assert!(matches!(
        wh.verify(
            payload.as_bytes(),
            &signed(payload, 1_630_000_000),
            StdTimer::unix_now()
        ),
        Err(WebhookError::TimestampTooOld { .. })
    ));
    let batch_header = signed(LOG_BATCH, StdTimer::unix_now());
    assert_eq!(
        wh.verify(LOG_BATCH.as_bytes(), &batch_header, StdTimer::unix_now())
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
    let wh = hook(GO_PHP_SECRET);
    let base: Value = serde_json::from_str(VECTOR_C_PAYLOAD).unwrap();
    for field in [
        "version", "type", "id", "source", "time", "tenantId", "data",
    ] {
        let mut v = base.clone();
        v.as_object_mut().unwrap().remove(field);
        let payload = v.to_string();
        let err = wh
            .construct_event(payload.as_bytes(), &signed(&payload, t), t)
            .unwrap_err();
        match &err {
            WebhookError::InvalidPayload { reason } => {
                assert!(reason.contains(field), "{field}: {reason}");
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    let bad: [(&str, Value); 6] = [
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
        let payload = v.to_string();
        assert!(
            matches!(
                wh.construct_event(payload.as_bytes(), &signed(&payload, t), t),
                Err(WebhookError::InvalidPayload { .. })
            ),
            "{field} = {value}"
        );
    }
    for payload in ["[]", "1", "\"x\"", "null", ""] {
        assert!(matches!(
            wh.construct_event(payload.as_bytes(), &signed(payload, t), t),
            Err(WebhookError::InvalidPayload { .. })
        ));
    }
    // A record without `record`.
    let no_record = r#"{"records":[{"version":1,"type":"action.log_created","id":"1","source":"s","time":"x","tenantId":"t"}]}"#;
    assert!(matches!(
        wh.verify(no_record.as_bytes(), &signed(no_record, t), t)
            .and_then(|v| v.log_event_batch()),
        Err(WebhookError::InvalidPayload { .. })
    ));
    let not_obj = r#"{"records":[1]}"#;
    assert!(matches!(
        wh.verify(not_obj.as_bytes(), &signed(not_obj, t), t)
            .and_then(|v| v.log_event_batch()),
        Err(WebhookError::InvalidPayload { .. })
    ));
    // Unknown fields are ignored.
    let mut extra = base.clone();
    extra["somethingNew"] = json!({"a": 1});
    let payload = extra.to_string();
    wh.construct_event(payload.as_bytes(), &signed(&payload, t), t)
        .unwrap();
}

/// The reason of an `InvalidPayload` error, or a panic.
fn invalid_payload_reason(result: Result<impl std::fmt::Debug, WebhookError>) -> String {
    match result {
        Err(WebhookError::InvalidPayload { reason }) => reason.into_owned(),
        other => panic!("expected InvalidPayload, got {other:?}"),
    }
}

#[test]
fn envelope_decoding_names_the_problem() {
    let t = 1_740_000_000;
    let wh = hook(GO_PHP_SECRET);
    let event = |payload: &str| wh.construct_event(payload.as_bytes(), &signed(payload, t), t);
    let batch = |payload: &str| {
        wh.verify(payload.as_bytes(), &signed(payload, t), t)
            .and_then(|v| v.log_event_batch())
    };
    let base: Value = serde_json::from_str(VECTOR_C_PAYLOAD).unwrap();

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
    assert_eq!(
        invalid_payload_reason(event("")),
        "truncated or empty JSON at line 1 column 0"
    );
    assert!(invalid_payload_reason(event("{\"version\":")).starts_with("truncated or empty JSON"));
    assert!(invalid_payload_reason(event("nulx")).starts_with("invalid JSON"));
    assert!(
        invalid_payload_reason(event(&format!("{VECTOR_C_PAYLOAD} x"))).starts_with("invalid JSON")
    );
    // A repeated envelope field is ambiguous, hence rejected.
    let repeated = VECTOR_C_PAYLOAD.replacen(r#""id":"1""#, r#""id":"1","id":"2""#, 1);
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
    let payload = r#"{"code":"SECRET-OTP-991"}"#;
    let verified = hook(GO_PHP_SECRET)
        .verify(payload.as_bytes(), &signed(payload, t), t)
        .unwrap();
    let err = verified.json::<Mine>().unwrap_err();
    assert!(matches!(err, WebhookError::InvalidPayload { .. }));
    assert!(!err.to_string().contains("SECRET-OTP-991"), "{err}");
    let bad = r#"{"code": SECRET-OTP-991}"#;
    let verified = hook(GO_PHP_SECRET)
        .verify(bad.as_bytes(), &signed(bad, t), t)
        .unwrap();
    assert!(!verified.event().unwrap_err().to_string().contains("SECRET"));
    assert!(
        !verified
            .json::<Value>()
            .unwrap_err()
            .to_string()
            .contains("SECRET")
    );
    // `json` into a matching type works.
    let good = r#"{"code":5}"#;
    let verified = hook(GO_PHP_SECRET)
        .verify(good.as_bytes(), &signed(good, t), t)
        .unwrap();
    assert_eq!(verified.json::<Mine>().unwrap().code, 5);
    assert!(!format!("{verified:?}").contains("code"));
}

#[test]
fn binary_payload_verifies_then_fails_as_json() {
    let t = 1_740_000_000;
    let body: Vec<u8> = (0..=255u8).rev().chain(0..=255u8).collect();
    let header = webhook::sign(&key(GO_PHP_SECRET), &body, t);
    let wh = hook(GO_PHP_SECRET);
    assert_eq!(wh.verify(&body, &header, t).unwrap().as_bytes(), &body[..]);
    assert!(matches!(
        wh.construct_event(&body, &header, t),
        Err(WebhookError::InvalidPayload { .. })
    ));
}

#[test]
fn event_type_is_open_and_round_trips() {
    let known = [
        ("email.created", WebhookEventType::EmailCreated),
        ("sms.created", WebhookEventType::SmsCreated),
        ("push.created", WebhookEventType::PushCreated),
        (
            "authenticator.created",
            WebhookEventType::AuthenticatorCreated,
        ),
        (
            "authenticator.updated",
            WebhookEventType::AuthenticatorUpdated,
        ),
        (
            "authenticator.deleted",
            WebhookEventType::AuthenticatorDeleted,
        ),
        ("action.verify", WebhookEventType::ActionVerify),
        ("action.log_created", WebhookEventType::ActionLogCreated),
        (
            "challenge.log_created",
            WebhookEventType::ChallengeLogCreated,
        ),
    ];
    for (s, v) in known {
        assert_eq!(WebhookEventType::from(s), v);
        assert_eq!(WebhookEventType::from(s.to_owned()), v);
        assert_eq!(s.parse::<WebhookEventType>().unwrap(), v);
        assert_eq!(v.as_str(), s);
        assert_eq!(v.to_string(), s);
        assert!(!v.is_unknown());
        assert_eq!(serde_json::to_value(&v).unwrap(), json!(s));
        assert_eq!(
            serde_json::from_value::<WebhookEventType>(json!(s)).unwrap(),
            v
        );
    }
    for s in ["user.deleted", "", "EMAIL.CREATED", "email.created "] {
        let v = WebhookEventType::from(s);
        assert!(matches!(v, WebhookEventType::Unknown(_)));
        assert!(v.is_unknown());
        assert_eq!(v.as_str(), s);
        assert_eq!(serde_json::to_value(&v).unwrap(), json!(s));
        assert_eq!(
            serde_json::from_value::<WebhookEventType>(json!(s)).unwrap(),
            v
        );
    }
}

// ---------------------------------------------------------------------------
// Tampering (E3)
// ---------------------------------------------------------------------------

const T0: i64 = 1_740_016_316;

#[test]
fn every_single_byte_change_of_the_body_is_rejected() {
    let secret = key(GO_PHP_SECRET);
    let wh = Webhook::new(secret.clone());
    let body = VECTOR_A_PAYLOAD.as_bytes();
    let header = webhook::sign(&secret, body, T0);
    wh.verify(body, &header, T0).unwrap();
    let mut checked = 0;
    for i in 0..body.len() {
        for bit in 0..8 {
            let mut tampered = body.to_vec();
            tampered[i] ^= 1 << bit;
            assert_eq!(
                wh.verify(&tampered, &header, T0).err(),
                Some(WebhookError::NoMatchingSignature),
                "byte {i} bit {bit}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, body.len() * 8);
    // Truncation and extension too.
    assert!(wh.verify(&body[..body.len() - 1], &header, T0).is_err());
    let mut longer = body.to_vec();
    longer.push(b' ');
    assert!(wh.verify(&longer, &header, T0).is_err());
}

#[test]
fn every_change_of_a_timestamp_digit_is_rejected() {
    let secret = key(GO_PHP_SECRET);
    let wh = Webhook::new(secret.clone());
    let body = VECTOR_A_PAYLOAD.as_bytes();
    let header = webhook::sign(&secret, body, T0);
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
            assert_eq!(
                wh.verify_ignoring_timestamp(body, &tampered).err(),
                Some(WebhookError::NoMatchingSignature),
                "{tampered}"
            );
            // Also with `now` equal to the forged timestamp.
            let forged_t: i64 = changed.parse().unwrap();
            assert_eq!(
                wh.verify(body, &tampered, forged_t).err(),
                Some(WebhookError::NoMatchingSignature),
                "{tampered}"
            );
        }
    }
    // A leading zero denotes the same number; the MAC covers the parsed
    // integer re-stringified (as every Authsignal SDK does), so it verifies.
    let zero = format!("t=0{digits},{sig_item}");
    assert_eq!(wh.verify(body, &zero, T0).unwrap().timestamp(), T0);
}

#[test]
fn every_single_character_change_of_the_signature_is_rejected() {
    let secret = key(GO_PHP_SECRET);
    let wh = Webhook::new(secret.clone());
    let body = VECTOR_A_PAYLOAD.as_bytes();
    let header = webhook::sign(&secret, body, T0);
    let (t_item, sig_item) = header.split_once(',').unwrap();
    let sig = sig_item.strip_prefix("v2=").unwrap();
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
            assert_eq!(
                wh.verify(body, &tampered, T0).err(),
                Some(WebhookError::NoMatchingSignature),
                "{tampered}"
            );
            checked += 1;
        }
    }
    assert!(checked > 43 * 90);
    // Dropping a character, or adding one, is rejected as well.
    let short = format!("{t_item},v2={}", &sig[..42]);
    assert_eq!(
        wh.verify(body, &short, T0).err(),
        Some(WebhookError::NoMatchingSignature)
    );
    let long = format!("{t_item},v2={sig}A");
    assert_eq!(
        wh.verify(body, &long, T0).err(),
        Some(WebhookError::NoMatchingSignature)
    );
    // URL-safe alphabet is not the wire format.
    let url_safe = sig.replace('+', "-").replace('/', "_");
    if url_safe != sig {
        let h = format!("{t_item},v2={url_safe}");
        assert_eq!(
            wh.verify(body, &h, T0).err(),
            Some(WebhookError::NoMatchingSignature)
        );
    }
}

#[test]
fn wrong_key_is_rejected_and_rotation_accepts_either() {
    let body = VECTOR_C_PAYLOAD.as_bytes();
    let old = key("sk_old");
    let new = key("sk_new");
    let from_old = webhook::sign(&old, body, T0);
    let from_new = webhook::sign(&new, body, T0);
    assert_eq!(
        Webhook::new(new.clone()).verify(body, &from_old, T0).err(),
        Some(WebhookError::NoMatchingSignature)
    );
    let both = Webhook::new(new.clone()).with_additional_key(old.clone());
    both.verify(body, &from_old, T0).unwrap();
    both.verify(body, &from_new, T0).unwrap();
    // Both signatures in one header, either order, plus garbage (E2).
    let sig = |h: &str| h.split_once(",v2=").unwrap().1.to_owned();
    let (s_old, s_new) = (sig(&from_old), sig(&from_new));
    let only_new = Webhook::new(new);
    for h in [
        format!("t={T0},v2={s_old},v2={s_new}"),
        format!("t={T0},v2={s_new},v2={s_old}"),
        format!("t={T0},v2={s_new},v2=garbage"),
        format!("t={T0},v2=garbage,v2={s_new}"),
    ] {
        only_new.verify(body, &h, T0).unwrap();
    }
}

// ---------------------------------------------------------------------------
// Tolerance (E4, E5)
// ---------------------------------------------------------------------------

#[test]
fn tolerance_boundaries_both_directions() {
    let secret = key(GO_PHP_SECRET);
    let body = b"{}";
    let t = 1_700_000_000;
    let header = webhook::sign(&secret, body, t);
    let wh = Webhook::new(secret.clone());
    assert_eq!(wh.tolerance(), DEFAULT_TOLERANCE);
    assert_eq!(DEFAULT_TOLERANCE, Duration::from_secs(300));

    wh.verify(body, &header, t).unwrap();
    wh.verify(body, &header, t + 300).unwrap();
    wh.verify(body, &header, t - 300).unwrap();
    assert_eq!(
        wh.verify(body, &header, t + 301).err(),
        Some(WebhookError::TimestampTooOld {
            age: Duration::from_secs(301),
            tolerance: DEFAULT_TOLERANCE
        })
    );
    assert_eq!(
        wh.verify(body, &header, t - 301).err(),
        Some(WebhookError::TimestampInFuture {
            ahead: Duration::from_secs(301),
            tolerance: DEFAULT_TOLERANCE
        })
    );

    let short = Webhook::new(secret.clone()).with_tolerance(Duration::from_secs(60));
    short.verify(body, &header, t - 60).unwrap();
    short.verify(body, &header, t + 60).unwrap();
    assert!(matches!(
        short.verify(body, &header, t - 61),
        Err(WebhookError::TimestampInFuture { .. })
    ));
    assert!(matches!(
        short.verify(body, &header, t + 61),
        Err(WebhookError::TimestampTooOld { .. })
    ));

    // Zero tolerance means "exactly now", not "disabled".
    let zero = Webhook::new(secret.clone()).with_tolerance(Duration::ZERO);
    zero.verify(body, &header, t).unwrap();
    assert!(zero.verify(body, &header, t + 1).is_err());
    assert!(zero.verify(body, &header, t - 1).is_err());

    // Sub-second parts are ignored.
    let frac = Webhook::new(secret.clone()).with_tolerance(Duration::from_millis(1_999));
    frac.verify(body, &header, t + 1).unwrap();
    assert!(frac.verify(body, &header, t + 2).is_err());

    // The timestamp check runs before the signature check.
    assert!(matches!(
        wh.verify(b"tampered", &header, t + 301),
        Err(WebhookError::TimestampTooOld { .. })
    ));
}

#[test]
fn with_tolerance_sets_what_tolerance_reads() {
    let secret = key(GO_PHP_SECRET);
    assert_eq!(Webhook::new(secret.clone()).tolerance(), DEFAULT_TOLERANCE);
    for d in [
        Duration::ZERO,
        Duration::from_millis(1_500),
        Duration::from_secs(60),
        Duration::from_secs(86_400),
        Duration::MAX,
    ] {
        let wh = Webhook::new(secret.clone()).with_tolerance(d);
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
    let body = b"{}";
    let t = 1_700_000_000;
    let header = webhook::sign(&secret, body, t);
    let wh = Webhook::new(secret).with_tolerance(Duration::from_secs(90));
    let limit = i64::try_from(wh.tolerance().as_secs()).unwrap();
    wh.verify(body, &header, t + limit).unwrap();
    wh.verify(body, &header, t - limit).unwrap();
    assert_eq!(
        wh.verify(body, &header, t + limit + 1).err(),
        Some(WebhookError::TimestampTooOld {
            age: Duration::from_secs(91),
            tolerance: wh.tolerance()
        })
    );
    assert_eq!(
        wh.verify(body, &header, t - limit - 1).err(),
        Some(WebhookError::TimestampInFuture {
            ahead: Duration::from_secs(91),
            tolerance: wh.tolerance()
        })
    );
}

#[test]
fn tolerance_arithmetic_does_not_overflow() {
    let secret = key(GO_PHP_SECRET);
    let body = b"{}";
    let max = webhook::sign(&secret, body, i64::MAX);
    let zero = webhook::sign(&secret, body, 0);
    let wh = Webhook::new(secret.clone());
    for now in [i64::MIN, -1, 0, 1, real_now(), i64::MAX - 301] {
        assert!(matches!(
            wh.verify(body, &max, now),
            Err(WebhookError::TimestampInFuture { .. })
        ));
    }
    assert!(matches!(
        wh.verify(body, &zero, i64::MAX),
        Err(WebhookError::TimestampTooOld { .. })
    ));
    wh.verify(body, &max, i64::MAX).unwrap();
    wh.verify(body, &zero, 0).unwrap();
    wh.verify(body, &zero, -300).unwrap();
    assert!(matches!(
        wh.verify(body, &zero, i64::MIN),
        Err(WebhookError::TimestampInFuture { .. })
    ));
    let huge = Webhook::new(secret).with_tolerance(Duration::MAX);
    huge.verify(body, &max, i64::MIN).unwrap();
    huge.verify(body, &zero, i64::MAX).unwrap();
    // i64::MAX re-stringifies exactly, so ignoring the time it verifies.
    wh.verify_ignoring_timestamp(body, &max).unwrap();
}

#[test]
fn verify_ignoring_timestamp_accepts_a_2021_request() {
    let secret = key(GO_PHP_SECRET);
    let header = webhook::sign(&secret, VECTOR_C_PAYLOAD.as_bytes(), 1_630_000_000);
    let wh = Webhook::new(secret);
    let verified = wh
        .verify_ignoring_timestamp(VECTOR_C_PAYLOAD.as_bytes(), &header)
        .unwrap();
    assert_eq!(verified.event().unwrap().id, "1");
    assert!(matches!(
        wh.verify(VECTOR_C_PAYLOAD.as_bytes(), &header, real_now()),
        Err(WebhookError::TimestampTooOld { .. })
    ));
    assert!(matches!(
        wh.construct_event(VECTOR_C_PAYLOAD.as_bytes(), &header, real_now()),
        Err(WebhookError::TimestampTooOld { .. })
    ));
    // Ignoring the time still checks the signature and the format.
    assert_eq!(
        wh.verify_ignoring_timestamp(b"other", &header).err(),
        Some(WebhookError::NoMatchingSignature)
    );
    assert!(is_malformed(&wh.verify_ignoring_timestamp(b"{}", "v2=abc")));
}

// ---------------------------------------------------------------------------
// Header format (E6)
// ---------------------------------------------------------------------------

#[test]
fn malformed_timestamps() {
    let wh = hook(GO_PHP_SECRET);
    let sig = "v2=5A34twV5yi1Tr0WX6lDL2A6Q0HumnxL7eWzln9LqYKI";
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
        assert!(is_malformed(&wh.verify(b"{}", &header, 0)), "t={t}");
        assert!(
            is_malformed(&wh.verify_ignoring_timestamp(b"{}", &header)),
            "t={t}"
        );
    }
    // Two `t` items, even identical ones.
    for header in [
        format!("t=1630000000,t=1630000000,{sig}"),
        format!("t=1630000000,{sig},t=1"),
    ] {
        assert!(
            is_malformed(&wh.verify(b"{}", &header, 1_630_000_000)),
            "{header}"
        );
    }
    // `t=` only, no `v2`; `v1` only.
    assert!(is_malformed(&wh.verify(b"{}", "t=", 0)));
    assert!(is_malformed(&wh.verify(
        b"{}",
        "t=1630000000,v1=abc",
        1_630_000_000
    )));
    // The largest i64 is still a valid number.
    assert!(matches!(
        wh.verify(b"{}", &format!("t=9223372036854775807,{sig}"), 0),
        Err(WebhookError::TimestampInFuture { .. })
    ));
}

#[test]
fn lenient_but_exact_item_parsing() {
    let secret = key(GO_PHP_SECRET);
    let wh = Webhook::new(secret.clone());
    let t = 1_630_000_000;
    let sig = "5A34twV5yi1Tr0WX6lDL2A6Q0HumnxL7eWzln9LqYKI";
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
        assert_eq!(
            wh.verify(b"{}", &header, t).err(),
            Some(WebhookError::NoMatchingSignature),
            "{header}"
        );
    }
    // Keys are case-sensitive: `T=` is unknown, so there is no `t`.
    assert!(is_malformed(&wh.verify(
        b"{}",
        &format!("T={t},v2={sig}"),
        t
    )));
    assert!(is_malformed(&wh.verify(
        b"{}",
        &format!("t={t},V2={sig}"),
        t
    )));
}

#[test]
fn oversized_headers_are_rejected_before_hmac() {
    let secret = key(GO_PHP_SECRET);
    let wh = Webhook::new(secret.clone());
    let t = 1_630_000_000;
    let valid = webhook::sign(&secret, b"{}", t);

    // Exactly at the length limit: still parsed and verified.
    let pad = MAX_HEADER_LEN - valid.len() - ",x=".len();
    let at_limit = format!("{valid},x={}", "a".repeat(pad));
    assert_eq!(at_limit.len(), MAX_HEADER_LEN);
    wh.verify(b"{}", &at_limit, t).unwrap();
    // One byte more: rejected even though it carries a valid signature, and
    // before the timestamp check.
    let over = format!("{at_limit}a");
    assert!(is_too_large(&wh.verify(b"{}", &over, t)));
    assert!(is_too_large(&wh.verify(b"{}", &over, i64::MAX)));
    assert!(is_too_large(&wh.verify_ignoring_timestamp(b"{}", &over)));

    // 1 MiB header and 10 000 `v2` entries.
    let mib = format!("{valid},{}", "v".repeat(1 << 20));
    let start = std::time::Instant::now();
    assert!(is_too_large(&wh.verify(b"{}", &mib, t)));
    let many: String = std::iter::once(valid.clone())
        .chain((0..10_000).map(|_| "v2=AAAA".to_owned()))
        .collect::<Vec<_>>()
        .join(",");
    assert!(is_too_large(&wh.verify(b"{}", &many, t)));
    assert!(start.elapsed() < Duration::from_secs(1));

    // Signature count: MAX_SIGNATURES accepted, one more rejected.
    let sig = valid.split_once(",v2=").unwrap().1;
    let junk = |n: usize| vec!["v2=AAAA"; n].join(",");
    let at_count = format!("t={t},{},v2={sig}", junk(MAX_SIGNATURES - 1));
    wh.verify(b"{}", &at_count, t).unwrap();
    let over_count = format!("t={t},{},v2={sig}", junk(MAX_SIGNATURES));
    assert!(over_count.len() < MAX_HEADER_LEN);
    assert!(is_too_large(&wh.verify(b"{}", &over_count, t)));
    let empty_sigs = format!("t={t},{}", vec!["v2="; MAX_SIGNATURES + 1].join(","));
    assert!(is_too_large(&wh.verify(b"{}", &empty_sigs, t)));
}

// ---------------------------------------------------------------------------
// HeaderMap helpers
// ---------------------------------------------------------------------------

#[test]
fn header_map_helpers() {
    // With an `http::HeaderMap`: `signature_header`, then the one entry point.
    let secret = key(GO_PHP_SECRET);
    let wh = Webhook::new(secret.clone());
    let t = 1_740_000_000;
    let from_headers = |headers: &HeaderMap, body: &'static str| {
        webhook::signature_header(headers).and_then(|h| wh.verify(body.as_bytes(), h, t))
    };
    let mut headers = HeaderMap::new();
    assert_eq!(
        webhook::signature_header(&headers).and_then(|h| wh.construct_event(
            CUSTOM_VARIABLES.as_bytes(),
            h,
            t
        )),
        Err(WebhookError::MissingHeader)
    );
    assert_eq!(
        webhook::signature_header(&headers),
        Err(WebhookError::MissingHeader)
    );
    assert_eq!(
        from_headers(&headers, CUSTOM_VARIABLES).err(),
        Some(WebhookError::MissingHeader)
    );

    let value = HeaderValue::from_str(&signed(CUSTOM_VARIABLES, t)).unwrap();
    headers.insert("X-Signature-V2", value.clone());
    assert!(headers.contains_key(SIGNATURE_HEADER));
    assert_eq!(
        webhook::signature_header(&headers),
        Ok(value.to_str().unwrap())
    );
    let event = from_headers(&headers, CUSTOM_VARIABLES)
        .and_then(|v| v.event())
        .unwrap();
    assert_eq!(event.event_type, WebhookEventType::SmsCreated);

    // Appending a second value is ambiguous and rejected.
    headers.append("x-signature-v2", value);
    assert!(is_malformed(&webhook::signature_header(&headers)));
    assert!(is_malformed(&from_headers(&headers, CUSTOM_VARIABLES)));

    let mut batch_headers = HeaderMap::new();
    batch_headers.insert(
        "x-SIGNATURE-v2",
        HeaderValue::from_str(&signed(LOG_BATCH, t)).unwrap(),
    );
    let batch = from_headers(&batch_headers, LOG_BATCH)
        .and_then(|v| v.log_event_batch())
        .unwrap();
    assert_eq!(batch.records.len(), 1);

    let mut opaque = HeaderMap::new();
    opaque.insert(
        SIGNATURE_HEADER,
        HeaderValue::from_bytes(b"t=1,v2=\xff").unwrap(),
    );
    assert!(is_malformed(&webhook::signature_header(&opaque)));
    assert!(is_malformed(&from_headers(&opaque, "{}")));
}

// ---------------------------------------------------------------------------
// Secret hygiene
// ---------------------------------------------------------------------------

#[test]
fn no_secret_or_signature_in_debug_or_display() {
    let secret_text = "sk_live_VERY_SECRET_value_42";
    let secret = key(secret_text);
    let wh = Webhook::new(secret.clone()).with_additional_key(key("sk_live_OTHER_secret"));
    let dbg = format!("{wh:?} {wh:#?}");
    assert!(!dbg.contains("VERY_SECRET"), "{dbg}");
    assert!(!dbg.contains("OTHER_secret"), "{dbg}");

    let t = 1_740_000_000;
    let body = VECTOR_C_PAYLOAD.as_bytes();
    let good = webhook::sign(&secret, body, t);
    let expected_sig = good.split_once(",v2=").unwrap().1.to_owned();
    let foreign_sig = "zI5rg1XJtKH8dXTX9VCSwy07qTPJliXkK9ppgNjmzqw";
    let batch = br#"{"records":[]}"#;
    let batch_header = webhook::sign(&secret, batch, t);

    let mut missing = HeaderMap::new();
    missing.insert("other", HeaderValue::from_static("x"));
    let errors = vec![
        webhook::signature_header(&missing)
            .and_then(|h| wh.construct_event(body, h, t))
            .unwrap_err(),
        wh.verify(body, &format!("t=abc,v2={expected_sig}"), t)
            .unwrap_err(),
        wh.verify(body, &format!("t={t},v1={expected_sig}"), t)
            .unwrap_err(),
        wh.verify(body, &format!("{good},{}", "x".repeat(MAX_HEADER_LEN)), t)
            .unwrap_err(),
        wh.verify(body, &good, t + 10_000).unwrap_err(),
        wh.verify(body, &good, t - 10_000).unwrap_err(),
        wh.verify(b"tampered", &good, t).unwrap_err(),
        wh.verify(body, &format!("t={t},v2={foreign_sig}"), t)
            .unwrap_err(),
        wh.construct_event(b"not json", &webhook::sign(&secret, b"not json", t), t)
            .unwrap_err(),
        wh.construct_event(batch, &batch_header, t).unwrap_err(),
        wh.verify(body, &good, t)
            .and_then(|v| v.log_event_batch())
            .unwrap_err(),
    ];
    let mut kinds = std::collections::HashSet::new();
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
