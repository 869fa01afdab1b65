//! The bare-serde baseline: the `track` call written by hand, the way an
//! application without the SDK would: a plain `#[derive(Serialize)]` body,
//! `format!` for the URL, `http::Request::builder` with the same five
//! headers, and a plain `#[derive(Deserialize)]` struct for the answer. It
//! skips everything the SDK adds (validation, percent-encoding, typed enums,
//! redacted secrets, typed errors), so it is the floor to compare against.

use authsignal_core::Config;
use http::{HeaderValue, Method, Request, Response, header};
use serde::{Deserialize, Serialize};

use crate::fixtures;

/// The `track` body as a plain struct (same fields, same JSON as the SDK's).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlainTrackBody {
    /// Where the pre-built UI returns to.
    pub redirect_url: String,
    /// The client's IP address.
    pub ip_address: String,
    /// The client's browser.
    pub user_agent: String,
    /// The client's device id.
    pub device_id: String,
    /// The user's email address.
    pub email: String,
    /// Custom data.
    pub custom: serde_json::Value,
}

impl PlainTrackBody {
    /// The body of [`fixtures::track_request`].
    pub fn new() -> Self {
        Self {
            redirect_url: fixtures::REDIRECT_URL.to_owned(),
            ip_address: fixtures::IP_ADDRESS.to_owned(),
            user_agent: fixtures::USER_AGENT.to_owned(),
            device_id: fixtures::DEVICE_ID.to_owned(),
            email: fixtures::EMAIL.to_owned(),
            custom: fixtures::custom(),
        }
    }
}

impl Default for PlainTrackBody {
    fn default() -> Self {
        Self::new()
    }
}

/// The `track` answer as a plain struct: strings instead of typed enums and
/// secrets.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlainTrackResponse {
    /// The action's state.
    pub state: String,
    /// The idempotency key.
    pub idempotency_key: String,
    /// The pre-built UI URL.
    #[serde(default)]
    pub url: String,
    /// The challenge token.
    #[serde(default)]
    pub token: String,
    /// Whether the user has an authenticator.
    #[serde(default)]
    pub is_enrolled: bool,
    /// Enrolled methods.
    #[serde(default)]
    pub enrolled_verification_methods: Vec<String>,
    /// Allowed methods.
    #[serde(default)]
    pub allowed_verification_methods: Vec<String>,
    /// The default method.
    pub default_verification_method: Option<String>,
    /// Matched rules.
    #[serde(default)]
    pub rule_ids: Vec<String>,
}

/// Everything the hand-written client keeps between calls.
#[derive(Debug, Clone)]
pub struct BaselineTrack {
    base_url: String,
    authorization: HeaderValue,
    user_id: String,
    action: String,
    body: PlainTrackBody,
}

/// What the hand-written `parse` can fail with.
#[derive(Debug)]
pub enum BaselineError {
    /// A non-2xx status.
    Status(http::StatusCode),
    /// The body is not the expected JSON.
    Json(serde_json::Error),
}

impl BaselineTrack {
    /// The baseline of [`fixtures::track_request`], sent to `config`'s base
    /// URL with `config`'s `Authorization` header.
    pub fn new(config: &Config) -> Self {
        // The SDK precomputes the header in `Config`; so does the baseline.
        let probe = authsignal_core::Endpoint::build_request(
            &authsignal_core::GetUserRequest::new("x"),
            config,
        )
        .expect("a valid request");
        let authorization = probe.headers()[header::AUTHORIZATION].clone();
        Self {
            base_url: config.base_url().to_owned(),
            authorization,
            user_id: fixtures::USER_ID.to_owned(),
            action: fixtures::ACTION.to_owned(),
            body: PlainTrackBody::new(),
        }
    }

    /// The request URL.
    pub fn url(&self) -> String {
        format!(
            "{}/users/{}/actions/{}",
            self.base_url, self.user_id, self.action
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body).expect("serializable")
    }

    /// The `Authorization` header value.
    pub fn authorization(&self) -> &HeaderValue {
        &self.authorization
    }

