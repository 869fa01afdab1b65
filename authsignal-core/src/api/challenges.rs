//! Challenges: validate the result of a challenge; initiate, verify, claim
//! and look up OTP challenges (SMS, email OTP, WhatsApp).

use http::Method;
use serde::{Deserialize, Deserializer, Serialize};

use super::{null_as_default, setters};
use crate::{
    AuthScope, Idempotency, InvalidInput, SecretString, SmsChannel, UserActionState,
    VerificationFailureReason, VerificationMethod,
    endpoint::{Endpoint, PathBuilder, QueryBuilder, json_body},
};

/// `POST /validate`: checks the token your front end got after a challenge
/// and returns the action's outcome. Call it before trusting the user.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
        Self {
            token: token.into(),
            user_id: None,
            action: None,
        }
    }
}

setters!(ValidateChallengeRequest {
    /// The user the token must belong to.
    with_user_id => user_id: String,
    /// The action code the token must belong to.
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
}

/// `POST /challenge`: starts an OTP challenge (sends an SMS, WhatsApp or
/// email code) that you verify with [`VerifyRequest`], or sends the code of
/// an open challenge again.
///
/// One request type, two shapes, each with its own constructor:
///
/// - **start**: [`ChallengeRequest::new`]`(method, action)`, the documented
///   form: `verificationMethod` and `action` are required.
/// - **resend**: [`ChallengeRequest::resend`]`(challenge_id)`: only the id of
///   the open challenge is needed (the code goes to the same destination on
///   the same channel). This form is not in the API reference; the Node SDK
///   sends it since 2.17.0. A method and action may still be added with
///   [`with_verification_method`](Self::with_verification_method) and
///   [`with_action`](Self::with_action).
///
/// The `challengeId` decides: a request that has one is a resend, one that
/// has none must have both a method and an action. Anything else, e.g. a
/// method without an action, is rejected with [`InvalidInput::Field`] before
/// it is sent, so the API never has to guess which shape was meant. Only
/// `resend` sets the id: there is no `with_challenge_id`, so a start request
/// cannot silently turn into a resend.
///
/// Whether a resend issues a new code, extends `expiresAt` or returns the
/// same `challengeId` is not documented.
///
/// ```
/// use authsignal_core::{ChallengeRequest, Config, Endpoint, VerificationMethod, VerifyRequest};
/// let config = Config::builder("sk_test").build()?;
/// let challenge = ChallengeRequest::new(VerificationMethod::Sms, "signIn")
///     .with_phone_number("+64270000000");
/// let request = challenge.build_request(&config)?;
/// assert_eq!((request.method().as_str(), request.uri().path()), ("POST", "/v1/challenge"));
/// // Then check the code the user typed:
/// let verify = VerifyRequest::new("challenge-id", "123456").build_request(&config)?;
/// assert_eq!(verify.uri().path(), "/v1/verify");
///
/// // The code did not arrive: send it again.
/// let resend = ChallengeRequest::resend("challenge-id").build_request(&config)?;
/// assert_eq!(resend.body(), br#"{"challengeId":"challenge-id"}"#);
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ChallengeRequest {
    /// How to send the code: `SMS`, `EMAIL_OTP` or `WHATSAPP`. Required to
    /// start a challenge; optional on a resend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_method: Option<VerificationMethod>,
    /// The action code the challenge is for, e.g. `signIn`. Required to
    /// start a challenge; optional on a resend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The open challenge whose code to send again; set by
    /// [`ChallengeRequest::resend`]. When set, the request is a resend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_id: Option<String>,
    /// The idempotency key of a tracked action this challenge belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The user's id in your system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The email address to send the code to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The phone number to send the code to (E.164).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// The channel for SMS-type codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_channel: Option<SmsChannel>,
    /// The locale of the message, e.g. `en-NZ`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Your id for the user's device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The user's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The user's browser user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Custom data for rules (any JSON object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<serde_json::Value>,
    /// Scopes for the token a claim returns; sent space-separated
    /// (`add:authenticators update:authenticators`), omitted when empty.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "super::space_separated",
        deserialize_with = "super::from_space_separated"
    )]
    pub scope: Vec<AuthScope>,
}

impl ChallengeRequest {
    /// A request to start a challenge: send a `verification_method` code for
    /// `action`.
    pub fn new(verification_method: VerificationMethod, action: impl Into<String>) -> Self {
        Self {
            verification_method: Some(verification_method),
            action: Some(action.into()),
            ..Self::empty()
        }
    }

    /// A request to send the code of the open challenge `challenge_id`
    /// again, to the same destination on the same channel (sent as
    /// `{"challengeId": …}` plus any field you add).
    pub fn resend(challenge_id: impl Into<String>) -> Self {
        Self {
            challenge_id: Some(challenge_id.into()),
            ..Self::empty()
        }
    }

