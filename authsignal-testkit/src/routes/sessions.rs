//! `/sessions`: create, validate, refresh and revoke sessions.

use super::*;

pub(crate) fn create_session(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let client_id = body.req_str("clientId")?;
    let token = body.req_str("token")?;
    let action_code = body.opt_str("action")?;
    let bad_token =
        || ApiError::bad_request("The token is invalid, expired or has already been exchanged.");
    let info = state.tokens.get(token).cloned().ok_or_else(bad_token)?;
    if info.expired
        || info.exchanged
        || state.clock.now_millis() - info.issued_at > TOKEN_TTL_MILLIS
    {
        return Err(bad_token());
    }
    let action = state
        .actions
        .get(&info.idempotency_key)
        .cloned()
        .ok_or_else(bad_token)?;
    if action_code.is_some_and(|code| code != action.action_code) {
        return Err(ApiError::bad_request(
            "The token was not issued for this action.",
        ));
    }
    if !is_success_state(&action.state) {
        return Err(ApiError::bad_request(format!(
            "A session needs a successful action; this action's state is {}.",
            action.state
        )));
    }
    if let Some(info) = state.tokens.get_mut(token) {
        info.exchanged = true;
    }
    let (access_token, refresh_token) =
        state.open_session(&action.user_id, client_id, action.verification_method);
    Ok(json!({ "accessToken": access_token, "refreshToken": refresh_token }))
}

pub(crate) fn validate_session(state: &State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let access_token = body.req_str("accessToken")?;
    let client_ids = body.opt_str_array("clientIds")?;
    let session = state
        .sessions
        .get(access_token)
        .filter(|s| state.clock.now_millis() / 1000 < s.expires_at)
        .ok_or_else(|| {
            ApiError::bad_request("The access token is invalid, expired or has been revoked.")
        })?;
    if client_ids.is_some_and(|ids| !ids.contains(&session.client_id.as_str())) {
        return Err(ApiError::bad_request(
            "The access token was not issued for any of the given clientIds.",
        ));
    }
    let user = state
        .users
        .get(&session.user_id)
        .map(|u| u.session_user_json())
        .unwrap_or_else(|| json!({ "userId": session.user_id }));
    let mut map = Map::new();
    map.insert("user".into(), user);
    map.insert("expiresAt".into(), json!(session.expires_at));
    if let Some(method) = &session.verification_method {
        map.insert("verificationMethod".into(), json!(method));
    }
    Ok(Value::Object(map))
}

pub(crate) fn refresh_session(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let refresh_token = body.req_str("refreshToken")?;
    let old_access = state
        .refresh_tokens
        .get(refresh_token)
        .cloned()
        .ok_or_else(|| {
            ApiError::bad_request("The refresh token is invalid or has already been used.")
        })?;
    let session = state
        .close_session(&old_access)
        .ok_or_else(|| ApiError::bad_request("The refresh token is invalid."))?;
    let (access_token, refresh_token) = state.open_session(
        &session.user_id,
        &session.client_id,
        session.verification_method,
    );
    Ok(json!({ "accessToken": access_token, "refreshToken": refresh_token }))
}

pub(crate) fn revoke_session(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let access_token = body.req_str("accessToken")?;
    state.close_session(access_token);
    Ok(success())
}

pub(crate) fn revoke_user_sessions(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let user_id = body.req_str("userId")?;
    state.close_user_sessions(user_id);
    Ok(success())
}
