//! Authenticators: the tenant's authenticator configurations; a user's
//! authenticators: list, enroll (verified elsewhere, one or in bulk), delete.

use http::Method;
use serde::{Deserialize, Serialize};

use super::{ignore_body, null_as_default, setters};
use crate::{
    ErrorCode, Idempotency, InvalidInput, SecretString, SmsChannel, VerificationMethod,
    endpoint::{Endpoint, PathBuilder, json_body},
};

/// `GET /authenticators`: the authenticators the tenant has configured
/// (which methods exist, which are active, how the pre-built UI shows them).
///
/// Not to be confused with a user's authenticators,
/// [`GetAuthenticatorsRequest`] (`GET /users/{userId}/authenticators`).
///
/// ```
/// use authsignal_core::{Config, Endpoint, GetAuthenticatorConfigurationsRequest, SmsChannel, http};
/// let get = GetAuthenticatorConfigurationsRequest::new();
/// let request = get.build_request(&Config::builder("sk_test").build()?)?;
/// assert_eq!(request.uri(), "https://api.authsignal.com/v1/authenticators");
///
/// let configurations = get.parse_response(http::Response::new(
///     br#"[{"authenticatorId":"a-1","verificationMethod":"SMS","isActive":true,"smsChannel":"WHATSAPP"}]"#.to_vec(),
/// ))?;
/// assert_eq!(configurations[0].sms_channel, Some(SmsChannel::Whatsapp));
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetAuthenticatorConfigurationsRequest {}

impl GetAuthenticatorConfigurationsRequest {
    /// The request (it has no parameters).
    pub fn new() -> Self {
        Self {}
    }
}

/// One of the tenant's authenticator configurations, from
/// [`GetAuthenticatorConfigurationsRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuthenticatorConfiguration {
    /// The configuration's id.
    pub authenticator_id: String,
    /// The method it configures. WhatsApp is an `SMS` configuration with
    /// [`sms_channel`](Self::sms_channel) `WHATSAPP`.
    pub verification_method: VerificationMethod,
    /// Whether it is enabled.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_active: bool,
    /// Whether users may edit this authenticator in the pre-built UI.
    pub is_editable_by_user: Option<bool>,
    /// Whether the pre-built UI hides it from users.
    pub is_hidden_to_user: Option<bool>,
    /// SMS configurations only: `DEFAULT` allows regular SMS only,
    /// `WHATSAPP` allows both SMS and WhatsApp messages.
    pub sms_channel: Option<SmsChannel>,
}

impl Endpoint for GetAuthenticatorConfigurationsRequest {
    type Output = Vec<AuthenticatorConfiguration>;
    const NAME: &'static str = "get_authenticator_configurations";
    const METHOD: Method = Method::GET;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("authenticators");
        Ok(())
    }
}

/// An authenticator a user has enrolled.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserAuthenticator {
    /// The authenticator's id.
    pub user_authenticator_id: String,
    /// The method it provides.
    pub verification_method: VerificationMethod,
    /// The user's id.
    pub user_id: Option<String>,
    /// When it was created (ISO 8601).
    pub created_at: Option<String>,
    /// When it was verified (ISO 8601).
    pub verified_at: Option<String>,
    /// When it was last used (ISO 8601).
    pub last_verified_at: Option<String>,
    /// Phone number (SMS, WhatsApp).
    pub phone_number: Option<String>,
    /// Email address (email OTP, magic link).
    pub email: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// SMS authenticators only: the channel the user last completed an SMS
    /// challenge on (`DEFAULT` or `WHATSAPP`).
    pub previous_sms_channel: Option<SmsChannel>,
    /// Passkey and security-key details.
    pub webauthn_credential: Option<WebauthnCredential>,
}

