//! The fake's in-memory state and how it renders as wire JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use authsignal_core::{
    CallState, PaymentSessionStatus, SmsChannel, UserActionState, VerificationMethod,
};

use crate::RecordedRequest;
use crate::clock::{Clock, format_millis};
use crate::random::{random_hex, uuid_v4};

/// How long a track or claim token stays valid (10 minutes).
pub(crate) const TOKEN_TTL_MILLIS: i64 = 10 * 60 * 1000;
/// How long an OTP challenge stays open (5 minutes).
pub(crate) const CHALLENGE_TTL_SECS: i64 = 5 * 60;
/// How long a session access token is valid (1 hour).
pub(crate) const ACCESS_TOKEN_TTL_SECS: i64 = 60 * 60;
/// The `countryCode` of every action tracked with an `ipAddress`.
pub(crate) const FAKE_COUNTRY_CODE: &str = "NZ";
/// How many recovery codes the first enrolment hands out.
pub(crate) const RECOVERY_CODES: usize = 10;
/// Wrong codes accepted before a challenge locks.
pub(crate) const MAX_VERIFY_ATTEMPTS: u32 = 3;

/// The verification methods the fake tenant allows
/// (`allowedVerificationMethods`).
pub(crate) const ALLOWED_METHODS: &[&str] = &[
    "PASSKEY",
    "AUTHENTICATOR_APP",
    "SMS",
    "EMAIL_OTP",
    "EMAIL_MAGIC_LINK",
    "WHATSAPP",
];

/// The tenant's authenticator configurations for `GET /authenticators`:
/// `(authenticatorId, verificationMethod, isActive, smsChannel)`.
pub(crate) const AUTHENTICATOR_CONFIGURATIONS: &[(&str, &str, bool, Option<&str>)] = &[
    ("fake-config-sms", "SMS", true, Some("WHATSAPP")),
    ("fake-config-email-otp", "EMAIL_OTP", true, None),
    (
        "fake-config-email-magic-link",
        "EMAIL_MAGIC_LINK",
        true,
        None,
    ),
    (
        "fake-config-authenticator-app",
        "AUTHENTICATOR_APP",
        true,
        None,
    ),
    ("fake-config-passkey", "PASSKEY", true, None),
    ("fake-config-security-key", "SECURITY_KEY", false, None),
];

/// Every `UserActionState`.
pub(crate) const ACTION_STATES: &[&str] = &[
    "ALLOW",
    "BLOCK",
    "CHALLENGE_REQUIRED",
    "CHALLENGE_SUCCEEDED",
    "CHALLENGE_FAILED",
    "REVIEW_REQUIRED",
    "REVIEW_SUCCEEDED",
    "REVIEW_FAILED",
];

/// The action states for which a token validates (`isValid: true`).
pub(crate) fn is_success_state(state: &UserActionState) -> bool {
    matches!(
        state,
        UserActionState::Allow
            | UserActionState::ChallengeSucceeded
            | UserActionState::ReviewSucceeded
    )
}

#[derive(Debug, Default)]
pub(crate) struct State {
    /// The fake's clock, shared with its handle.
    pub clock: Clock,
    pub users: BTreeMap<String, User>,
    /// Actions by idempotency key.
    pub actions: HashMap<String, Action>,
    /// Track and claim tokens.
    pub tokens: HashMap<String, TokenInfo>,
    pub challenges: HashMap<String, Challenge>,
    pub last_challenge_id: Option<String>,
    /// Sessions by access token.
    pub sessions: HashMap<String, Session>,
    /// Refresh token to access token.
    pub refresh_tokens: HashMap<String, String>,
    pub outcomes: HashMap<String, UserActionState>,
    /// Call Connect calls by `referenceId`.
    pub calls: HashMap<String, Call>,
    /// Terminal ids the Terminal API accepts.
    pub terminals: BTreeSet<String>,
    /// Terminal API payment sessions by `challengeId`.
    pub payment_sessions: HashMap<String, PaymentSession>,
    pub requests: Vec<RecordedRequest>,
    /// Monotonic counter that orders actions and challenges.
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub user_id: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub locale: Option<String>,
    pub custom: Option<Value>,
    pub default_verification_method: Option<VerificationMethod>,
    pub authenticators: Vec<Authenticator>,
    pub devices: BTreeMap<String, Device>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Authenticator {
    pub id: String,
    pub verification_method: VerificationMethod,
    pub phone_number: Option<String>,
    pub email: Option<String>,
    pub credential_id: Option<String>,
    pub name: Option<String>,
    pub aaguid: Option<String>,
    pub created_at: i64,
    pub last_verified_at: Option<i64>,
    /// SMS only: the channel of the last verified challenge.
    pub previous_sms_channel: Option<SmsChannel>,
}

#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub device_id: String,
    pub created_at: i64,
    pub authenticated_at: Option<i64>,
    pub invalidated_at: Option<i64>,
    pub remembered_until: Option<i64>,
    pub last_verification_method: Option<VerificationMethod>,
}

