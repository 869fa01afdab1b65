//! Tenant authenticator configurations and user authenticators (enrol, list, delete, batch).

use super::*;

/// The tenant's authenticator configurations (a fixed set).
pub(crate) fn authenticator_configurations() -> Value {
    Value::Array(
        AUTHENTICATOR_CONFIGURATIONS
            .iter()
            .map(|(id, method, active, sms_channel)| {
                let mut map = Map::new();
                map.insert("authenticatorId".into(), json!(id));
                map.insert("verificationMethod".into(), json!(method));
                map.insert("isActive".into(), json!(active));
                map.insert("isEditableByUser".into(), json!(true));
                map.insert("isHiddenToUser".into(), json!(!active));
                if let Some(channel) = sms_channel {
                    map.insert("smsChannel".into(), json!(channel));
                }
                Value::Object(map)
            })
            .collect(),
    )
}

pub(crate) fn get_authenticators(state: &State, user_id: &str) -> Value {
    let authenticators = state
        .users
        .get(user_id)
        .map(|user| {
            user.authenticators
                .iter()
                .map(|a| a.to_json(user_id))
                .collect()
        })
        .unwrap_or_default();
    Value::Array(authenticators)
}

pub(crate) fn enroll(state: &mut State, user_id: &str, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let method = body.req_str("verificationMethod")?;
    if !ENROLLABLE_METHODS.contains(&method) {
        return Err(ApiError::bad_request(format!(
            "`verificationMethod` must be one of {}.",
            ENROLLABLE_METHODS.join(", ")
        )));
    }
    body.check_strs(&["otpUri", "name", "credentialPublicKey", "aaguid"])?;
    // Deprecated, still accepted.
    body.opt_enum("oobChannel", &["EMAIL_MAGIC_LINK", "EMAIL_OTP", "SMS"])?;
    let is_default = body.opt_bool("isDefault")?.unwrap_or(false);
    let phone_number = body.opt_str("phoneNumber")?;
    let email = body.opt_str("email")?;
    let credential_id = body.opt_str("credentialId")?;
    match method {
        "PASSKEY"
            if credential_id.is_none_or(str::is_empty)
                || body
                    .opt_str("credentialPublicKey")?
                    .is_none_or(str::is_empty) =>
        {
            return Err(ApiError::bad_request(
                "`credentialId` and `credentialPublicKey` are required for PASSKEY.",
            ));
        }
        "SMS" | "WHATSAPP" if phone_number.is_none_or(str::is_empty) => {
            return Err(ApiError::bad_request(format!(
                "`phoneNumber` is required for {method}."
            )));
        }
        "EMAIL_OTP" | "EMAIL_MAGIC_LINK" if email.is_none_or(str::is_empty) => {
            return Err(ApiError::bad_request(format!(
                "`email` is required for {method}."
            )));
        }
        "AUTHENTICATOR_APP" if body.opt_str("otpUri")?.is_none_or(str::is_empty) => {
            return Err(ApiError::bad_request(
                "`otpUri` is required for AUTHENTICATOR_APP.",
            ));
        }
        _ => {}
    }
    let first = state
        .users
        .get(user_id)
        .is_none_or(|u| u.authenticators.is_empty());
    let (phone_number, email) = match method {
        "SMS" | "WHATSAPP" => (phone_number, None),
        "EMAIL_OTP" | "EMAIL_MAGIC_LINK" => (None, email),
        _ => (None, None),
    };
    let authenticator = add_authenticator(
        state,
        user_id,
        method,
        phone_number,
        email,
        credential_id.map(str::to_owned),
        body.opt_str("name")?.map(str::to_owned),
        is_default,
    );
    let mut response = json!({ "authenticator": authenticator.to_json(user_id) });
    if first {
        // Like a tenant with recovery codes on: only the first enrolment.
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| format!("{}-{}", random_hex(2), random_hex(2)))
            .collect();
        response["recoveryCodes"] = json!(codes);
    }
    Ok(response)
}

