//! The open enums, all made by one macro; five of them checked here: each
//! known wire string decodes to its variant (`From<&str>`, `From<String>`,
//! `FromStr`, serde) and is written back unchanged (`as_str`, `Display`,
//! serde); any other string — one that differs only in case or by a blank
//! included — is kept as sent and written back unchanged. How each decodes
//! inside a response is in the endpoint table (`tests/fixtures/`).

use std::{convert::Infallible, fmt::Debug, fmt::Display, str::FromStr};

use authsignal_core::{ErrorCode, PaymentSessionStatus, UserActionState, VerificationMethod};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;

/// Checks an open enum against all its known values; `is_unknown` and
/// `as_str` are its inherent methods.
fn check<T>(known: &[(&str, T)], is_unknown: fn(&T) -> bool, as_str: fn(&T) -> &str)
where
    T: for<'a> From<&'a str> + From<String> + FromStr<Err = Infallible>,
    T: Display + Serialize + DeserializeOwned + PartialEq + Debug,
{
    let decodings = |wire: &str| -> [T; 4] {
        let parsed = wire.parse().unwrap();
        let decoded = serde_json::from_value(json!(wire)).unwrap();
        [T::from(wire), T::from(wire.to_owned()), parsed, decoded]
    };
    let mut unknown = vec!["".to_owned(), "SOMETHING_NEW".to_owned()];
    for (wire, variant) in known {
        for value in decodings(wire) {
            assert_eq!(&value, variant, "{wire}");
        }
        assert!(!is_unknown(variant), "{wire}");
        assert_eq!(as_str(variant), *wire);
        assert_eq!(variant.to_string(), *wire);
        assert_eq!(serde_json::to_value(variant).unwrap(), json!(wire));
        unknown.extend([wire.to_lowercase(), wire.to_uppercase(), format!("{wire} ")]);
    }
    let known_wires: Vec<&str> = known.iter().map(|(wire, _)| *wire).collect();
    for wire in unknown
        .iter()
        .filter(|w| !known_wires.contains(&w.as_str()))
    {
        for value in decodings(wire) {
            assert!(is_unknown(&value), "{wire:?}: {value:?}");
            assert_eq!(as_str(&value), wire);
            assert_eq!(value.to_string(), *wire);
            assert_eq!(serde_json::to_value(&value).unwrap(), json!(wire));
            assert!(known.iter().all(|(_, variant)| *variant != value));
        }
    }
}

#[test]
fn verification_methods() {
    use VerificationMethod as V;
    let known = [
        ("SMS", V::Sms),
        ("EMAIL_OTP", V::EmailOtp),
        ("EMAIL_MAGIC_LINK", V::EmailMagicLink),
        ("AUTHENTICATOR_APP", V::AuthenticatorApp),
        ("PASSKEY", V::Passkey),
        ("SECURITY_KEY", V::SecurityKey),
        ("PUSH", V::Push),
        ("VERIFF", V::Veriff),
        ("IPROOV", V::Iproov),
        ("IDVERSE", V::Idverse),
        ("PALM_BIOMETRICS_RR", V::PalmBiometricsRr),
        ("RECOVERY_CODE", V::RecoveryCode),
        ("DEVICE", V::Device),
        ("WHATSAPP", V::Whatsapp),
    ];
    check(&known, V::is_unknown, V::as_str);
}

#[test]
fn user_action_states() {
    use UserActionState as S;
    let known = [
        ("ALLOW", S::Allow),
        ("BLOCK", S::Block),
        ("CHALLENGE_REQUIRED", S::ChallengeRequired),
        ("CHALLENGE_SUCCEEDED", S::ChallengeSucceeded),
        ("CHALLENGE_FAILED", S::ChallengeFailed),
        ("REVIEW_REQUIRED", S::ReviewRequired),
        ("REVIEW_SUCCEEDED", S::ReviewSucceeded),
        ("REVIEW_FAILED", S::ReviewFailed),
    ];
    check(&known, S::is_unknown, S::as_str);
}

#[test]
fn error_codes() {
    use ErrorCode as C;
    let known = [
        ("invalid_request", C::InvalidRequest),
        ("unauthorized", C::Unauthorized),
        ("not_found", C::NotFound),
        ("invalid_request_token", C::InvalidRequestToken),
        ("too_many_requests", C::TooManyRequests),
        ("invalid_configuration", C::InvalidConfiguration),
        ("invalid_credential", C::InvalidCredential),
        ("conflict", C::Conflict),
    ];
    check(&known, C::is_unknown, C::as_str);
}

#[test]
fn payment_session_statuses_and_which_are_final() {
    use PaymentSessionStatus as P;
    let known = [
        ("PENDING", P::Pending),
        ("COMPLETED", P::Completed),
        ("EXPIRED", P::Expired),
        ("FAILED", P::Failed),
    ];
    check(&known, P::is_unknown, P::as_str);
    let finals: Vec<bool> = known.iter().map(|(_, status)| status.is_final()).collect();
    assert_eq!(finals, [false, true, true, true]);
    // A polling loop stops on a status it does not know.
    assert!(P::from("REFUNDED").is_final());
}

#[cfg(feature = "webhook")]
#[test]
fn webhook_event_types() {
    use authsignal_core::webhook::WebhookEventType as T;
    let known = [
        ("email.created", T::EmailCreated),
        ("sms.created", T::SmsCreated),
        ("push.created", T::PushCreated),
        ("authenticator.created", T::AuthenticatorCreated),
        ("authenticator.updated", T::AuthenticatorUpdated),
        ("authenticator.deleted", T::AuthenticatorDeleted),
        ("action.verify", T::ActionVerify),
        ("action.log_created", T::ActionLogCreated),
        ("challenge.log_created", T::ChallengeLogCreated),
    ];
    check(&known, T::is_unknown, T::as_str);
}
