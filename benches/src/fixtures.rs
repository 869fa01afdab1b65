//! Realistic inputs: a `track` call with the attributes a sign-in usually
//! sends, and response bodies shaped like the Server API's.

use authsignal_core::{Config, GetAuthenticatorsRequest, GetUserRequest, TrackRequest};

/// The secret key every benchmark uses (never sent anywhere but loopback).
pub const SECRET: &str = "sk_bench";

/// The user id of every request.
pub const USER_ID: &str = "usr_7f3c2a9e-41b8-4d0c-9f65-2e8a1d4b7c90";
/// The action code of the `track` request.
pub const ACTION: &str = "signIn";
/// The client's IP address.
pub const IP_ADDRESS: &str = "203.0.113.42";
/// The client's browser.
pub const USER_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
                              (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
/// The client's device id.
pub const DEVICE_ID: &str = "d3b07384-d9a0-4c9b-8f1e-6a2b5c4d7e8f";
/// The user's email address.
pub const EMAIL: &str = "jane.doe@example.com";
/// Where the pre-built UI returns to.
pub const REDIRECT_URL: &str = "https://app.example.com/auth/callback?next=%2Fsettings%2Fsecurity";

/// A configuration for the default (US) base URL.
pub fn config() -> Config {
    Config::builder(SECRET).build().expect("a valid secret key")
}

/// The `custom` object of the `track` request: four fields of mixed types.
pub fn custom() -> serde_json::Value {
    serde_json::json!({
        "plan": "enterprise",
        "loginCount": 42,
        "riskScore": 0.17,
        "mfaRequired": true,
    })
}

/// A sign-in `track` request with user id, action, IP address, user agent,
/// device id, email, redirect URL and a custom object.
pub fn track_request() -> TrackRequest {
    TrackRequest::new(USER_ID, ACTION)
        .with_ip_address(IP_ADDRESS)
        .with_user_agent(USER_AGENT)
        .with_device_id(DEVICE_ID)
        .with_email(EMAIL)
        .with_redirect_url(REDIRECT_URL)
        .with_custom(custom())
}

/// A `CHALLENGE_REQUIRED` answer to [`track_request`], with a token, the
/// pre-built UI URL and the verification methods.
pub const TRACK_RESPONSE: &str = concat!(
    r#"{"state":"CHALLENGE_REQUIRED","#,
    r#""idempotencyKey":"5a3f1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b","#,
    r#""url":"https://prebuilt.authsignal.com/?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfN2YzYyIsImFjdCI6InNpZ25JbiJ9.q2Vx7LdN0pR4sT8uW1yZ3aB5cD7eF9gH","#,
    r#""token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfN2YzYyIsImFjdCI6InNpZ25JbiJ9.q2Vx7LdN0pR4sT8uW1yZ3aB5cD7eF9gH","#,
    r#""isEnrolled":true,"#,
    r#""enrolledVerificationMethods":["PASSKEY","EMAIL_OTP"],"#,
    r#""allowedVerificationMethods":["PASSKEY","EMAIL_OTP","SMS"],"#,
    r#""defaultVerificationMethod":"PASSKEY","#,
    r#""ruleIds":["rule_3b9c1d"]}"#
);

/// A `get_user` request.
pub fn get_user_request() -> GetUserRequest {
    GetUserRequest::new(USER_ID)
}

/// A `GET /users/{userId}` answer with every attribute set.
pub const GET_USER_RESPONSE: &str = concat!(
    r#"{"userId":"usr_7f3c2a9e-41b8-4d0c-9f65-2e8a1d4b7c90","isEnrolled":true,"#,
    r#""email":"jane.doe@example.com","emailVerified":true,"#,
    r#""phoneNumber":"+64211234567","phoneNumberVerified":false,"#,
    r#""username":"jane.doe","displayName":"Jane Doe","#,
    r#""custom":{"plan":"enterprise","loginCount":42},"#,
    r#""enrolledVerificationMethods":["PASSKEY","EMAIL_OTP"],"#,
    r#""allowedVerificationMethods":["PASSKEY","EMAIL_OTP","SMS"],"#,
    r#""defaultVerificationMethod":"PASSKEY"}"#
);

/// A `get_authenticators` request.
pub fn get_authenticators_request() -> GetAuthenticatorsRequest {
    GetAuthenticatorsRequest::new(USER_ID)
}

/// A `GET /users/{userId}/authenticators` answer: ten passkeys and security
/// keys, each with its WebAuthn credential, AAGUID mapping (with icons) and
/// parsed user agent.
pub fn authenticators_response() -> String {
    // A small but real-looking icon; the API sends data URIs like this one.
    let icon = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAyNCAyNCI+PHBhdGggZD0iTTEyIDJhMTAgMTAgMCAxIDAgMCAyMCAxMCAxMCAwIDAgMCAwLTIweiIvPjwvc3ZnPg==";
    let items: Vec<String> = (0..10)
        .map(|i| {
            let method = if i % 3 == 2 { "SECURITY_KEY" } else { "PASSKEY" };
            format!(
                concat!(
                    r#"{{"userAuthenticatorId":"ua_{i:02}3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7","#,
                    r#""verificationMethod":"{method}","userId":"{user}","#,
                    r#""createdAt":"2025-03-{day:02}T09:14:07.512Z","verifiedAt":"2025-03-{day:02}T09:14:09.001Z","#,
                    r#""lastVerifiedAt":"2025-06-{day:02}T18:40:51.377Z","#,
                    r#""webauthnCredential":{{"credentialId":"Xb2Yc3Zd4Ae5Bf6Cg7Dh8Ei9Fj0Gk1Hl2Im3Jn4Ko5Lp{i:02}","#,
                    r#""deviceId":"dev_{i:02}a1b2c3d4e5f6","name":"Jane's device {i}","#,
                    r#""aaguid":"fbfc3007-154e-4ecc-8c0b-6e020557d7bd","#,
                    r#""aaguidMapping":{{"name":"iCloud Keychain","svgIconLight":"{icon}","svgIconDark":"{icon}"}},"#,
                    r#""credentialBackedUp":true,"credentialDeviceType":"multiDevice","#,
                    r#""authenticatorAttachment":"platform","#,
                    r#""parsedUserAgent":{{"ua":"{ua}","#,
                    r#""browser":{{"name":"Safari","version":"17.4","major":"17"}},"#,
                    r#""device":{{"model":"Macintosh","vendor":"Apple"}},"#,
                    r#""engine":{{"name":"WebKit","version":"605.1.15"}},"#,
                    r#""os":{{"name":"Mac OS","version":"10.15.7"}},"#,
                    r#""cpu":{{}}}}}}}}"#
                ),
                i = i,
                day = i + 1,
                method = method,
                user = USER_ID,
                icon = icon,
                ua = USER_AGENT,
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// A webhook body of exactly 1 KiB: a `user.authenticator.created` event,
/// padded in a note field.
pub fn webhook_body() -> Vec<u8> {
    const SIZE: usize = 1024;
    let head = concat!(
        r#"{"version":1,"type":"user.authenticator.created","#,
        r#""id":"evt_9c4e2a7b-1d3f-4b6a-8e0c-5f2d7a9b3c1e","source":"https://authsignal.com","#,
        r#""time":"2025-06-14T18:40:51.377Z","tenantId":"4f1c8e2a-7b3d-4a6e-9c0f-2d5b8e1a4c7f","#,
        r#""data":{"userId":"usr_7f3c2a9e-41b8-4d0c-9f65-2e8a1d4b7c90","#,
        r#""verificationMethod":"PASSKEY","userAuthenticatorId":"ua_003e4f5a6b","#,
        r#""note":""#
    );
    let tail = r#""}}"#;
    let mut body = String::with_capacity(SIZE);
    body.push_str(head);
    while body.len() < SIZE - tail.len() {
        body.push('x');
    }
    body.push_str(tail);
    debug_assert_eq!(body.len(), SIZE);
    body.into_bytes()
}

/// The signing time of the webhook benchmarks (Unix seconds).
pub const WEBHOOK_TIMESTAMP: i64 = 1_750_000_000;

/// A 200 response carrying `body` (a copy, as a transport would hand it over).
pub fn ok_response(body: &[u8]) -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(body.to_vec());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use authsignal_core::{Endpoint, UserActionState, VerificationMethod};

    #[test]
    fn fixtures_parse_with_the_sdk() {
        let track = track_request()
            .parse_response(ok_response(TRACK_RESPONSE.as_bytes()))
            .unwrap();
        assert_eq!(track.state, UserActionState::ChallengeRequired);
        assert_eq!(track.allowed_verification_methods.len(), 3);

        let user = get_user_request()
            .parse_response(ok_response(GET_USER_RESPONSE.as_bytes()))
            .unwrap();
        assert_eq!(user.display_name.as_deref(), Some("Jane Doe"));

        let body = authenticators_response();
        let list = get_authenticators_request()
            .parse_response(ok_response(body.as_bytes()))
            .unwrap();
        assert_eq!(list.len(), 10);
        assert_eq!(list[2].verification_method, VerificationMethod::SecurityKey);
        let credential = list[0].webauthn_credential.as_ref().unwrap();
        assert_eq!(
            credential.aaguid_mapping.as_ref().unwrap().name.as_deref(),
            Some("iCloud Keychain")
        );
        let ua = credential.parsed_user_agent.as_ref().unwrap();
        assert_eq!(ua.browser.as_ref().unwrap().major.as_deref(), Some("17"));
    }

    #[test]
    fn webhook_body_is_one_kib_of_json() {
        let body = webhook_body();
        assert_eq!(body.len(), 1024);
        let _: serde_json::Value = serde_json::from_slice(&body).unwrap();
    }
}
