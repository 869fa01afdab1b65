//! The pure fake: one function from an HTTP request to an HTTP response
//! over the fake's typed state. The transports and the socket server are
//! thin wrappers around it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::RecordedRequest;
use crate::clock::Clock;
use crate::faults::{Fault, Faults};
use crate::routes::{ApiError, ApiRequest, Service, dispatch};
use crate::state::State;

/// Request bodies larger than this are refused with 400.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Everything a fake is: its keys, its state, its clock and its faults.
#[derive(Debug)]
pub(crate) struct Fake {
    pub secret: String,
    /// Call Connect's own API secret key.
    pub call_connect_secret: String,
    pub clock: Clock,
    state: Mutex<State>,
    faults: Mutex<Faults>,
}

/// What a runner (transport or server) should do with a request.
#[derive(Debug)]
pub(crate) enum Served {
    /// Answer with this response, after `delay` if one was injected.
    Respond {
        response: Response<Vec<u8>>,
        delay: Option<std::time::Duration>,
    },
    /// Answer nothing: drop the connection.
    Drop,
}

impl Fake {
    pub(crate) fn new(secret: String, call_connect_secret: String) -> Self {
        let clock = Clock::default();
        let state = State {
            clock: clock.clone(),
            ..State::default()
        };
        Self {
            secret,
            call_connect_secret,
            clock,
            state: Mutex::new(state),
            faults: Mutex::new(Faults::default()),
        }
    }

