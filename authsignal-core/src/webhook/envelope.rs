//! The JSON envelopes: [`WebhookEvent`], [`LogEventBatch`] and [`LogEvent`],
//! their redacted `Debug`, and [`WebhookEventType`].

use std::borrow::Cow;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::WebhookError;

pub(super) fn decode_event(payload: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let mut object = parse_object(payload)?;
    if object.contains_key("records") {
        return Err(WebhookError::BatchPassedToEventApi);
    }
    let envelope = Envelope::take(&mut object)?;
    let data = take_object(&mut object, "data", "missing field 'data' or not an object")?;
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

pub(super) fn decode_log_event_batch(payload: &[u8]) -> Result<LogEventBatch, WebhookError> {
    let mut object = parse_object(payload)?;
    let Some(Value::Array(items)) = object.remove("records") else {
        return Err(WebhookError::MissingRecords);
    };
    let records = items
        .into_iter()
        .map(|item| {
            let Value::Object(mut item) = item else {
                return Err(WebhookError::invalid_payload(
                    "a log event in 'records' is not an object",
                ));
            };
            let envelope = Envelope::take(&mut item)?;
            let record = take_object(
                &mut item,
                "record",
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

pub(super) fn decode_json<T: DeserializeOwned>(payload: &[u8]) -> Result<T, WebhookError> {
    serde_json::from_slice(payload).map_err(|error| json_error(&error))
}

fn json_error(error: &serde_json::Error) -> WebhookError {
    WebhookError::InvalidPayload {
        reason: Cow::Owned(crate::endpoint::describe_json_error(error)),
    }
}

fn parse_object(payload: &[u8]) -> Result<Map<String, Value>, WebhookError> {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(WebhookError::invalid_payload("not a JSON object")),
        Err(error) => Err(json_error(&error)),
    }
}

fn take_object(
    object: &mut Map<String, Value>,
    field: &str,
    reason: &'static str,
) -> Result<Value, WebhookError> {
    match object.remove(field) {
        Some(value @ Value::Object(_)) => Ok(value),
        _ => Err(WebhookError::invalid_payload(reason)),
    }
}

/// The fields shared by events and log events.
struct Envelope {
    version: u32,
    event_type: WebhookEventType,
    id: String,
    source: String,
    time: String,
    tenant_id: String,
}

impl Envelope {
    fn take(object: &mut Map<String, Value>) -> Result<Self, WebhookError> {
        let version = object
            .get("version")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v > 0)
            .ok_or(WebhookError::invalid_payload(
                "missing field 'version' or not a positive integer",
            ))?;
        let event_type = take_string(object, "type", "missing or empty field 'type'")?;
        Ok(Self {
            version,
            event_type: WebhookEventType::from(event_type),
            id: take_string(object, "id", "missing or empty field 'id'")?,
            source: take_string(object, "source", "missing or empty field 'source'")?,
            time: take_string(object, "time", "missing or empty field 'time'")?,
            tenant_id: take_string(object, "tenantId", "missing or empty field 'tenantId'")?,
        })
    }
}

fn take_string(
    object: &mut Map<String, Value>,
    field: &str,
    reason: &'static str,
) -> Result<String, WebhookError> {
    match object.remove(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(WebhookError::invalid_payload(reason)),
    }
}

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