/// WebAuthn details of a passkey or security key.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebauthnCredential {
    /// The credential id.
    pub credential_id: Option<String>,
    /// The device id.
    pub device_id: Option<String>,
    /// A display name.
    pub name: Option<String>,
    /// The authenticator model's AAGUID.
    pub aaguid: Option<String>,
    /// The name and icons of the authenticator model.
    pub aaguid_mapping: Option<AaguidMapping>,
    /// Whether the credential is backed up (synced).
    pub credential_backed_up: Option<bool>,
    /// `singleDevice` or `multiDevice`.
    pub credential_device_type: Option<String>,
    /// `platform` or `cross-platform`.
    pub authenticator_attachment: Option<String>,
    /// The user agent that registered it.
    pub parsed_user_agent: Option<ParsedUserAgent>,
}

/// The name and icons of an authenticator model.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AaguidMapping {
    /// E.g. `iCloud Keychain`.
    pub name: Option<String>,
    /// Light icon (`data:image/svg+xml;base64,…`).
    pub svg_icon_light: Option<String>,
    /// Dark icon.
    pub svg_icon_dark: Option<String>,
}

/// A parsed user agent.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ParsedUserAgent {
    /// The raw user agent string.
    pub ua: Option<String>,
    /// Browser.
    pub browser: Option<UserAgentBrowser>,
    /// Device.
    pub device: Option<UserAgentDevice>,
    /// Engine.
    pub engine: Option<UserAgentEngine>,
    /// Operating system.
    pub os: Option<UserAgentOs>,
    /// CPU.
    pub cpu: Option<UserAgentCpu>,
}

/// Browser of a [`ParsedUserAgent`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct UserAgentBrowser {
    /// Name, e.g. `Chrome`.
    pub name: Option<String>,
    /// Full version.
    pub version: Option<String>,
    /// Major version.
    pub major: Option<String>,
}

/// Device of a [`ParsedUserAgent`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct UserAgentDevice {
    /// Model.
    pub model: Option<String>,
    /// Type, e.g. `mobile`.
    #[serde(rename = "type")]
    pub device_type: Option<String>,
    /// Vendor.
    pub vendor: Option<String>,
}

/// Engine of a [`ParsedUserAgent`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct UserAgentEngine {
    /// Name.
    pub name: Option<String>,
    /// Version.
    pub version: Option<String>,
}

/// Operating system of a [`ParsedUserAgent`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct UserAgentOs {
    /// Name.
    pub name: Option<String>,
    /// Version.
    pub version: Option<String>,
}

/// CPU of a [`ParsedUserAgent`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct UserAgentCpu {
    /// Architecture, e.g. `amd64`.
    pub architecture: Option<String>,
}

/// `GET /users/{userId}/authenticators`: a user's authenticators.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetAuthenticatorsRequest {
    /// The user's id in your system.
    pub user_id: String,
}

impl GetAuthenticatorsRequest {
    /// A request for `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
        }
    }
}

impl Endpoint for GetAuthenticatorsRequest {
    type Output = Vec<UserAuthenticator>;
    const NAME: &'static str = "get_authenticators";
    const METHOD: Method = Method::GET;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users")
            .param("userId", &self.user_id)?
            .literal("authenticators");
        Ok(())
    }
}