#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub user_id: String,
    pub action_code: String,
    pub idempotency_key: String,
    pub state: UserActionState,
    pub created_at: i64,
    pub updated_at: i64,
    pub state_updated_at: i64,
    pub verification_method: Option<VerificationMethod>,
    pub verified_by_authenticator_id: Option<String>,
    pub device_id: Option<String>,
    /// The IP address and user agent given to track.
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// The token handed out by track (absent for actions created by a challenge).
    pub token: Option<String>,
    /// The rule that decided the state: set when a test chose the outcome.
    pub rule_id: Option<String>,
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub idempotency_key: String,
    pub issued_at: i64,
    pub expired: bool,
    /// Set once the token validated successfully.
    pub validated: bool,
    /// Set once the token was exchanged for a session.
    pub exchanged: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Challenge {
    pub challenge_id: String,
    pub verification_method: VerificationMethod,
    pub action_code: String,
    pub idempotency_key: String,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub sms_channel: Option<SmsChannel>,
    pub code: String,
    pub attempts: u32,
    /// Unix seconds.
    pub expires_at: i64,
    pub verified: bool,
    pub claimed: bool,
    pub seq: u64,
}

/// A Terminal API payment session.
#[derive(Debug, Clone)]
pub(crate) struct PaymentSession {
    /// The terminal that started it; only it may poll it.
    pub terminal_id: String,
    pub reference: Option<String>,
    /// `PENDING` until `FakeAuthsignal::set_payment_session_status`.
    pub status: PaymentSessionStatus,
}

/// A call started with Call Connect.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The `state` given to `/call/finish`, once finished.
    pub outcome: Option<CallState>,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub user_id: String,
    pub client_id: String,
    pub refresh_token: String,
    pub verification_method: Option<VerificationMethod>,
    /// Unix seconds.
    pub expires_at: i64,
}

impl User {
    pub(crate) fn new(user_id: &str, now: i64) -> Self {
        Self {
            user_id: user_id.to_owned(),
            email: None,
            email_verified: false,
            phone_number: None,
            phone_number_verified: false,
            username: None,
            display_name: None,
            locale: None,
            custom: None,
            default_verification_method: None,
            authenticators: Vec::new(),
            devices: BTreeMap::new(),
            created_at: now,
        }
    }

    pub(crate) fn is_enrolled(&self) -> bool {
        !self.authenticators.is_empty()
    }

    /// Distinct methods of the user's authenticators, in enrolment order.
    pub(crate) fn enrolled_methods(&self) -> Vec<VerificationMethod> {
        let mut methods: Vec<VerificationMethod> = Vec::new();
        for authenticator in &self.authenticators {
            if !methods.contains(&authenticator.verification_method) {
                methods.push(authenticator.verification_method.clone());
            }
        }
        methods
    }

    /// The explicit default, else the method of the first authenticator.
    pub(crate) fn default_method(&self) -> Option<VerificationMethod> {
        self.default_verification_method.clone().or_else(|| {
            self.authenticators
                .first()
                .map(|a| a.verification_method.clone())
        })
    }

