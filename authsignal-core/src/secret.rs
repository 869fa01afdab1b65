//! Redacted wrappers for secrets: the API secret key and bearer material
//! (tokens, OTP codes) that must never reach `Debug`, `Display` or logs.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The tenant's API secret key.
///
/// It is used for HTTP Basic auth and as the webhook signing key. Its `Debug`
/// prints `ApiSecretKey(<redacted>)`; it has no `Display` and no `Serialize`,
/// so it can only leave through [`ApiSecretKey::expose_secret`].
///
/// ```
/// use authsignal_core::ApiSecretKey;
/// let key = ApiSecretKey::new("sk_live_123");
/// assert_eq!(format!("{key:?}"), "ApiSecretKey(<redacted>)");
/// ```
#[derive(Clone)]
pub struct ApiSecretKey(String);

impl ApiSecretKey {
    /// Wraps a secret key.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself. Call it only where the key is really needed.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiSecretKey(<redacted>)")
    }
}

/// A string that is a credential: an access or refresh token, a challenge
/// token, an OTP code.
///
/// It serializes and deserializes as a plain JSON string, but its `Debug`
/// prints `SecretString(<redacted>)` and it has no `Display`.
///
/// ```
/// use authsignal_core::SecretString;
/// let code = SecretString::from("123456");
/// assert_eq!(format!("{code:?}"), "SecretString(<redacted>)");
/// assert_eq!(code.expose_secret(), "123456");
/// ```
///
/// It has no `PartialEq`: comparing secrets with `==` invites timing leaks
/// and hides that a secret is being read. Compare
/// [`expose_secret`](Self::expose_secret) values explicitly, in constant
/// time where an attacker controls one side. Types that hold one (session
/// tokens, OTP codes, recovery codes) have no `PartialEq` either.
#[derive(Clone, Default)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Unwraps the secret value.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}
