//! Routing and the endpoint handlers, one file per group as in
//! `authsignal-core/src/api/`. Every handler takes the locked state and
//! returns either a JSON body (HTTP 200) or an [`ApiError`].

mod actions;
mod authenticators;
mod call_connect;
mod challenges;
mod devices;
mod sessions;
mod terminal;
mod users;

pub(crate) use self::authenticators::add_authenticator;
use self::{
    actions::*, authenticators::*, call_connect::*, challenges::*, devices::*, sessions::*,
    terminal::*, users::*,
};

use authsignal_core::{
    CallState, PaymentSessionStatus, SmsChannel, UserActionState, VerificationMethod,
};
use serde_json::{Map, Value, json};

use crate::clock::parse_datetime;
use crate::random::{otp_code, random_hex, uuid_v4};
use crate::state::{
    ACTION_STATES, AUTHENTICATOR_CONFIGURATIONS, Authenticator, CHALLENGE_TTL_SECS, Call,
    Challenge, Device, MAX_VERIFY_ATTEMPTS, PaymentSession, RECOVERY_CODES, State,
    TOKEN_TTL_MILLIS, is_success_state, new_idempotency_key,
};

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

/// Whether `code` is a valid action code: `^[a-zA-Z0-9_-]{1,64}$`.
pub(crate) fn is_valid_action_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_codes() {
        assert!(is_valid_action_code("signIn"));
        assert!(is_valid_action_code("a-b_C9"));
        assert!(!is_valid_action_code(""));
        assert!(!is_valid_action_code("sign in"));
        assert!(!is_valid_action_code(&"a".repeat(65)));
    }
}