/// `POST /users/{userId}/authenticators`: enrolls an authenticator whose
/// phone number or email you have already verified, or a passkey whose
/// credential you registered yourself.
///
/// **Passkeys**: the API reference describes the credential id, its public
/// key and a display name without showing their JSON names; this SDK sends
/// them as `credentialId`, `credentialPublicKey` and `name`, the names the
/// batch endpoint ([`BatchEnrollVerifiedAuthenticatorsRequest`]) documents
/// for the same things. That is an inference, not a documented fact. The
/// optional signature counter is not offered, as its name is not known.
///
/// ```
/// use authsignal_core::{Config, Endpoint, EnrollVerifiedAuthenticatorRequest, VerificationMethod, http};
/// let enroll = EnrollVerifiedAuthenticatorRequest::new("user-1", VerificationMethod::Sms)
///     .with_phone_number("+64270000000");
/// let request = enroll.build_request(&Config::builder("sk_test").build()?)?;
/// assert_eq!(request.uri().path(), "/v1/users/user-1/authenticators");
///
/// let response = http::Response::new(br#"{"authenticator":{"userAuthenticatorId":"a-1",
///     "verificationMethod":"SMS"},"recoveryCodes":["c-1","c-2"]}"#.to_vec());
/// let enrolled = enroll.parse_response(response)?;
/// assert_eq!(enrolled.authenticator.user_authenticator_id, "a-1");
/// assert_eq!(enrolled.recovery_codes[0].expose_secret(), "c-1");
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnrollVerifiedAuthenticatorRequest {
    /// The user's id in your system (path).
    #[serde(skip_serializing)]
    pub user_id: String,
    /// The method to enroll.
    pub verification_method: VerificationMethod,
    /// Phone number (SMS, WhatsApp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Email address (email OTP, magic link).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Make it the user's default method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    /// The `otpauth://` URI of an authenticator app (holds its secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp_uri: Option<SecretString>,
    /// Passkeys: the credential id (base64url). JSON name inferred from the
    /// batch endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// Passkeys: the credential's public key (base64url). JSON name
    /// inferred from the batch endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_public_key: Option<String>,
    /// A display name, e.g. the device or browser. JSON name inferred from
    /// the batch endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// **Deprecated by the API**: the method as `EMAIL_MAGIC_LINK`,
    /// `EMAIL_OTP` or `SMS`, from before `verificationMethod`. Set
    /// [`verification_method`](Self::verification_method) instead; this is
    /// only for code that still has to send the old field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oob_channel: Option<VerificationMethod>,
}

impl EnrollVerifiedAuthenticatorRequest {
    /// A request to enroll `verification_method` for `user_id`.
    pub fn new(user_id: impl Into<String>, verification_method: VerificationMethod) -> Self {
        Self {
            user_id: user_id.into(),
            verification_method,
            phone_number: None,
            email: None,
            is_default: None,
            otp_uri: None,
            credential_id: None,
            credential_public_key: None,
            name: None,
            oob_channel: None,
        }
    }

    /// A request to enroll a passkey for `user_id` from its credential id
    /// and public key (both base64url; see the type's docs on the field
    /// names).
    pub fn passkey(
        user_id: impl Into<String>,
        credential_id: impl Into<String>,
        credential_public_key: impl Into<String>,
    ) -> Self {
        Self {
            credential_id: Some(credential_id.into()),
            credential_public_key: Some(credential_public_key.into()),
            ..Self::new(user_id, VerificationMethod::Passkey)
        }
    }
}

setters!(EnrollVerifiedAuthenticatorRequest {
    /// Phone number (SMS, WhatsApp).
    with_phone_number => phone_number: String,
    /// Email address (email OTP, magic link).
    with_email => email: String,
    /// Make it the user's default method.
    with_is_default => is_default: bool,
    /// The `otpauth://` URI of an authenticator app (holds its secret).
    with_otp_uri => otp_uri: SecretString,
    /// Passkeys: the credential id (base64url). JSON name inferred from the
    /// batch endpoint.
    with_credential_id => credential_id: String,
    /// Passkeys: the credential's public key (base64url). JSON name
    /// inferred from the batch endpoint.
    with_credential_public_key => credential_public_key: String,
    /// A display name, e.g. the device or browser. JSON name inferred from
    /// the batch endpoint.
    with_name => name: String,
    /// **Deprecated by the API**: the method as `EMAIL_MAGIC_LINK`,
    /// `EMAIL_OTP` or `SMS`, from before `verificationMethod`. Set
    /// [`verification_method`](Self::verification_method) instead; this is
    /// only for code that still has to send the old field.
    with_oob_channel => oob_channel: VerificationMethod,
});

/// The result of [`EnrollVerifiedAuthenticatorRequest`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnrollVerifiedAuthenticatorResponse {
    /// The new authenticator.
    pub authenticator: UserAuthenticator,
    /// Recovery codes, when the tenant issues them on first enrolment.
    #[serde(default, deserialize_with = "null_as_default")]
    pub recovery_codes: Vec<SecretString>,
}

