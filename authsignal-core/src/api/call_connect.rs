//! Call Connect: verify a caller by sending them a message during a call.
//!
//! These endpoints live on the Call Connect host
//! ([`Config::call_connect_url`](crate::Config::call_connect_url): the
//! region's, by default `https://us-connect.authsignal.com`), not on the
//! Server API base URL, and they authenticate with Call Connect's own secret
//! key, set with
//! [`Builder::with_call_connect_secret`](crate::Builder::with_call_connect_secret).
//! Without that key a Call Connect request fails with
//! [`InvalidInput::MissingCallConnectSecret`] before anything is sent; the
//! Server API key is never sent to Call Connect.

use http::Method;
use serde::{Deserialize, Serialize};

use super::setters;
use crate::{
    CallConnectMessageChannel, CallState, Idempotency, InvalidInput,
    endpoint::{Endpoint, PathBuilder, Service, json_body},
};

/// `POST /call/start` (Call Connect): sends the caller a message to verify
/// them.
///
/// ```
/// use authsignal_core::{Config, Endpoint, Error, InvalidInput, Region, StartCallRequest};
/// let config = Config::builder("sk_test")
///     .with_region(Region::Au)
///     .with_call_connect_secret("sk_call_connect")
///     .build()?;
/// let request = StartCallRequest::new("call-ref-1").build_request(&config)?;
/// // Call Connect has its own host and its own key.
/// assert_eq!(request.uri(), "https://au-connect.api.authsignal.com/call/start");
///
/// // Without the Call Connect key nothing is built (or sent).
/// let server_api_only = Config::builder("sk_test").build()?;
/// let error = StartCallRequest::new("call-ref-1").build_request(&server_api_only).unwrap_err();
/// assert!(matches!(error, Error::InvalidInput(InvalidInput::MissingCallConnectSecret)));
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StartCallRequest {
    /// Your id for the call, used again in [`FinishCallRequest`].
    pub reference_id: String,
    /// The caller's phone number (E.164).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// The caller's country (ISO 3166-1 alpha-2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The user's id in your system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The user's username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The channel to send the message on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<CallConnectMessageChannel>,
    /// The user's email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The locale of the message, e.g. `en-NZ`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The action code the call is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_code: Option<String>,
}

impl StartCallRequest {
    /// A request to start verifying the call `reference_id`.
    pub fn new(reference_id: impl Into<String>) -> Self {
        Self {
            reference_id: reference_id.into(),
            phone_number: None,
            country: None,
            user_id: None,
            username: None,
            channel: None,
            email: None,
            locale: None,
            action_code: None,
        }
    }
}

setters!(StartCallRequest {
    /// The caller's phone number (E.164).
    with_phone_number => phone_number: String,
    /// The caller's country (ISO 3166-1 alpha-2).
    with_country => country: String,
    /// The user's id in your system.
    with_user_id => user_id: String,
    /// The user's username.
    with_username => username: String,
    /// The channel to send the message on.
    with_channel => channel: CallConnectMessageChannel,
    /// The user's email address.
    with_email => email: String,
    /// The locale of the message, e.g. `en-NZ`.
    with_locale => locale: String,
    /// The action code the call is for.
    with_action_code => action_code: String,
});

/// The result of [`StartCallRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StartCallResponse {
    /// The message's id.
    pub message_id: Option<String>,
    /// The channel the message was sent on.
    pub channel: Option<CallConnectMessageChannel>,
    /// The phone number it was sent to.
    pub phone_number: Option<String>,
    /// The email address it was sent to.
    pub email: Option<String>,
    /// Why no message was sent.
    pub error: Option<String>,
    /// The error code, when no message was sent.
    pub error_code: Option<String>,
    /// The error description, when no message was sent.
    pub error_description: Option<String>,
}

impl Endpoint for StartCallRequest {
    type Output = StartCallResponse;
    const NAME: &'static str = "start_call";
    const METHOD: Method = Method::POST;
    // Sends a message to the caller.
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;
    const SERVICE: Service = Service::CallConnect;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("call").literal("start");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `POST /call/finish` (Call Connect): records the outcome of a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FinishCallRequest {
    /// The id given to [`StartCallRequest`].
    pub reference_id: String,
    /// Whether the caller passed.
    pub state: CallState,
    /// The user's id in your system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Extra data about the call (any JSON object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
}

impl FinishCallRequest {
    /// A request to record `state` for the call `reference_id`.
    pub fn new(reference_id: impl Into<String>, state: CallState) -> Self {
        Self {
            reference_id: reference_id.into(),
            state,
            user_id: None,
            payload: None,
        }
    }
}

setters!(FinishCallRequest {
    /// The user's id in your system.
    with_user_id => user_id: String,
    /// Extra data about the call (any JSON object).
    with_payload => payload: serde_json::Value,
});

/// The result of [`FinishCallRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FinishCallResponse {
    /// Whether the outcome was recorded. Decoded from a JSON boolean or, as
    /// an older revision of the docs types it, the string `"true"` or
    /// `"false"`; absent or `null` reads as `false`.
    #[serde(default, deserialize_with = "bool_or_bool_string")]
    pub success: bool,
}

/// Decodes `true`/`false`, `"true"`/`"false"` or `null` (as `false`).
fn bool_or_bool_string<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Option::<Flag>::deserialize(deserializer)? {
        None => Ok(false),
        Some(Flag::Bool(flag)) => Ok(flag),
        Some(Flag::Text(text)) => match text.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(serde::de::Error::custom(
                "expected a boolean or the string \"true\" or \"false\"",
            )),
        },
    }
}

impl Endpoint for FinishCallRequest {
    type Output = FinishCallResponse;
    const NAME: &'static str = "finish_call";
    const METHOD: Method = Method::POST;
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;
    const SERVICE: Service = Service::CallConnect;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("call").literal("finish");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

crate::client::endpoints! {
    /// Sends the caller a verification message, on the Call Connect host
    /// with the Call Connect secret key.
    start_call(StartCallRequest) -> StartCallResponse,
        route = "POST /call/start",
        example = StartCallRequest::new("ref-1");
    /// Records the outcome of a call, on the Call Connect host with the
    /// Call Connect secret key.
    finish_call(FinishCallRequest) -> FinishCallResponse,
        route = "POST /call/finish",
        example = FinishCallRequest::new("ref-1", CallState::ChallengeSucceeded);
}
