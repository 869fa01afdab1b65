//! `/users/{userId}/devices`: devices seen in track attributes.

use super::*;

pub(crate) fn get_devices(state: &State, user_id: &str) -> Value {
    let devices = state
        .users
        .get(user_id)
        .map(|user| user.devices.values().map(|d| d.to_json(user_id)).collect())
        .unwrap_or_default();
    Value::Array(devices)
}

pub(crate) fn device_mut<'s>(
    state: &'s mut State,
    user_id: &str,
    device_id: &str,
) -> Result<&'s mut Device, ApiError> {
    state
        .users
        .get_mut(user_id)
        .and_then(|user| user.devices.get_mut(device_id))
        .ok_or_else(|| ApiError::not_found("The user has no such device."))
}

pub(crate) fn update_device(
    state: &mut State,
    user_id: &str,
    device_id: &str,
    request: &ApiRequest<'_>,
) -> ApiResult {
    let body = Body::parse(request.body)?;
    if !body.0.contains_key("rememberedUntil") {
        return Err(ApiError::bad_request(
            "`rememberedUntil` is required (a date-time, or null to forget the device).",
        ));
    }
    let remembered_until = match body.opt_str("rememberedUntil")? {
        None => None,
        Some(raw) => Some(parse_datetime(raw).ok_or_else(|| {
            ApiError::bad_request("`rememberedUntil` must be an ISO-8601 date-time.")
        })?),
    };
    let device = device_mut(state, user_id, device_id)?;
    device.remembered_until = remembered_until;
    Ok(device.to_json(user_id))
}

pub(crate) fn invalidate_device(state: &mut State, user_id: &str, device_id: &str) -> ApiResult {
    let now = state.clock.now_millis();
    let device = device_mut(state, user_id, device_id)?;
    device.invalidated_at = Some(now);
    device.remembered_until = None;
    Ok(device.to_json(user_id))
}
