//! `/users`: read, update, delete and query users.

use super::*;

pub(crate) fn get_user(state: &State, user_id: &str) -> Value {
    match state.users.get(user_id) {
        Some(user) => user.get_user_json(),
        None => json!({
            "userId": user_id,
            "isEnrolled": false,
            "enrolledVerificationMethods": [],
            "allowedVerificationMethods": crate::state::ALLOWED_METHODS,
        }),
    }
}

pub(crate) fn update_user(state: &mut State, user_id: &str, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    // Validate everything before changing anything.
    let strings = ["email", "phoneNumber", "username", "displayName", "locale"];
    body.check_strs(&strings)?;
    body.opt_bool("emailVerified")?;
    body.opt_bool("phoneNumberVerified")?;
    body.opt_object("custom")?;
    body.opt_enum("defaultVerificationMethod", KNOWN_METHODS)?;

    let user = state.user_mut(user_id);
    let fields = &body.0;
    let set_str = |slot: &mut Option<String>, name: &str| {
        if let Some(value) = fields.get(name) {
            *slot = value.as_str().map(str::to_owned);
        }
    };
    set_str(&mut user.email, "email");
    set_str(&mut user.phone_number, "phoneNumber");
    set_str(&mut user.username, "username");
    set_str(&mut user.display_name, "displayName");
    set_str(&mut user.locale, "locale");
    if let Some(value) = fields.get("defaultVerificationMethod") {
        user.default_verification_method = value.as_str().map(VerificationMethod::from);
    }
    if let Some(value) = fields.get("emailVerified") {
        user.email_verified = value.as_bool().unwrap_or(false);
    }
    if let Some(value) = fields.get("phoneNumberVerified") {
        user.phone_number_verified = value.as_bool().unwrap_or(false);
    }
    if let Some(value) = fields.get("custom") {
        user.custom = value.is_object().then(|| value.clone());
    }
    Ok(Value::Object(user.attributes_json()))
}

pub(crate) fn delete_user(state: &mut State, user_id: &str) -> Value {
    state.users.remove(user_id);
    state.actions.retain(|_, action| action.user_id != user_id);
    state.close_user_sessions(user_id);
    success()
}

pub(crate) fn query_users(state: &State, request: &ApiRequest<'_>) -> ApiResult {
    let limit = match request.query("limit") {
        None => DEFAULT_USERS_LIMIT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_USERS_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`limit` must be an integer from 1 to {MAX_USERS_LIMIT}."
                ))
            })?,
    };
    let username = request.query("username");
    let email = request.query("email");
    let phone_number = request.query("phoneNumber");
    let after = request.query("lastEvaluatedUserId");
    if [username, email, phone_number, request.query("token")]
        .iter()
        .all(Option::is_none)
    {
        return Err(ApiError::bad_request(
            "One of `username`, `email`, `phoneNumber` or `token` is required.",
        ));
    }

    let mut token_payload = None;
    let mut token_user = None;
    if let Some(token) = request.query("token") {
        let action = state
            .tokens
            .get(token)
            .and_then(|info| state.actions.get(&info.idempotency_key));
        match action {
            Some(action) => {
                token_user = Some(action.user_id.as_str());
                token_payload = Some(json!({
                    "sub": action.user_id,
                    "actionCode": action.action_code,
                    "idempotencyKey": action.idempotency_key,
                }));
            }
            None => return Ok(json!({ "users": [] })),
        }
    }

    let mut matching = state
        .users
        .values()
        .filter(|user| after.is_none_or(|after| user.user_id.as_str() > after))
        .filter(|user| token_user.is_none_or(|id| user.user_id == id))
        .filter(|user| username.is_none_or(|u| user.username.as_deref() == Some(u)))
        .filter(|user| {
            email.is_none_or(|e| {
                user.email
                    .as_deref()
                    .is_some_and(|stored| stored.eq_ignore_ascii_case(e))
            })
        })
        .filter(|user| phone_number.is_none_or(|p| user.phone_number.as_deref() == Some(p)));

    let page: Vec<_> = matching.by_ref().take(limit).collect();
    let more = matching.next().is_some();
    let mut response = Map::new();
    response.insert(
        "users".into(),
        Value::Array(page.iter().map(|user| user.query_item_json()).collect()),
    );
    if more {
        if let Some(last) = page.last() {
            response.insert("lastEvaluatedUserId".into(), json!(last.user_id));
        }
    }
    if let Some(payload) = token_payload {
        response.insert("tokenPayload".into(), payload);
    }
    Ok(Value::Object(response))
}
