//! A scripted, misbehaving HTTP/1.1 server for adapter fault-injection tests.
//!
//! [`FaultServer::start`] binds `127.0.0.1:0` (blocking `std::net`, one thread per
//! connection) and plays a script of [`Step`]s:
//!
//! * every received **request** (not connection) consumes the next step, in order, whatever
//!   connection it arrives on — two requests on one keep-alive connection take two steps;
//! * once the script is exhausted **the last step repeats forever**; an empty script answers
//!   every request with `500` and a `text/plain` note;
//! * every request is recorded ([`RecordedRequest`]) *before* its step is played, so a request
//!   answered by a reset or a stall is still counted.
//!
//! ```no_run
//! use std::time::Duration;
//! use authsignal_tests::fault_server::{FaultServer, Step};
//!
//! let server = FaultServer::start(vec![
//!     Step::status(503).header("Retry-After", "1"),
//!     Step::reset(),
//!     Step::json(200, r#"{"isEnrolled":false}"#),
//! ]);
//! let base_url = server.url(); // "http://127.0.0.1:PORT"
//! // ... drive the client against base_url ...
//! assert_eq!(server.request_count(), 3);
//! assert!(server.wait_for_requests(3, Duration::from_secs(1)));
//! ```
//!
//! Requests are parsed with `httparse`; the body is read by `Content-Length` (a chunked
//! request body is refused). A malformed request gets `400` (oversized head: `431`, body over
//! 64 MiB: `413`) and the connection is closed; it is not recorded and consumes no step. Idle
//! keep-alive connections are kept until the client closes them or the server is dropped.
//!
//! [`FaultServer::start_tls`] plays the same script over TLS with a freshly generated
//! self-signed certificate (which no default trust store accepts), and
//! [`FaultServer::silent`] accepts connections but never reads or writes a byte (a stalled
//! TLS handshake). A plain server answers a TLS ClientHello with `400` at once, since it
//! cannot start a request line.
//!
//! Dropping the server stops it: the accept loop is woken, every open connection is shut
//! down, every sleep is interrupted, and the threads are joined with a 2 s overall bound
//! (stragglers are detached), so dropping never hangs the test process.

mod conn;
mod step;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use std::{collections::HashMap, thread};

pub use step::{Step, json_string};

/// How long `Drop` waits in total for the server's threads before detaching them.
const DROP_JOIN_BUDGET: Duration = Duration::from_secs(2);

/// One request as received by the server.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// 0-based position in the order requests were received; this is also the index of the
    /// script step it consumed (clamped to the last step once the script is exhausted).
    pub index: usize,
    /// Request method as sent (`GET`, `POST`, ...).
    pub method: String,
    /// Request target as sent: path including the query string (`/v1/users/a%2Fb?x=1`).
    pub path: String,
    /// Protocol version from the request line (`HTTP/1.1`).
    pub version: String,
    /// Header fields in received order, repeats kept, names as sent (use
    /// [`RecordedRequest::header`] for case-insensitive lookup). Values are UTF-8 (lossy).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// 0-based id of the TCP connection the request arrived on (order of `accept`).
    pub connection_id: u64,
    /// When the complete request head had been received.
    pub received_at: Instant,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }

    /// The path without the query string.
    pub fn path_only(&self) -> &str {
        self.path
            .split_once('?')
            .map_or(self.path.as_str(), |(p, _)| p)
    }

    /// The query string (without `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.path.split_once('?').map(|(_, q)| q)
    }

    /// The body as UTF-8 text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Script and recordings, under one lock so `index` and step order always agree.
#[derive(Debug)]
struct State {
    steps: Vec<Arc<Step>>,
    requests: Vec<RecordedRequest>,
}

