//! Open (forward-compatible) string enums.
//!
//! Authsignal adds values over time (verification methods, action states,
//! error codes). Every enum here decodes any string: known values map to a
//! variant, anything else to `Unknown`, which keeps the original text so it
//! round-trips unchanged. Match on known variants and keep a wildcard arm:
//!
//! ```
//! use authsignal_core::VerificationMethod;
//! let method: VerificationMethod = "QR_CODE".into();
//! match &method {
//!     VerificationMethod::Sms => println!("sms"),
//!     other => assert_eq!(other.as_str(), "QR_CODE"),
//! }
//! ```

use std::fmt;

use serde::Deserializer;

/// A value of an open enum that this version of the SDK does not know.
///
/// It cannot be constructed outside the crate, so a future known variant never
/// collides with a hand-made `Unknown`. Read it with [`UnknownValue::as_str`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownValue(pub(crate) String);

impl UnknownValue {
    /// The value as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Defines an open enum: known variants with their wire strings, plus
/// `Unknown(UnknownValue)`, with `as_str`, `Display`, `From<&str>`,
/// `FromStr` and serde as a plain string.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the SDK does not know; `as_str()` returns it unchanged.
            Unknown($crate::enums::UnknownValue),
        }

        impl $name {
            /// Whether this is a value the SDK does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }

            /// The wire string of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(value) => value.as_str(),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Unknown($crate::enums::UnknownValue(other.to_owned())),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $wire => Self::$variant, )+
                    _ => Self::Unknown($crate::enums::UnknownValue(value)),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::enums::deserialize_str(deserializer).map(|value| Self::from(value.as_ref()))
            }
        }
    };
}
#[cfg(feature = "webhook")] // the webhook event type is the only user outside this module
pub(crate) use open_enum;

/// Deserializes a string, borrowing where the format allows it.
pub(crate) fn deserialize_str<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<std::borrow::Cow<'de, str>, D::Error> {
    struct CowVisitor;
    impl<'de> serde::de::Visitor<'de> for CowVisitor {
        type Value = std::borrow::Cow<'de, str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(std::borrow::Cow::Borrowed(v))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(std::borrow::Cow::Owned(v.to_owned()))
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(std::borrow::Cow::Owned(v))
        }
    }
    deserializer.deserialize_str(CowVisitor)
}

open_enum! {
    /// How a user proves who they are.
    pub enum VerificationMethod {
        /// One-time code by SMS.
        Sms = "SMS",
        /// One-time code by email.
        EmailOtp = "EMAIL_OTP",
        /// Magic link by email.
        EmailMagicLink = "EMAIL_MAGIC_LINK",
        /// TOTP authenticator app.
        AuthenticatorApp = "AUTHENTICATOR_APP",
        /// Passkey (WebAuthn platform credential).
        Passkey = "PASSKEY",
        /// Security key (WebAuthn roaming credential).
        SecurityKey = "SECURITY_KEY",
        /// Push notification.
        Push = "PUSH",
        /// Veriff identity verification.
        Veriff = "VERIFF",
        /// iProov biometric verification.
        Iproov = "IPROOV",
        /// IDVerse identity verification.
        Idverse = "IDVERSE",
        /// Palm biometrics (Redrock).
        PalmBiometricsRr = "PALM_BIOMETRICS_RR",
        /// Recovery code.
        RecoveryCode = "RECOVERY_CODE",
        /// Trusted device.
        Device = "DEVICE",
        /// One-time code by WhatsApp.
        Whatsapp = "WHATSAPP",
    }
}

open_enum! {
    /// The state of a tracked action.
    pub enum UserActionState {
        /// The action is allowed.
        Allow = "ALLOW",
        /// The action is blocked.
        Block = "BLOCK",
        /// The user must complete a challenge.
        ChallengeRequired = "CHALLENGE_REQUIRED",
        /// The user completed the challenge.
        ChallengeSucceeded = "CHALLENGE_SUCCEEDED",
        /// The user failed the challenge.
        ChallengeFailed = "CHALLENGE_FAILED",
        /// The action awaits manual review.
        ReviewRequired = "REVIEW_REQUIRED",
        /// The review approved the action.
        ReviewSucceeded = "REVIEW_SUCCEEDED",
        /// The review rejected the action.
        ReviewFailed = "REVIEW_FAILED",
    }
}

