//! The hyper transport against local servers: what reaches the server, what
//! the caller gets back, and how each failure is classified.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use authsignal_hyper::{
    Client, ClientBuilder, Error, ErrorCode, GetUserRequest, HyperOptions, RetryPolicy,
    TrackRequest, TransportErrorKind, UserActionState, VerificationMethod,
};
use mockito::Matcher;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpListener,
};

const SECRET: &str = "sk_test_123";
/// `Basic base64("sk_test_123:")`.
const AUTHORIZATION: &str = "Basic c2tfdGVzdF8xMjM6";

fn config(base: &str) -> ClientBuilder {
    Client::builder(SECRET).with_base_url(format!("{base}/v1"))
}

fn client(config: ClientBuilder) -> Client {
    config.build().unwrap()
}

fn user_agent() -> String {
    format!("authsignal-rust/{}", authsignal_hyper::VERSION)
}

#[tokio::test]
async fn track_sends_exact_request_and_returns_typed_output() {
    let mut server = mockito::Server::new_async().await;
    let mock = server
        .mock("POST", "/v1/users/alice/actions/signIn")
        .match_header("authorization", AUTHORIZATION)
        .match_header("user-agent", user_agent().as_str())
        .match_header("x-authsignal-version", authsignal_hyper::VERSION)
        .match_header("accept", "application/json")
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(json!({
            "ipAddress": "203.0.113.7",
            "custom": { "plan": "pro" }
        })))
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(
            json!({
                "state": "CHALLENGE_REQUIRED",
                "idempotencyKey": "idem-1",
                "url": "https://example.com/challenge?token=t",
                "token": "tok",
                "isEnrolled": true,
                "enrolledVerificationMethods": ["SMS"],
                "allowedVerificationMethods": ["SMS", "PASSKEY"],
                "ruleIds": ["r1"]
            })
            .to_string(),
        )
        .create_async()
        .await;

    let response = client(config(&server.url()))
        .track(
            TrackRequest::new("alice", "signIn")
                .with_ip_address("203.0.113.7".to_owned())
                .with_custom(json!({ "plan": "pro" })),
        )
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(response.state, UserActionState::ChallengeRequired);
    assert_eq!(response.idempotency_key, "idem-1");
    assert_eq!(response.token.expose_secret(), "tok");
    assert!(response.is_enrolled);
    assert_eq!(
        response.enrolled_verification_methods,
        vec![VerificationMethod::Sms]
    );
    assert_eq!(response.rule_ids, vec!["r1".to_owned()]);
}

#[tokio::test]
async fn get_user_sends_no_body_and_no_content_type() {
    let mut server = mockito::Server::new_async().await;
    let mock = server
        .mock("GET", "/v1/users/alice%2Fbob")
        .match_header("authorization", AUTHORIZATION)
        .match_header("user-agent", user_agent().as_str())
        .match_header("content-type", Matcher::Missing)
        .match_body("")
        .with_status(200)
        .with_body(
            r#"{"userId":"alice/bob","isEnrolled":true,"email":"a@example.com","unknownField":1}"#,
        )
        .create_async()
        .await;

    let user = client(config(&server.url()))
        .get_user(GetUserRequest::new("alice/bob"))
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(user.user_id.as_deref(), Some("alice/bob"));
    assert!(user.is_enrolled);
    assert_eq!(user.email.as_deref(), Some("a@example.com"));
}

#[tokio::test]
async fn error_status_becomes_api_error() {
    let mut server = mockito::Server::new_async().await;
    let mock = server
        .mock("GET", "/v1/users/alice")
        .with_status(401)
        .with_header("content-type", "application/json")
        .with_body(r#"{"error":"unauthorized","errorDescription":"Check the API key and region."}"#)
        .create_async()
        .await;

    let error = client(config(&server.url()))
        .get_user(GetUserRequest::new("alice"))
        .await
        .unwrap_err();

    mock.assert_async().await;
    let api = error.api_error().expect("an API error");
    assert_eq!(api.status.as_u16(), 401);
    assert_eq!(api.code, Some(ErrorCode::Unauthorized));
    assert_eq!(
        api.description.as_deref(),
        Some("Check the API key and region.")
    );
    assert_eq!(error.attempts(), 1);
    assert!(matches!(error, Error::Api(_)));
}

#[tokio::test]
async fn response_larger_than_limit_is_rejected() {
    let mut server = mockito::Server::new_async().await;
    let big = format!(r#"{{"userId":"alice","email":"{}"}}"#, "x".repeat(4096));
    let mock = server
        .mock("GET", "/v1/users/alice")
        .with_status(200)
        .with_body(big)
        .create_async()
        .await;

    let config = config(&server.url())
        .with_max_response_bytes(1024)
        .with_retry_policy(RetryPolicy::no_retries());
    let error = client(config)
        .get_user(GetUserRequest::new("alice"))
        .await
        .unwrap_err();

    mock.assert_async().await;
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::ResponseTooLarge),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn response_at_the_limit_is_accepted() {
    let mut server = mockito::Server::new_async().await;
    let body = r#"{"userId":"alice","isEnrolled":false}"#;
    let _mock = server
        .mock("GET", "/v1/users/alice")
        .with_status(200)
        .with_body(body)
        .create_async()
        .await;

    let config = config(&server.url()).with_max_response_bytes(body.len());
    let user = client(config)
        .get_user(GetUserRequest::new("alice"))
        .await
        .unwrap();
    assert_eq!(user.user_id.as_deref(), Some("alice"));
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config =
        config(&format!("http://127.0.0.1:{port}")).with_retry_policy(RetryPolicy::no_retries());

    let error = client(config)
        .track(TrackRequest::new("alice", "signIn"))
        .await
        .unwrap_err();

    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Connect),
        "{error:?}"
    );
    assert!(!error.request_may_have_been_processed());
    assert_eq!(error.attempts(), 1);
    assert!(std::error::Error::source(&error).is_some());
}

