//! `Config`: region presets, custom base URLs (validated once, normalised,
//! never echoing credentials), the Call Connect URL beside the Server API
//! one, and the secret key (rejected when empty or not header-safe, sent as
//! `Basic base64("<key>:")`).

use authsignal_core::{
    Config, Endpoint, Error, GetAuthenticatorsRequest, GetUserRequest, InvalidInput, Region,
    StartCallRequest, ValidateChallengeRequest, http,
};
use base64::Engine as _;

const SECRET: &str = "sk_test_4uth51gn4l_config";

fn config() -> Config {
    Config::builder(SECRET).build().unwrap()
}

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
    // Each is kept as given.
    let accepted = [
        "https://api.authsignal.com/v1",
        "https://proxy.example.com/authsignal/v1",
        "https://host:8443/v1",
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8080/v1",
        "http://127.1.2.3",
        "http://localhost",
        "http://localhost:3000/v1",
        "http://[::1]:1",
    ];
    for input in accepted {
        let config = Config::builder(SECRET).with_base_url(input).build();
        let config = config.unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(config.base_url(), input);
        let request = GetUserRequest::new("u").build_request(&config).unwrap();
        assert_eq!(request.uri().to_string(), format!("{input}/users/u"));
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
fn call_connect_has_its_own_base_url() {
    let start = StartCallRequest::new("ref-1").with_phone_number("+6427123456");
    let uri = |config: Config| start.build_request(&config).unwrap().uri().to_string();
    let custom = Config::builder(SECRET)
        .with_call_connect_url("https://connect.example.com/")
        .with_call_connect_secret("sk_test_call_connect");
    assert_eq!(
        uri(custom.build().unwrap()),
        "https://connect.example.com/call/start"
    );
    // The Server API base URL does not move Call Connect.
    let other_api = Config::builder(SECRET)
        .with_base_url("https://eu.api.authsignal.com/v1")
        .with_call_connect_secret("sk_test_call_connect");
    assert_eq!(
        uri(other_api.build().unwrap()),
        "https://us-connect.authsignal.com/call/start"
    );
}
