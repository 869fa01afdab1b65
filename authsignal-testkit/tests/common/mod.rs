//! A tiny HTTP/1.1 client over `std::net::TcpStream`, just enough to talk to
//! the fake (one request per connection, `Connection: close`).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

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

/// Sends one request with extra `headers` (e.g. `x-authsignal-terminal`).
pub fn send_with_headers(
    fake: &FakeAuthsignal,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let mut stream = TcpStream::connect(fake.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: testkit-tests\r\n",
        fake.addr()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || matches!(method, "POST" | "PATCH" | "PUT") {
        request.push_str("Content-Type: application/json\r\n");
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        rest = dechunk(&rest);
    }
    let body = String::from_utf8(rest).expect("utf-8 body");
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        json,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).expect("hex chunk size");
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
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
