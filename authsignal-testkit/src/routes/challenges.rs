//! Challenges (`/challenge`, `/verify`, `/claim`, `/challenges`) and `/validate`.

use super::*;

pub(crate) fn invalid_token(reason: &str) -> Value {
    json!({ "isValid": false, "error": reason })
}

pub(crate) fn validate(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let token = body.req_str("token")?;
    let user_id = body.opt_str("userId")?;
    let action_code = body.opt_str("action")?;

    let Some(info) = state.tokens.get(token).cloned() else {
        return Ok(invalid_token("The token is invalid."));
    };
    if info.expired || state.clock.now_millis() - info.issued_at > TOKEN_TTL_MILLIS {
        return Ok(invalid_token("The token has expired."));
    }
    let Some(action) = state.actions.get(&info.idempotency_key) else {
        return Ok(invalid_token("The token is invalid."));
    };
    if user_id.is_some_and(|id| id != action.user_id) {
        return Ok(invalid_token("The token was not issued for this userId."));
    }
    if action_code.is_some_and(|code| code != action.action_code) {
        return Ok(invalid_token("The token was not issued for this action."));
    }
    if info.validated {
        let mut map = action.validate_json(false);
        map.insert("error".into(), json!("The token has already been used."));
        return Ok(Value::Object(map));
    }
    let is_valid = is_success_state(&action.state);
    let response = Value::Object(action.validate_json(is_valid));
    if is_valid {
        if let Some(info) = state.tokens.get_mut(token) {
            info.validated = true;
        }
    }
    Ok(response)
}

pub(crate) fn challenge(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let challenge_id = body.opt_str("challengeId")?.filter(|c| !c.is_empty());
    // A resend needs only the challenge; a new challenge needs both.
    let method = match challenge_id {
        Some(_) => body.opt_str("verificationMethod")?,
        None => Some(body.req_str("verificationMethod")?),
    };
    if let Some(method) = method {
        if !CHALLENGE_METHODS.contains(&method) {
            return Err(ApiError::bad_request(format!(
                "`verificationMethod` must be one of {}.",
                CHALLENGE_METHODS.join(", ")
            )));
        }
    }
    let action_code = match challenge_id {
        Some(_) => body.opt_str("action")?,
        None => Some(body.req_str("action")?),
    };
    if let Some(action_code) = action_code {
        check_action_code(action_code)?;
    }
    body.check_strs(&["locale", "deviceId", "ipAddress", "userAgent", "scope"])?;
    body.opt_object("custom")?;
    let sms_channel = body.opt_str("smsChannel")?;
    let user_id = body.opt_str("userId")?.filter(|u| !u.is_empty());
    let email = body.opt_str("email")?.filter(|e| !e.is_empty());
    let phone_number = body.opt_str("phoneNumber")?.filter(|p| !p.is_empty());
    let idempotency_key = body.opt_str("idempotencyKey")?.filter(|k| !k.is_empty());

    // Resend: a fresh code for an open challenge, to the same destination.
    if let Some(challenge_id) = challenge_id {
        let challenge = state
            .challenges
            .get_mut(challenge_id)
            .filter(|c| !c.verified && !c.claimed)
            .ok_or_else(|| ApiError::bad_request("`challengeId` is not an open challenge."))?;
        if method.is_some_and(|m| m != challenge.verification_method.as_str())
            || action_code.is_some_and(|a| a != challenge.action_code)
        {
            return Err(ApiError::bad_request(
                "`verificationMethod` and `action` must match the challenge being re-sent.",
            ));
        }
        challenge.code = otp_code();
        challenge.attempts = 0;
        challenge.expires_at = state.clock.now_millis() / 1000 + CHALLENGE_TTL_SECS;
        let response = json!({
            "challengeId": challenge.challenge_id,
            "idempotencyKey": challenge.idempotency_key,
            "expiresAt": challenge.expires_at,
        });
        state.last_challenge_id = Some(challenge_id.to_owned());
        return Ok(response);
    }

    // Both are required without a `challengeId` (checked above).
    let (Some(method), Some(action_code)) = (method, action_code) else {
        return Err(ApiError::bad_request(
            "`verificationMethod` and `action` are required.",
        ));
    };

    // Link to a tracked action, or start a new one.
    let mut user_id = user_id.map(str::to_owned);
    let key = match idempotency_key {
        Some(key) => {
            let action = state
                .actions
                .get(key)
                .filter(|a| a.action_code == action_code)
                .filter(|a| user_id.as_deref().is_none_or(|u| u == a.user_id))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "`idempotencyKey` does not match a tracked action with this action code and userId.",
                    )
                })?;
            if action.state == UserActionState::Block {
                return Err(ApiError::bad_request("The action is blocked."));
            }
            user_id = Some(action.user_id.clone());
            key.to_owned()
        }
        None => {
            let key = new_idempotency_key();
            if let Some(user_id) = &user_id {
                state.user_mut(user_id);
                state.insert_action(
                    user_id,
                    action_code,
                    key.clone(),
                    UserActionState::ChallengeRequired,
                    None,
                    false,
                );
            }
            key
        }
    };

    // Where the code goes: the body, else what the user has on file.
    let user = user_id.as_deref().and_then(|u| state.users.get(u));
    let (email, phone_number) = match method {
        "EMAIL_OTP" => {
            let email = email
                .map(str::to_owned)
                .or_else(|| user.and_then(|u| u.email.clone()))
                .ok_or_else(|| ApiError::bad_request("`email` is required for EMAIL_OTP."))?;
            (Some(email), None)
        }
        _ => {
            let on_file = user.and_then(|u| {
                u.authenticators
                    .iter()
                    .find(|a| a.verification_method.as_str() == method)
                    .and_then(|a| a.phone_number.clone())
                    .or_else(|| u.phone_number.clone())
            });
            let phone = phone_number.map(str::to_owned).or(on_file).ok_or_else(|| {
                ApiError::bad_request(format!("`phoneNumber` is required for {method}."))
            })?;
            (None, Some(phone))
        }
    };

    let challenge_id = uuid_v4();
    let seq = state.next_seq();
    let expires_at = state.clock.now_millis() / 1000 + CHALLENGE_TTL_SECS;
    state.challenges.insert(
        challenge_id.clone(),
        Challenge {
            challenge_id: challenge_id.clone(),
            verification_method: VerificationMethod::from(method),
            action_code: action_code.to_owned(),
            idempotency_key: key.clone(),
            user_id,
            email,
            phone_number,
            sms_channel: sms_channel.map(SmsChannel::from),
            code: otp_code(),
            attempts: 0,
            expires_at,
            verified: false,
            claimed: false,
            seq,
        },
    );
    state.last_challenge_id = Some(challenge_id.clone());
    Ok(json!({
        "challengeId": challenge_id,
        "idempotencyKey": key,
        "expiresAt": expires_at,
    }))
}

