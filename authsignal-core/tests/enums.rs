//! The open enums: a value this version does not know is kept as sent and
//! written back unchanged; known values are exact and case-sensitive.
//! How each decodes inside a response is in the endpoint table
//! (`tests/fixtures/`).

use authsignal_core::{ErrorCode, PaymentSessionStatus, UserActionState, VerificationMethod};
use serde_json::json;

#[test]
fn unknown_values_round_trip() {
    let method: VerificationMethod = serde_json::from_value(json!("QR_CODE")).unwrap();
    match &method {
        VerificationMethod::Unknown(value) => assert_eq!(value.as_str(), "QR_CODE"),
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert!(method.is_unknown());
    assert_eq!(method.as_str(), "QR_CODE");
    assert_eq!(method.to_string(), "QR_CODE");
    assert_eq!(serde_json::to_value(&method).unwrap(), json!("QR_CODE"));
    assert_eq!(VerificationMethod::from("QR_CODE"), method);
    assert_ne!(method, VerificationMethod::Sms);

    let state: UserActionState = serde_json::from_value(json!("SOMETHING_NEW")).unwrap();
    match &state {
        UserActionState::Unknown(value) => assert_eq!(value.as_str(), "SOMETHING_NEW"),
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert_eq!(state.as_str(), "SOMETHING_NEW");
    assert_eq!(
        serde_json::to_value(&state).unwrap(),
        json!("SOMETHING_NEW")
    );
}

#[test]
fn known_values_are_case_sensitive_and_exact() {
    // A value that differs only in case is not the known variant; it is kept as sent.
    let method = VerificationMethod::from("sms");
    assert!(matches!(method, VerificationMethod::Unknown(_)));
    assert_eq!(method.as_str(), "sms");
    for (wire, known) in [
        ("SMS", VerificationMethod::Sms),
        ("EMAIL_OTP", VerificationMethod::EmailOtp),
        ("EMAIL_MAGIC_LINK", VerificationMethod::EmailMagicLink),
        ("AUTHENTICATOR_APP", VerificationMethod::AuthenticatorApp),
        ("PASSKEY", VerificationMethod::Passkey),
        ("SECURITY_KEY", VerificationMethod::SecurityKey),
        ("PUSH", VerificationMethod::Push),
        ("VERIFF", VerificationMethod::Veriff),
        ("IPROOV", VerificationMethod::Iproov),
        ("IDVERSE", VerificationMethod::Idverse),
        ("PALM_BIOMETRICS_RR", VerificationMethod::PalmBiometricsRr),
        ("RECOVERY_CODE", VerificationMethod::RecoveryCode),
        ("DEVICE", VerificationMethod::Device),
        ("WHATSAPP", VerificationMethod::Whatsapp),
    ] {
        assert_eq!(VerificationMethod::from(wire), known);
        assert_eq!(known.as_str(), wire);
        assert_eq!(
            serde_json::from_value::<VerificationMethod>(json!(wire)).unwrap(),
            known
        );
    }
    for (wire, known) in [
        ("ALLOW", UserActionState::Allow),
        ("BLOCK", UserActionState::Block),
        ("CHALLENGE_REQUIRED", UserActionState::ChallengeRequired),
        ("CHALLENGE_SUCCEEDED", UserActionState::ChallengeSucceeded),
        ("CHALLENGE_FAILED", UserActionState::ChallengeFailed),
        ("REVIEW_REQUIRED", UserActionState::ReviewRequired),
        ("REVIEW_SUCCEEDED", UserActionState::ReviewSucceeded),
        ("REVIEW_FAILED", UserActionState::ReviewFailed),
    ] {
        assert_eq!(UserActionState::from(wire), known);
        assert_eq!(serde_json::to_value(&known).unwrap(), json!(wire));
    }
}

#[test]
fn payment_session_statuses_are_open() {
    for (wire, status, is_final) in [
        ("PENDING", PaymentSessionStatus::Pending, false),
        ("COMPLETED", PaymentSessionStatus::Completed, true),
        ("EXPIRED", PaymentSessionStatus::Expired, true),
        ("FAILED", PaymentSessionStatus::Failed, true),
    ] {
        assert_eq!(PaymentSessionStatus::from(wire), status);
        assert_eq!(status.as_str(), wire);
        assert_eq!(status.is_final(), is_final, "{wire}");
        assert_eq!(serde_json::to_value(&status).unwrap(), json!(wire));
    }
    let unknown: PaymentSessionStatus = serde_json::from_value(json!("REFUNDED")).unwrap();
    assert!(unknown.is_unknown());
    assert_eq!(unknown.as_str(), "REFUNDED");
    assert_eq!(serde_json::to_value(&unknown).unwrap(), json!("REFUNDED"));
    // A polling loop stops on a status it does not know.
    assert!(unknown.is_final());
}

#[test]
fn every_known_error_code_maps_to_its_variant() {
    for (wire, code) in [
        ("invalid_request", ErrorCode::InvalidRequest),
        ("unauthorized", ErrorCode::Unauthorized),
        ("not_found", ErrorCode::NotFound),
        ("invalid_request_token", ErrorCode::InvalidRequestToken),
        ("too_many_requests", ErrorCode::TooManyRequests),
        ("invalid_configuration", ErrorCode::InvalidConfiguration),
        ("invalid_credential", ErrorCode::InvalidCredential),
        ("conflict", ErrorCode::Conflict),
    ] {
        assert_eq!(ErrorCode::from(wire), code);
        assert_eq!(code.as_str(), wire);
        assert!(!code.is_unknown(), "{wire}");
    }
    // A code this version does not know keeps its text.
    let code = ErrorCode::from("forbidden_region");
    assert!(code.is_unknown());
    assert_eq!(code.as_str(), "forbidden_region");
    assert_eq!(
        serde_json::to_value(&code).unwrap(),
        json!("forbidden_region")
    );
}