    fn empty() -> Self {
        Self {
            verification_method: None,
            action: None,
            challenge_id: None,
            idempotency_key: None,
            user_id: None,
            email: None,
            phone_number: None,
            sms_channel: None,
            locale: None,
            device_id: None,
            ip_address: None,
            user_agent: None,
            custom: None,
            scope: Vec::new(),
        }
    }

    /// Adds one scope.
    pub fn with_scope(mut self, scope: AuthScope) -> Self {
        self.scope.push(scope);
        self
    }

    /// Adds scopes.
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = AuthScope>) -> Self {
        self.scope.extend(scopes);
        self
    }
}

setters!(ChallengeRequest {
    /// How to send the code: `SMS`, `EMAIL_OTP` or `WHATSAPP` (already set
    /// by [`ChallengeRequest::new`]; optional on a resend).
    with_verification_method => verification_method: VerificationMethod,
    /// The action code the challenge is for (already set by
    /// [`ChallengeRequest::new`]; optional on a resend).
    with_action => action: String,
    /// The idempotency key of a tracked action this challenge belongs to.
    with_idempotency_key => idempotency_key: String,
    /// The user's id in your system.
    with_user_id => user_id: String,
    /// The email address to send the code to.
    with_email => email: String,
    /// The phone number to send the code to (E.164).
    with_phone_number => phone_number: String,
    /// The channel for SMS-type codes.
    with_sms_channel => sms_channel: SmsChannel,
    /// The locale of the message, e.g. `en-NZ`.
    with_locale => locale: String,
    /// Your id for the user's device.
    with_device_id => device_id: String,
    /// The user's IP address.
    with_ip_address => ip_address: String,
    /// The user's browser user agent.
    with_user_agent => user_agent: String,
    /// Custom data for rules (any JSON object).
    with_custom => custom: serde_json::Value,
});

/// The result of [`ChallengeRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ChallengeResponse {
    /// The challenge's id, for [`VerifyRequest`] and [`ClaimChallengeRequest`].
    pub challenge_id: String,
    /// The idempotency key of the action, when returned.
    pub idempotency_key: Option<String>,
    /// When the code expires (Unix seconds).
    pub expires_at: i64,
}

impl Endpoint for ChallengeRequest {
    type Output = ChallengeResponse;
    const NAME: &'static str = "challenge";
    const METHOD: Method = Method::POST;
    // Sends a message to the user.
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;

    /// Either a resend (a non-empty `challengeId`) or a start (both a
    /// `verificationMethod` and an `action`).
    fn validate(&self) -> Result<(), InvalidInput> {
        let missing = |name| {
            InvalidInput::Field {
            name,
            reason: "is required to start a challenge (to send an open challenge's code again, use `ChallengeRequest::resend`)".into(),
        }
        };
        match &self.challenge_id {
            Some(id) if id.is_empty() => Err(InvalidInput::Field {
                name: "challengeId",
                reason: "must not be empty".into(),
            }),
            Some(_) => Ok(()),
            None if self.verification_method.is_none() => Err(missing("verificationMethod")),
            None if self.action.as_deref().is_none_or(str::is_empty) => Err(missing("action")),
            None => Ok(()),
        }
    }

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("challenge");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `POST /verify`: checks the code the user entered for a challenge.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VerifyRequest {
    /// The challenge's id.
    pub challenge_id: String,
    /// The code the user entered.
    pub verification_code: SecretString,
}

impl VerifyRequest {
    /// A request to check `verification_code` for `challenge_id`.
    pub fn new(
        challenge_id: impl Into<String>,
        verification_code: impl Into<SecretString>,
    ) -> Self {
        Self {
            challenge_id: challenge_id.into(),
            verification_code: verification_code.into(),
        }
    }
}

/// The result of [`VerifyRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VerifyResponse {
    /// Whether the code was right.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_verified: bool,
    /// The verified email address.
    pub email: Option<String>,
    /// The verified phone number.
    pub phone_number: Option<String>,
    /// The method of the challenge.
    pub verification_method: Option<VerificationMethod>,
    /// Why the code was not verified.
    pub failure_reason: Option<VerificationFailureReason>,
}

impl Endpoint for VerifyRequest {
    type Output = VerifyResponse;
    const NAME: &'static str = "verify";
    const METHOD: Method = Method::POST;
    // Each wrong code counts towards the attempt limit.
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("verify");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `POST /claim`: assigns a verified challenge to a user and returns a token
/// (e.g. for [`CreateSessionRequest`](crate::CreateSessionRequest)).
///
/// The body is exactly the documented one: `challengeId`, `userId` and
/// `skipVerificationCheck`. Rule inputs (device id, IP address, user agent,
/// custom data) belong on [`ChallengeRequest`]; the Node SDK removed them
/// from claim in 2.18.0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClaimChallengeRequest {
    /// The user who claims it.
    pub user_id: String,
    /// The challenge's id.
    pub challenge_id: String,
    /// Claim without first calling [`VerifyRequest`]: for codes verified
    /// outside Authsignal. The API's default is `false`; the docs warn that
    /// misuse can open security holes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verification_check: Option<bool>,
}

