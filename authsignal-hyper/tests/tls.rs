//! HTTPS through rustls against a local TLS server with a self-signed
//! certificate: trusted as a custom root it works; with the default roots the
//! handshake fails and nothing is sent.

use std::sync::Arc;

use authsignal_hyper::{
    Client, ClientBuilder, GetUserRequest, HyperOptions, RetryPolicy, TransportErrorKind,
    rustls::{
        self, RootCertStore,
        pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    },
};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpListener,
};
use tokio_rustls::TlsAcceptor;

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS server on 127.0.0.1 answering every request with a user; returns
/// its port and its self-signed certificate.
async fn start_tls_server() -> (u16, CertificateDer<'static>) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let server_config = rustls::ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(server_config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that does not trust the certificate aborts here.
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut chunk = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = r#"{"userId":"alice","isEnrolled":true}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, cert)
}

fn builder(port: u16) -> ClientBuilder {
    Client::builder("sk_test_123")
        .with_base_url(format!("https://localhost:{port}/v1"))
        .with_retry_policy(RetryPolicy::no_retries())
}

#[tokio::test]
async fn custom_root_is_trusted() {
    let (port, cert) = start_tls_server().await;
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = builder(port)
        .with_transport_options(HyperOptions::default().with_tls_config(tls))
        .build()
        .unwrap();

    let user = client.get_user(GetUserRequest::new("alice")).await.unwrap();

    assert_eq!(user.user_id.as_deref(), Some("alice"));
    assert!(user.is_enrolled);
}

#[tokio::test]
async fn untrusted_certificate_is_rejected_and_not_retried() {
    let (port, _cert) = start_tls_server().await;
    let client = builder(port).build().unwrap();

    let error = client
        .get_user(GetUserRequest::new("alice"))
        .await
        .unwrap_err();

    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::InvalidCertificate),
        "{error:?}"
    );
    assert!(!error.request_may_have_been_processed());
    assert_eq!(error.attempts(), 1);
    let mut chain = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = current {
        chain.push(e.to_string());
        current = e.source();
    }
    let chain = chain.join(" <- ");
    assert!(chain.to_lowercase().contains("certificate"), "{chain}");
}
