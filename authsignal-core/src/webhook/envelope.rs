//! The JSON envelopes: [`WebhookEvent`], [`LogEventBatch`] and [`LogEvent`],
//! their redacted `Debug`, [`WebhookEventType`], and how a verified payload
//! is decoded into them (serde, with every envelope field checked by name).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::WebhookError;

// ---------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------

/// A single webhook event, e.g. `email.created` or `action.verify`.
///
/// Unknown JSON fields are ignored. When produced by [`Webhook`](super::Webhook), every field
/// has been checked to be present and non-empty, and `data` is a JSON object.
///
/// # Redacted `Debug`
///
/// `data` can hold an OTP code, a magic link, an email address or a phone
/// number, so `Debug` prints the envelope fields (`version`, `event_type`,
/// `id`, `source`, `time`, `tenant_id`) and only the **keys** of `data`, each
/// with the value `<redacted>`. Read values from `data` explicitly.
///
/// ```
/// use authsignal_core::webhook::WebhookEvent;
///
/// let event: WebhookEvent = serde_json::from_str(
///     r#"{"version":1,"type":"email.created","id":"e1","source":"https://authsignal.com",
///         "time":"2025-02-20T01:51:56.070Z","tenantId":"t1",
///         "data":{"to":"user@example.com","code":"157743"}}"#,
/// )?;
/// let printed = format!("{event:?}");
/// assert!(printed.contains(r#""code": <redacted>"#) && printed.contains(r#""to": <redacted>"#));
/// assert!(!printed.contains("157743") && !printed.contains("user@example.com"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookEvent {
    /// Envelope version (`1` today).
    pub version: u32,
    /// The event type (JSON `type`).
    #[serde(rename = "type")]
    pub event_type: WebhookEventType,
    /// Unique event id (a UUID).
    pub id: String,
    /// Sender, `https://authsignal.com`.
    pub source: String,
    /// When the event happened, ISO-8601 text as sent.
    pub time: String,
    /// The tenant the event belongs to.
    pub tenant_id: String,
    /// Event-specific payload (a JSON object); nested and non-string values
    /// such as `customVariables` are kept as they are.
    pub data: Value,
}

/// A batch of log events (`{"records": [...]}`), as delivered for
/// `action.log_created` and `challenge.log_created`.
///
/// Its `Debug` lists the records with [`LogEvent`]'s redacted `Debug`: no
/// value from any `record` is printed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LogEventBatch {
    /// The log events, in the order sent.
    pub records: Vec<LogEvent>,
}

/// One log event of a [`LogEventBatch`].
///
/// # Redacted `Debug`
///
/// `record` can hold tokens, codes and user details, so `Debug` prints the
/// envelope fields and only the **keys** of `record`, each with the value
/// `<redacted>`, as [`WebhookEvent`] does for `data`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LogEvent {
    /// Envelope version (`1` today).
    pub version: u32,
    /// The event type (JSON `type`), e.g. `action.log_created`.
    #[serde(rename = "type")]
    pub event_type: WebhookEventType,
    /// Unique event id (a UUID).
    pub id: String,
    /// Sender, `https://authsignal.com`.
    pub source: String,
    /// When the event happened, ISO-8601 text as sent.
    pub time: String,
    /// The tenant the event belongs to.
    pub tenant_id: String,
    /// The logged record (a JSON object).
    pub record: Value,
}

impl fmt::Debug for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEvent")
            .field("version", &self.version)
            .field("event_type", &self.event_type)
            .field("id", &self.id)
            .field("source", &self.source)
            .field("time", &self.time)
            .field("tenant_id", &self.tenant_id)
            .field("data", &RedactedJson(&self.data))
            .finish()
    }
}

impl fmt::Debug for LogEventBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogEventBatch")
            .field("records", &self.records)
            .finish()
    }
}

impl fmt::Debug for LogEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogEvent")
            .field("version", &self.version)
            .field("event_type", &self.event_type)
            .field("id", &self.id)
            .field("source", &self.source)
            .field("time", &self.time)
            .field("tenant_id", &self.tenant_id)
            .field("record", &RedactedJson(&self.record))
            .finish()
    }
}

/// `Debug` for a payload value that shows its top-level keys, never a value:
/// an object prints as `{"key": <redacted>, …}`, anything else as
/// `<redacted>`.
struct RedactedJson<'a>(&'a Value);