/// Enrols an authenticator (or returns the identical one already enrolled)
/// and keeps the user's contact attributes in step.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_authenticator(
    state: &mut State,
    user_id: &str,
    method: &str,
    phone_number: Option<&str>,
    email: Option<&str>,
    credential_id: Option<String>,
    name: Option<String>,
    is_default: bool,
) -> Authenticator {
    let now = state.clock.now_millis();
    let user = state.user_mut(user_id);
    if let Some(phone) = phone_number {
        if user.phone_number.is_none() || user.phone_number.as_deref() == Some(phone) {
            user.phone_number = Some(phone.to_owned());
            user.phone_number_verified = true;
        }
    }
    if let Some(address) = email {
        if user.email.is_none() || user.email.as_deref() == Some(address) {
            user.email = Some(address.to_owned());
            user.email_verified = true;
        }
    }
    if is_default {
        user.default_verification_method = Some(VerificationMethod::from(method));
    }
    let duplicate = user.authenticators.iter().find(|a| {
        a.verification_method.as_str() == method
            && match method {
                "SMS" | "WHATSAPP" => a.phone_number.as_deref() == phone_number,
                "EMAIL_OTP" | "EMAIL_MAGIC_LINK" => a.email.as_deref() == email,
                _ => credential_id.is_some() && a.credential_id == credential_id,
            }
    });
    if let Some(existing) = duplicate {
        return existing.clone();
    }
    let authenticator = Authenticator {
        id: uuid_v4(),
        verification_method: VerificationMethod::from(method),
        phone_number: phone_number.map(str::to_owned),
        email: email.map(str::to_owned),
        credential_id: credential_id.or_else(|| (method == "PASSKEY").then(uuid_v4)),
        name,
        aaguid: None,
        created_at: now,
        last_verified_at: None,
        previous_sms_channel: None,
    };
    user.authenticators.push(authenticator.clone());
    authenticator
}

pub(crate) fn delete_authenticator(state: &mut State, user_id: &str, id: &str) -> ApiResult {
    let user = state
        .users
        .get_mut(user_id)
        .ok_or_else(|| ApiError::not_found("The user has no such authenticator."))?;
    let before = user.authenticators.len();
    user.authenticators.retain(|a| a.id != id);
    if user.authenticators.len() == before {
        return Err(ApiError::not_found("The user has no such authenticator."));
    }
    Ok(success())
}

pub(crate) fn batch_enroll(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let items = body
        .get("authenticators")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("`authenticators` must be an array."))?;
    if items.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "`authenticators` may hold at most {MAX_BATCH} items."
        )));
    }
    let mut failures = Vec::new();
    for item in items {
        if let Err((code, description)) = batch_enroll_one(state, item) {
            let field = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or("");
            failures.push(json!({
                "userId": field("userId"),
                "credentialId": field("credentialId"),
                "errorCode": code,
                "errorDescription": description,
            }));
        }
    }
    Ok(json!({
        "total": items.len(),
        "succeeded": items.len() - failures.len(),
        "failed": failures.len(),
        "failures": failures,
    }))
}

pub(crate) fn batch_enroll_one(
    state: &mut State,
    item: &Value,
) -> Result<(), (&'static str, String)> {
    let invalid = |description: String| ("invalid_request", description);
    let Value::Object(map) = item else {
        return Err(invalid("Each authenticator must be an object.".into()));
    };
    let fields = Body(map.clone());
    let required = |name: &str| {
        fields
            .req_str(name)
            .map(str::to_owned)
            .map_err(|e| invalid(e.description))
    };
    let user_id = required("userId")?;
    let method = required("verificationMethod")?;
    let credential_id = required("credentialId")?;
    required("credentialPublicKey")?;
    if !matches!(method.as_str(), "PASSKEY" | "SECURITY_KEY") {
        return Err(invalid(
            "`verificationMethod` must be PASSKEY or SECURITY_KEY.".into(),
        ));
    }
    let name = fields
        .opt_str("name")
        .map_err(|e| invalid(e.description))?
        .map(str::to_owned);
    let aaguid = fields
        .opt_str("aaguid")
        .map_err(|e| invalid(e.description))?
        .map(str::to_owned);
    fields
        .opt_str_array("transports")
        .map_err(|e| invalid(e.description))?;
    let owner = state.users.values().find(|user| {
        user.authenticators
            .iter()
            .any(|a| a.credential_id.as_deref() == Some(credential_id.as_str()))
    });
    match owner {
        Some(owner) if owner.user_id != user_id => Err((
            "conflict",
            "Credential already exists for a different user.".into(),
        )),
        Some(_) => Ok(()),
        None => {
            let now = state.clock.now_millis();
            let user = state.user_mut(&user_id);
            user.authenticators.push(Authenticator {
                id: uuid_v4(),
                verification_method: VerificationMethod::from(method),
                phone_number: None,
                email: None,
                credential_id: Some(credential_id),
                name,
                aaguid,
                created_at: now,
                last_verified_at: None,
                previous_sms_channel: None,
            });
            Ok(())
        }
    }
}
