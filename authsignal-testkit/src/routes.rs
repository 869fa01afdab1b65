//! Routing and the endpoint handlers. Every handler takes the locked state
//! and returns either a JSON body (HTTP 200) or an [`ApiError`].

use serde_json::{Map, Value, json};

use crate::state::{
    ACTION_STATES, AUTHENTICATOR_CONFIGURATIONS, Authenticator, CHALLENGE_TTL_SECS, Call,
    Challenge, Device, MAX_VERIFY_ATTEMPTS, PaymentSession, State, TOKEN_TTL_MILLIS,
    is_success_state, new_idempotency_key,
};
use crate::util::{is_valid_action_code, now_millis, otp_code, parse_datetime, uuid_v4};

/// Every verification method name the fake accepts in bodies.
const KNOWN_METHODS: &[&str] = &[
    "SMS",
    "EMAIL_OTP",
    "EMAIL_MAGIC_LINK",
    "AUTHENTICATOR_APP",
    "PASSKEY",
    "SECURITY_KEY",
    "PUSH",
    "VERIFF",
    "IPROOV",
    "IDVERSE",
    "PALM_BIOMETRICS_RR",
    "RECOVERY_CODE",
    "DEVICE",
    "WHATSAPP",
];

/// Methods that `POST /users/{userId}/authenticators` can enrol.
const ENROLLABLE_METHODS: &[&str] = &[
    "SMS",
    "EMAIL_OTP",
    "EMAIL_MAGIC_LINK",
    "AUTHENTICATOR_APP",
    "PASSKEY",
    "WHATSAPP",
];

/// Methods that `POST /challenge` can start.
const CHALLENGE_METHODS: &[&str] = &["SMS", "EMAIL_OTP", "WHATSAPP"];

/// Largest batch accepted by `POST /users/authenticators`.
const MAX_BATCH: usize = 1000;

/// Default and maximum page size of `GET /users`.
const DEFAULT_USERS_LIMIT: usize = 100;
const MAX_USERS_LIMIT: usize = 1000;

/// The description of every 401.
pub(crate) const UNAUTHORIZED_DESCRIPTION: &str = "The request is unauthorized. Check that your API key and region base URL are correctly configured.";

/// An error response: status plus the `error`/`errorCode`/`errorDescription` body.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub description: String,
}

impl ApiError {
    pub(crate) fn bad_request(description: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "invalid_request",
            description: description.into(),
        }
    }

    pub(crate) fn not_found(description: impl Into<String>) -> Self {
        Self {
            status: 404,
            code: "not_found",
            description: description.into(),
        }
    }

    pub(crate) fn unauthorized() -> Self {
        Self {
            status: 401,
            code: "unauthorized",
            description: UNAUTHORIZED_DESCRIPTION.to_owned(),
        }
    }

    pub(crate) fn body(&self) -> Value {
        json!({
            "error": self.code,
            "errorCode": self.code,
            "errorDescription": self.description,
        })
    }
}

type ApiResult = Result<Value, ApiError>;

/// The service a request is addressed to; each has its own credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// The Server API under `/v1`, Basic auth with the API secret key.
    Api,
    /// Call Connect under `/call`, Basic auth with the Call Connect key.
    CallConnect,
    /// The Terminal API under `/v1/terminal`, `x-authsignal-terminal` with
    /// a terminal id the fake knows.
    Terminal,
}

/// A request that passed authentication, with its path split after the
/// service's prefix (`/v1` for the Server API).
#[derive(Debug)]
pub(crate) struct ApiRequest<'a> {
    pub service: Service,
    /// The calling terminal, for Terminal API requests.
    pub terminal_id: Option<String>,
    pub method: &'a str,
    /// Percent-decoded path segments after `/v1`.
    pub segments: Vec<String>,
    /// Form-decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl ApiRequest<'_> {
    /// The last value of a query parameter; an empty value counts as absent.
    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }
}

/// Routes `request` to its handler.
pub(crate) fn dispatch(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    match request.service {
        Service::Api => dispatch_api(state, request),
        Service::CallConnect => dispatch_call_connect(state, request),
        Service::Terminal => dispatch_terminal(state, request),
    }
}