impl Endpoint for EnrollVerifiedAuthenticatorRequest {
    type Output = EnrollVerifiedAuthenticatorResponse;
    const NAME: &'static str = "enroll_verified_authenticator";
    const METHOD: Method = Method::POST;
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users")
            .param("userId", &self.user_id)?
            .literal("authenticators");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `DELETE /users/{userId}/authenticators/{userAuthenticatorId}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeleteAuthenticatorRequest {
    /// The user's id in your system.
    pub user_id: String,
    /// The authenticator's id.
    pub user_authenticator_id: String,
}

impl DeleteAuthenticatorRequest {
    /// A request to delete one authenticator of `user_id`.
    pub fn new(user_id: impl Into<String>, user_authenticator_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            user_authenticator_id: user_authenticator_id.into(),
        }
    }
}

impl Endpoint for DeleteAuthenticatorRequest {
    type Output = ();
    const NAME: &'static str = "delete_authenticator";
    const METHOD: Method = Method::DELETE;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users")
            .param("userId", &self.user_id)?
            .literal("authenticators")
            .param("userAuthenticatorId", &self.user_authenticator_id)?;
        Ok(())
    }

    fn parse_body(&self, body: &[u8]) -> Result<Self::Output, serde_json::Error> {
        ignore_body(body)
    }
}

/// The most authenticators one [`BatchEnrollVerifiedAuthenticatorsRequest`]
/// may carry.
pub const MAX_BATCH_ENROLL_AUTHENTICATORS: usize = 1000;

/// `POST /users/authenticators`: enrolls up to
/// [`MAX_BATCH_ENROLL_AUTHENTICATORS`] verified passkeys in one call, e.g.
/// when migrating from another provider.
///
/// A request with no authenticator, or with more than the maximum, is
/// rejected with [`InvalidInput::Field`] before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchEnrollVerifiedAuthenticatorsRequest {
    /// The authenticators to enroll (1 to 1000).
    pub authenticators: Vec<BatchEnrollAuthenticator>,
}

impl BatchEnrollVerifiedAuthenticatorsRequest {
    /// A request to enroll `authenticators`.
    pub fn new(authenticators: impl IntoIterator<Item = BatchEnrollAuthenticator>) -> Self {
        Self {
            authenticators: authenticators.into_iter().collect(),
        }
    }

    /// Adds one authenticator.
    pub fn with_authenticator(mut self, authenticator: BatchEnrollAuthenticator) -> Self {
        self.authenticators.push(authenticator);
        self
    }
}

/// One authenticator of a [`BatchEnrollVerifiedAuthenticatorsRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchEnrollAuthenticator {
    /// The user's id in your system.
    pub user_id: String,
    /// The method, e.g. `PASSKEY`.
    pub verification_method: VerificationMethod,
    /// The credential id (base64url).
    pub credential_id: String,
    /// The credential's public key (base64url COSE key).
    pub credential_public_key: String,
    /// A display name, e.g. `iPhone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// WebAuthn transports, e.g. `internal`, `hybrid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transports: Option<Vec<String>>,
    /// The authenticator model's AAGUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aaguid: Option<String>,
}

impl BatchEnrollAuthenticator {
    /// An authenticator of `verification_method` for `user_id`.
    pub fn new(
        user_id: impl Into<String>,
        verification_method: VerificationMethod,
        credential_id: impl Into<String>,
        credential_public_key: impl Into<String>,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            verification_method,
            credential_id: credential_id.into(),
            credential_public_key: credential_public_key.into(),
            name: None,
            transports: None,
            aaguid: None,
        }
    }

    /// A passkey for `user_id`.
    pub fn passkey(
        user_id: impl Into<String>,
        credential_id: impl Into<String>,
        credential_public_key: impl Into<String>,
    ) -> Self {
        Self::new(
            user_id,
            VerificationMethod::Passkey,
            credential_id,
            credential_public_key,
        )
    }

