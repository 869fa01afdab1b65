//! Helpers that send requests to the fake through its pure `handle`, and a
//! complete sign-in flow.

#![allow(dead_code)]

use authsignal_testkit::FakeAuthsignal;
use serde_json::Value;

/// A parsed response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `json[key]` as a string, panicking with the whole body if absent.
    pub fn str(&self, key: &str) -> String {
        match self.json.get(key).and_then(Value::as_str) {
            Some(s) => s.to_owned(),
            None => panic!("no string `{key}` in {}", self.body),
        }
    }
}

/// Sends one request. `target` is the raw request-target (path and query).
pub fn send_raw(
    fake: &FakeAuthsignal,
    method: &str,
    target: &str,
    authorization: Option<&str>,
    body: Option<&str>,
) -> Resp {
    let headers: Vec<(&str, &str)> = authorization
        .map(|auth| ("Authorization", auth))
        .into_iter()
        .collect();
    send_with_headers(fake, method, target, &headers, body)
}

/// Sends one request with extra `headers` (e.g. `x-authsignal-terminal`)
/// straight to [`FakeAuthsignal::handle`]: no socket, no faults.
pub fn send_with_headers(
    fake: &FakeAuthsignal,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let mut request = http::Request::builder()
        .method(method)
        .uri(target)
        .header("user-agent", "testkit-tests");
    let body = body.unwrap_or("");
    if !body.is_empty() || matches!(method, "POST" | "PATCH" | "PUT") {
        request = request.header("content-type", "application/json");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(body.as_bytes().to_vec())
        .expect("a valid request");
    let response = fake.handle(request);
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = String::from_utf8(response.body().clone()).expect("utf-8 body");
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    Resp {
        status: response.status().as_u16(),
        headers,
        body,
        json,
    }
}

/// An authenticated request to `/v1{path}` with an optional JSON body.
pub fn call(fake: &FakeAuthsignal, method: &str, path: &str, body: Option<&Value>) -> Resp {
    let body = body.map(Value::to_string);
    send_raw(
        fake,
        method,
        &format!("/v1{path}"),
        Some(&fake.authorization_header()),
        body.as_deref(),
    )
}

pub fn get(fake: &FakeAuthsignal, path: &str) -> Resp {
    call(fake, "GET", path, None)
}

pub fn post(fake: &FakeAuthsignal, path: &str, body: &Value) -> Resp {
    call(fake, "POST", path, Some(body))
}

pub fn patch(fake: &FakeAuthsignal, path: &str, body: &Value) -> Resp {
    call(fake, "PATCH", path, Some(body))
}

pub fn delete(fake: &FakeAuthsignal, path: &str) -> Resp {
    call(fake, "DELETE", path, None)
}

/// Asserts the standard error shape and returns the description.
pub fn assert_error(resp: &Resp, status: u16, code: &str) -> String {
    assert_eq!(resp.status, status, "body: {}", resp.body);
    assert_eq!(resp.json["error"], code, "body: {}", resp.body);
    assert_eq!(resp.json["errorCode"], code, "body: {}", resp.body);
    let description = resp.json["errorDescription"]
        .as_str()
        .expect("errorDescription");
    assert!(!description.is_empty());
    description.to_owned()
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters kept).
pub fn seg(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Everything a completed sign-in produced.
pub struct SignIn {
    pub idempotency_key: String,
    pub token: String,
    pub challenge_id: String,
}

/// Enrols SMS for `user_id` over HTTP and runs track → challenge → verify for
/// `action`, reading the code with `last_code_for`. Panics on any deviation.
pub fn sign_in(fake: &FakeAuthsignal, user_id: &str, action: &str, phone: &str) -> SignIn {
    let user = seg(user_id);
    let enrolled = post(
        fake,
        &format!("/users/{user}/authenticators"),
        &serde_json::json!({ "verificationMethod": "SMS", "phoneNumber": phone }),
    );
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);

    let tracked = post(
        fake,
        &format!("/users/{user}/actions/{action}"),
        &serde_json::json!({ "ipAddress": "127.0.0.1" }),
    );
    assert_eq!(tracked.status, 200, "{}", tracked.body);
    assert_eq!(
        tracked.json["state"], "CHALLENGE_REQUIRED",
        "{}",
        tracked.body
    );
    let idempotency_key = tracked.str("idempotencyKey");
    let token = tracked.str("token");

    let challenged = post(
        fake,
        "/challenge",
        &serde_json::json!({
            "verificationMethod": "SMS",
            "action": action,
            "idempotencyKey": idempotency_key,
            "userId": user_id,
        }),
    );
    assert_eq!(challenged.status, 200, "{}", challenged.body);
    let challenge_id = challenged.str("challengeId");
    let code = fake.last_code_for(&challenge_id).expect("code");

    let verified = post(
        fake,
        "/verify",
        &serde_json::json!({ "challengeId": challenge_id, "verificationCode": code }),
    );
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(verified.json["isVerified"], true, "{}", verified.body);
    assert_eq!(verified.json["phoneNumber"], phone);

    SignIn {
        idempotency_key,
        token,
        challenge_id,
    }
}
