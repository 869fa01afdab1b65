//! Sessions: create one from a challenge token, validate, refresh and revoke
//! access tokens.
//!
//! Every token is a [`SecretString`]: it is sent and decoded as plain text but
//! never shown by `Debug`.

use http::Method;
use serde::{Deserialize, Serialize};

use super::{UserAttributes, ignore_body, setters};
use crate::{
    Idempotency, InvalidInput, SecretString, VerificationMethod,
    endpoint::{Endpoint, PathBuilder, json_body},
};

/// `POST /sessions`: exchanges a challenge token (from a client SDK, a claim
/// or a validated challenge) for an access and a refresh token.
///
/// ```
/// use authsignal_core::{Config, CreateSessionRequest, Endpoint, http};
/// let create = CreateSessionRequest::new("web-app", "token-from-the-challenge");
/// let request = create.build_request(&Config::builder("sk_test").build()?)?;
/// assert_eq!(request.uri().path(), "/v1/sessions");
///
/// let response = http::Response::new(br#"{"accessToken":"at","refreshToken":"rt"}"#.to_vec());
/// let session = create.parse_response(response)?;
/// // Tokens are secrets: they print as <redacted> and are read explicitly.
/// assert_eq!(format!("{:?}", session.access_token), "SecretString(<redacted>)");
/// assert_eq!(session.refresh_token.expose_secret(), "rt");
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateSessionRequest {
    /// The id of your client application the session is for.
    pub client_id: String,
    /// The challenge token.
    pub token: SecretString,
    /// The action code the token must belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

impl CreateSessionRequest {
    /// A request to create a session for `client_id` from `token`.
    pub fn new(client_id: impl Into<String>, token: impl Into<SecretString>) -> Self {
        Self {
            client_id: client_id.into(),
            token: token.into(),
            action: None,
        }
    }
}

setters!(CreateSessionRequest {
    /// The action code the token must belong to.
    with_action => action: String,
});

/// The result of [`CreateSessionRequest`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateSessionResponse {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, for [`RefreshSessionRequest`].
    pub refresh_token: SecretString,
}

impl Endpoint for CreateSessionRequest {
    type Output = CreateSessionResponse;
    const NAME: &'static str = "create_session";
    const METHOD: Method = Method::POST;
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("sessions");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `POST /sessions/validate`: checks an access token and returns its user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValidateSessionRequest {
    /// The access token.
    pub access_token: SecretString,
    /// The client applications the token must belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ids: Option<Vec<String>>,
}

impl ValidateSessionRequest {
    /// A request to validate `access_token`.
    pub fn new(access_token: impl Into<SecretString>) -> Self {
        Self {
            access_token: access_token.into(),
            client_ids: None,
        }
    }

    /// Requires the token to belong to one of these client applications.
    pub fn with_client_ids<I>(mut self, client_ids: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.client_ids = Some(client_ids.into_iter().map(Into::into).collect());
        self
    }
}

/// The user of a valid session.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValidateSessionUser {
    /// The user's id.
    pub user_id: String,
    /// The user's attributes.
    #[serde(flatten)]
    pub attributes: UserAttributes,
}

/// The result of [`ValidateSessionRequest`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValidateSessionResponse {
    /// The session's user.
    pub user: ValidateSessionUser,
    /// When the access token expires (Unix seconds).
    pub expires_at: i64,
    /// The method the user verified with.
    pub verification_method: Option<VerificationMethod>,
}

impl Endpoint for ValidateSessionRequest {
    type Output = ValidateSessionResponse;
    const NAME: &'static str = "validate_session";
    const METHOD: Method = Method::POST;
    // Read-only despite the POST.
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("sessions").literal("validate");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `POST /sessions/refresh`: exchanges a refresh token for new tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RefreshSessionRequest {
    /// The refresh token.
    pub refresh_token: SecretString,
}

impl RefreshSessionRequest {
    /// A request to refresh with `refresh_token`.
    pub fn new(refresh_token: impl Into<SecretString>) -> Self {
        Self {
            refresh_token: refresh_token.into(),
        }
    }
}

/// The result of [`RefreshSessionRequest`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RefreshSessionResponse {
    /// The new access token.
    pub access_token: SecretString,
    /// The new refresh token; the old one should no longer be used.
    pub refresh_token: SecretString,
}

impl Endpoint for RefreshSessionRequest {
    type Output = RefreshSessionResponse;
    const NAME: &'static str = "refresh_session";
    const METHOD: Method = Method::POST;
    // Rotates the tokens: a repeat could burn the new refresh token.
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("sessions").literal("refresh");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `POST /sessions/revoke`: revokes one access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RevokeSessionRequest {
    /// The access token to revoke.
    pub access_token: SecretString,
}

impl RevokeSessionRequest {
    /// A request to revoke `access_token`.
    pub fn new(access_token: impl Into<SecretString>) -> Self {
        Self {
            access_token: access_token.into(),
        }
    }
}

impl Endpoint for RevokeSessionRequest {
    type Output = ();
    const NAME: &'static str = "revoke_session";
    const METHOD: Method = Method::POST;
    // Revoking twice has no further effect.
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("sessions").literal("revoke");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }

    fn parse_body(&self, body: &[u8]) -> Result<Self::Output, serde_json::Error> {
        ignore_body(body)
    }
}

/// `POST /sessions/user/revoke`: revokes every session of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RevokeUserSessionsRequest {
    /// The user's id in your system.
    pub user_id: String,
}

impl RevokeUserSessionsRequest {
    /// A request to revoke every session of `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
        }
    }
}

impl Endpoint for RevokeUserSessionsRequest {
    type Output = ();
    const NAME: &'static str = "revoke_user_sessions";
    const METHOD: Method = Method::POST;
    // Revoking twice has no further effect.
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("sessions").literal("user").literal("revoke");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }

    fn parse_body(&self, body: &[u8]) -> Result<Self::Output, serde_json::Error> {
        ignore_body(body)
    }
}

crate::client::endpoints! {
    /// Exchanges a challenge token for access and refresh tokens.
    create_session(CreateSessionRequest) -> CreateSessionResponse,
        route = "POST /sessions",
        example = CreateSessionRequest::new("client-1", "eyJ.x.y");
    /// Checks an access token and returns its user.
    validate_session(ValidateSessionRequest) -> ValidateSessionResponse,
        route = "POST /sessions/validate",
        example = ValidateSessionRequest::new("at");
    /// Exchanges a refresh token for new tokens (the old ones stop working).
    refresh_session(RefreshSessionRequest) -> RefreshSessionResponse,
        route = "POST /sessions/refresh",
        example = RefreshSessionRequest::new("rt");
    /// Revokes one access token.
    revoke_session(RevokeSessionRequest) -> (),
        route = "POST /sessions/revoke",
        example = RevokeSessionRequest::new("at");
    /// Revokes every session of a user.
    revoke_user_sessions(RevokeUserSessionsRequest) -> (),
        route = "POST /sessions/user/revoke",
        example = RevokeUserSessionsRequest::new("user-1");
}