/// What the server does with each accepted connection.
#[derive(Debug)]
enum Mode {
    /// Plain HTTP/1.1.
    Http,
    /// HTTP/1.1 inside TLS with this server configuration and its certificate.
    Tls(Arc<rustls::ServerConfig>, CertificateDer<'static>),
    /// Holds the connection open without reading or writing.
    Silent,
}

/// State shared by the accept loop, connection threads and the [`FaultServer`] handle.
#[derive(Debug)]
struct Shared {
    mode: Mode,
    state: Mutex<State>,
    stopping: AtomicBool,
    stop_lock: Mutex<()>,
    stop_cv: Condvar,
    connections: AtomicU64,
    bytes_written: AtomicU64,
    /// Clones of open connections' sockets, so `Drop` can shut them down.
    live: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Locks `m`, recovering the data if another thread panicked while holding it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Sleeps for `d` unless the server stops first. Returns `true` if the full duration
    /// elapsed, `false` if interrupted by stop.
    fn sleep(&self, d: Duration) -> bool {
        let guard = lock(&self.stop_lock);
        let waited = self
            .stop_cv
            .wait_timeout_while(guard, d, |_| !self.is_stopping());
        let (_guard, result) = waited.unwrap_or_else(PoisonError::into_inner);
        result.timed_out()
    }

    fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        drop(lock(&self.stop_lock));
        self.stop_cv.notify_all();
    }

    /// Records `request` and returns it (with `index` set) and the step it consumes.
    fn record(&self, mut request: RecordedRequest) -> (RecordedRequest, Option<Arc<Step>>) {
        let mut state = lock(&self.state);
        request.index = state.requests.len();
        let step = match state.steps.len() {
            0 => None,
            n => Some(Arc::clone(&state.steps[request.index.min(n - 1)])),
        };
        state.requests.push(request.clone());
        (request, step)
    }
}

