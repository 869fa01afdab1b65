//! What only the hyper transport (`authsignal-hyper`) has: its connection pool shared by clones,
//! real sleeps between retries, and a hyper-util client of your own. What
//! every transport does (the exact requests, typed outputs and errors, the
//! faults) is in the workspace's `tests/` over every transport.

use std::time::{Duration, Instant};

use authsignal_hyper::{Client, ClientBuilder, GetUserRequest, HyperOptions, RetryPolicy};
use authsignal_tests::fault_server::{FaultServer, Step};

fn config(server: &FaultServer) -> ClientBuilder {
    Client::builder("sk_test_123").with_base_url(format!("{}/v1", server.url()))
}

#[tokio::test]
async fn connections_are_pooled_and_shared_by_clones() {
    let server = FaultServer::start([Step::json(200, r#"{"userId":"alice"}"#)]);
    let client = config(&server).build().unwrap();
    for _ in 0..3 {
        client.get_user(GetUserRequest::new("alice")).await.unwrap();
    }
    client
        .clone()
        .get_user(GetUserRequest::new("alice"))
        .await
        .unwrap();
    assert_eq!(server.request_count(), 4);
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn idempotent_call_is_retried_after_503_with_a_real_sleep() {
    let server = FaultServer::start([
        Step::json(503, r#"{"error":"unavailable"}"#),
        Step::json(200, r#"{"userId":"alice","isEnrolled":true}"#),
    ]);
    let policy = RetryPolicy::default()
        .with_max_retries(2)
        .with_backoff(Duration::from_millis(50), Duration::from_millis(50));
    let client = config(&server).with_retry_policy(policy).build().unwrap();
    let started = Instant::now();
    let user = client.get_user(GetUserRequest::new("alice")).await.unwrap();
    assert!(user.is_enrolled);
    assert_eq!(server.request_count(), 2);
    // The backoff keeps at least half of its 50 ms under jitter, and the
    // timer really sleeps.
    let gap = server.requests()[1].received_at - server.requests()[0].received_at;
    assert!(gap >= Duration::from_millis(25), "{gap:?}");
    assert!(started.elapsed() >= gap);
}

#[tokio::test]
async fn custom_hyper_client_is_used() {
    use authsignal_hyper::{
        bytes::Bytes,
        http_body_util::Full,
        hyper_util::{client::legacy, rt::TokioExecutor},
    };
    let server = FaultServer::start([Step::json(200, r#"{"userId":"alice"}"#)]);
    let hyper_client: legacy::Client<_, Full<Bytes>> =
        legacy::Client::builder(TokioExecutor::new()).build_http();
    let client = config(&server)
        .with_transport_options(HyperOptions::default().with_client(hyper_client))
        .build()
        .unwrap();
    let user = client.get_user(GetUserRequest::new("alice")).await.unwrap();
    assert_eq!(user.user_id.as_deref(), Some("alice"));
    assert_eq!(server.requests()[0].path, "/v1/users/alice");
    assert_eq!(client.transport().timeout(), Duration::from_secs(10));
    assert_eq!(client.transport().max_response_bytes(), 1024 * 1024);
}