    /// Sets `transports`.
    pub fn with_transports<I>(mut self, transports: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.transports = Some(transports.into_iter().map(Into::into).collect());
        self
    }
}

setters!(BatchEnrollAuthenticator {
    /// A display name, e.g. `iPhone`.
    with_name => name: String,
    /// The authenticator model's AAGUID.
    with_aaguid => aaguid: String,
});

/// The result of [`BatchEnrollVerifiedAuthenticatorsRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchEnrollVerifiedAuthenticatorsResponse {
    /// How many authenticators were in the request.
    #[serde(default)]
    pub total: u32,
    /// How many were enrolled.
    #[serde(default)]
    pub succeeded: u32,
    /// How many were not.
    #[serde(default)]
    pub failed: u32,
    /// Why each failed one was not enrolled.
    #[serde(default, deserialize_with = "null_as_default")]
    pub failures: Vec<BatchEnrollFailure>,
}

/// One authenticator that [`BatchEnrollVerifiedAuthenticatorsRequest`] did
/// not enroll.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchEnrollFailure {
    /// The user's id.
    pub user_id: String,
    /// The credential id.
    pub credential_id: String,
    /// The error code, e.g. [`ErrorCode::Conflict`] (the credential belongs
    /// to another user).
    pub error_code: Option<ErrorCode>,
    /// The error description.
    pub error_description: Option<String>,
}

impl Endpoint for BatchEnrollVerifiedAuthenticatorsRequest {
    type Output = BatchEnrollVerifiedAuthenticatorsResponse;
    const NAME: &'static str = "batch_enroll_verified_authenticators";
    const METHOD: Method = Method::POST;
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;

    fn validate(&self) -> Result<(), InvalidInput> {
        if (1..=MAX_BATCH_ENROLL_AUTHENTICATORS).contains(&self.authenticators.len()) {
            Ok(())
        } else {
            Err(InvalidInput::Field {
                name: "authenticators",
                reason: format!(
                    "must hold 1 to {MAX_BATCH_ENROLL_AUTHENTICATORS} items, not {}",
                    self.authenticators.len()
                )
                .into(),
            })
        }
    }

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users").literal("authenticators");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

crate::client::endpoints! {
    /// The tenant's authenticator configurations: which methods exist and
    /// which are active.
    get_authenticator_configurations(GetAuthenticatorConfigurationsRequest) -> Vec<AuthenticatorConfiguration>,
        route = "GET /authenticators",
        example = GetAuthenticatorConfigurationsRequest::new();
    /// A user's authenticators (passkeys, authenticator apps, phone numbers…).
    get_authenticators(GetAuthenticatorsRequest) -> Vec<UserAuthenticator>,
        route = "GET /users/{userId}/authenticators",
        example = GetAuthenticatorsRequest::new("user-1");
    /// Enrolls an authenticator whose ownership you verified elsewhere.
    enroll_verified_authenticator(EnrollVerifiedAuthenticatorRequest) -> EnrollVerifiedAuthenticatorResponse,
        route = "POST /users/{userId}/authenticators",
        example = EnrollVerifiedAuthenticatorRequest::new("user-1", VerificationMethod::Sms);
    /// Removes one of a user's authenticators.
    delete_authenticator(DeleteAuthenticatorRequest) -> (),
        route = "DELETE /users/{userId}/authenticators/{userAuthenticatorId}",
        example = DeleteAuthenticatorRequest::new("user-1", "auth-1");
    /// Enrolls up to 1000 verified passkeys at once (for migrations).
    batch_enroll_verified_authenticators(BatchEnrollVerifiedAuthenticatorsRequest) -> BatchEnrollVerifiedAuthenticatorsResponse,
        route = "POST /users/authenticators",
        example = BatchEnrollVerifiedAuthenticatorsRequest::new([
            BatchEnrollAuthenticator::passkey("user-1", "cred-1", "pk-1"),
        ]);
}
