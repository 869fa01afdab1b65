//! Track, get, update and query actions.

use super::*;

pub(crate) fn track(
    state: &mut State,
    user_id: &str,
    action_code: &str,
    request: &ApiRequest<'_>,
) -> ApiResult {
    let now = state.clock.now_millis();
    check_action_code(action_code)?;
    let body = Body::parse(request.body)?;
    body.check_strs(&[
        "redirectUrl",
        "ipAddress",
        "userAgent",
        "scope",
        "locale",
        "customDomain",
        "challengeId",
    ])?;
    body.opt_bool("redirectToSettings")?;
    body.opt_object("custom")?;
    body.opt_object("crypto")?;
    let email = body.opt_str("email")?;
    let phone_number = body.opt_str("phoneNumber")?;
    let username = body.opt_str("username")?;
    let device_id = body.opt_str("deviceId")?.filter(|d| !d.is_empty());
    let idempotency_key = body.opt_str("idempotencyKey")?;

    if let Some(key) = idempotency_key {
        if key.is_empty() {
            return Err(ApiError::bad_request("`idempotencyKey` must not be empty."));
        }
        if let Some(existing) = state.actions.get(key) {
            if existing.user_id != user_id || existing.action_code != action_code {
                return Err(ApiError::bad_request(
                    "`idempotencyKey` is already used by a different action.",
                ));
            }
            // Idempotent replay: same action, same token.
            if existing.token.is_none() {
                let token = state.issue_token(key);
                if let Some(action) = state.actions.get_mut(key) {
                    action.token = Some(token);
                }
            }
            return Ok(track_response(state, key));
        }
    }

    let user = state.user_mut(user_id);
    if let Some(email) = email {
        user.email = Some(email.to_owned());
    }
    if let Some(phone) = phone_number {
        user.phone_number = Some(phone.to_owned());
    }
    if let Some(username) = username {
        user.username = Some(username.to_owned());
    }
    if let Some(device_id) = device_id {
        user.devices
            .entry(device_id.to_owned())
            .or_insert_with(|| Device::new(device_id, now));
    }
    let outcome = state.outcome_for(action_code, user_id);
    let rule_id = state
        .outcomes
        .contains_key(action_code)
        .then(|| format!("fake-rule-{action_code}"));
    let key = idempotency_key
        .map(str::to_owned)
        .unwrap_or_else(new_idempotency_key);
    let key = state.insert_action(
        user_id,
        action_code,
        key,
        outcome,
        device_id.map(str::to_owned),
        true,
    );
    if let Some(action) = state.actions.get_mut(&key) {
        action.ip_address = body.opt_str("ipAddress")?.map(str::to_owned);
        action.user_agent = body.opt_str("userAgent")?.map(str::to_owned);
        action.rule_id = rule_id;
    }
    Ok(track_response(state, &key))
}

pub(crate) fn track_response(state: &State, key: &str) -> Value {
    let Some(action) = state.actions.get(key) else {
        return json!({});
    };
    let token = action.token.clone().unwrap_or_default();
    let user = state.users.get(&action.user_id);
    let mut map = Map::new();
    map.insert("idempotencyKey".into(), json!(action.idempotency_key));
    map.insert("state".into(), json!(action.state));
    map.insert(
        "url".into(),
        json!(format!(
            "https://fake.authsignal.test/challenge?token={token}"
        )),
    );
    map.insert("token".into(), json!(token));
    map.insert(
        "isEnrolled".into(),
        json!(user.is_some_and(|u| u.is_enrolled())),
    );
    map.insert(
        "enrolledVerificationMethods".into(),
        json!(user.map(|u| u.enrolled_methods()).unwrap_or_default()),
    );
    map.insert(
        "allowedVerificationMethods".into(),
        json!(crate::state::ALLOWED_METHODS),
    );
    if let Some(method) = user.and_then(|u| u.default_method()) {
        map.insert("defaultVerificationMethod".into(), json!(method));
    }
    map.insert("ruleIds".into(), json!([]));
    Value::Object(map)
}

/// The action `key`, provided it belongs to `user_id` and `action_code`.
pub(crate) fn find_action<'s>(
    state: &'s mut State,
    user_id: &str,
    action_code: &str,
    key: &str,
) -> Result<&'s mut crate::state::Action, ApiError> {
    check_action_code(action_code)?;
    state
        .actions
        .get_mut(key)
        .filter(|a| a.user_id == user_id && a.action_code == action_code)
        .ok_or_else(|| ApiError::not_found("No such action for this user."))
}

pub(crate) fn get_action(
    state: &mut State,
    user_id: &str,
    action_code: &str,
    key: &str,
) -> ApiResult {
    Ok(find_action(state, user_id, action_code, key)?.get_json())
}

pub(crate) fn update_action(
    state: &mut State,
    user_id: &str,
    action_code: &str,
    key: &str,
    request: &ApiRequest<'_>,
) -> ApiResult {
    let now = state.clock.now_millis();
    let body = Body::parse(request.body)?;
    let new_state = body.req_str("state")?;
    body.opt_enum("state", ACTION_STATES)?;
    let action = find_action(state, user_id, action_code, key)?;
    action.set_state(UserActionState::from(new_state), now);
    // The docs answer with the whole action.
    Ok(action.get_json())
}

pub(crate) fn query_actions(state: &State, user_id: &str, request: &ApiRequest<'_>) -> ApiResult {
    let from = match request.query("fromDate") {
        None => None,
        Some(raw) => Some(parse_datetime(raw).ok_or_else(|| {
            ApiError::bad_request("`fromDate` must be an ISO-8601 date or date-time.")
        })?),
    };
    let codes: Option<Vec<&str>> = request.query("codes").map(|codes| {
        codes
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    });
    let wanted_state = request.query("state");
    if let Some(wanted) = wanted_state {
        if !ACTION_STATES.contains(&wanted) {
            return Err(ApiError::bad_request(format!(
                "`state` must be one of {}.",
                ACTION_STATES.join(", ")
            )));
        }
    }
    let mut actions: Vec<_> = state
        .actions
        .values()
        .filter(|a| a.user_id == user_id)
        .filter(|a| from.is_none_or(|from| a.created_at >= from))
        .filter(|a| {
            codes
                .as_ref()
                .is_none_or(|codes| codes.contains(&a.action_code.as_str()))
        })
        .filter(|a| wanted_state.is_none_or(|s| a.state.as_str() == s))
        .collect();
    actions.sort_by_key(|a| std::cmp::Reverse(a.seq));
    Ok(Value::Array(
        actions.iter().map(|a| a.query_item_json()).collect(),
    ))
}
