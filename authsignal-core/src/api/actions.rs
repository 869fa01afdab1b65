//! Actions: track, get, update, query a user's actions.

use http::Method;
use serde::{Deserialize, Serialize};

use super::{check_action_code, null_as_default, setters};
use crate::{
    AuthScope, Idempotency, InvalidInput, SecretString, UserActionState, VerificationMethod,
    endpoint::{Endpoint, PathBuilder, QueryBuilder, json_body},
};

/// `POST /users/{userId}/actions/{action}`: records an action (sign-in,
/// withdrawal…) and returns whether to allow it, challenge the user or block it.
///
/// Without any attribute the body is `{}`.
///
/// ```
/// use authsignal_core::{AuthScope, Config, Endpoint, TrackRequest, UserActionState, http};
/// let config = Config::builder("sk_test").build()?;
/// let track = TrackRequest::new("user-1", "signIn")
///     .with_ip_address("203.0.113.7")
///     .with_scope(AuthScope::AddAuthenticators);
/// let request = track.build_request(&config)?;
/// assert_eq!(request.uri(), "https://api.authsignal.com/v1/users/user-1/actions/signIn");
/// let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
/// assert_eq!(body, serde_json::json!({"ipAddress": "203.0.113.7", "scope": "add:authenticators"}));
///
/// let response = http::Response::new(
///     br#"{"state":"CHALLENGE_REQUIRED","idempotencyKey":"k","token":"t","isEnrolled":true}"#.to_vec(),
/// );
/// assert_eq!(track.parse_response(response)?.state, UserActionState::ChallengeRequired);
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrackRequest {
    /// The user's id in your system (path).
    #[serde(skip_serializing)]
    pub user_id: String,
    /// The action code, e.g. `signIn` (path; `^[a-zA-Z0-9_-]{1,64}$`).
    #[serde(skip_serializing)]
    pub action: String,
    /// Your key for this action; Authsignal generates one when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Where the pre-built UI sends the user back to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// Send the user to their authenticator settings after the challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_to_settings: Option<bool>,
    /// The user's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The user's browser user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Your id for the user's device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Scopes for the returned token; sent space-separated
    /// (`add:authenticators update:authenticators`), omitted when empty
    /// (the API then grants `read:authenticators`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "super::space_separated",
        deserialize_with = "super::from_space_separated"
    )]
    pub scope: Vec<AuthScope>,
    /// The user's email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// The user's username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Custom data for rules (any JSON object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<serde_json::Value>,
    /// A challenge completed before tracking (e.g. an email OTP at sign-up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_id: Option<String>,
    /// The locale of the pre-built UI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Your custom domain for the pre-built UI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_domain: Option<String>,
    /// Crypto transaction details for rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crypto: Option<CryptoAttributes>,
}

impl TrackRequest {
    /// A request to track `action` for `user_id`, with no attributes.
    pub fn new(user_id: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            action: action.into(),
            idempotency_key: None,
            redirect_url: None,
            redirect_to_settings: None,
            ip_address: None,
            user_agent: None,
            device_id: None,
            scope: Vec::new(),
            email: None,
            phone_number: None,
            username: None,
            custom: None,
            challenge_id: None,
            locale: None,
            custom_domain: None,
            crypto: None,
        }
    }
}

impl TrackRequest {
    /// Adds one scope for the returned token.
    pub fn with_scope(mut self, scope: AuthScope) -> Self {
        self.scope.push(scope);
        self
    }

    /// Adds scopes for the returned token.
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = AuthScope>) -> Self {
        self.scope.extend(scopes);
        self
    }
}