#[tokio::test]
async fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept connections and keep them open without ever answering.
    let server = tokio::spawn(async move {
        let mut open = Vec::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            open.push(stream);
        }
    });
    let config = config(&format!("http://{addr}"))
        .with_timeout(Duration::from_millis(200))
        .with_retry_policy(RetryPolicy::no_retries());

    let started = Instant::now();
    let error = client(config)
        .get_user(GetUserRequest::new("alice"))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();

    assert!(error.is_timeout(), "{error:?}");
    assert!(error.request_may_have_been_processed());
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    server.abort();
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let mut target = mockito::Server::new_async().await;
    let target_mock = target
        .mock("GET", Matcher::Any)
        .with_status(200)
        .with_body(r#"{"userId":"alice"}"#)
        .expect(0)
        .create_async()
        .await;
    let mut origin = mockito::Server::new_async().await;
    let origin_mock = origin
        .mock("GET", "/v1/users/alice")
        .with_status(302)
        .with_header("location", &format!("{}/v1/users/alice", target.url()))
        .create_async()
        .await;

    let error = client(config(&origin.url()))
        .get_user(GetUserRequest::new("alice"))
        .await
        .unwrap_err();

    origin_mock.assert_async().await;
    target_mock.assert_async().await;
    assert!(matches!(error, Error::UnexpectedResponse(_)), "{error:?}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(302));
}

/// A tiny keep-alive HTTP/1.1 server for requests without a body: it answers
/// the n-th request with `responses[n]` (the last one repeats) and counts
/// connections and requests.
struct ScriptedServer {
    url: String,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    async fn start(responses: Vec<(u16, &'static str)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let responses = Arc::new(responses);
        let (conn_count, req_count) = (connections.clone(), requests.clone());
        let task = tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                conn_count.fetch_add(1, Ordering::SeqCst);
                let (req_count, responses) = (req_count.clone(), responses.clone());
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 1024];
                    loop {
                        let Ok(n) = stream.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                        while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            buffer.drain(..end + 4);
                            let index = req_count.fetch_add(1, Ordering::SeqCst);
                            let (status, body) = responses[index.min(responses.len() - 1)];
                            let response = format!(
                                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if stream.write_all(response.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        Self {
            url,
            connections,
            requests,
            task,
        }
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn connections_are_pooled() {
    let server = ScriptedServer::start(vec![(200, r#"{"userId":"alice"}"#)]).await;
    let client = client(config(&server.url));

    for _ in 0..3 {
        client.get_user(GetUserRequest::new("alice")).await.unwrap();
    }
    // A clone shares the pool.
    client
        .clone()
        .get_user(GetUserRequest::new("alice"))
        .await
        .unwrap();

    assert_eq!(server.requests.load(Ordering::SeqCst), 4);
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn idempotent_call_is_retried_after_503_with_a_real_sleep() {
    let server = ScriptedServer::start(vec![
        (503, r#"{"error":"unavailable"}"#),
        (200, r#"{"userId":"alice","isEnrolled":true}"#),
    ])
    .await;
    let policy = RetryPolicy::default()
        .with_max_retries(2)
        .with_backoff(Duration::from_millis(50), Duration::from_millis(50));
    let client = client(config(&server.url).with_retry_policy(policy));

    let started = Instant::now();
    let user = client.get_user(GetUserRequest::new("alice")).await.unwrap();

    assert!(user.is_enrolled);
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
    // The backoff keeps at least half of its 50 ms under jitter, and the
    // transport really sleeps.
    assert!(
        started.elapsed() >= Duration::from_millis(25),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn non_idempotent_call_is_not_retried_after_503() {
    let server = ScriptedServer::start(vec![
        (503, r#"{"error":"unavailable"}"#),
        (200, r#"{"state":"ALLOW","idempotencyKey":"k"}"#),
    ])
    .await;
    // Track sends a body; the scripted server only reads headers, which is
    // enough because it answers and the body bytes are then ignored.
    let client = client(config(&server.url));

    let error = client
        .track(TrackRequest::new("alice", "signIn"))
        .await
        .unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(error.attempts(), 1);
}

#[tokio::test]
async fn custom_hyper_client_is_used() {
    use authsignal_hyper::{
        bytes::Bytes,
        http_body_util::Full,
        hyper_util::{client::legacy, rt::TokioExecutor},
    };
    let mut server = mockito::Server::new_async().await;
    let mock = server
        .mock("GET", "/v1/users/alice")
        .with_status(200)
        .with_body(r#"{"userId":"alice"}"#)
        .create_async()
        .await;
    let config = config(&server.url());
    let hyper_client: legacy::Client<_, Full<Bytes>> =
        legacy::Client::builder(TokioExecutor::new()).build_http();
    let client = config
        .with_transport_options(HyperOptions::default().with_client(hyper_client))
        .build()
        .unwrap();

    let user = client.get_user(GetUserRequest::new("alice")).await.unwrap();

    mock.assert_async().await;
    assert_eq!(user.user_id.as_deref(), Some("alice"));
    assert_eq!(client.transport().timeout(), Duration::from_secs(10));
    assert_eq!(client.transport().max_response_bytes(), 1024 * 1024);
}
