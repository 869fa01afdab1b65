//! Authenticators: list, enroll (verified elsewhere), delete.

use http::Method;
use serde::{Deserialize, Serialize};

use super::{ignore_body, null_as_default, setters};
use crate::{
    Idempotency, InvalidInput, SecretString, VerificationMethod,
    endpoint::{Endpoint, PathBuilder, json_body},
};

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
    /// The SMS channel used before the last change.
    pub previous_sms_channel: Option<String>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetAuthenticatorsRequest {
    /// The user's id in your system.
    pub user_id: String,
}

impl GetAuthenticatorsRequest {
    /// A request for `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self { user_id: user_id.into() }
    }
}

impl Endpoint for GetAuthenticatorsRequest {
    type Output = Vec<UserAuthenticator>;
    const NAME: &'static str = "get_authenticators";
    const METHOD: Method = Method::GET;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users").param("userId", &self.user_id)?.literal("authenticators");
        Ok(())
    }

    fn parse_body(&self, body: &[u8]) -> Result<Self::Output, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// `POST /users/{userId}/authenticators`: enrolls an authenticator whose
/// phone number or email you have already verified.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnrollVerifiedAuthenticatorRequest {
    /// The user's id in your system (path).
    #[serde(skip)]
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
        }
    }
}

setters!(EnrollVerifiedAuthenticatorRequest {
    with_phone_number => phone_number: String,
    with_email => email: String,
    with_is_default => is_default: bool,
    with_otp_uri => otp_uri: SecretString,
});

/// The result of [`EnrollVerifiedAuthenticatorRequest`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
        path.literal("users").param("userId", &self.user_id)?.literal("authenticators");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }

    fn parse_body(&self, body: &[u8]) -> Result<Self::Output, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// `DELETE /users/{userId}/authenticators/{userAuthenticatorId}`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        Self { user_id: user_id.into(), user_authenticator_id: user_authenticator_id.into() }
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