    /// Builds the request: body, URL and the five headers the SDK sends.
    pub fn build(&self) -> Request<Vec<u8>> {
        self.build_with(&self.body)
    }

    /// [`BaselineTrack::build`] with another body, e.g. one made per call
    /// (as `authsignal_ureq::Client::track` takes a fresh `TrackRequest`).
    pub fn build_with(&self, body: &PlainTrackBody) -> Request<Vec<u8>> {
        Request::builder()
            .method(Method::POST)
            .uri(self.url())
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(
                header::USER_AGENT,
                HeaderValue::from_static(authsignal_core::USER_AGENT),
            )
            .header(
                "x-authsignal-version",
                HeaderValue::from_static(authsignal_core::VERSION),
            )
            .header(header::ACCEPT, HeaderValue::from_static("application/json"))
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .body(serde_json::to_vec(body).expect("serializable"))
            .expect("a valid request")
    }

    /// Parses the answer: status check, then bare `serde_json::from_slice`.
    pub fn parse(&self, response: Response<Vec<u8>>) -> Result<PlainTrackResponse, BaselineError> {
        parse_track(response.status(), response.body())
    }
}

/// The baseline's parse of a `track` answer, usable by any HTTP client.
pub fn parse_track(
    status: http::StatusCode,
    body: &[u8],
) -> Result<PlainTrackResponse, BaselineError> {
    if !status.is_success() {
        return Err(BaselineError::Status(status));
    }
    serde_json::from_slice(body).map_err(BaselineError::Json)
}

/// The `GET /users/{userId}` answer as a plain struct (strings for enums).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlainUser {
    /// The user's id.
    pub user_id: Option<String>,
    /// Whether the user has an authenticator.
    #[serde(default)]
    pub is_enrolled: bool,
    /// Email address.
    pub email: Option<String>,
    /// Whether the email address is verified.
    pub email_verified: Option<bool>,
    /// Phone number.
    pub phone_number: Option<String>,
    /// Whether the phone number is verified.
    pub phone_number_verified: Option<bool>,
    /// Username.
    pub username: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Custom data.
    pub custom: Option<serde_json::Value>,
    /// Enrolled methods.
    #[serde(default)]
    pub enrolled_verification_methods: Vec<String>,
    /// Allowed methods.
    #[serde(default)]
    pub allowed_verification_methods: Vec<String>,
    /// The default method.
    pub default_verification_method: Option<String>,
}

/// One authenticator of `GET /users/{userId}/authenticators` as a plain struct.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlainAuthenticator {
    /// The authenticator's id.
    pub user_authenticator_id: String,
    /// Its method.
    pub verification_method: String,
    /// The user's id.
    pub user_id: Option<String>,
    /// When it was created.
    pub created_at: Option<String>,
    /// When it was verified.
    pub verified_at: Option<String>,
    /// When it was last used.
    pub last_verified_at: Option<String>,
    /// The phone number of an SMS authenticator.
    pub phone_number: Option<String>,
    /// The email of an email authenticator.
    pub email: Option<String>,
    /// The passkey or security key.
    pub webauthn_credential: Option<PlainCredential>,
}

/// A WebAuthn credential as a plain struct.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlainCredential {
    /// The credential id.
    pub credential_id: Option<String>,
    /// The device id.
    pub device_id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// The authenticator model.
    pub aaguid: Option<String>,
    /// The model's name and icons.
    pub aaguid_mapping: Option<PlainAaguidMapping>,
    /// Whether it is backed up.
    pub credential_backed_up: Option<bool>,
    /// `singleDevice` or `multiDevice`.
    pub credential_device_type: Option<String>,
    /// `platform` or `cross-platform`.
    pub authenticator_attachment: Option<String>,
    /// The browser and OS it was created on, as parsed by the API.
    pub parsed_user_agent: Option<PlainUserAgent>,
}

