//! Listeners on 127.0.0.1 that fail a connection before any HTTP is
//! exchanged, for the connect-phase tests: one that never answers the TLS
//! ClientHello, one that answers it in plain HTTP, and a TLS server with a
//! self-signed certificate. Each counts the connections it accepted and
//! stops accepting when dropped.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::Duration,
};

/// What a [`Listener`] does with each connection it accepts.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Keeps the connection open and never writes: a TLS handshake stalls.
    Silent,
    /// Writes a plain-HTTP `400` at once and closes, as a plain-HTTP server
    /// does when a TLS ClientHello arrives.
    PlainHttp,
    /// Runs a TLS handshake with a freshly generated self-signed certificate
    /// for `localhost` and `127.0.0.1`, which no default trust store accepts.
    SelfSignedTls,
}

/// A listener that accepts connections and treats each as its [`Behaviour`] says.
#[derive(Debug)]
pub struct Listener {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
    /// Connections kept open by `Silent`, closed on drop.
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl Listener {
    /// Starts a listener on `127.0.0.1:0`.
    pub fn start(behaviour: Behaviour) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let tls = matches!(behaviour, Behaviour::SelfSignedTls).then(self_signed_config);
        let accepted = Arc::new(AtomicUsize::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (count, stop, keep) = (accepted.clone(), stopping.clone(), held.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                match behaviour {
                    Behaviour::Silent => keep.lock().expect("held").push(stream),
                    Behaviour::PlainHttp => {
                        let body = "Client sent an HTTP request to an HTTPS server.\n";
                        let _ = write!(
                            stream,
                            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Behaviour::SelfSignedTls => {
                        let config = tls.clone().expect("TLS config");
                        thread::spawn(move || handshake(stream, config));
                    }
                }
            }
        });
        Listener {
            addr,
            accepted,
            stopping,
            held,
        }
    }

    /// An `https` base URL for this listener.
    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}/v1", self.addr.port())
    }

    /// How many connections were accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        self.held.lock().map(|mut held| held.clear()).ok();
    }
}

fn self_signed_config() -> Arc<rustls::ServerConfig> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("self-signed certificate");
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .expect("server certificate");
    Arc::new(config)
}

/// Runs the server side of a handshake; a client that rejects the
/// certificate aborts it, and nothing more is read.
fn handshake(mut stream: TcpStream, config: Arc<rustls::ServerConfig>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(mut connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    while connection.is_handshaking() {
        if connection.complete_io(&mut stream).is_err() {
            return;
        }
    }
    let mut tls = rustls::Stream::new(&mut connection, &mut stream);
    let mut buffer = [0u8; 1024];
    let _ = tls.read(&mut buffer);
}
