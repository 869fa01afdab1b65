//! Challenges: validate the result of a challenge.

use http::Method;
use serde::{Deserialize, Serialize};

use super::setters;
use crate::{
    Idempotency, InvalidInput, SecretString, UserActionState, VerificationMethod,
    endpoint::{Endpoint, PathBuilder, json_body},
};

/// `POST /validate`: checks the token your front end got after a challenge
/// and returns the action's outcome. Call it before trusting the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValidateChallengeRequest {
    /// The token from the client SDK or pre-built UI.
    pub token: SecretString,
    /// The user the token must belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The action code the token must belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

impl ValidateChallengeRequest {
    /// A request to validate `token`.
    pub fn new(token: impl Into<SecretString>) -> Self {
        Self { token: token.into(), user_id: None, action: None }
    }
}

setters!(ValidateChallengeRequest {
    with_user_id => user_id: String,
    with_action => action: String,
});

/// The result of [`ValidateChallengeRequest`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(from = "RawValidateChallengeResponse")]
#[non_exhaustive]
pub struct ValidateChallengeResponse {
    /// Whether the token is valid and the challenge succeeded.
    pub is_valid: bool,
    /// The action's state.
    pub state: Option<UserActionState>,
    /// When the state last changed (ISO 8601).
    pub state_updated_at: Option<String>,
    /// The user the token belongs to.
    pub user_id: Option<String>,
    /// The action code (from `action`, or the deprecated `actionCode`).
    pub action: Option<String>,
    /// The action's idempotency key.
    pub idempotency_key: Option<String>,
    /// The method the user verified with.
    pub verification_method: Option<VerificationMethod>,
    /// The Veriff session id, for identity verification.
    pub veriff_session_id: Option<String>,
    /// Why validation failed, when the API says.
    pub error: Option<String>,
}

/// The wire shape, with both the current and the deprecated action field.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawValidateChallengeResponse {
    #[serde(default)]
    is_valid: Option<bool>,
    state: Option<UserActionState>,
    state_updated_at: Option<String>,
    user_id: Option<String>,
    action: Option<String>,
    action_code: Option<String>,
    idempotency_key: Option<String>,
    verification_method: Option<VerificationMethod>,
    veriff_session_id: Option<String>,
    error: Option<String>,
}

impl From<RawValidateChallengeResponse> for ValidateChallengeResponse {
    fn from(raw: RawValidateChallengeResponse) -> Self {
        Self {
            is_valid: raw.is_valid.unwrap_or(false),
            state: raw.state,
            state_updated_at: raw.state_updated_at,
            user_id: raw.user_id,
            action: raw.action.or(raw.action_code),
            idempotency_key: raw.idempotency_key,
            verification_method: raw.verification_method,
            veriff_session_id: raw.veriff_session_id,
            error: raw.error,
        }
    }
}

impl Endpoint for ValidateChallengeRequest {
    type Output = ValidateChallengeResponse;
    const NAME: &'static str = "validate_challenge";
    const METHOD: Method = Method::POST;
    // A token may be single-use: a repeat could turn a success into a failure.
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("validate");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }

    fn parse_body(&self, body: &[u8]) -> Result<Self::Output, serde_json::Error> {
        serde_json::from_slice(body)
    }
}
