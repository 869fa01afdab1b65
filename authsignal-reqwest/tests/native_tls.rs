//! The `native-tls` back-end (run with `--no-default-features --features
//! native-tls`): a certificate the platform does not trust is
//! `InvalidCertificate`, a server that does not speak TLS is `Connect`, and
//! both are "not sent".
#![cfg(all(feature = "native-tls", not(feature = "rustls")))]

use std::sync::Arc;

use authsignal_reqwest::{Client, GetUserRequest, RetryPolicy, TransportErrorKind};
use tokio::{io::AsyncWriteExt as _, net::TcpListener};
use tokio_rustls::rustls::{
    self,
    pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer},
};

async fn get_user(base: String) -> authsignal_reqwest::Error {
    Client::builder("sk_test_123")
        .with_base_url(format!("{base}/v1"))
        .with_retry_policy(RetryPolicy::no_retries())
        .build()
        .unwrap()
        .get_user(GetUserRequest::new("alice"))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_self_signed_certificate_is_rejected() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = acceptor.accept(stream).await;
        }
    });

    let error = get_user(format!("https://localhost:{port}")).await;
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::InvalidCertificate),
        "{error:?}"
    );
    assert!(!error.request_may_have_been_processed());
}

#[tokio::test]
async fn a_plain_http_server_fails_the_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });

    let error = get_user(format!("https://localhost:{port}")).await;
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Connect),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("TLS handshake failed"),
        "{error}"
    );
}
