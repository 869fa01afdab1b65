//! Offline request-building tests for the ten foundation endpoints: exact
//! method, URI, headers and JSON body of every request, path-parameter
//! encoding and rejection, action-code validation, and `Config` (regions,
//! custom base URLs, secret key checks).

use std::cell::Cell;

use authsignal_core::{
    AuthScope, Client, Config, DeleteAuthenticatorRequest, DeleteUserRequest, Endpoint,
    EnrollVerifiedAuthenticatorRequest, Error, GetActionRequest, GetAuthenticatorsRequest,
    GetUserRequest, Idempotency, InvalidInput, Region, TrackRequest, TransportError,
    UpdateActionRequest, UpdateUserRequest, UserActionState, UserAttributes,
    ValidateChallengeRequest, VerificationMethod,
    http::{self, Method},
};
use base64::Engine as _;
use serde_json::{Value, json};

const SECRET: &str = "sk_test_4uth51gn4l_foundation";

fn config() -> Config {
    Config::builder(SECRET).build().unwrap()
}

fn basic_auth(secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{secret}:"))
    )
}

/// The body of a request as a JSON value (panics when it is not JSON).
fn json_body(request: &http::Request<Vec<u8>>) -> Value {
    serde_json::from_slice(request.body()).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(request.body())
        )
    })
}