/// Routes a Terminal API request (`/v1/terminal/…`).
fn dispatch_terminal(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    let terminal = request.terminal_id.as_deref().unwrap_or_default();
    match (request.method, segments.as_slice()) {
        ("POST", ["terminal", "payment-session"]) => {
            create_payment_session(state, terminal, request)
        }
        ("GET", ["terminal", "payment-session", id]) => get_payment_session(state, terminal, id),
        _ => Err(ApiError::not_found(format!(
            "No route for {} /v1/{}.",
            request.method,
            request.segments.join("/")
        ))),
    }
}

/// Routes a Call Connect request (`/call/…`).
fn dispatch_call_connect(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    match (request.method, segments.as_slice()) {
        ("POST", ["call", "start"]) => start_call(state, request),
        ("POST", ["call", "finish"]) => finish_call(state, request),
        _ => Err(ApiError::not_found(format!(
            "No route for {} /{}.",
            request.method,
            request.segments.join("/")
        ))),
    }
}

/// Routes a Server API request (`/v1/…`).
fn dispatch_api(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    match (request.method, segments.as_slice()) {
        ("GET", ["authenticators"]) => Ok(authenticator_configurations()),
        ("GET", ["users"]) => query_users(state, request),
        ("POST", ["users", "authenticators"]) => batch_enroll(state, request),
        ("GET", ["users", user_id]) => Ok(get_user(state, user_id)),
        ("PATCH" | "POST", ["users", user_id]) => update_user(state, user_id, request),
        ("DELETE", ["users", user_id]) => Ok(delete_user(state, user_id)),
        ("GET", ["users", user_id, "authenticators"]) => Ok(get_authenticators(state, user_id)),
        ("POST", ["users", user_id, "authenticators"]) => enroll(state, user_id, request),
        ("DELETE", ["users", user_id, "authenticators", id]) => {
            delete_authenticator(state, user_id, id)
        }
        ("GET", ["users", user_id, "devices"]) => Ok(get_devices(state, user_id)),
        ("PATCH", ["users", user_id, "devices", device_id]) => {
            update_device(state, user_id, device_id, request)
        }
        ("POST", ["users", user_id, "devices", device_id, "invalidate"]) => {
            invalidate_device(state, user_id, device_id)
        }
        ("GET", ["users", user_id, "actions"]) => query_actions(state, user_id, request),
        ("POST", ["users", user_id, "actions", action]) => track(state, user_id, action, request),
        ("GET", ["users", user_id, "actions", action, key]) => {
            get_action(state, user_id, action, key)
        }
        ("PATCH", ["users", user_id, "actions", action, key]) => {
            update_action(state, user_id, action, key, request)
        }
        ("POST", ["validate"]) => validate(state, request),
        ("POST", ["challenge"]) => challenge(state, request),
        ("POST", ["verify"]) => verify(state, request),
        ("POST", ["claim"]) => claim(state, request),
        ("GET" | "POST", ["challenges"]) => get_challenge(state, request),
        ("POST", ["sessions"]) => create_session(state, request),
        ("POST", ["sessions", "validate"]) => validate_session(state, request),
        ("POST", ["sessions", "refresh"]) => refresh_session(state, request),
        ("POST", ["sessions", "revoke"]) => revoke_session(state, request),
        ("POST", ["sessions", "user", "revoke"]) => revoke_user_sessions(state, request),
        _ => Err(ApiError::not_found(format!(
            "No route for {} /v1/{}.",
            request.method,
            request.segments.join("/")
        ))),
    }
}

// ---------------------------------------------------------------------------
// Request bodies

/// A JSON object body with typed, validating accessors. `null` reads as absent.
struct Body(Map<String, Value>);

