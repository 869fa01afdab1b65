//! Compile-time checks: the client and transport can be shared across tasks,
//! and their futures are `Send + 'static`, so they can be spawned on a
//! multi-threaded runtime. Nothing here runs; the file fails to build if a
//! check fails.

use authsignal_hyper::{Client, Config, GetUserRequest, HyperTransport, TrackRequest};

const _: () = {
    const fn send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    send_sync_clone::<Client>();
    send_sync_clone::<HyperTransport>();
    send_sync_clone::<Config>();
};

/// Never called: it compiles only if every future of the client can be
/// spawned (`tokio::spawn` needs `Send + 'static`).
#[allow(dead_code)]
fn client_futures_can_be_spawned(client: Client) {
    fn spawnable<F: Future + Send + 'static>(_: F) {}
    let request = GetUserRequest::new("alice");
    let shared = client.clone();
    spawnable(async move { shared.track(TrackRequest::new("alice", "signIn")).await });
    let shared = client.clone();
    spawnable(async move { shared.get_user(GetUserRequest::new("alice")).await });
    spawnable(async move { client.send(&request).await });
}