impl ClaimChallengeRequest {
    /// A request for `user_id` to claim `challenge_id` (the user id comes
    /// first, as in every request of the SDK).
    pub fn new(user_id: impl Into<String>, challenge_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            challenge_id: challenge_id.into(),
            skip_verification_check: None,
        }
    }
}

setters!(ClaimChallengeRequest {
    /// Claim without first calling [`VerifyRequest`]: for codes verified
    /// outside Authsignal. The API's default is `false`; the docs warn that
    /// misuse can open security holes.
    with_skip_verification_check => skip_verification_check: bool,
});

/// The result of [`ClaimChallengeRequest`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClaimChallengeResponse {
    /// A token proving the claim.
    pub token: SecretString,
    /// The method of the challenge.
    pub verification_method: Option<VerificationMethod>,
}

impl Endpoint for ClaimChallengeRequest {
    type Output = ClaimChallengeResponse;
    const NAME: &'static str = "claim_challenge";
    const METHOD: Method = Method::POST;
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("claim");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `GET /challenges`: looks up a challenge. Only the parameters that are set
/// are sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetChallengeRequest {
    /// The challenge's id.
    pub challenge_id: Option<String>,
    /// The user's id.
    pub user_id: Option<String>,
    /// The action code.
    pub action: Option<String>,
    /// The challenge's method.
    pub verification_method: Option<VerificationMethod>,
}

impl GetChallengeRequest {
    /// A request with no filter yet; add them with the setters.
    pub fn new() -> Self {
        Self::default()
    }
}

setters!(GetChallengeRequest {
    /// The challenge's id.
    with_challenge_id => challenge_id: String,
    /// The user's id.
    with_user_id => user_id: String,
    /// The action code.
    with_action => action: String,
    /// The challenge's method.
    with_verification_method => verification_method: VerificationMethod,
});

/// The result of [`GetChallengeRequest`]; every field is absent when no
/// challenge matched.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetChallengeResponse {
    /// The challenge's id.
    pub challenge_id: Option<String>,
    /// When the code expires (Unix seconds).
    pub expires_at: Option<i64>,
    /// The challenge's method.
    pub verification_method: Option<VerificationMethod>,
    /// The channel for SMS-type codes.
    pub sms_channel: Option<SmsChannel>,
    /// The phone number the code went to.
    pub phone_number: Option<String>,
    /// The email address the code went to.
    pub email: Option<String>,
    /// The action code (a number in the docs is accepted and turned into text).
    #[serde(default, deserialize_with = "string_or_number")]
    pub action: Option<String>,
}

/// Decodes an optional string that the docs say may be a number.
fn string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        String(String),
        Number(serde_json::Number),
    }
    Ok(
        Option::<Text>::deserialize(deserializer)?.map(|text| match text {
            Text::String(s) => s,
            Text::Number(n) => n.to_string(),
        }),
    )
}

impl Endpoint for GetChallengeRequest {
    type Output = GetChallengeResponse;
    const NAME: &'static str = "get_challenge";
    const METHOD: Method = Method::GET;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("challenges");
        Ok(())
    }

    fn write_query(&self, query: &mut QueryBuilder<'_>) {
        query
            .optional("challengeId", self.challenge_id.as_deref())
            .optional("userId", self.user_id.as_deref())
            .optional("action", self.action.as_deref())
            .optional(
                "verificationMethod",
                self.verification_method
                    .as_ref()
                    .map(VerificationMethod::as_str),
            );
    }
}

crate::client::endpoints! {
    /// Validates the token returned after a challenge (pre-built UI,
    /// client SDKs, `verify` or `claim_challenge`).
    validate_challenge(ValidateChallengeRequest) -> ValidateChallengeResponse,
        route = "POST /validate",
        example = ValidateChallengeRequest::new("eyJ.x.y");
    /// Sends an SMS, WhatsApp or email OTP, or sends an open challenge's
    /// code again ([`ChallengeRequest::resend`]).
    challenge(ChallengeRequest) -> ChallengeResponse,
        route = "POST /challenge",
        example = ChallengeRequest::new(VerificationMethod::Sms, "signIn");
    /// Checks the code the user entered.
    verify(VerifyRequest) -> VerifyResponse,
        route = "POST /verify",
        example = VerifyRequest::new("ch-1", "123456");
    /// Assigns a verified challenge to a user and returns a token.
    claim_challenge(ClaimChallengeRequest) -> ClaimChallengeResponse,
        route = "POST /claim",
        example = ClaimChallengeRequest::new("user-1", "ch-1");
    /// Looks up a challenge by id, or by user, action and verification method.
    get_challenge(GetChallengeRequest) -> GetChallengeResponse,
        route = "GET /challenges",
        example = GetChallengeRequest::new().with_challenge_id("ch-1");
}
