//! The reqwest transport against the fault server: what reaches the server,
//! what a client of your own keeps, and errors that never quote the URL.
//! (The endpoint table, the fault suite and `tls.rs` in `tests/` run every
//! other scenario over this transport too.)

use std::time::{Duration, Instant};

use authsignal_reqwest::{
    Client, ClientBuilder, Error, GetUserRequest, QueryUsersRequest, ReqwestOptions,
    ReqwestTransport, RetryPolicy, TrackRequest, TransportErrorKind, reqwest, rustls,
};
use authsignal_tests::fault_server::{FaultServer, Step};

fn config(base: &str) -> ClientBuilder {
    Client::builder("sk_test_123")
        .with_base_url(format!("{base}/v1"))
        .with_retry_policy(RetryPolicy::no_retries())
}

fn alice() -> GetUserRequest {
    GetUserRequest::new("alice")
}

const _: () = {
    const fn send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    send_sync_clone::<Client>();
    send_sync_clone::<ReqwestTransport>();
};

/// Never called: it compiles only if the client's futures can be spawned.
#[allow(dead_code)]
fn client_futures_can_be_spawned(client: Client) {
    fn spawnable<F: Future + Send + 'static>(_: F) {}
    let shared = client.clone();
    spawnable(async move { shared.track(TrackRequest::new("alice", "signIn")).await });
    spawnable(async move { client.get_user(GetUserRequest::new("alice")).await });
}

#[tokio::test]
async fn nothing_of_reqwest_s_own_is_sent() {
    let track = r#"{"state":"ALLOW","idempotencyKey":"k-1"}"#;
    let server = FaultServer::start([Step::json(200, track)]);
    let client = config(&server.url()).build().unwrap();
    let request = TrackRequest::new("alice", "signIn").with_ip_address("203.0.113.7");
    let response = client.track(request).await.unwrap();
    assert_eq!(response.idempotency_key, "k-1");
    // No compression offered, no proxy headers.
    let request = &server.requests()[0];
    assert_eq!(request.header("accept-encoding"), None);
    assert_eq!(request.header("proxy-authorization"), None);
    assert_eq!(client.transport().timeout(), Duration::from_secs(10));
    assert_eq!(client.transport().max_response_bytes(), 1024 * 1024);
}

/// A client like many services share: reqwest's defaults (redirects
/// followed) and a generous timeout of its own.
fn your_client() -> reqwest::Client {
    // This crate turns on reqwest's rustls without a crypto provider (the
    // SDK passes *ring* explicitly); a client built with reqwest's own TLS
    // set-up needs a process-wide provider, or reqwest's `rustls` feature in
    // the application.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(3600))
        .build()
        .unwrap()
}

#[tokio::test]
async fn your_client_keeps_the_attempt_timeout_and_the_response_limit() {
    let options = || ReqwestOptions::default().with_client(your_client());

    let silent = FaultServer::start([Step::hang()]);
    let client = config(&silent.url())
        .with_timeout(Duration::from_millis(200))
        .with_transport_options(options())
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.get_user(alice()).await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(error.request_may_have_been_processed());
    assert!(started.elapsed() < Duration::from_secs(2), "{error:?}");

    let server = FaultServer::start([Step::chunked(200, [vec![b' '; 4096]])]);
    let client = config(&server.url())
        .with_max_response_bytes(1024)
        .with_transport_options(options())
        .build()
        .unwrap();
    let error = client.get_user(alice()).await.unwrap_err();
    let too_large = Some(TransportErrorKind::ResponseTooLarge);
    assert_eq!(error.transport_kind(), too_large, "{error:?}");
}

#[tokio::test]
async fn your_client_keeps_its_redirect_policy() {
    let target = FaultServer::start([Step::json(200, r#"{"userId":"alice"}"#)]);
    let redirect = Step::redirect(302, format!("{}/v1/users/alice", target.url()));
    let origin = FaultServer::start([redirect]);

    // The SDK's client never follows; reqwest's default one does, as the
    // docs of `with_client` warn.
    let sdk = config(&origin.url()).build().unwrap();
    let error = sdk.get_user(alice()).await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(302), "{error:?}");
    assert_eq!(target.request_count(), 0);
    let yours = config(&origin.url())
        .with_transport_options(ReqwestOptions::default().with_client(your_client()))
        .build()
        .unwrap();
    let user = yours.get_user(alice()).await.unwrap();
    assert_eq!(user.user_id.as_deref(), Some("alice"));
    assert_eq!(origin.request_count(), 2);
    assert_eq!(target.request_count(), 1);
}

#[tokio::test]
async fn errors_keep_reqwest_as_source_without_the_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = config(&format!("http://127.0.0.1:{port}")).build().unwrap();
    let error = client
        .query_users(QueryUsersRequest::new().with_token("tok_secret_123"))
        .await
        .unwrap_err();

    let connect = Some(TransportErrorKind::Connect);
    assert_eq!(error.transport_kind(), connect, "{error:?}");
    let mut chain = vec![format!("{error:?}")];
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = current {
        chain.push(e.to_string());
        current = e.source();
    }
    let from_reqwest =
        |text: &String| text.contains("reqwest::Error") || text.contains("error sending request");
    assert!(chain.iter().any(from_reqwest), "{chain:#?}");
    for text in &chain {
        for leak in ["/v1/users", "tok_secret_123", "token=", "sk_test"] {
            assert!(!text.contains(leak), "`{leak}` in {text}");
        }
    }
    assert!(matches!(error, Error::Transport { .. }));
}