impl fmt::Debug for RedactedJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Object(object) => f
                .debug_map()
                .entries(object.keys().map(|key| (key, Redacted)))
                .finish(),
            _ => Redacted.fmt(f),
        }
    }
}

/// Prints `<redacted>` in place of a value.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

crate::enums::open_enum! {
    /// The type of a webhook event (JSON `type`).
    ///
    /// Open: a type this version of the SDK does not know decodes as
    /// `Unknown` and serializes back unchanged.
    ///
    /// ```
    /// use authsignal_core::webhook::WebhookEventType;
    ///
    /// assert_eq!(WebhookEventType::from("sms.created"), WebhookEventType::SmsCreated);
    /// let future = WebhookEventType::from("user.deleted");
    /// assert_eq!(future.as_str(), "user.deleted");
    /// assert!(future.is_unknown());
    /// ```
    pub enum WebhookEventType {
        /// `email.created`: send an email OTP or magic link (synchronous).
        EmailCreated = "email.created",
        /// `sms.created`: send an SMS OTP (synchronous).
        SmsCreated = "sms.created",
        /// `push.created`: send a push notification (synchronous).
        PushCreated = "push.created",
        /// `authenticator.created` (asynchronous).
        AuthenticatorCreated = "authenticator.created",
        /// `authenticator.updated` (asynchronous).
        AuthenticatorUpdated = "authenticator.updated",
        /// `authenticator.deleted` (asynchronous).
        AuthenticatorDeleted = "authenticator.deleted",
        /// `action.verify`: can block the transition (synchronous).
        ActionVerify = "action.verify",
        /// `action.log_created`, delivered in a [`LogEventBatch`].
        ActionLogCreated = "action.log_created",
        /// `challenge.log_created`, delivered in a [`LogEventBatch`].
        ChallengeLogCreated = "challenge.log_created",
    }
}

// ---------------------------------------------------------------------------
// Decoding a verified payload
// ---------------------------------------------------------------------------

/// Decodes a single event for [`VerifiedPayload::event`](super::VerifiedPayload::event).
pub(super) fn decode_event(payload: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let wire: WireEvent = decode_object(payload)?;
    if wire.records {
        return Err(WebhookError::BatchPassedToEventApi);
    }
    let envelope = Envelope::check(
        wire.version,
        wire.event_type,
        wire.id,
        wire.source,
        wire.time,
        wire.tenant_id,
    )?;
    let data = object(wire.data, "missing field 'data' or not an object")?;
    Ok(WebhookEvent {
        version: envelope.version,
        event_type: envelope.event_type,
        id: envelope.id,
        source: envelope.source,
        time: envelope.time,
        tenant_id: envelope.tenant_id,
        data,
    })
}