    /// The user attributes (`UserAttributes` plus `userId`).
    pub(crate) fn attributes_json(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("userId".into(), json!(self.user_id));
        insert_opt(&mut map, "email", self.email.as_deref());
        map.insert("emailVerified".into(), json!(self.email_verified));
        insert_opt(&mut map, "phoneNumber", self.phone_number.as_deref());
        map.insert(
            "phoneNumberVerified".into(),
            json!(self.phone_number_verified),
        );
        insert_opt(&mut map, "username", self.username.as_deref());
        insert_opt(&mut map, "displayName", self.display_name.as_deref());
        insert_opt(&mut map, "locale", self.locale.as_deref());
        if let Some(custom) = &self.custom {
            map.insert("custom".into(), custom.clone());
        }
        insert_opt(
            &mut map,
            "defaultVerificationMethod",
            self.default_verification_method
                .as_ref()
                .map(|v| v.as_str()),
        );
        map
    }

    /// The get-user response.
    pub(crate) fn get_user_json(&self) -> Value {
        let mut map = self.attributes_json();
        map.insert("isEnrolled".into(), json!(self.is_enrolled()));
        map.insert(
            "enrolledVerificationMethods".into(),
            json!(self.enrolled_methods()),
        );
        map.insert("allowedVerificationMethods".into(), json!(ALLOWED_METHODS));
        map.remove("defaultVerificationMethod");
        insert_opt(
            &mut map,
            "defaultVerificationMethod",
            self.default_method().as_ref().map(|v| v.as_str()),
        );
        Value::Object(map)
    }

    /// One item of the query-users response.
    pub(crate) fn query_item_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("userId".into(), json!(self.user_id));
        insert_opt(&mut map, "email", self.email.as_deref());
        map.insert("emailVerified".into(), json!(self.email_verified));
        insert_opt(&mut map, "phoneNumber", self.phone_number.as_deref());
        map.insert(
            "phoneNumberVerified".into(),
            json!(self.phone_number_verified),
        );
        insert_opt(&mut map, "username", self.username.as_deref());
        insert_opt(&mut map, "displayName", self.display_name.as_deref());
        map.insert("isEnrolled".into(), json!(self.is_enrolled()));
        map.insert(
            "enrolledVerificationMethods".into(),
            json!(self.enrolled_methods()),
        );
        map.insert("createdAt".into(), json!(format_millis(self.created_at)));
        Value::Object(map)
    }

    /// The user object of a validate-session response.
    pub(crate) fn session_user_json(&self) -> Value {
        let mut map = self.attributes_json();
        map.remove("defaultVerificationMethod");
        Value::Object(map)
    }
}

impl Authenticator {
    pub(crate) fn to_json(&self, user_id: &str) -> Value {
        let mut map = Map::new();
        map.insert("userId".into(), json!(user_id));
        map.insert("userAuthenticatorId".into(), json!(self.id));
        map.insert("verificationMethod".into(), json!(self.verification_method));
        map.insert("createdAt".into(), json!(format_millis(self.created_at)));
        map.insert("verifiedAt".into(), json!(format_millis(self.created_at)));
        if let Some(at) = self.last_verified_at {
            map.insert("lastVerifiedAt".into(), json!(format_millis(at)));
        }
        insert_opt(&mut map, "phoneNumber", self.phone_number.as_deref());
        insert_opt(&mut map, "email", self.email.as_deref());
        insert_opt(
            &mut map,
            "previousSmsChannel",
            self.previous_sms_channel.as_ref().map(|v| v.as_str()),
        );
        if let Some(credential_id) = &self.credential_id {
            let mut credential = Map::new();
            credential.insert("credentialId".into(), json!(credential_id));
            credential.insert("deviceId".into(), json!(""));
            credential.insert(
                "name".into(),
                json!(self.name.as_deref().unwrap_or("Passkey")),
            );
            insert_opt(&mut credential, "aaguid", self.aaguid.as_deref());
            map.insert("webauthnCredential".into(), Value::Object(credential));
        }
        Value::Object(map)
    }
}