open_enum! {
    /// The channel used to deliver an SMS-type OTP.
    pub enum SmsChannel {
        /// The tenant's default channel.
        Default = "DEFAULT",
        /// WhatsApp.
        Whatsapp = "WHATSAPP",
    }
}

open_enum! {
    /// The error code of an API error body (`errorCode`, or `error`), or of
    /// one failed item of a batch.
    ///
    /// The docs list `invalid_configuration`, `invalid_credential`,
    /// `invalid_request`, `too_many_requests` and `unauthorized`, without
    /// statuses; the others were seen in official SDKs. Any other code
    /// decodes as `Unknown` and keeps its text.
    pub enum ErrorCode {
        /// The tenant is in an invalid configuration.
        InvalidConfiguration = "invalid_configuration",
        /// The credential (e.g. a passkey) is invalid for the user.
        InvalidCredential = "invalid_credential",
        /// An invalid parameter or input (seen with status 400).
        InvalidRequest = "invalid_request",
        /// The request token is invalid (the PHP SDK maps it from status
        /// 422; whether the API still sends it is not known).
        InvalidRequestToken = "invalid_request_token",
        /// Rate limited (probably status 429).
        TooManyRequests = "too_many_requests",
        /// Bad API secret key, or the region does not match the key (status 401).
        Unauthorized = "unauthorized",
        /// Nothing matches, e.g. an unknown action idempotency key (status 404).
        NotFound = "not_found",
        /// A batch item that clashes with existing data, e.g. a passkey
        /// credential that belongs to another user (inside a `200` batch
        /// answer, not an HTTP error).
        Conflict = "conflict",
    }
}

open_enum! {
    /// Why a challenge code was not verified.
    pub enum VerificationFailureReason {
        /// The code is wrong or has expired.
        CodeInvalidOrExpired = "CODE_INVALID_OR_EXPIRED",
        /// Too many wrong codes were tried.
        MaxAttemptsExceeded = "MAX_ATTEMPTS_EXCEEDED",
    }
}

open_enum! {
    /// A permission granted to the token of a challenge.
    pub enum AuthScope {
        /// Read the user's authenticators.
        ReadAuthenticators = "read:authenticators",
        /// Add authenticators.
        AddAuthenticators = "add:authenticators",
        /// Remove authenticators.
        RemoveAuthenticators = "remove:authenticators",
        /// Update authenticators.
        UpdateAuthenticators = "update:authenticators",
    }
}

open_enum! {
    /// The channel a Call Connect message was sent on.
    pub enum CallConnectMessageChannel {
        /// WhatsApp.
        Whatsapp = "WHATSAPP",
        /// SMS.
        Sms = "SMS",
        /// Email.
        Email = "EMAIL",
    }
}

open_enum! {
    /// The outcome of a Call Connect call.
    pub enum CallState {
        /// The caller passed the challenge.
        ChallengeSucceeded = "CHALLENGE_SUCCEEDED",
        /// The caller failed the challenge.
        ChallengeFailed = "CHALLENGE_FAILED",
    }
}

open_enum! {
    /// Where a Terminal API payment session stands.
    pub enum PaymentSessionStatus {
        /// Waiting for the customer at the terminal.
        Pending = "PENDING",
        /// The customer authorised the payment.
        Completed = "COMPLETED",
        /// The session ran out of time.
        Expired = "EXPIRED",
        /// The authorisation failed.
        Failed = "FAILED",
    }
}

impl PaymentSessionStatus {
    /// Whether polling can stop: every status but `PENDING`. The docs do
    /// not say so outright; an unknown status counts as final, so that a
    /// polling loop cannot spin on a value it does not understand.
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Pending)
    }
}