impl Body {
    /// Parses a body; an empty body is `{}`.
    fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::bad_request(
                "The request body must be a JSON object.",
            )),
            Err(err) => Err(ApiError::bad_request(format!(
                "The request body is not valid JSON: {err}."
            ))),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    fn opt_str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::bad_request(format!("`{name}` must be a string."))),
        }
    }

    /// A required, non-empty string.
    fn req_str(&self, name: &str) -> Result<&str, ApiError> {
        match self.opt_str(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ApiError::bad_request(format!("`{name}` is required."))),
        }
    }

    fn opt_bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::bad_request(format!(
                "`{name}` must be a boolean."
            ))),
        }
    }

    fn opt_object(&self, name: &str) -> Result<Option<&Value>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(value @ Value::Object(_)) => Ok(Some(value)),
            Some(_) => Err(ApiError::bad_request(format!(
                "`{name}` must be an object."
            ))),
        }
    }

    fn opt_str_array(&self, name: &str) -> Result<Option<Vec<&str>>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let error = || ApiError::bad_request(format!("`{name}` must be an array of strings."));
        let items = value.as_array().ok_or_else(error)?;
        items
            .iter()
            .map(|item| item.as_str().ok_or_else(error))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A string field that must be one of `allowed` when present.
    fn opt_enum(&self, name: &str, allowed: &[&str]) -> Result<Option<&str>, ApiError> {
        match self.opt_str(name)? {
            Some(value) if !allowed.contains(&value) => Err(ApiError::bad_request(format!(
                "`{name}` must be one of {}.",
                allowed.join(", ")
            ))),
            other => Ok(other),
        }
    }

    /// Checks the types of optional string fields the fake otherwise ignores.
    fn check_strs(&self, names: &[&str]) -> Result<(), ApiError> {
        names
            .iter()
            .try_for_each(|name| self.opt_str(name).map(drop))
    }
}

fn check_action_code(code: &str) -> Result<(), ApiError> {
    if is_valid_action_code(code) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "The action code must match ^[a-zA-Z0-9_-]{1,64}$.",
        ))
    }
}

fn success() -> Value {
    json!({ "success": true })
}

// ---------------------------------------------------------------------------
// Users

