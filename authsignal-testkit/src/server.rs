//! The HTTP side: worker threads that take requests from `tiny_http`, check
//! each service's credential, split and decode the path, and write JSON
//! responses.

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::{Value, json};

use crate::RecordedRequest;
use crate::routes::{ApiError, ApiRequest, Service, dispatch};
use crate::state::State;
use crate::util::{parse_query, percent_decode};

/// Request bodies larger than this are refused with 400.
const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// What the fake's handle and its worker threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub secret: String,
    /// Call Connect's own API secret key.
    pub call_connect_secret: String,
    pub state: Mutex<State>,
    pub shutdown: AtomicBool,
}

impl Shared {
    /// Locks the state, recovering it if a thread panicked while holding it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One worker: serves requests until the fake shuts down.
pub(crate) fn worker_loop(server: &tiny_http::Server, shared: &Shared) {
    loop {
        match server.recv() {
            Ok(request) => serve(shared, request),
            // `recv` fails when `unblock` is called (shutdown) and on
            // transient accept errors, which are ignored.
            Err(_) if shared.shutdown.load(Ordering::SeqCst) => break,
            Err(_) => {}
        }
    }
}

fn serve(shared: &Shared, mut request: tiny_http::Request) {
    let method = request.method().as_str().to_owned();
    let url = request.url().to_owned();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_owned(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let read = Read::take(request.as_reader(), MAX_BODY_BYTES + 1).read_to_end(&mut body);

    let (status, json) = match read {
        Err(err) => error_response(&ApiError::bad_request(format!(
            "The request body could not be read: {err}."
        ))),
        Ok(_) if body.len() as u64 > MAX_BODY_BYTES => error_response(&ApiError::bad_request(
            format!("The request body exceeds {MAX_BODY_BYTES} bytes."),
        )),
        Ok(_) => catch_unwind(AssertUnwindSafe(|| {
            handle(shared, &method, &url, &headers, &body)
        }))
        .unwrap_or_else(|_| {
            (
                500,
                json!({
                    "error": "internal_error",
                    "errorCode": "internal_error",
                    "errorDescription": "The fake Authsignal server hit a bug while handling this request.",
                }),
            )
        }),
    };

    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (url.clone(), None),
    };
    shared.lock().requests.push(RecordedRequest {
        method,
        path,
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
    });

    let bytes = serde_json::to_vec(&json).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = tiny_http::Response::from_data(bytes).with_status_code(status);
    if let Ok(header) =
        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
    {
        response.add_header(header);
    }
    // The client may have gone away; nothing to do about it.
    let _ = request.respond(response);
}

fn error_response(error: &ApiError) -> (u16, Value) {
    (error.status, error.body())
}

/// Authenticates with the credential of the target's service, parses the
/// target and runs the handler.
fn handle(
    shared: &Shared,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, Value) {
    let header = |wanted: &str| {
        headers
            .iter()
            .rev()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.as_str())
    };
    let service = service_of(url);
    let terminal_id = header("x-authsignal-terminal")
        .map(str::trim)
        .filter(|id| !id.is_empty());
    let authorized = match service {
        Service::Api => is_authorized(header("authorization"), &shared.secret),
        Service::CallConnect => is_authorized(header("authorization"), &shared.call_connect_secret),
        // The terminal id alone; an `Authorization` header neither helps
        // nor hurts.
        Service::Terminal => terminal_id.is_some_and(|id| shared.lock().terminals.contains(id)),
    };
    if !authorized {
        return error_response(&ApiError::unauthorized());
    }
    let mut request = match parse_target(service, method, url, body) {
        Ok(request) => request,
        Err(error) => return error_response(&error),
    };
    if service == Service::Terminal {
        request.terminal_id = terminal_id.map(str::to_owned);
    }
    let mut state = shared.lock();
    match dispatch(&mut state, &request) {
        Ok(json) => (200, json),
        Err(error) => error_response(&error),
    }
}

/// The path of a request-target, for absolute-form targets too.
fn path_of(url: &str) -> &str {
    // Absolute-form targets (`http://host/path`) only come from proxies.
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    }
}