/// Checks the full header set: exactly these headers, with these values.
fn assert_headers(request: &http::Request<Vec<u8>>, has_body: bool) {
    let headers = request.headers();
    let authorization = &headers[http::header::AUTHORIZATION];
    assert_eq!(authorization, basic_auth(SECRET).as_str());
    assert!(
        authorization.is_sensitive(),
        "authorization must be marked sensitive"
    );
    assert_eq!(
        headers[http::header::USER_AGENT],
        format!("authsignal-rust/{}", env!("CARGO_PKG_VERSION")).as_str()
    );
    assert_eq!(headers["x-authsignal-version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(headers[http::header::ACCEPT], "application/json");
    if has_body {
        assert_eq!(headers[http::header::CONTENT_TYPE], "application/json");
        assert_eq!(headers.len(), 5, "unexpected headers: {headers:?}");
        assert!(!request.body().is_empty());
    } else {
        assert!(
            !headers.contains_key(http::header::CONTENT_TYPE),
            "content-type sent without a body: {headers:?}"
        );
        assert_eq!(headers.len(), 4, "unexpected headers: {headers:?}");
        assert!(
            request.body().is_empty(),
            "GET/DELETE must not carry a body"
        );
    }
    for name in headers.keys() {
        assert_eq!(
            headers.get_all(name).iter().count(),
            1,
            "header {name} sent twice"
        );
    }
}

/// Checks method and the full URI, and that there is no query string.
fn assert_target(request: &http::Request<Vec<u8>>, method: Method, uri: &str) {
    assert_eq!(request.method(), method);
    assert_eq!(request.uri().to_string(), uri);
    assert_eq!(request.uri().query(), None);
    assert!(
        !request.uri().to_string().contains('?'),
        "no `?` expected: {}",
        request.uri()
    );
}

// ---------------------------------------------------------------------------
// The ten endpoints, one by one
// ---------------------------------------------------------------------------

#[test]
fn track_without_attributes_posts_an_empty_object() {
    let request = TrackRequest::new("user-1", "signIn")
        .build_request(&config())
        .unwrap();
    assert_target(
        &request,
        Method::POST,
        "https://api.authsignal.com/v1/users/user-1/actions/signIn",
    );
    assert_headers(&request, true);
    assert_eq!(request.body().as_slice(), b"{}");
    assert_eq!(json_body(&request), json!({}));
}

#[test]
fn track_with_every_attribute_sends_camel_case_json() {
    let crypto = authsignal_core::CryptoAttributes::default()
        .with_asset("ETH")
        .with_address("0xabc")
        .with_txn_hash("0xdeadbeef")
        .with_asset_amount(1.5)
        .with_asset_amount_usd(4200.25);
    let track = TrackRequest::new("user-1", "withdraw_funds-2")
        .with_idempotency_key("idem-1")
        .with_redirect_url("https://www.yourapp.com/back_to_your_app")
        .with_redirect_to_settings(true)
        .with_ip_address("1.1.1.1")
        .with_user_agent("Mozilla/5.0 (platform; rv:geckoversion) Gecko/geckotrail")
        .with_device_id("device-123")
        .with_scopes([
            AuthScope::AddAuthenticators,
            AuthScope::UpdateAuthenticators,
        ])
        .with_email("test@example.com")
        .with_phone_number("+6427123456")
        .with_username("tester")
        .with_custom(json!({
            "yourCustomBoolean": true,
            "your_snake_key": "kept as is",
            "nested": {"inner_key": [1, 2.5, "x"], "deeper": {"a_b": null}}
        }))
        .with_challenge_id("challenge-1")
        .with_locale("en-NZ")
        .with_custom_domain("auth.yourapp.com")
        .with_crypto(crypto);
    let request = track.build_request(&config()).unwrap();
    assert_target(
        &request,
        Method::POST,
        "https://api.authsignal.com/v1/users/user-1/actions/withdraw_funds-2",
    );
    assert_headers(&request, true);
    assert_eq!(
        json_body(&request),
        json!({
            "idempotencyKey": "idem-1",
            "redirectUrl": "https://www.yourapp.com/back_to_your_app",
            "redirectToSettings": true,
            "ipAddress": "1.1.1.1",
            "userAgent": "Mozilla/5.0 (platform; rv:geckoversion) Gecko/geckotrail",
            "deviceId": "device-123",
            "scope": "add:authenticators update:authenticators",
            "email": "test@example.com",
            "phoneNumber": "+6427123456",
            "username": "tester",
            "custom": {
                "yourCustomBoolean": true,
                "your_snake_key": "kept as is",
                "nested": {"inner_key": [1, 2.5, "x"], "deeper": {"a_b": null}}
            },
            "challengeId": "challenge-1",
            "locale": "en-NZ",
            "customDomain": "auth.yourapp.com",
            "crypto": {
                "asset": "ETH",
                "address": "0xabc",
                "txnHash": "0xdeadbeef",
                "assetAmount": 1.5,
                "assetAmountUsd": 4200.25
            }
        })
    );
}

#[test]
fn track_omits_unset_fields_instead_of_sending_null() {
    // The PHP fixture's attributes.
    let track = TrackRequest::new("123:test", "signIn")
        .with_redirect_url("https://www.yourapp.com/back_to_your_app")
        .with_email("test@email")
        .with_device_id("123")
        .with_ip_address("1.1.1.1")
        .with_custom(json!({"yourCustomNumber": 1.12}))
        .with_crypto(authsignal_core::CryptoAttributes::default().with_asset("BTC"));
    let request = track.build_request(&config()).unwrap();
    assert_target(
        &request,
        Method::POST,
        "https://api.authsignal.com/v1/users/123%3Atest/actions/signIn",
    );
    let body = json_body(&request);
    assert_eq!(
        body,
        json!({
            "redirectUrl": "https://www.yourapp.com/back_to_your_app",
            "email": "test@email",
            "deviceId": "123",
            "ipAddress": "1.1.1.1",
            "custom": {"yourCustomNumber": 1.12},
            "crypto": {"asset": "BTC"}
        })
    );
    let text = String::from_utf8(request.body().clone()).unwrap();
    assert!(
        !text.contains("null"),
        "unset fields must be omitted: {text}"
    );
    // Path parameters never leak into the body.
    assert!(body.get("userId").is_none() && body.get("action").is_none());
}

#[test]
fn get_action_is_a_get_with_three_path_segments() {
    let request =
        GetActionRequest::new("123:test", "signIn", "5924a649-b5d3-4baf-a4ab-4b812dde97a0")
            .build_request(&config())
            .unwrap();
    assert_target(
        &request,
        Method::GET,
        "https://api.authsignal.com/v1/users/123%3Atest/actions/signIn/5924a649-b5d3-4baf-a4ab-4b812dde97a0",
    );
    assert_headers(&request, false);
}

#[test]
fn update_action_patches_the_state() {
    let request = UpdateActionRequest::new(
        "123:test",
        "signIn",
        "5924a649-b5d3-4baf-a4ab-4b812dde97a0",
        UserActionState::ReviewRequired,
    )
    .build_request(&config())
    .unwrap();
    assert_target(
        &request,
        Method::PATCH,
        "https://api.authsignal.com/v1/users/123%3Atest/actions/signIn/5924a649-b5d3-4baf-a4ab-4b812dde97a0",
    );
    assert_headers(&request, true);
    assert_eq!(json_body(&request), json!({"state": "REVIEW_REQUIRED"}));
}

#[test]
fn validate_challenge_sends_the_token_and_only_the_set_fields() {
    let token = "eyJhbGciOiJIUzI1NiJ9.test-token";
    let request = ValidateChallengeRequest::new(token)
        .build_request(&config())
        .unwrap();
    assert_target(
        &request,
        Method::POST,
        "https://api.authsignal.com/v1/validate",
    );
    assert_headers(&request, true);
    assert_eq!(json_body(&request), json!({"token": token}));

    let request = ValidateChallengeRequest::new(token)
        .with_user_id("123:test")
        .with_action("signIn")
        .build_request(&config())
        .unwrap();
    assert_target(
        &request,
        Method::POST,
        "https://api.authsignal.com/v1/validate",
    );
    assert_eq!(
        json_body(&request),
        json!({"token": token, "userId": "123:test", "action": "signIn"})
    );

    let request = ValidateChallengeRequest::new(token)
        .with_action("signIn")
        .build_request(&config())
        .unwrap();
    assert_eq!(
        json_body(&request),
        json!({"token": token, "action": "signIn"})
    );
}

#[test]
fn get_user_is_a_bodyless_get() {
    let request = GetUserRequest::new("123:test")
        .build_request(&config())
        .unwrap();
    assert_target(
        &request,
        Method::GET,
        "https://api.authsignal.com/v1/users/123%3Atest",
    );
    assert_headers(&request, false);
}

#[test]
fn update_user_patches_only_the_set_attributes() {
    let request = UpdateUserRequest::new("550e8400-e29b-41d4-a716-446655440000")
        .with_email("updated_email")
        .build_request(&config())
        .unwrap();
    assert_target(
        &request,
        Method::PATCH,
        "https://api.authsignal.com/v1/users/550e8400-e29b-41d4-a716-446655440000",
    );
    assert_headers(&request, true);
    assert_eq!(json_body(&request), json!({"email": "updated_email"}));

    let request = UpdateUserRequest::new("user-1")
        .with_email("test@example.com")
        .with_email_verified(true)
        .with_phone_number("+6427123456")
        .with_phone_number_verified(false)
        .with_username("test@example.com")
        .with_display_name("Test User")
        .with_custom(json!({"foo": "bar", "nested_key": {"x": 1}}))
        .with_locale("en-NZ")
        .with_default_verification_method(VerificationMethod::Passkey)
        .build_request(&config())
        .unwrap();
    assert_eq!(
        json_body(&request),
        json!({
            "email": "test@example.com",
            "emailVerified": true,
            "phoneNumber": "+6427123456",
            "phoneNumberVerified": false,
            "username": "test@example.com",
            "displayName": "Test User",
            "custom": {"foo": "bar", "nested_key": {"x": 1}},
            "locale": "en-NZ",
            "defaultVerificationMethod": "PASSKEY"
        })
    );

    // Go's live-test body, built from a whole attribute set.
    let mut attributes = UserAttributes::default();
    attributes.display_name = Some("A New User".into());
    attributes.phone_number = Some("9876543210".into());
    let request = UpdateUserRequest::new("u")
        .with_attributes(attributes)
        .build_request(&config())
        .unwrap();
    assert_eq!(
        json_body(&request),
        json!({"displayName": "A New User", "phoneNumber": "9876543210"})
    );

    // Nothing set: an empty object, never nulls.
    let request = UpdateUserRequest::new("u")
        .build_request(&config())
        .unwrap();
    assert_eq!(json_body(&request), json!({}));
}

#[test]
fn delete_user_is_a_bodyless_delete() {
    let request = DeleteUserRequest::new("1234")
        .build_request(&config())
        .unwrap();
    assert_target(
        &request,
        Method::DELETE,
        "https://api.authsignal.com/v1/users/1234",
    );
    assert_headers(&request, false);
}

#[test]
fn get_authenticators_is_a_bodyless_get() {
    let request = GetAuthenticatorsRequest::new("123:test")
        .build_request(&config())
        .unwrap();
    assert_target(
        &request,
        Method::GET,
        "https://api.authsignal.com/v1/users/123%3Atest/authenticators",
    );
    assert_headers(&request, false);
}

#[test]
fn enroll_verified_authenticator_posts_the_method_and_contact() {
    let request = EnrollVerifiedAuthenticatorRequest::new("user-1", VerificationMethod::Sms)
        .with_phone_number("+64270000000")
        .build_request(&config())
        .unwrap();
    assert_target(
        &request,
        Method::POST,
        "https://api.authsignal.com/v1/users/user-1/authenticators",
    );
    assert_headers(&request, true);
    assert_eq!(
        json_body(&request),
        json!({"verificationMethod": "SMS", "phoneNumber": "+64270000000"})
    );

    let request =
        EnrollVerifiedAuthenticatorRequest::new("user12345", VerificationMethod::EmailOtp)
            .with_email("not-a-real-email@authsignal.com")
            .with_is_default(true)
            .build_request(&config())
            .unwrap();
    assert_eq!(
        json_body(&request),
        json!({
            "verificationMethod": "EMAIL_OTP",
            "email": "not-a-real-email@authsignal.com",
            "isDefault": true
        })
    );

    let otp_uri = "otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP&issuer=Acme";
    let request =
        EnrollVerifiedAuthenticatorRequest::new("u", VerificationMethod::AuthenticatorApp)
            .with_otp_uri(otp_uri)
            .build_request(&config())
            .unwrap();
    assert_eq!(
        json_body(&request),
        json!({"verificationMethod": "AUTHENTICATOR_APP", "otpUri": otp_uri})
    );
}

#[test]
fn delete_authenticator_is_a_bodyless_delete() {
    let request = DeleteAuthenticatorRequest::new("123:test", "456:test")
        .build_request(&config())
        .unwrap();
    assert_target(
        &request,
        Method::DELETE,
        "https://api.authsignal.com/v1/users/123%3Atest/authenticators/456%3Atest",
    );
    assert_headers(&request, false);
}

#[test]
fn endpoints_declare_their_idempotency_class() {
    assert_eq!(TrackRequest::IDEMPOTENCY, Idempotency::NonIdempotent);
    assert_eq!(
        ValidateChallengeRequest::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );
    assert_eq!(
        EnrollVerifiedAuthenticatorRequest::IDEMPOTENCY,
        Idempotency::NonIdempotent
    );
    assert_eq!(GetActionRequest::IDEMPOTENCY, Idempotency::Idempotent);
    assert_eq!(UpdateActionRequest::IDEMPOTENCY, Idempotency::Idempotent);
    assert_eq!(GetUserRequest::IDEMPOTENCY, Idempotency::Idempotent);
    assert_eq!(UpdateUserRequest::IDEMPOTENCY, Idempotency::Idempotent);
    assert_eq!(DeleteUserRequest::IDEMPOTENCY, Idempotency::Idempotent);
    assert_eq!(
        GetAuthenticatorsRequest::IDEMPOTENCY,
        Idempotency::Idempotent
    );
    assert_eq!(
        DeleteAuthenticatorRequest::IDEMPOTENCY,
        Idempotency::Idempotent
    );
    assert_eq!(TrackRequest::NAME, "track");
    assert_eq!(GetUserRequest::NAME, "get_user");
}

// ---------------------------------------------------------------------------
// Path parameters
// ---------------------------------------------------------------------------

/// The result of building one request.
type Built = Result<http::Request<Vec<u8>>, Error>;
/// (endpoint name, result, expected method, expected path below the base URL).
type BuiltCase = (&'static str, Built, Method, String);

/// Builds every endpoint that takes ids with `user_id` as the user id and
/// `other_id` as the idempotency key / authenticator id.
fn build_all(
    config: &Config,
    user_id: &str,
    other_id: &str,
    enc_user: &str,
    enc_other: &str,
) -> Vec<BuiltCase> {
    vec![
        (
            "track",
            TrackRequest::new(user_id, "signIn").build_request(config),
            Method::POST,
            format!("/users/{enc_user}/actions/signIn"),
        ),
        (
            "get_action",
            GetActionRequest::new(user_id, "signIn", other_id).build_request(config),
            Method::GET,
            format!("/users/{enc_user}/actions/signIn/{enc_other}"),
        ),
        (
            "update_action",
            UpdateActionRequest::new(user_id, "signIn", other_id, UserActionState::Block)
                .build_request(config),
            Method::PATCH,
            format!("/users/{enc_user}/actions/signIn/{enc_other}"),
        ),
        (
            "get_user",
            GetUserRequest::new(user_id).build_request(config),
            Method::GET,
            format!("/users/{enc_user}"),
        ),
        (
            "update_user",
            UpdateUserRequest::new(user_id)
                .with_email("a@b.c")
                .build_request(config),
            Method::PATCH,
            format!("/users/{enc_user}"),
        ),
        (
            "delete_user",
            DeleteUserRequest::new(user_id).build_request(config),
            Method::DELETE,
            format!("/users/{enc_user}"),
        ),
        (
            "get_authenticators",
            GetAuthenticatorsRequest::new(user_id).build_request(config),
            Method::GET,
            format!("/users/{enc_user}/authenticators"),
        ),
        (
            "enroll_verified_authenticator",
            EnrollVerifiedAuthenticatorRequest::new(user_id, VerificationMethod::Sms)
                .with_phone_number("+64270000000")
                .build_request(config),
            Method::POST,
            format!("/users/{enc_user}/authenticators"),
        ),
        (
            "delete_authenticator",
            DeleteAuthenticatorRequest::new(user_id, other_id).build_request(config),
            Method::DELETE,
            format!("/users/{enc_user}/authenticators/{enc_other}"),
        ),
    ]
}

const ENCODING_TABLE: &[(&str, &str)] = &[
    ("a/b", "a%2Fb"),
    ("a?b#c", "a%3Fb%23c"),
    ("a b", "a%20b"),
    ("123:test", "123%3Atest"),
    ("ü", "%C3%BC"),
    ("+", "%2B"),
    ("a%2Fb", "a%252Fb"),
    ("../x", "..%2Fx"),
    ("...", "..."),
    ("a.b_c-d~e", "a.b_c-d~e"),
    ("user@example.com", "user%40example.com"),
    ("a&b=c;d", "a%26b%3Dc%3Bd"),
    ("\\", "%5C"),
    ("日本", "%E6%97%A5%E6%9C%AC"),
    ("tab\there", "tab%09here"),
];

#[test]
fn every_path_parameter_is_one_percent_encoded_segment() {
    for &(raw, encoded) in ENCODING_TABLE {
        // The id as user id and as second id, separately.
        for (user_id, other_id, enc_user, enc_other) in [
            (raw, "key-1", encoded, "key-1"),
            ("user-1", raw, "user-1", encoded),
        ] {
            for (name, result, method, path) in
                build_all(&config(), user_id, other_id, enc_user, enc_other)
            {
                let request = result.unwrap_or_else(|e| panic!("{name} with {raw:?}: {e}"));
                assert_target(
                    &request,
                    method,
                    &format!("https://api.authsignal.com/v1{path}"),
                );
                // One segment: the number of `/` below the base is unchanged.
                let below_base = request.uri().path().strip_prefix("/v1").unwrap();
                assert_eq!(below_base, path, "{name} with {raw:?}");
            }
        }
    }
}

#[test]
fn encode_path_segment_matches_the_table() {
    for &(raw, encoded) in ENCODING_TABLE {
        let mut out = String::from("prefix/");
        authsignal_core::endpoint::encode_path_segment(raw, &mut out);
        assert_eq!(out, format!("prefix/{encoded}"), "{raw:?}");
    }
}

#[test]
fn empty_dot_and_dot_dot_ids_are_rejected_before_building() {
    for bad in ["", ".", ".."] {
        // As the user id: every endpoint names `userId`.
        for (name, result, _, _) in build_all(&config(), bad, "key-1", "", "") {
            match result {
                Err(Error::InvalidInput(InvalidInput::PathParameter { name: param, .. })) => {
                    assert_eq!(param, "userId", "{name} with user id {bad:?}");
                }
                other => {
                    panic!("{name} with user id {bad:?}: expected PathParameter, got {other:?}")
                }
            }
        }
        // As the second id.
        let cases: Vec<(&str, Built)> = vec![
            (
                "idempotencyKey",
                GetActionRequest::new("u", "signIn", bad).build_request(&config()),
            ),
            (
                "idempotencyKey",
                UpdateActionRequest::new("u", "signIn", bad, UserActionState::Allow)
                    .build_request(&config()),
            ),
            (
                "userAuthenticatorId",
                DeleteAuthenticatorRequest::new("u", bad).build_request(&config()),
            ),
        ];
        for (expected, result) in cases {
            match result {
                Err(Error::InvalidInput(InvalidInput::PathParameter { name, reason })) => {
                    assert_eq!(name, expected, "{bad:?}");
                    assert!(!reason.is_empty());
                }
                other => panic!("{expected} = {bad:?}: expected PathParameter, got {other:?}"),
            }
        }
    }
}

#[test]
fn rejected_input_is_never_sent() {
    let calls = Cell::new(0u32);
    let transport =
        |_request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
            calls.set(calls.get() + 1);
            Ok(http::Response::new(b"{}".to_vec()))
        };
    let client = Client::with_transport(config(), transport);
    let errors = [
        client.get_user(GetUserRequest::new("")).unwrap_err(),
        client
            .delete_user(DeleteUserRequest::new(".."))
            .unwrap_err(),
        client.track(TrackRequest::new("u", "sign in")).unwrap_err(),
        client
            .delete_authenticator(DeleteAuthenticatorRequest::new("u", "."))
            .unwrap_err(),
    ];
    for error in &errors {
        assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
        assert_eq!(error.attempts(), 0);
        assert!(!error.request_may_have_been_processed());
        assert!(!error.is_retryable());
        assert_eq!(error.status(), None);
        assert!(error.to_string().contains("nothing was sent"), "{error}");
    }
    assert_eq!(calls.get(), 0, "the transport must not be called");
}

#[test]
fn invalid_action_codes_are_rejected() {
    let too_long = "a".repeat(65);
    for bad in [
        "sign in",
        too_long.as_str(),
        "",
        "sign/in",
        "signIn!",
        "ü",
        "sign.in",
        ".",
        "..",
    ] {
        let results = [
            (
                "track",
                TrackRequest::new("u", bad).build_request(&config()),
            ),
            (
                "get_action",
                GetActionRequest::new("u", bad, "k").build_request(&config()),
            ),
            (
                "update_action",
                UpdateActionRequest::new("u", bad, "k", UserActionState::Allow)
                    .build_request(&config()),
            ),
        ];
        for (name, result) in results {
            match result {
                Err(Error::InvalidInput(InvalidInput::PathParameter { name: param, .. })) => {
                    assert_eq!(param, "action", "{name} with {bad:?}");
                }
                other => panic!("{name} with action {bad:?}: expected rejection, got {other:?}"),
            }
        }
    }
}

#[test]
fn valid_action_codes_are_accepted_verbatim() {
    let longest = "A".repeat(64);
    for good in [
        "signIn",
        "a",
        "withdraw_funds-2",
        "0",
        "-",
        "_",
        longest.as_str(),
    ] {
        let request = TrackRequest::new("u", good)
            .build_request(&config())
            .unwrap();
        assert_eq!(
            request.uri().to_string(),
            format!("https://api.authsignal.com/v1/users/u/actions/{good}")
        );
        let request = GetActionRequest::new("u", good, "k")
            .build_request(&config())
            .unwrap();
        assert_eq!(
            request.uri().to_string(),
            format!("https://api.authsignal.com/v1/users/u/actions/{good}/k")
        );
    }
}

// ---------------------------------------------------------------------------
// Config: regions, base URLs, secret key
// ---------------------------------------------------------------------------

#[test]
fn region_presets() {
    assert_eq!(Region::Us.base_url(), "https://api.authsignal.com/v1");
    assert_eq!(Region::Au.base_url(), "https://au.api.authsignal.com/v1");
    assert_eq!(Region::Eu.base_url(), "https://eu.api.authsignal.com/v1");
    assert_eq!(Region::Ca.base_url(), "https://ca.api.authsignal.com/v1");
    assert_eq!(Region::default(), Region::Us);
    assert_eq!(config().base_url(), "https://api.authsignal.com/v1");

    for (region, host) in [
        (Region::Us, "api.authsignal.com"),
        (Region::Au, "au.api.authsignal.com"),
        (Region::Eu, "eu.api.authsignal.com"),
        (Region::Ca, "ca.api.authsignal.com"),
    ] {
        let config = Config::builder(SECRET).with_region(region).build().unwrap();
        assert_eq!(config.base_url(), region.base_url());
        let request = GetUserRequest::new("a/b").build_request(&config).unwrap();
        assert_eq!(
            request.uri().to_string(),
            format!("https://{host}/v1/users/a%2Fb")
        );
        let request = ValidateChallengeRequest::new("t")
            .build_request(&config)
            .unwrap();
        assert_eq!(
            request.uri().to_string(),
            format!("https://{host}/v1/validate")
        );
    }
}

#[test]
fn custom_base_urls_are_validated() {
    let accepted = [
        (
            "https://api.authsignal.com/v1",
            "https://api.authsignal.com/v1",
        ),
        (
            "https://proxy.example.com/authsignal/v1",
            "https://proxy.example.com/authsignal/v1",
        ),
        ("https://host:8443/v1", "https://host:8443/v1"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        ("http://127.1.2.3", "http://127.1.2.3"),
        ("http://localhost", "http://localhost"),
        ("http://localhost:3000/v1", "http://localhost:3000/v1"),
        ("http://[::1]:1", "http://[::1]:1"),
    ];
    for (input, stored) in accepted {
        let config = Config::builder(SECRET)
            .with_base_url(input)
            .build()
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(config.base_url(), stored, "{input}");
        let request = GetUserRequest::new("u").build_request(&config).unwrap();
        assert_eq!(
            request.uri().to_string(),
            format!("{stored}/users/u"),
            "{input}"
        );
    }

    let rejected = [
        "http://example.com",
        "http://example.com/v1",
        "http://10.0.0.1",
        "ftp://x",
        "ftp://example.com/v1",
        "https://u:p@host",
        "https://u@host",
        "https://host/v1?x=1",
        "https://host/v1#f",
        "not a url",
        "",
        "/v1",
        "api.authsignal.com/v1",
        "mailto:someone@example.com",
        "file:///etc/passwd",
    ];
    for input in rejected {
        match Config::builder(SECRET).with_base_url(input).build() {
            Err(Error::InvalidInput(InvalidInput::BaseUrl { reason })) => {
                assert!(!reason.is_empty(), "{input}");
            }
            other => panic!("{input:?} should be rejected, got {other:?}"),
        }
    }
}

#[test]
fn base_url_errors_do_not_echo_credentials() {
    let error = Config::builder(SECRET)
        .with_base_url("https://admin:hunter2pass@host/v1")
        .build()
        .unwrap_err();
    assert!(!format!("{error}").contains("hunter2pass"), "{error}");
    assert!(!format!("{error:?}").contains("hunter2pass"), "{error:?}");
}

#[test]
fn trailing_slash_is_normalised() {
    for input in ["https://host/v1/", "https://host/v1"] {
        let config = Config::builder(SECRET)
            .with_base_url(input)
            .build()
            .unwrap();
        assert_eq!(config.base_url(), "https://host/v1");
        let request = GetAuthenticatorsRequest::new("u")
            .build_request(&config)
            .unwrap();
        assert_eq!(
            request.uri().to_string(),
            "https://host/v1/users/u/authenticators"
        );
        let request = ValidateChallengeRequest::new("t")
            .build_request(&config)
            .unwrap();
        assert_eq!(request.uri().to_string(), "https://host/v1/validate");
    }
    for input in ["https://host", "https://host/"] {
        let config = Config::builder(SECRET)
            .with_base_url(input)
            .build()
            .unwrap();
        let request = GetUserRequest::new("u").build_request(&config).unwrap();
        assert_eq!(request.uri().to_string(), "https://host/users/u", "{input}");
    }
}

#[test]
fn empty_or_unsafe_secret_is_rejected() {
    match Config::builder("").build() {
        Err(Error::InvalidInput(InvalidInput::EmptySecretKey)) => {}
        other => panic!("expected EmptySecretKey, got {other:?}"),
    }
    match Config::builder(String::new()).build() {
        Err(Error::InvalidInput(InvalidInput::EmptySecretKey)) => {}
        other => panic!("expected EmptySecretKey, got {other:?}"),
    }
    for bad in ["sk_test\n123", "sk\r\nX-Injected: 1", "sk\0"] {
        match Config::builder(bad).build() {
            Err(Error::InvalidInput(InvalidInput::SecretKeyNotHeaderSafe)) => {}
            other => panic!("{bad:?}: expected SecretKeyNotHeaderSafe, got {other:?}"),
        }
    }
}

#[test]
fn authorization_is_basic_secret_colon_for_any_secret() {
    for secret in ["sk_live_abc", "a", "with space", "ünïcödé-key"] {
        let config = Config::builder(secret).build().unwrap();
        assert_eq!(config.secret_key().expose_secret(), secret);
        let request = GetUserRequest::new("u").build_request(&config).unwrap();
        let value = &request.headers()[http::header::AUTHORIZATION];
        assert!(value.is_sensitive());
        let encoded = value.to_str().unwrap().strip_prefix("Basic ").unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(decoded, format!("{secret}:").as_bytes(), "{secret:?}");
    }
}

#[test]
fn building_is_deterministic_and_repeatable() {
    let track = TrackRequest::new("u", "signIn")
        .with_email("a@b.c")
        .with_custom(json!({"b": 1, "a": 2}));
    let first = track.build_request(&config()).unwrap();
    let second = track.build_request(&config()).unwrap();
    assert_eq!(first.uri(), second.uri());
    assert_eq!(first.headers(), second.headers());
    assert_eq!(first.body(), second.body());
}