fn get_user(state: &State, user_id: &str) -> Value {
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

fn update_user(state: &mut State, user_id: &str, request: &ApiRequest<'_>) -> ApiResult {
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
    set_str(
        &mut user.default_verification_method,
        "defaultVerificationMethod",
    );
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

fn delete_user(state: &mut State, user_id: &str) -> Value {
    state.users.remove(user_id);
    state.actions.retain(|_, action| action.user_id != user_id);
    state.close_user_sessions(user_id);
    success()
}

fn query_users(state: &State, request: &ApiRequest<'_>) -> ApiResult {
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

// ---------------------------------------------------------------------------
// Authenticators

/// The tenant's authenticator configurations (a fixed set).
fn authenticator_configurations() -> Value {
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

fn get_authenticators(state: &State, user_id: &str) -> Value {
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

fn enroll(state: &mut State, user_id: &str, request: &ApiRequest<'_>) -> ApiResult {
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
        _ => {}
    }
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
    Ok(json!({ "authenticator": authenticator.to_json(user_id) }))
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
        user.default_verification_method = Some(method.to_owned());
    }
    let duplicate = user.authenticators.iter().find(|a| {
        a.verification_method == method
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
        verification_method: method.to_owned(),
        phone_number: phone_number.map(str::to_owned),
        email: email.map(str::to_owned),
        credential_id: credential_id.or_else(|| (method == "PASSKEY").then(uuid_v4)),
        name,
        aaguid: None,
        created_at: now_millis(),
        last_verified_at: None,
        previous_sms_channel: None,
    };
    user.authenticators.push(authenticator.clone());
    authenticator
}

fn delete_authenticator(state: &mut State, user_id: &str, id: &str) -> ApiResult {
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

fn batch_enroll(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
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

fn batch_enroll_one(state: &mut State, item: &Value) -> Result<(), (&'static str, String)> {
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
            let user = state.user_mut(&user_id);
            user.authenticators.push(Authenticator {
                id: uuid_v4(),
                verification_method: method,
                phone_number: None,
                email: None,
                credential_id: Some(credential_id),
                name,
                aaguid,
                created_at: now_millis(),
                last_verified_at: None,
                previous_sms_channel: None,
            });
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------
// Devices

fn get_devices(state: &State, user_id: &str) -> Value {
    let devices = state
        .users
        .get(user_id)
        .map(|user| user.devices.values().map(|d| d.to_json(user_id)).collect())
        .unwrap_or_default();
    Value::Array(devices)
}

fn device_mut<'s>(
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

fn update_device(
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

fn invalidate_device(state: &mut State, user_id: &str, device_id: &str) -> ApiResult {
    let device = device_mut(state, user_id, device_id)?;
    device.invalidated_at = Some(now_millis());
    device.remembered_until = None;
    Ok(device.to_json(user_id))
}

// ---------------------------------------------------------------------------
// Actions

fn track(
    state: &mut State,
    user_id: &str,
    action_code: &str,
    request: &ApiRequest<'_>,
) -> ApiResult {
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
            .or_insert_with(|| Device::new(device_id));
    }
    let outcome = state.outcome_for(action_code, user_id);
    let key = idempotency_key
        .map(str::to_owned)
        .unwrap_or_else(new_idempotency_key);
    let key = state.insert_action(
        user_id,
        action_code,
        key,
        outcome.as_str(),
        device_id.map(str::to_owned),
        true,
    );
    if let Some(action) = state.actions.get_mut(&key) {
        action.ip_address = body.opt_str("ipAddress")?.map(str::to_owned);
        action.user_agent = body.opt_str("userAgent")?.map(str::to_owned);
    }
    Ok(track_response(state, &key))
}

fn track_response(state: &State, key: &str) -> Value {
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
fn find_action<'s>(
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

fn get_action(state: &mut State, user_id: &str, action_code: &str, key: &str) -> ApiResult {
    Ok(find_action(state, user_id, action_code, key)?.get_json())
}

fn update_action(
    state: &mut State,
    user_id: &str,
    action_code: &str,
    key: &str,
    request: &ApiRequest<'_>,
) -> ApiResult {
    let body = Body::parse(request.body)?;
    let new_state = body.req_str("state")?;
    body.opt_enum("state", ACTION_STATES)?;
    let action = find_action(state, user_id, action_code, key)?;
    action.set_state(new_state);
    // The docs answer with the whole action.
    Ok(action.get_json())
}

fn query_actions(state: &State, user_id: &str, request: &ApiRequest<'_>) -> ApiResult {
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
        .filter(|a| wanted_state.is_none_or(|s| a.state == s))
        .collect();
    actions.sort_by_key(|a| std::cmp::Reverse(a.seq));
    Ok(Value::Array(
        actions.iter().map(|a| a.query_item_json()).collect(),
    ))
}

// ---------------------------------------------------------------------------
// Validate

fn invalid_token(reason: &str) -> Value {
    json!({ "isValid": false, "error": reason })
}

fn validate(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let token = body.req_str("token")?;
    let user_id = body.opt_str("userId")?;
    let action_code = body.opt_str("action")?;

    let Some(info) = state.tokens.get(token).cloned() else {
        return Ok(invalid_token("The token is invalid."));
    };
    if info.expired || now_millis() - info.issued_at > TOKEN_TTL_MILLIS {
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

// ---------------------------------------------------------------------------
// Challenges

fn challenge(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
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
        if method.is_some_and(|m| m != challenge.verification_method)
            || action_code.is_some_and(|a| a != challenge.action_code)
        {
            return Err(ApiError::bad_request(
                "`verificationMethod` and `action` must match the challenge being re-sent.",
            ));
        }
        challenge.code = otp_code();
        challenge.attempts = 0;
        challenge.expires_at = now_millis() / 1000 + CHALLENGE_TTL_SECS;
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
            if action.state == "BLOCK" {
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
                    "CHALLENGE_REQUIRED",
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
                    .find(|a| a.verification_method == method)
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
    let expires_at = now_millis() / 1000 + CHALLENGE_TTL_SECS;
    state.challenges.insert(
        challenge_id.clone(),
        Challenge {
            challenge_id: challenge_id.clone(),
            verification_method: method.to_owned(),
            action_code: action_code.to_owned(),
            idempotency_key: key.clone(),
            user_id,
            email,
            phone_number,
            sms_channel: sms_channel.map(str::to_owned),
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

fn verify_failure(reason: &str) -> Value {
    json!({ "isVerified": false, "failureReason": reason })
}

fn verify(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let challenge_id = body.req_str("challengeId")?;
    let code = body.req_str("verificationCode")?;
    let Some(challenge) = state.challenges.get_mut(challenge_id) else {
        return Ok(verify_failure("CODE_INVALID_OR_EXPIRED"));
    };
    if challenge.attempts >= MAX_VERIFY_ATTEMPTS {
        return Ok(verify_failure("MAX_ATTEMPTS_EXCEEDED"));
    }
    if challenge.verified || challenge.claimed || now_millis() / 1000 > challenge.expires_at {
        return Ok(verify_failure("CODE_INVALID_OR_EXPIRED"));
    }
    if challenge.code != code {
        challenge.attempts += 1;
        if challenge.attempts >= MAX_VERIFY_ATTEMPTS {
            let key = challenge.idempotency_key.clone();
            if let Some(action) = state.actions.get_mut(&key) {
                action.set_state("CHALLENGE_FAILED");
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
fn mark_action_succeeded(state: &mut State, challenge: &Challenge) {
    let Some(action) = state.actions.get_mut(&challenge.idempotency_key) else {
        return;
    };
    action.set_state("CHALLENGE_SUCCEEDED");
    action.verification_method = Some(challenge.verification_method.clone());
    let user_id = action.user_id.clone();
    let device_id = action.device_id.clone();
    let now = now_millis();
    let mut authenticator_id = None;
    if let Some(user) = state.users.get_mut(&user_id) {
        if let Some(authenticator) = user.authenticators.iter_mut().find(|a| {
            a.verification_method == challenge.verification_method
                && (a.email.is_some() && a.email == challenge.email
                    || a.phone_number.is_some() && a.phone_number == challenge.phone_number)
        }) {
            authenticator.last_verified_at = Some(now);
            if authenticator.verification_method == "SMS" {
                let channel = challenge.sms_channel.as_deref().unwrap_or("DEFAULT");
                authenticator.previous_sms_channel = Some(channel.to_owned());
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

fn claim(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
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
            "CHALLENGE_REQUIRED",
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

fn get_challenge(state: &State, request: &ApiRequest<'_>) -> ApiResult {
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
        .filter(|c| method.as_ref().is_none_or(|m| &c.verification_method == m))
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
    for (key, value) in [
        ("smsChannel", &found.sms_channel),
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

// ---------------------------------------------------------------------------
// Sessions

fn create_session(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let client_id = body.req_str("clientId")?;
    let token = body.req_str("token")?;
    let action_code = body.opt_str("action")?;
    let bad_token =
        || ApiError::bad_request("The token is invalid, expired or has already been exchanged.");
    let info = state.tokens.get(token).cloned().ok_or_else(bad_token)?;
    if info.expired || info.exchanged || now_millis() - info.issued_at > TOKEN_TTL_MILLIS {
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

fn validate_session(state: &State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let access_token = body.req_str("accessToken")?;
    let client_ids = body.opt_str_array("clientIds")?;
    let session = state
        .sessions
        .get(access_token)
        .filter(|s| now_millis() / 1000 < s.expires_at)
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

fn refresh_session(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
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

fn revoke_session(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let access_token = body.req_str("accessToken")?;
    state.close_session(access_token);
    Ok(success())
}

fn revoke_user_sessions(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
    let body = Body::parse(request.body)?;
    let user_id = body.req_str("userId")?;
    state.close_user_sessions(user_id);
    Ok(success())
}

// ---------------------------------------------------------------------------
// Call Connect

/// The channels `POST /call/start` can send on.
const CALL_CHANNELS: &[&str] = &["SMS", "WHATSAPP", "EMAIL"];

fn start_call(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
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

fn finish_call(state: &mut State, request: &ApiRequest<'_>) -> ApiResult {
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
    call.outcome = Some(outcome.to_owned());
    Ok(success())
}

// ---------------------------------------------------------------------------
// Terminal API

fn payment_session_json(challenge_id: &str, session: &PaymentSession) -> Value {
    let mut map = Map::new();
    map.insert("challengeId".into(), json!(challenge_id));
    map.insert("status".into(), json!(session.status));
    if let Some(reference) = &session.reference {
        map.insert("reference".into(), json!(reference));
    }
    Value::Object(map)
}

fn create_payment_session(
    state: &mut State,
    terminal: &str,
    request: &ApiRequest<'_>,
) -> ApiResult {
    let body = Body::parse(request.body)?;
    body.check_strs(&["reference", "currency"])?;
    match body.get("amount") {
        None | Some(Value::Number(_)) => {}
        Some(_) => return Err(ApiError::bad_request("`amount` must be a number.")),
    }
    let session = PaymentSession {
        terminal_id: terminal.to_owned(),
        reference: body.opt_str("reference")?.map(str::to_owned),
        status: "PENDING".to_owned(),
    };
    let challenge_id = uuid_v4();
    let response = payment_session_json(&challenge_id, &session);
    state.payment_sessions.insert(challenge_id, session);
    Ok(response)
}

fn get_payment_session(state: &State, terminal: &str, challenge_id: &str) -> ApiResult {
    state
        .payment_sessions
        .get(challenge_id)
        .filter(|session| session.terminal_id == terminal)
        .map(|session| payment_session_json(challenge_id, session))
        .ok_or_else(|| ApiError::not_found("This terminal has no such payment session."))
}
