//! Call Connect: `/call/start` and `/call/finish` (no `/v1`).

use super::*;

/// The channels `POST /call/start` can send on.
pub(crate) const CALL_CHANNELS: &[&str] = &["SMS", "WHATSAPP", "EMAIL"];

pub(crate) fn start_call(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let reference_id = body.req_str("referenceId")?;
    body.check_strs(&["userId", "username", "locale", "country"])?;
    if let Some(code) = body.opt_str("actionCode")? {
        check_action_code(code)?;
    }
    let phone_number = body.opt_str("phoneNumber")?.filter(|p| !p.is_empty());
    let email = body.opt_str("email")?.filter(|e| !e.is_empty());
    let channel = match body.opt_enum("channel", CALL_CHANNELS)? {
        Some(channel) => channel,
        None if phone_number.is_some() => "SMS",
        None if email.is_some() => "EMAIL",
        None => {
            return Err(ApiError::bad_request(
                "`phoneNumber` or `email` is required.",
            ));
        }
    };
    let (phone_number, email) = match channel {
        "EMAIL" => (
            None,
            Some(email.ok_or_else(|| {
                ApiError::bad_request("`email` is required for the EMAIL channel.")
            })?),
        ),
        _ => (
            Some(phone_number.ok_or_else(|| {
                ApiError::bad_request(format!("`phoneNumber` is required for {channel}."))
            })?),
            None,
        ),
    };
    let message_id = uuid_v4();
    state
        .calls
        .insert(reference_id.to_owned(), Call { outcome: None });
    let mut map = Map::new();
    map.insert("messageId".into(), json!(message_id));
    map.insert("channel".into(), json!(channel));
    if let Some(phone) = phone_number {
        map.insert("phoneNumber".into(), json!(phone));
    }
    if let Some(email) = email {
        map.insert("email".into(), json!(email));
    }
    Ok(Value::Object(map))
}

pub(crate) fn finish_call(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let reference_id = body.req_str("referenceId")?;
    let outcome = body.req_str("state")?;
    body.opt_enum("state", &["CHALLENGE_SUCCEEDED", "CHALLENGE_FAILED"])?;
    body.check_strs(&["userId"])?;
    body.opt_object("payload")?;
    let call = state
        .calls
        .get_mut(reference_id)
        .ok_or_else(|| ApiError::not_found("No call was started with this referenceId."))?;
    call.outcome = Some(CallState::from(outcome));
    Ok(success())
}