/// Which service a target belongs to: Call Connect lives at `/call/…`
/// (no `/v1`), the Terminal API at `/v1/terminal/…`, everything else is the
/// Server API under `/v1`.
fn service_of(url: &str) -> Service {
    let path = path_of(url);
    if path.starts_with("/call/") {
        Service::CallConnect
    } else if path.starts_with("/v1/terminal/") {
        Service::Terminal
    } else {
        Service::Api
    }
}

/// Whether the header is `Basic base64("<secret>:")`.
fn is_authorized(header: Option<&str>, secret: &str) -> bool {
    let Some((scheme, credentials)) = header.and_then(|h| h.trim().split_once(' ')) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let credentials = credentials.trim();
    let decoded = STANDARD
        .decode(credentials)
        .or_else(|_| STANDARD_NO_PAD.decode(credentials));
    let Ok(decoded) = decoded else {
        return false;
    };
    let mut expected = secret.as_bytes().to_vec();
    expected.push(b':');
    decoded == expected
}

/// Splits `url` into decoded path segments after the service's prefix
/// (`/v1` for the Server API, `/` for Call Connect) and a decoded query.
fn parse_target<'a>(
    service: Service,
    method: &'a str,
    url: &str,
    body: &'a [u8],
) -> Result<ApiRequest<'a>, ApiError> {
    let url = path_of(url);
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let query = parse_query(query)
        .ok_or_else(|| ApiError::bad_request("The query string is not validly percent-encoded."))?;
    let not_found = || ApiError::not_found(format!("No route for {method} {path}."));
    let prefix = match service {
        Service::Api | Service::Terminal => "/v1/",
        Service::CallConnect => "/",
    };
    let rest = path.strip_prefix(prefix).ok_or_else(not_found)?;
    // Split on '/' before decoding, so that `%2F` stays inside its segment.
    let segments = rest
        .split('/')
        .map(|segment| {
            let decoded = percent_decode(segment)
                .ok_or_else(|| ApiError::bad_request("The path is not validly percent-encoded."))?;
            if decoded.is_empty() {
                return Err(not_found());
            }
            Ok(decoded)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiRequest {
        service,
        terminal_id: None,
        method,
        segments,
        query,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth() {
        let header = format!("Basic {}", STANDARD.encode("sk:"));
        assert!(is_authorized(Some(&header), "sk"));
        assert!(is_authorized(Some("basic c2s6"), "sk"));
        assert!(!is_authorized(Some(&header), "other"));
        assert!(!is_authorized(Some("Basic !!!"), "sk"));
        assert!(!is_authorized(Some("Bearer c2s6"), "sk"));
        assert!(!is_authorized(
            Some(&format!("Basic {}", STANDARD.encode("sk"))),
            "sk"
        ));
        assert!(!is_authorized(None, "sk"));
    }

    #[test]
    fn targets() {
        let api = |method, url| parse_target(Service::Api, method, url, b"");
        let r = api("GET", "/v1/users/a%2Fb/actions?codes=x%2Cy").unwrap();
        assert_eq!(r.segments, ["users", "a/b", "actions"]);
        assert_eq!(r.query, [("codes".to_owned(), "x,y".to_owned())]);
        assert_eq!(api("GET", "/users/a").unwrap_err().status, 404);
        assert_eq!(api("GET", "/v1/users/").unwrap_err().status, 404);
        assert_eq!(api("GET", "/v1/users/%zz").unwrap_err().status, 400);
        let r = api("GET", "http://h:1/v1/users/x").unwrap();
        assert_eq!(r.segments, ["users", "x"]);

        assert_eq!(service_of("/call/start"), Service::CallConnect);
        assert_eq!(service_of("http://h:1/call/finish"), Service::CallConnect);
        assert_eq!(service_of("/v1/call/start"), Service::Api);
        assert_eq!(
            service_of("/v1/terminal/payment-session"),
            Service::Terminal
        );
        assert_eq!(service_of("/v1/terminals"), Service::Api);
        let r = parse_target(Service::CallConnect, "POST", "/call/start", b"").unwrap();
        assert_eq!(r.segments, ["call", "start"]);
    }
}