pub(crate) fn verify_failure(reason: &str) -> Value {
    json!({ "isVerified": false, "failureReason": reason })
}

pub(crate) fn verify(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let now = state.clock.now_millis();
    let body = Body::parse(request.body)?;
    let challenge_id = body.req_str("challengeId")?;
    let code = body.req_str("verificationCode")?;
    let Some(challenge) = state.challenges.get_mut(challenge_id) else {
        return Ok(verify_failure("CODE_INVALID_OR_EXPIRED"));
    };
    if challenge.attempts >= MAX_VERIFY_ATTEMPTS {
        return Ok(verify_failure("MAX_ATTEMPTS_EXCEEDED"));
    }
    if challenge.verified || challenge.claimed || now / 1000 > challenge.expires_at {
        return Ok(verify_failure("CODE_INVALID_OR_EXPIRED"));
    }
    if challenge.code != code {
        challenge.attempts += 1;
        if challenge.attempts >= MAX_VERIFY_ATTEMPTS {
            let key = challenge.idempotency_key.clone();
            if let Some(action) = state.actions.get_mut(&key) {
                action.set_state(UserActionState::ChallengeFailed, now);
            }
        }
        return Ok(verify_failure("CODE_INVALID_OR_EXPIRED"));
    }
    challenge.verified = true;
    let challenge = challenge.clone();
    mark_action_succeeded(state, &challenge);

    let mut map = Map::new();
    map.insert("isVerified".into(), json!(true));
    map.insert(
        "verificationMethod".into(),
        json!(challenge.verification_method),
    );
    if let Some(email) = &challenge.email {
        map.insert("email".into(), json!(email));
    }
    if let Some(phone) = &challenge.phone_number {
        map.insert("phoneNumber".into(), json!(phone));
    }
    Ok(Value::Object(map))
}