setters!(TrackRequest {
    /// Your key for this action; Authsignal generates one when unset.
    with_idempotency_key => idempotency_key: String,
    /// Where the pre-built UI sends the user back to.
    with_redirect_url => redirect_url: String,
    /// Send the user to their authenticator settings after the challenge.
    with_redirect_to_settings => redirect_to_settings: bool,
    /// The user's IP address.
    with_ip_address => ip_address: String,
    /// The user's browser user agent.
    with_user_agent => user_agent: String,
    /// Your id for the user's device.
    with_device_id => device_id: String,
    /// The user's email address.
    with_email => email: String,
    /// The user's phone number.
    with_phone_number => phone_number: String,
    /// The user's username.
    with_username => username: String,
    /// Custom data for rules (any JSON object).
    with_custom => custom: serde_json::Value,
    /// A challenge completed before tracking (e.g. an email OTP at sign-up).
    with_challenge_id => challenge_id: String,
    /// The locale of the pre-built UI.
    with_locale => locale: String,
    /// Your custom domain for the pre-built UI.
    with_custom_domain => custom_domain: String,
    /// Crypto transaction details for rules.
    with_crypto => crypto: CryptoAttributes,
});

/// Crypto transaction details of a [`TrackRequest`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CryptoAttributes {
    /// The asset, e.g. `ETH`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// The destination address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The transaction hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txn_hash: Option<String>,
    /// The amount in the asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_amount: Option<f64>,
    /// The amount in US dollars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_amount_usd: Option<f64>,
}

setters!(CryptoAttributes {
    /// The asset, e.g. `ETH`.
    with_asset => asset: String,
    /// The destination address.
    with_address => address: String,
    /// The transaction hash.
    with_txn_hash => txn_hash: String,
    /// The amount in the asset.
    with_asset_amount => asset_amount: f64,
    /// The amount in US dollars.
    with_asset_amount_usd => asset_amount_usd: f64,
});

/// The result of [`TrackRequest`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrackResponse {
    /// The action's state: allow, challenge, block or review.
    pub state: UserActionState,
    /// The action's idempotency key (yours, or one Authsignal generated).
    pub idempotency_key: String,
    /// The pre-built UI URL for a challenge (it carries a token).
    #[serde(default, deserialize_with = "null_as_default")]
    pub url: SecretString,
    /// A token to pass to the client SDKs or to [`ValidateChallengeRequest`](crate::ValidateChallengeRequest).
    #[serde(default, deserialize_with = "null_as_default")]
    pub token: SecretString,
    /// Whether the user has at least one authenticator.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_enrolled: bool,
    /// Methods the user has enrolled.
    #[serde(default, deserialize_with = "null_as_default")]
    pub enrolled_verification_methods: Vec<VerificationMethod>,
    /// Methods the user may use for this action.
    #[serde(default, deserialize_with = "null_as_default")]
    pub allowed_verification_methods: Vec<VerificationMethod>,
    /// The user's default method.
    pub default_verification_method: Option<VerificationMethod>,
    /// The rules that matched.
    #[serde(default, deserialize_with = "null_as_default")]
    pub rule_ids: Vec<String>,
}

impl Endpoint for TrackRequest {
    type Output = TrackResponse;
    const NAME: &'static str = "track";
    const METHOD: Method = Method::POST;
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;

    fn validate(&self) -> Result<(), InvalidInput> {
        check_action_code(&self.action)
    }

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users")
            .param("userId", &self.user_id)?
            .literal("actions")
            .param("action", &self.action)?;
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `GET /users/{userId}/actions/{action}/{idempotencyKey}`: one tracked action.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetActionRequest {
    /// The user's id in your system.
    pub user_id: String,
    /// The action code.
    pub action: String,
    /// The idempotency key returned by track.
    pub idempotency_key: String,
}

impl GetActionRequest {
    /// A request for one action.
    pub fn new(
        user_id: impl Into<String>,
        action: impl Into<String>,
        idempotency_key: impl Into<String>,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            action: action.into(),
            idempotency_key: idempotency_key.into(),
        }
    }
}

/// A rule that matched an action.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Rule {
    /// The rule's id.
    pub rule_id: Option<String>,
    /// The rule's name.
    pub name: Option<String>,
    /// The rule's description.
    pub description: Option<String>,
    /// Extra data about the match.
    pub metadata: Option<serde_json::Value>,
}