impl Device {
    pub(crate) fn new(device_id: &str, now: i64) -> Self {
        Self {
            device_id: device_id.to_owned(),
            created_at: now,
            authenticated_at: None,
            invalidated_at: None,
            remembered_until: None,
            last_verification_method: None,
        }
    }

    pub(crate) fn to_json(&self, user_id: &str) -> Value {
        let mut map = Map::new();
        map.insert("userId".into(), json!(user_id));
        map.insert("deviceId".into(), json!(self.device_id));
        map.insert("createdAt".into(), json!(format_millis(self.created_at)));
        insert_time(&mut map, "authenticatedAt", self.authenticated_at);
        insert_time(&mut map, "invalidatedAt", self.invalidated_at);
        insert_time(&mut map, "rememberedUntil", self.remembered_until);
        insert_opt(
            &mut map,
            "lastVerificationMethod",
            self.last_verification_method.as_ref().map(|v| v.as_str()),
        );
        Value::Object(map)
    }
}

impl Action {
    /// The get-action response.
    pub(crate) fn get_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("idempotencyKey".into(), json!(self.idempotency_key));
        map.insert("state".into(), json!(self.state));
        map.insert(
            "stateUpdatedAt".into(),
            json!(format_millis(self.state_updated_at)),
        );
        map.insert("createdAt".into(), json!(format_millis(self.created_at)));
        insert_opt(
            &mut map,
            "verificationMethod",
            self.verification_method.as_ref().map(|v| v.as_str()),
        );
        match &self.rule_id {
            Some(rule) => {
                map.insert("rules".into(), json!([{ "ruleId": rule, "name": rule }]));
                map.insert("ruleIds".into(), json!([rule]));
                map.insert("priorityRuleId".into(), json!(rule));
            }
            None => {
                map.insert("rules".into(), json!([]));
                map.insert("ruleIds".into(), json!([]));
            }
        }
        map.insert("output".into(), json!({}));
        Value::Object(map)
    }

    /// One item of the query-user-actions response.
    pub(crate) fn query_item_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("actionCode".into(), json!(self.action_code));
        map.insert("idempotencyKey".into(), json!(self.idempotency_key));
        map.insert("createdAt".into(), json!(format_millis(self.created_at)));
        map.insert("updatedAt".into(), json!(format_millis(self.updated_at)));
        map.insert("state".into(), json!(self.state));
        map.insert(
            "stateUpdatedAt".into(),
            json!(format_millis(self.state_updated_at)),
        );
        insert_opt(
            &mut map,
            "verificationMethod",
            self.verification_method.as_ref().map(|v| v.as_str()),
        );
        insert_opt(
            &mut map,
            "verifiedByAuthenticatorId",
            self.verified_by_authenticator_id.as_deref(),
        );
        insert_opt(&mut map, "ipAddress", self.ip_address.as_deref());
        insert_opt(&mut map, "userAgent", self.user_agent.as_deref());
        // The fake does not geolocate: every IP address is in New Zealand.
        if self.ip_address.is_some() {
            map.insert("countryCode".into(), json!(FAKE_COUNTRY_CODE));
        }
        Value::Object(map)
    }

    /// The details shared by every validate response that found the action.
    pub(crate) fn validate_json(&self, is_valid: bool) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("isValid".into(), json!(is_valid));
        map.insert("state".into(), json!(self.state));
        map.insert(
            "stateUpdatedAt".into(),
            json!(format_millis(self.state_updated_at)),
        );
        map.insert("userId".into(), json!(self.user_id));
        map.insert("action".into(), json!(self.action_code));
        map.insert("actionCode".into(), json!(self.action_code));
        map.insert("idempotencyKey".into(), json!(self.idempotency_key));
        insert_opt(
            &mut map,
            "verificationMethod",
            self.verification_method.as_ref().map(|v| v.as_str()),
        );
        map
    }

    pub(crate) fn set_state(&mut self, state: UserActionState, now: i64) {
        self.state = state;
        self.state_updated_at = now;
        self.updated_at = now;
    }
}

