//! HTTPS with a private root: the async transports accept a TLS configuration of your
//! own and complete the handshake with a server whose self-signed certificate it trusts.
//! (Default roots rejecting that certificate, over every transport: `faults.rs`, e2.)

use std::sync::Arc;

use authsignal_hyper::rustls::{self, ClientConfig, RootCertStore};
use authsignal_tests::fault_server::{FaultServer, Step};

const USER_JSON: &str = r#"{"userId":"alice","isEnrolled":true}"#;

/// A client TLS configuration that trusts only `server`'s certificate.
fn trusting(server: &FaultServer) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    roots
        .add(server.certificate().expect("a TLS server"))
        .expect("root");
    ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[tokio::test]
async fn hyper_uses_your_tls_config() {
    use authsignal_hyper::{Client, GetUserRequest, HyperOptions, RetryPolicy};
    let server = FaultServer::start_tls([Step::json(200, USER_JSON)]);
    let client = Client::builder("sk_test_123")
        .with_base_url(format!("https://localhost:{}/v1", server.port()))
        .with_retry_policy(RetryPolicy::no_retries())
        .with_transport_options(HyperOptions::default().with_tls_config(trusting(&server)))
        .build()
        .unwrap();

    let user = client.get_user(GetUserRequest::new("alice")).await.unwrap();

    assert_eq!(user.user_id.as_deref(), Some("alice"));
    assert!(user.is_enrolled);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path_only(), "/v1/users/alice");
}

#[tokio::test]
async fn reqwest_uses_your_tls_config() {
    use authsignal_reqwest::{Client, GetUserRequest, ReqwestOptions, RetryPolicy};
    let server = FaultServer::start_tls([Step::json(200, USER_JSON)]);
    let client = Client::builder("sk_test_123")
        .with_base_url(format!("https://localhost:{}/v1", server.port()))
        .with_retry_policy(RetryPolicy::no_retries())
        .with_transport_options(ReqwestOptions::default().with_tls_config(trusting(&server)))
        .build()
        .unwrap();

    let user = client.get_user(GetUserRequest::new("alice")).await.unwrap();

    assert_eq!(user.user_id.as_deref(), Some("alice"));
    assert!(user.is_enrolled);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path_only(), "/v1/users/alice");
}