/// The result of [`GetActionRequest`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetActionResponse {
    /// The action's state.
    pub state: UserActionState,
    /// When the state last changed (ISO 8601).
    pub state_updated_at: Option<String>,
    /// When the action was tracked (ISO 8601).
    pub created_at: Option<String>,
    /// The method the user verified with.
    pub verification_method: Option<VerificationMethod>,
    /// A snapshot of the rules that matched, taken at track time, highest
    /// priority first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub rules: Vec<Rule>,
    /// The ids of the rules that matched.
    #[serde(default, deserialize_with = "null_as_default")]
    pub rule_ids: Vec<String>,
    /// The highest-priority matching rule: the one that decided the state.
    pub priority_rule_id: Option<String>,
    /// Output of the action's rules and workflows.
    pub output: Option<serde_json::Value>,
    /// The action's idempotency key, when returned.
    pub idempotency_key: Option<String>,
}

impl Endpoint for GetActionRequest {
    type Output = GetActionResponse;
    const NAME: &'static str = "get_action";
    const METHOD: Method = Method::GET;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn validate(&self) -> Result<(), InvalidInput> {
        check_action_code(&self.action)
    }

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users")
            .param("userId", &self.user_id)?
            .literal("actions")
            .param("action", &self.action)?
            .param("idempotencyKey", &self.idempotency_key)?;
        Ok(())
    }
}

/// `PATCH /users/{userId}/actions/{action}/{idempotencyKey}`: sets an
/// action's state, e.g. after a manual review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UpdateActionRequest {
    /// The user's id in your system (path).
    #[serde(skip_serializing)]
    pub user_id: String,
    /// The action code (path).
    #[serde(skip_serializing)]
    pub action: String,
    /// The idempotency key returned by track (path).
    #[serde(skip_serializing)]
    pub idempotency_key: String,
    /// The new state.
    pub state: UserActionState,
}

impl UpdateActionRequest {
    /// A request to set one action's state.
    pub fn new(
        user_id: impl Into<String>,
        action: impl Into<String>,
        idempotency_key: impl Into<String>,
        state: UserActionState,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            action: action.into(),
            idempotency_key: idempotency_key.into(),
            state,
        }
    }
}

/// The result of [`UpdateActionRequest`]: the action after the update.
///
/// The docs show a full action object, the official SDKs read only
/// `{state}` and one SDK's mock answers `userId`, `action`,
/// `idempotencyKey` and `state`; so every field is optional and whatever
/// subset arrives decodes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UpdateActionResponse {
    /// The action's state now.
    pub state: Option<UserActionState>,
    /// When the action was tracked (ISO 8601).
    pub created_at: Option<String>,
    /// When the state last changed (ISO 8601).
    pub state_updated_at: Option<String>,
    /// Output of the action's rules and workflows.
    pub output: Option<serde_json::Value>,
    /// The method the user verified with.
    pub verification_method: Option<VerificationMethod>,
    /// The ids of the rules that matched.
    #[serde(default, deserialize_with = "null_as_default")]
    pub rule_ids: Vec<String>,
    /// The user's id.
    pub user_id: Option<String>,
    /// The action code.
    pub action: Option<String>,
    /// The action's idempotency key.
    pub idempotency_key: Option<String>,
}

impl Endpoint for UpdateActionRequest {
    type Output = UpdateActionResponse;
    const NAME: &'static str = "update_action";
    const METHOD: Method = Method::PATCH;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn validate(&self) -> Result<(), InvalidInput> {
        check_action_code(&self.action)
    }

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users")
            .param("userId", &self.user_id)?
            .literal("actions")
            .param("action", &self.action)?
            .param("idempotencyKey", &self.idempotency_key)?;
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `GET /users/{userId}/actions`: a user's recent actions, optionally
/// filtered by date, action code and state.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct QueryUserActionsRequest {
    /// The user's id in your system.
    pub user_id: String,
    /// Only actions since this time (ISO 8601; the API's default and
    /// maximum is 30 days ago).
    pub from_date: Option<String>,
    /// Only these action codes (sent comma-joined); empty means all codes.
    #[serde(default)]
    pub codes: Vec<String>,
    /// Only actions in this state.
    pub state: Option<UserActionState>,
}

