//! HTTPS with a private root: the async transports accept a TLS configuration of your
//! own and complete the handshake with a server whose self-signed certificate it trusts.
//! (Default roots rejecting that certificate, over every transport: `faults.rs`, e2.)

use std::sync::Arc;

use authsignal_core::{Builder, Error, FromConfig, GetUserRequest, GetUserResponse, RetryPolicy};
use authsignal_hyper::rustls::{self, ClientConfig, RootCertStore};
use authsignal_tests::fault_server::{FaultServer, Step};

/// A TLS server with one user, and a client builder for it whose transport
/// trusts only the server's certificate (`options` wraps the TLS configuration).
fn server_and_builder<T: FromConfig>(
    options: impl FnOnce(ClientConfig) -> T::Options,
) -> (FaultServer, Builder<T>) {
    let user = Step::json(200, r#"{"userId":"alice","isEnrolled":true}"#);
    let server = FaultServer::start_tls([user]);
    let mut roots = RootCertStore::empty();
    roots.add(server.certificate().unwrap()).expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let builder = Builder::new("sk_test_123")
        .with_base_url(format!("https://localhost:{}/v1", server.port()))
        .with_retry_policy(RetryPolicy::no_retries())
        .with_transport_options(options(tls));
    (server, builder)
}

/// The handshake completed and the one request got its answer.
fn check(server: &FaultServer, user: Result<GetUserResponse, Error>) {
    let user = user.unwrap();
    assert_eq!(user.user_id.as_deref(), Some("alice"));
    assert!(user.is_enrolled);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path_only(), "/v1/users/alice");
}

#[tokio::test]
async fn hyper_uses_your_tls_config() {
    use authsignal_hyper::{Client, HyperOptions};
    let (server, builder) = server_and_builder(|tls| HyperOptions::default().with_tls_config(tls));
    let client: Client = builder.build().unwrap();
    check(&server, client.get_user(GetUserRequest::new("alice")).await);
}

#[tokio::test]
async fn reqwest_uses_your_tls_config() {
    use authsignal_reqwest::{Client, ReqwestOptions};
    let (server, builder) =
        server_and_builder(|tls| ReqwestOptions::default().with_tls_config(tls));
    let client: Client = builder.build().unwrap();
    check(&server, client.get_user(GetUserRequest::new("alice")).await);
}
