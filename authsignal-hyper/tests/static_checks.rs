//! Compile-time checks: the client and transport can be shared across tasks
//! and their futures can be spawned on a multi-threaded runtime.

use authsignal_hyper::{Client, Config, GetUserRequest, HyperTransport, TrackRequest};

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

fn assert_send<T: Send>(_: &T) {}

#[test]
fn client_and_transport_are_send_sync_clone() {
    assert_send_sync_clone::<Client>();
    assert_send_sync_clone::<HyperTransport>();
    assert_send_sync_clone::<Config>();
}

#[tokio::test]
async fn client_futures_are_send() {
    let client = Client::from_secret("sk_test_123").unwrap();

    // The futures are built, checked and dropped without being polled.
    let track = client.track(TrackRequest::new("alice", "signIn"));
    assert_send(&track);
    let get_user = client.get_user(GetUserRequest::new("alice"));
    assert_send(&get_user);
    let request = GetUserRequest::new("alice");
    let send = client.send(&request);
    assert_send(&send);
}

#[tokio::test]
async fn client_future_can_be_spawned() {
    let client = Client::new(
        Config::new("sk_test_123")
            .unwrap()
            .with_base_url("http://127.0.0.1:9/v1")
            .unwrap(),
    )
    .unwrap();
    // Spawning needs `Send + 'static`; the result does not matter here.
    let handle = tokio::spawn(async move {
        client.get_user(GetUserRequest::new("alice")).await.ok();
    });
    handle.abort();
}