    /// Locks the state, recovering it if a thread panicked while holding it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies a pending fault, if one matches, else handles the request.
    pub(crate) fn serve(&self, request: Request<Vec<u8>>) -> Served {
        let fault = self.faults().take(request.method(), request.uri().path());
        let status = match fault {
            None => {
                return Served::Respond {
                    response: self.handle(request),
                    delay: None,
                };
            }
            Some(Fault::Delay(delay)) => {
                return Served::Respond {
                    response: self.handle(request),
                    delay: Some(delay),
                };
            }
            Some(Fault::DropConnection) => {
                self.record(&request, None);
                return Served::Drop;
            }
            Some(Fault::TooManyRequests { retry_after }) => {
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let mut response = error_response(&ApiError {
                    status: 429,
                    code: "too_many_requests",
                    description: "Too many requests (a fault injected by the fake).".to_owned(),
                });
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(seconds));
                self.record(&request, Some(response.status()));
                return Served::Respond {
                    response,
                    delay: None,
                };
            }
            Some(Fault::Status(status)) => status,
        };
        let code = if status.is_server_error() {
            "internal_error"
        } else {
            "invalid_request"
        };
        let response = error_response(&ApiError {
            status: status.as_u16(),
            code,
            description: format!("The fake answers {status} (an injected fault)."),
        });
        self.record(&request, Some(response.status()));
        Served::Respond {
            response,
            delay: None,
        }
    }

    /// The fake's answer to one request, recorded in the request log.
    pub(crate) fn handle(&self, request: Request<Vec<u8>>) -> Response<Vec<u8>> {
        let response = if request.body().len() > MAX_BODY_BYTES {
            error_response(&ApiError::bad_request(format!(
                "The request body exceeds {MAX_BODY_BYTES} bytes."
            )))
        } else {
            catch_unwind(AssertUnwindSafe(|| self.route(&request))).unwrap_or_else(|_| {
                json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({
                        "error": "internal_error",
                        "errorCode": "internal_error",
                        "errorDescription": "The fake Authsignal server hit a bug while handling this request.",
                    }),
                )
            })
        };
        self.record(&request, Some(response.status()));
        response
    }

    fn record(&self, request: &Request<Vec<u8>>, status: Option<StatusCode>) {
        let mut headers = request.headers().clone();
        // Credentials stay out of a recorded request's `Debug`, whichever way it came.
        for name in [
            http::header::AUTHORIZATION,
            authsignal_core::TERMINAL_HEADER,
        ] {
            if let http::header::Entry::Occupied(mut entry) = headers.entry(name) {
                entry.iter_mut().for_each(|value| value.set_sensitive(true));
            }
        }
        let record = RecordedRequest {
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            query: request
                .uri()
                .query()
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
            headers,
            body: serde_json::from_slice(request.body()).ok(),
            raw_body: String::from_utf8_lossy(request.body()).into_owned(),
            status,
        };
        self.lock().requests.push(record);
    }

    /// Authenticates with the credential of the target's service, parses
    /// the target and runs the handler.
    fn route(&self, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        let header = |name: &str| {
            request
                .headers()
                .get_all(name)
                .iter()
                .next_back()
                .and_then(|value| value.to_str().ok())
        };
        let path = request.uri().path();
        let service = service_of(path);
        let terminal_id = header("x-authsignal-terminal")
            .map(str::trim)
            .filter(|id| !id.is_empty());
        let authorized = match service {
            Service::Api => is_authorized(header("authorization"), &self.secret),
            Service::CallConnect => {
                is_authorized(header("authorization"), &self.call_connect_secret)
            }
            // The terminal id alone; an `Authorization` header neither helps
            // nor hurts.
            Service::Terminal => terminal_id.is_some_and(|id| self.lock().terminals.contains(id)),
        };
        if !authorized {
            return error_response(&ApiError::unauthorized());
        }
        let method = request.method().as_str();
        let mut parsed =
            match parse_target(service, method, path, request.uri().query(), request.body()) {
                Ok(parsed) => parsed,
                Err(error) => return error_response(&error),
            };
        if service == Service::Terminal {
            parsed.terminal_id = terminal_id.map(str::to_owned);
        }
        let mut state = self.lock();
        match dispatch(&mut state, &parsed) {
            Ok(body) => json_response(StatusCode::OK, &body),
            Err(error) => error_response(&error),
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Vec<u8>> {
    let mut response = Response::new(serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error_response(error: &ApiError) -> Response<Vec<u8>> {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, &error.body())
}

/// Which service a path belongs to: Call Connect lives at `/call/…` (no
/// `/v1`), the Terminal API at `/v1/terminal/…`, everything else is the
/// Server API under `/v1`.
fn service_of(path: &str) -> Service {
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

/// Splits `path` into decoded segments after the service's prefix (`/v1`
/// for the Server API, `/` for Call Connect) and decodes the query.
fn parse_target<'a>(
    service: Service,
    method: &'a str,
    path: &str,
    query: Option<&str>,
    body: &'a [u8],
) -> Result<ApiRequest<'a>, ApiError> {
    let query = query.unwrap_or_default();
    if !escapes_are_well_formed(query) {
        return Err(ApiError::bad_request(
            "The query string is not validly percent-encoded.",
        ));
    }
    let query = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
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
            if !escapes_are_well_formed(segment) {
                return Err(ApiError::bad_request(
                    "The path is not validly percent-encoded.",
                ));
            }
            let decoded = percent_decode_str(segment)
                .decode_utf8()
                .map_err(|_| ApiError::bad_request("The path is not validly percent-encoded."))?;
            if decoded.is_empty() {
                return Err(not_found());
            }
            Ok(decoded.into_owned())
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

/// Whether every `%` starts a two-hex-digit escape. The decoders pass a
/// stray `%` through; the real API refuses it.
fn escapes_are_well_formed(text: &str) -> bool {
    text.split('%')
        .skip(1)
        .all(|rest| rest.len() >= 2 && rest.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit))
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
        let api = |path, query| parse_target(Service::Api, "GET", path, query, b"");
        let r = api("/v1/users/a%2Fb/actions", Some("codes=x%2Cy")).unwrap();
        assert_eq!(r.segments, ["users", "a/b", "actions"]);
        assert_eq!(r.query, [("codes".to_owned(), "x,y".to_owned())]);
        let r = api("/v1/users/a+b", Some("email=a+b%40c&&flag")).unwrap();
        assert_eq!(r.segments, ["users", "a+b"]);
        assert_eq!(
            r.query,
            [
                ("email".to_owned(), "a b@c".to_owned()),
                ("flag".to_owned(), String::new())
            ]
        );
        let r = api(
            "/v1/users",
            Some("email=test%40example.com&phoneNumber=%2B1"),
        )
        .unwrap();
        assert_eq!(
            r.query,
            [
                ("email".to_owned(), "test@example.com".to_owned()),
                ("phoneNumber".to_owned(), "+1".to_owned())
            ]
        );
        let r = api("/v1/users/%E2%9C%93", None).unwrap();
        assert_eq!(r.segments, ["users", "\u{2713}"]);
        assert_eq!(api("/users/a", None).unwrap_err().status, 404);
        assert_eq!(api("/v1/users/", None).unwrap_err().status, 404);
        assert_eq!(api("/v1/users/%FF", None).unwrap_err().status, 400);
        assert_eq!(api("/v1/users/%zz", None).unwrap_err().status, 400);
        assert_eq!(api("/v1/users/%4", None).unwrap_err().status, 400);
        assert_eq!(api("/v1/users", Some("a=%")).unwrap_err().status, 400);

        assert_eq!(service_of("/call/start"), Service::CallConnect);
        assert_eq!(service_of("/v1/call/start"), Service::Api);
        assert_eq!(
            service_of("/v1/terminal/payment-session"),
            Service::Terminal
        );
        assert_eq!(service_of("/v1/terminals"), Service::Api);
        let r = parse_target(Service::CallConnect, "POST", "/call/start", None, b"").unwrap();
        assert_eq!(r.segments, ["call", "start"]);
    }

    #[test]
    fn absolute_form_targets_route_by_their_path() {
        let fake = Fake::new("sk".to_owned(), "cc".to_owned());
        let request = Request::get("http://h:1/v1/users/x")
            .header("authorization", format!("Basic {}", STANDARD.encode("sk:")))
            .body(Vec::new())
            .unwrap();
        let response = fake.handle(request);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            service_of(
                Request::get("http://h:1/call/finish")
                    .body(())
                    .unwrap()
                    .uri()
                    .path()
            ),
            Service::CallConnect
        );
    }
}