/// Moves the challenge's action (if it exists) to `CHALLENGE_SUCCEEDED`
/// and records the verification on the matching authenticator and device.
pub(crate) fn mark_action_succeeded(state: &mut State, challenge: &Challenge) {
    let now = state.clock.now_millis();
    let Some(action) = state.actions.get_mut(&challenge.idempotency_key) else {
        return;
    };
    action.set_state(UserActionState::ChallengeSucceeded, now);
    action.verification_method = Some(challenge.verification_method.clone());
    let user_id = action.user_id.clone();
    let device_id = action.device_id.clone();
    let mut authenticator_id = None;
    if let Some(user) = state.users.get_mut(&user_id) {
        if let Some(authenticator) = user.authenticators.iter_mut().find(|a| {
            a.verification_method == challenge.verification_method
                && (a.email.is_some() && a.email == challenge.email
                    || a.phone_number.is_some() && a.phone_number == challenge.phone_number)
        }) {
            authenticator.last_verified_at = Some(now);
            if authenticator.verification_method == VerificationMethod::Sms {
                let channel = challenge.sms_channel.clone().unwrap_or(SmsChannel::Default);
                authenticator.previous_sms_channel = Some(channel);
            }
            authenticator_id = Some(authenticator.id.clone());
        }
        if let Some(device) = device_id.and_then(|d| user.devices.get_mut(&d)) {
            device.authenticated_at = Some(now);
            device.last_verification_method = Some(challenge.verification_method.clone());
        }
    }
    if let Some(action) = state.actions.get_mut(&challenge.idempotency_key) {
        action.verified_by_authenticator_id = authenticator_id;
    }
}

pub(crate) fn claim(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let challenge_id = body.req_str("challengeId")?;
    let user_id = body.req_str("userId")?;
    let skip_verification = body.opt_bool("skipVerificationCheck")?.unwrap_or(false);

    let challenge = state
        .challenges
        .get(challenge_id)
        .cloned()
        .ok_or_else(|| ApiError::bad_request("`challengeId` does not match a challenge."))?;
    if challenge.claimed {
        return Err(ApiError::bad_request(
            "The challenge has already been claimed.",
        ));
    }
    if !challenge.verified && !skip_verification {
        return Err(ApiError::bad_request(
            "The challenge has not been verified.",
        ));
    }
    if challenge.user_id.as_deref().is_some_and(|u| u != user_id) {
        return Err(ApiError::bad_request(
            "The challenge was started for a different userId.",
        ));
    }
    if let Some(action) = state.actions.get(&challenge.idempotency_key) {
        if action.user_id != user_id {
            return Err(ApiError::bad_request(
                "The challenge's action belongs to a different userId.",
            ));
        }
    }

    let user = state.user_mut(user_id);
    if let Some(email) = &challenge.email {
        user.email = Some(email.clone());
        user.email_verified = true;
    }
    if let Some(phone) = &challenge.phone_number {
        user.phone_number = Some(phone.clone());
        user.phone_number_verified = true;
    }
    if !state.actions.contains_key(&challenge.idempotency_key) {
        state.insert_action(
            user_id,
            &challenge.action_code,
            challenge.idempotency_key.clone(),
            UserActionState::ChallengeRequired,
            None,
            false,
        );
    }
    mark_action_succeeded(state, &challenge);
    if let Some(stored) = state.challenges.get_mut(challenge_id) {
        stored.claimed = true;
    }
    let token = state.issue_token(&challenge.idempotency_key);
    Ok(json!({
        "token": token,
        "verificationMethod": challenge.verification_method,
    }))
}

pub(crate) fn get_challenge(state: &State, request: &ApiRequest<'_>) -> ApiResult {
    // POST /challenges (the .NET/Java variant) may carry the filters in a body.
    let body = if request.method == "POST" {
        Body::parse(request.body)?
    } else {
        Body(Map::new())
    };
    let filter = |name: &str| -> Result<Option<String>, ApiError> {
        Ok(request.query(name).map(str::to_owned).or(body
            .opt_str(name)?
            .filter(|v| !v.is_empty())
            .map(str::to_owned)))
    };
    let challenge_id = filter("challengeId")?;
    let user_id = filter("userId")?;
    let action_code = filter("action")?;
    let method = filter("verificationMethod")?;
    let found = state
        .challenges
        .values()
        .filter(|c| challenge_id.as_ref().is_none_or(|id| &c.challenge_id == id))
        .filter(|c| {
            user_id
                .as_ref()
                .is_none_or(|u| c.user_id.as_ref() == Some(u))
        })
        .filter(|c| action_code.as_ref().is_none_or(|a| &c.action_code == a))
        .filter(|c| {
            method
                .as_ref()
                .is_none_or(|m| c.verification_method.as_str() == m)
        })
        .max_by_key(|c| c.seq)
        .ok_or_else(|| ApiError::not_found("No challenge matches."))?;
    let mut map = Map::new();
    map.insert("challengeId".into(), json!(found.challenge_id));
    map.insert("expiresAt".into(), json!(found.expires_at));
    map.insert(
        "verificationMethod".into(),
        json!(found.verification_method),
    );
    map.insert("action".into(), json!(found.action_code));
    if let Some(channel) = &found.sms_channel {
        map.insert("smsChannel".into(), json!(channel));
    }
    for (key, value) in [
        ("phoneNumber", &found.phone_number),
        ("email", &found.email),
        ("userId", &found.user_id),
    ] {
        if let Some(value) = value {
            map.insert(key.into(), json!(value));
        }
    }
    Ok(Value::Object(map))
}