/// A running scripted fault server; stopped when dropped. See the [module docs](self).
#[derive(Debug)]
pub struct FaultServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Starts a server on `127.0.0.1:0` playing `script` (see the [module docs](self) for the
    /// ordering and repeat-last rules).
    ///
    /// # Panics
    ///
    /// If the listener cannot be bound or the accept thread cannot be spawned.
    pub fn start(script: impl IntoIterator<Item = Step>) -> FaultServer {
        Self::start_mode(Mode::Http, script)
    }

    /// Like [`FaultServer::start`], over TLS with a self-signed certificate for `localhost`
    /// and `127.0.0.1`: a client with default trust rejects the handshake; one that trusts
    /// [`FaultServer::certificate`] completes it. Use [`FaultServer::https_url`].
    ///
    /// # Panics
    ///
    /// As [`FaultServer::start`], or if the certificate cannot be generated.
    pub fn start_tls(script: impl IntoIterator<Item = Step>) -> FaultServer {
        let (config, certificate) = self_signed_config();
        Self::start_mode(Mode::Tls(config, certificate), script)
    }

    /// A server that accepts connections and never reads or writes on them: a client's
    /// TLS handshake (or wait for a response) stalls until it gives up.
    ///
    /// # Panics
    ///
    /// As [`FaultServer::start`].
    pub fn silent() -> FaultServer {
        Self::start_mode(Mode::Silent, [])
    }

    fn start_mode(mode: Mode, script: impl IntoIterator<Item = Step>) -> FaultServer {
        let failed = "fault server: failed to start";
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect(failed);
        let addr = listener.local_addr().expect(failed);
        let shared = Arc::new(Shared {
            mode,
            state: Mutex::new(State {
                steps: script.into_iter().map(Arc::new).collect(),
                requests: Vec::new(),
            }),
            stopping: AtomicBool::new(false),
            stop_lock: Mutex::new(()),
            stop_cv: Condvar::new(),
            connections: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("fault-server-accept-{}", addr.port()))
            .spawn(move || accept_loop(&listener, &accept_shared))
            .expect(failed);
        FaultServer {
            addr,
            shared,
            accept_thread: Some(accept_thread),
        }
    }

    /// Base URL without a trailing slash: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Base URL for the TLS and silent modes: `https://127.0.0.1:PORT`.
    pub fn https_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The self-signed certificate of a [`FaultServer::start_tls`] server (trust it as a
    /// root to complete the handshake); `None` for the other modes.
    pub fn certificate(&self) -> Option<CertificateDer<'static>> {
        match &self.shared.mode {
            Mode::Tls(_, certificate) => Some(certificate.clone()),
            Mode::Http | Mode::Silent => None,
        }
    }

    /// The bound socket address (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A snapshot of every request received so far, in receive order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.state).requests.clone()
    }

    /// Number of requests received so far (= steps consumed).
    pub fn request_count(&self) -> usize {
        lock(&self.shared.state).requests.len()
    }

    /// Number of TCP connections accepted so far (including ones that sent no request).
    pub fn connection_count(&self) -> usize {
        usize::try_from(self.shared.connections.load(Ordering::SeqCst)).unwrap_or(usize::MAX)
    }

    /// Number of connections currently open on the server side.
    pub fn active_connections(&self) -> usize {
        lock(&self.shared.live).len()
    }

    /// Total bytes accepted by the kernel on all connections so far (heads, bodies and chunk
    /// framing of every step), e.g. to bound how much of a [`Step::endless`] body a client
    /// consumed. Note that the kernel's socket buffers hold some of these bytes.
    pub fn bytes_written_total(&self) -> u64 {
        self.shared.bytes_written.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` requests were received or `timeout` elapsed; returns whether
    /// the count was reached.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.request_count() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        let deadline = Instant::now() + DROP_JOIN_BUDGET;
        self.shared.stop();
        // Wake the blocking accept(); the accept loop sees the stop flag and exits.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500));
        if let Some(handle) = self.accept_thread.take() {
            join_until(handle, deadline);
        }
        // Unblock connection threads stuck in read/write, then join them.
        for stream in lock(&self.shared.live).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let threads = std::mem::take(&mut *lock(&self.shared.threads));
        for handle in threads {
            join_until(handle, deadline);
        }
    }
}

/// A server configuration with a freshly generated self-signed certificate.
fn self_signed_config() -> (Arc<rustls::ServerConfig>, CertificateDer<'static>) {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names).expect("self-signed certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server certificate");
    (Arc::new(config), certified.cert.der().clone())
}

/// Joins `handle` if it finishes before `deadline`; otherwise detaches it.
fn join_until(handle: JoinHandle<()>, deadline: Instant) {
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            return;
        }
        thread::sleep(Duration::from_millis(1));
    }
    let _ = handle.join();
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    loop {
        let accepted = listener.accept();
        if shared.is_stopping() {
            return;
        }
        match accepted {
            Ok((stream, _)) => spawn_connection(stream, shared),
            // EMFILE and friends: back off briefly instead of spinning.
            Err(_) => {
                if !shared.sleep(Duration::from_millis(10)) {
                    return;
                }
            }
        }
    }
}

fn spawn_connection(stream: TcpStream, shared: &Arc<Shared>) {
    let id = shared.connections.fetch_add(1, Ordering::SeqCst);
    let _ = stream.set_nodelay(true);
    if stream.set_read_timeout(Some(conn::POLL)).is_err()
        || stream.set_write_timeout(Some(conn::POLL)).is_err()
    {
        return;
    }
    if let Ok(clone) = stream.try_clone() {
        lock(&shared.live).insert(id, clone);
    }
    let conn_shared = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name(format!("fault-server-conn-{id}"))
        .spawn(move || {
            conn::serve(stream, id, &conn_shared);
            lock(&conn_shared.live).remove(&id);
        });
    match spawned {
        Ok(handle) => {
            let mut threads = lock(&shared.threads);
            threads.retain(|h| !h.is_finished());
            threads.push(handle);
        }
        // The closure (with the stream) is gone; dropping the clone closes the connection.
        Err(_) => drop(lock(&shared.live).remove(&id)),
    }
}