/// A parsed user agent as a plain struct.
#[derive(Debug, Clone, Deserialize)]
pub struct PlainUserAgent {
    /// The raw user agent.
    pub ua: Option<String>,
    /// The browser.
    pub browser: Option<PlainUserAgentPart>,
    /// The device.
    pub device: Option<PlainUserAgentPart>,
    /// The engine.
    pub engine: Option<PlainUserAgentPart>,
    /// The operating system.
    pub os: Option<PlainUserAgentPart>,
    /// The CPU.
    pub cpu: Option<PlainUserAgentPart>,
}

/// One part of a parsed user agent: every field any part has, as strings.
#[derive(Debug, Clone, Deserialize)]
pub struct PlainUserAgentPart {
    /// Name (browser, engine, OS).
    pub name: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Major version (browser).
    pub major: Option<String>,
    /// Model (device).
    pub model: Option<String>,
    /// Type (device).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Vendor (device).
    pub vendor: Option<String>,
    /// Architecture (CPU).
    pub architecture: Option<String>,
}

/// An AAGUID mapping as a plain struct.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlainAaguidMapping {
    /// The model's name.
    pub name: Option<String>,
    /// Its light icon.
    pub svg_icon_light: Option<String>,
    /// Its dark icon.
    pub svg_icon_dark: Option<String>,
}

/// The baseline's parse of any answer: status check, then bare
/// `serde_json::from_slice` into `T`.
pub fn parse_plain<T: serde::de::DeserializeOwned>(
    response: &Response<Vec<u8>>,
) -> Result<T, BaselineError> {
    if !response.status().is_success() {
        return Err(BaselineError::Status(response.status()));
    }
    serde_json::from_slice(response.body()).map_err(BaselineError::Json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use authsignal_core::Endpoint;

    /// The baseline must do the same work: same method, URL, headers and
    /// JSON body as the SDK, and the same data out of the answer.
    #[test]
    fn baseline_matches_the_sdk() {
        let config = fixtures::config();
        let sdk = fixtures::track_request().build_request(&config).unwrap();
        let plain = BaselineTrack::new(&config).build();
        assert_eq!(sdk.method(), plain.method());
        assert_eq!(sdk.uri(), plain.uri());
        assert_eq!(sdk.headers(), plain.headers());
        let sdk_body: serde_json::Value = serde_json::from_slice(sdk.body()).unwrap();
        let plain_body: serde_json::Value = serde_json::from_slice(plain.body()).unwrap();
        assert_eq!(sdk_body, plain_body);
        assert_eq!(sdk.body().len(), plain.body().len());

        let parsed = BaselineTrack::new(&config)
            .parse(fixtures::ok_response(fixtures::TRACK_RESPONSE.as_bytes()))
            .unwrap();
        let typed = fixtures::track_request()
            .parse_response(fixtures::ok_response(fixtures::TRACK_RESPONSE.as_bytes()))
            .unwrap();
        assert_eq!(parsed.state, typed.state.as_str());
        assert_eq!(parsed.token, typed.token.expose_secret());
        assert_eq!(
            parsed.allowed_verification_methods.len(),
            typed.allowed_verification_methods.len()
        );
    }

    /// The user and authenticator baselines read the same data as the SDK.
    #[test]
    fn plain_parsers_read_the_same_data() {
        let user = fixtures::ok_response(fixtures::GET_USER_RESPONSE.as_bytes());
        let plain: PlainUser = parse_plain(&user).unwrap();
        let typed = fixtures::get_user_request().parse_response(user).unwrap();
        assert_eq!(plain.email, typed.email);
        assert_eq!(plain.enrolled_verification_methods.len(), 2);
        assert_eq!(typed.enrolled_verification_methods.len(), 2);

        let answer = fixtures::authenticators_response();
        let list = fixtures::ok_response(answer.as_bytes());
        let plain: Vec<PlainAuthenticator> = parse_plain(&list).unwrap();
        let typed = fixtures::get_authenticators_request()
            .parse_response(list)
            .unwrap();
        assert_eq!(plain.len(), 10);
        assert_eq!(typed.len(), 10);
        assert_eq!(
            plain[9].webauthn_credential.as_ref().unwrap().name,
            typed[9].webauthn_credential.as_ref().unwrap().name
        );
    }
}