impl QueryUserActionsRequest {
    /// A request for all recent actions of `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            from_date: None,
            codes: Vec::new(),
            state: None,
        }
    }

    /// Adds action codes to the filter.
    pub fn with_codes<I>(mut self, codes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.codes.extend(codes.into_iter().map(Into::into));
        self
    }

    /// Adds one action code to the filter.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.codes.push(code.into());
        self
    }
}

setters!(QueryUserActionsRequest {
    /// Only actions since this time (ISO 8601; the API's default and
    /// maximum is 30 days ago).
    with_from_date => from_date: String,
    /// Only actions in this state.
    with_state => state: UserActionState,
});

/// One action in the result of [`QueryUserActionsRequest`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserActionSummary {
    /// The action code, e.g. `signIn`.
    pub action_code: String,
    /// The action's idempotency key.
    pub idempotency_key: String,
    /// When the action was tracked (ISO 8601).
    pub created_at: Option<String>,
    /// When the action was last updated (ISO 8601).
    pub updated_at: Option<String>,
    /// The action's state.
    pub state: UserActionState,
    /// When the state last changed (ISO 8601).
    pub state_updated_at: Option<String>,
    /// The method the user verified with.
    pub verification_method: Option<VerificationMethod>,
    /// The authenticator the user verified with.
    pub verified_by_authenticator_id: Option<String>,
    /// The user agent given when the action was tracked.
    pub user_agent: Option<String>,
    /// The IP address given when the action was tracked.
    pub ip_address: Option<String>,
    /// The country derived from the IP address, if one was given.
    pub country_code: Option<String>,
}

impl Endpoint for QueryUserActionsRequest {
    type Output = Vec<UserActionSummary>;
    const NAME: &'static str = "query_user_actions";
    const METHOD: Method = Method::GET;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn validate(&self) -> Result<(), InvalidInput> {
        // A comma inside a code would split it in two on the server.
        for code in &self.codes {
            check_action_code(code).map_err(|_| InvalidInput::Field {
                name: "codes",
                reason: "each code must be 1 to 64 characters of A-Z, a-z, 0-9, `_` or `-`".into(),
            })?;
        }
        Ok(())
    }

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users")
            .param("userId", &self.user_id)?
            .literal("actions");
        Ok(())
    }

    fn write_query(&self, query: &mut QueryBuilder<'_>) {
        let codes = (!self.codes.is_empty()).then(|| self.codes.join(","));
        query
            .optional("fromDate", self.from_date.as_deref())
            .optional("codes", codes.as_deref())
            .optional("state", self.state.as_ref().map(UserActionState::as_str));
    }
}

crate::client::endpoints! {
    /// Records an action (sign-in, withdrawal…) and returns whether to
    /// allow it, challenge the user or block it.
    track(TrackRequest) -> TrackResponse,
        route = "POST /users/{userId}/actions/{action}",
        example = TrackRequest::new("user-1", "signIn");
    /// One tracked action: its state, rules and verification method.
    get_action(GetActionRequest) -> GetActionResponse,
        route = "GET /users/{userId}/actions/{action}/{idempotencyKey}",
        example = GetActionRequest::new("user-1", "signIn", "7f1c");
    /// Sets an action's state, e.g. after a manual review.
    update_action(UpdateActionRequest) -> UpdateActionResponse,
        route = "PATCH /users/{userId}/actions/{action}/{idempotencyKey}",
        example = UpdateActionRequest::new("user-1", "signIn", "7f1c", UserActionState::ReviewSucceeded);
    /// A user's recent actions, newest first.
    query_user_actions(QueryUserActionsRequest) -> Vec<UserActionSummary>,
        route = "GET /users/{userId}/actions",
        example = QueryUserActionsRequest::new("user-1");
}
