//! `TowerTransport` over hand-written services: the request as the service
//! sees it, the response limit, the attempt timeout, and how a service's own
//! errors are reported. (The workspace tests run the whole fault suite over
//! a hyper-util client in a tower layer.)
#![cfg(feature = "tower")]

use std::{
    convert::Infallible,
    future::{Ready, ready},
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use authsignal_hyper::{
    AsyncClient, Config, Error, GetUserRequest, NoWaitTimer, RetryPolicy, TokioTimer,
    TowerTransport, TrackRequest, TransportErrorKind, bytes::Bytes, http, http_body_util::Full,
};

/// Answers every request with `response` and records what it was given.
#[derive(Clone)]
struct Canned {
    response: fn() -> http::Response<Full<Bytes>>,
    seen: Arc<Mutex<Vec<(http::Method, String, String)>>>,
}

impl Canned {
    fn new(response: fn() -> http::Response<Full<Bytes>>) -> Self {
        Self {
            response,
            seen: Arc::default(),
        }
    }
}

impl tower_service::Service<http::Request<Bytes>> for Canned {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        let (parts, body) = request.into_parts();
        self.seen.lock().unwrap().push((
            parts.method,
            parts.uri.to_string(),
            String::from_utf8_lossy(&body).into_owned(),
        ));
        ready(Ok((self.response)()))
    }
}

fn config() -> Config {
    Config::builder("sk_test_123")
        .with_base_url("http://127.0.0.1:9/v1")
        .with_max_response_bytes(64)
        .with_timeout(Duration::from_millis(200))
        .with_retry_policy(RetryPolicy::no_retries())
        .build()
        .unwrap()
}

fn json(body: &'static str) -> http::Response<Full<Bytes>> {
    http::Response::new(Full::new(Bytes::from_static(body.as_bytes())))
}

#[tokio::test]
async fn a_service_with_its_own_body_type_gets_the_request() {
    let service = Canned::new(|| json(r#"{"state":"ALLOW","idempotencyKey":"k-1"}"#));
    let transport = TowerTransport::<_, Bytes>::with_body_type(&config(), service.clone());
    let client = AsyncClient::with_transport(config(), transport, TokioTimer);

    let tracked = client
        .track(TrackRequest::new("alice", "signIn"))
        .await
        .unwrap();

    assert_eq!(tracked.idempotency_key, "k-1");
    let seen = service.seen.lock().unwrap();
    assert_eq!(
        *seen,
        [(
            http::Method::POST,
            "http://127.0.0.1:9/v1/users/alice/actions/signIn".to_owned(),
            "{}".to_owned()
        )]
    );
}

#[tokio::test]
async fn the_response_limit_holds() {
    // Declared: refused at the headers.
    let declared = Canned::new(|| {
        let mut response = json("{}");
        response.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from_static("1000000"),
        );
        response
    });
    // Undeclared: stopped while reading.
    let undeclared = Canned::new(|| {
        json(r#"{"userId":"a-very-long-user-id-that-does-not-fit-in-the-64-bytes-of-the-limit"}"#)
    });
    for service in [declared, undeclared] {
        let transport = TowerTransport::<_, Bytes>::with_body_type(&config(), service);
        let client = AsyncClient::with_transport(config(), transport, NoWaitTimer);
        let error = client
            .get_user(GetUserRequest::new("alice"))
            .await
            .unwrap_err();
        assert_eq!(
            error.transport_kind(),
            Some(TransportErrorKind::ResponseTooLarge),
            "{error:?}"
        );
    }
}

/// Never ready, or failing with an error of its own.
#[derive(Clone)]
struct Stuck {
    fail: bool,
}

impl tower_service::Service<http::Request<Full<Bytes>>> for Stuck {
    type Response = http::Response<Full<Bytes>>;
    type Error = std::io::Error;
    type Future = Ready<Result<Self::Response, std::io::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), std::io::Error>> {
        if self.fail {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    fn call(&mut self, _: http::Request<Full<Bytes>>) -> Self::Future {
        ready(Err(std::io::Error::other(
            "shed by http://127.0.0.1:9/v1/users/alice",
        )))
    }
}

#[derive(Clone)]
struct OwnError;

#[derive(Debug)]
struct RateLimited;

impl std::fmt::Display for RateLimited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("rate limited: http://127.0.0.1:9/v1/users/alice?token=tok_secret")
    }
}

impl std::error::Error for RateLimited {}

impl tower_service::Service<http::Request<Full<Bytes>>> for OwnError {
    type Response = http::Response<Full<Bytes>>;
    type Error = RateLimited;
    type Future = Ready<Result<Self::Response, RateLimited>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), RateLimited>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<Full<Bytes>>) -> Self::Future {
        ready(Err(RateLimited))
    }
}

#[tokio::test]
async fn a_service_that_is_never_ready_times_out() {
    let transport = TowerTransport::new(&config(), Stuck { fail: false });
    let client = AsyncClient::with_transport(config(), transport, NoWaitTimer);
    let started = Instant::now();
    let error = client
        .get_user(GetUserRequest::new("alice"))
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn service_errors_may_have_been_processed_and_are_not_quoted() {
    let io = TowerTransport::new(&config(), Stuck { fail: true });
    let client = AsyncClient::with_transport(config(), io, NoWaitTimer);
    let error = client
        .track(TrackRequest::new("alice", "signIn"))
        .await
        .unwrap_err();
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Io),
        "{error:?}"
    );
    assert!(error.request_may_have_been_processed());

    let own = TowerTransport::new(&config(), OwnError);
    let client = AsyncClient::with_transport(config(), own, NoWaitTimer);
    let error = client
        .track(TrackRequest::new("alice", "signIn"))
        .await
        .unwrap_err();
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Other),
        "{error:?}"
    );
    assert!(error.request_may_have_been_processed());
    assert!(matches!(error, Error::Transport { attempts: 1, .. }));
    let text = error.to_string();
    assert!(
        text.contains("the service returned an error of its own"),
        "{text}"
    );
    assert!(
        !text.contains("tok_secret") && !text.contains("/users"),
        "{text}"
    );
    // The service's error is kept in the chain.
    let mut source = std::error::Error::source(&error);
    let mut found = false;
    while let Some(e) = source {
        found |= e.is::<RateLimited>();
        source = e.source();
    }
    assert!(found, "{error:?}");
}