impl State {
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The user, created on first use.
    pub(crate) fn user_mut(&mut self, user_id: &str) -> &mut User {
        let now = self.clock.now_millis();
        self.users
            .entry(user_id.to_owned())
            .or_insert_with(|| User::new(user_id, now))
    }

    /// Creates an action record and returns its idempotency key.
    pub(crate) fn insert_action(
        &mut self,
        user_id: &str,
        action_code: &str,
        idempotency_key: String,
        state: UserActionState,
        device_id: Option<String>,
        with_token: bool,
    ) -> String {
        let now = self.clock.now_millis();
        let seq = self.next_seq();
        let token = with_token.then(|| self.issue_token(&idempotency_key));
        self.actions.insert(
            idempotency_key.clone(),
            Action {
                user_id: user_id.to_owned(),
                action_code: action_code.to_owned(),
                idempotency_key: idempotency_key.clone(),
                state,
                created_at: now,
                updated_at: now,
                state_updated_at: now,
                verification_method: None,
                verified_by_authenticator_id: None,
                device_id,
                ip_address: None,
                user_agent: None,
                token,
                rule_id: None,
                seq,
            },
        );
        idempotency_key
    }

    /// Issues an opaque token that refers to the action `idempotency_key`.
    pub(crate) fn issue_token(&mut self, idempotency_key: &str) -> String {
        let token = format!("fake_tok_{}", random_hex(24));
        self.tokens.insert(
            token.clone(),
            TokenInfo {
                idempotency_key: idempotency_key.to_owned(),
                issued_at: self.clock.now_millis(),
                expired: false,
                validated: false,
                exchanged: false,
            },
        );
        token
    }

    /// The outcome of a track for `action_code` by `user_id`.
    pub(crate) fn outcome_for(&self, action_code: &str, user_id: &str) -> UserActionState {
        if let Some(outcome) = self.outcomes.get(action_code) {
            return outcome.clone();
        }
        let enrolled = self.users.get(user_id).is_some_and(User::is_enrolled);
        if enrolled {
            UserActionState::ChallengeRequired
        } else {
            UserActionState::Allow
        }
    }

    /// Opens a session and returns `(access_token, refresh_token)`.
    pub(crate) fn open_session(
        &mut self,
        user_id: &str,
        client_id: &str,
        verification_method: Option<VerificationMethod>,
    ) -> (String, String) {
        let access_token = format!("fake_at_{}", random_hex(24));
        let refresh_token = format!("fake_rt_{}", random_hex(24));
        self.sessions.insert(
            access_token.clone(),
            Session {
                user_id: user_id.to_owned(),
                client_id: client_id.to_owned(),
                refresh_token: refresh_token.clone(),
                verification_method,
                expires_at: self.clock.now_millis() / 1000 + ACCESS_TOKEN_TTL_SECS,
            },
        );
        self.refresh_tokens
            .insert(refresh_token.clone(), access_token.clone());
        (access_token, refresh_token)
    }

    /// Removes the session of `access_token` and its refresh token.
    pub(crate) fn close_session(&mut self, access_token: &str) -> Option<Session> {
        let session = self.sessions.remove(access_token)?;
        self.refresh_tokens.remove(&session.refresh_token);
        Some(session)
    }

    /// Removes every session of `user_id`.
    pub(crate) fn close_user_sessions(&mut self, user_id: &str) {
        let doomed: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.user_id == user_id)
            .map(|(token, _)| token.clone())
            .collect();
        for token in doomed {
            self.close_session(&token);
        }
    }
}

/// A fresh idempotency key.
pub(crate) fn new_idempotency_key() -> String {
    uuid_v4()
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        map.insert(key.into(), json!(value));
    }
}

fn insert_time(map: &mut Map<String, Value>, key: &str, value: Option<i64>) {
    if let Some(value) = value {
        map.insert(key.into(), json!(format_millis(value)));
    }
}