/// Decodes a batch for [`VerifiedPayload::log_event_batch`](super::VerifiedPayload::log_event_batch).
pub(super) fn decode_log_event_batch(payload: &[u8]) -> Result<LogEventBatch, WebhookError> {
    let wire: WireBatch = decode_object(payload)?;
    let Some(Checked::Valid(items)) = wire.records else {
        return Err(WebhookError::MissingRecords);
    };
    let records = items
        .into_iter()
        .map(|item| {
            let Checked::Valid(JsonObject(item)) = item else {
                return Err(WebhookError::invalid_payload(
                    "a log event in 'records' is not an object (or repeats a field)",
                ));
            };
            let envelope = Envelope::check(
                item.version,
                item.event_type,
                item.id,
                item.source,
                item.time,
                item.tenant_id,
            )?;
            let record = object(
                item.record,
                "a log event is missing field 'record' or it is not an object",
            )?;
            Ok(LogEvent {
                version: envelope.version,
                event_type: envelope.event_type,
                id: envelope.id,
                source: envelope.source,
                time: envelope.time,
                tenant_id: envelope.tenant_id,
                record,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LogEventBatch { records })
}

/// Decodes into the caller's type for [`VerifiedPayload::json`](super::VerifiedPayload::json).
pub(super) fn decode_json<T: DeserializeOwned>(payload: &[u8]) -> Result<T, WebhookError> {
    serde_json::from_slice(payload).map_err(|error| json_error(&error))
}

/// Decodes a top-level JSON object into `T`.
fn decode_object<T: DeserializeOwned>(payload: &[u8]) -> Result<T, WebhookError> {
    match serde_json::from_slice::<JsonObject<T>>(payload) {
        Ok(JsonObject(value)) => Ok(value),
        // `JsonObject` refuses any other JSON value with a data error before
        // reading it; JSON text that does not open with `{` (after the
        // whitespace JSON allows) cannot be an object.
        Err(error) if error.is_data() && !opens_an_object(payload) => {
            Err(WebhookError::invalid_payload("not a JSON object"))
        }
        Err(error) => Err(json_error(&error)),
    }
}

fn opens_an_object(payload: &[u8]) -> bool {
    payload
        .iter()
        .find(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))
        == Some(&b'{')
}

/// A JSON error as an [`WebhookError::InvalidPayload`] that names the error's
/// category and position, never a payload value.
fn json_error(error: &serde_json::Error) -> WebhookError {
    WebhookError::InvalidPayload {
        reason: Cow::Owned(crate::endpoint::describe_json_error(error)),
    }
}

/// A single event as sent. Every field is optional and [`Checked`], so that
/// a missing or mistyped field is reported by name rather than by position.
/// Unknown fields are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEvent {
    /// Whether a `records` key is present (with any value): then the payload
    /// is a log-event batch.
    #[serde(default, deserialize_with = "present")]
    records: bool,
    version: Option<Checked<u32>>,
    #[serde(rename = "type")]
    event_type: Option<Checked<String>>,
    id: Option<Checked<String>>,
    source: Option<Checked<String>>,
    time: Option<Checked<String>>,
    tenant_id: Option<Checked<String>>,
    data: Option<Checked<Map<String, Value>>>,
}

/// A log-event batch as sent.
#[derive(Deserialize)]
struct WireBatch {
    records: Option<Checked<Vec<Checked<JsonObject<WireLogEvent>>>>>,
}

/// One log event of a batch as sent; see [`WireEvent`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLogEvent {
    version: Option<Checked<u32>>,
    #[serde(rename = "type")]
    event_type: Option<Checked<String>>,
    id: Option<Checked<String>>,
    source: Option<Checked<String>>,
    time: Option<Checked<String>>,
    tenant_id: Option<Checked<String>>,
    record: Option<Checked<Map<String, Value>>>,
}

/// A value that decoded as `T`, or any other JSON value.
#[derive(Deserialize)]
#[serde(untagged)]
enum Checked<T> {
    Valid(T),
    Invalid(IgnoredAny),
}

/// `T` decoded from a JSON object only. (A derived `Deserialize` for a struct
/// also accepts an array of its fields in order, which no envelope is.)
struct JsonObject<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Self)
    }
}

/// For `#[serde(deserialize_with)]`: `true` for a key that is present, whatever its value.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// The envelope fields shared by events and log events, checked.
struct Envelope {
    version: u32,
    event_type: WebhookEventType,
    id: String,
    source: String,
    time: String,
    tenant_id: String,
}

impl Envelope {
    /// Checks the fields in wire order: `version` is a positive integer, the
    /// others non-blank strings.
    fn check(
        version: Option<Checked<u32>>,
        event_type: Option<Checked<String>>,
        id: Option<Checked<String>>,
        source: Option<Checked<String>>,
        time: Option<Checked<String>>,
        tenant_id: Option<Checked<String>>,
    ) -> Result<Self, WebhookError> {
        let version = match version {
            Some(Checked::Valid(version)) if version > 0 => version,
            _ => {
                return Err(WebhookError::invalid_payload(
                    "missing field 'version' or not a positive integer",
                ));
            }
        };
        Ok(Self {
            version,
            event_type: WebhookEventType::from(text(event_type, "type")?),
            id: text(id, "id")?,
            source: text(source, "source")?,
            time: text(time, "time")?,
            tenant_id: text(tenant_id, "tenantId")?,
        })
    }
}

/// A non-blank string field.
fn text(value: Option<Checked<String>>, field: &'static str) -> Result<String, WebhookError> {
    match value {
        Some(Checked::Valid(text)) if !text.trim().is_empty() => Ok(text),
        _ => Err(WebhookError::InvalidPayload {
            reason: Cow::Owned(format!("missing or empty field '{field}', or not a string")),
        }),
    }
}

/// An object field (`data`, `record`).
fn object(
    value: Option<Checked<Map<String, Value>>>,
    reason: &'static str,
) -> Result<Value, WebhookError> {
    match value {
        Some(Checked::Valid(object)) => Ok(Value::Object(object)),
        _ => Err(WebhookError::invalid_payload(reason)),
    }
}
