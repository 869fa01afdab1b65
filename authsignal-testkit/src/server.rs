//! The fake on a socket: hyper's HTTP/1 server on a tokio runtime, each
//! request handed to the pure fake.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::fake::{Fake, MAX_BODY_BYTES, Served};

/// Why a connection is closed without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Serves `listener` until `shutdown` completes. With `log`, writes one
/// line per request to stderr: method, path, status and milliseconds (never
/// a query, header or body, which can hold secrets).
pub(crate) async fn serve(
    fake: Arc<Fake>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    log: bool,
) {
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: try the next one.
                Err(_) => continue,
            },
        };
        let fake = Arc::clone(&fake);
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&fake), request, log));
            // A client that goes away mid-request is not the fake's problem.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    fake: Arc<Fake>,
    request: Request<Incoming>,
    log: bool,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    // One byte over the limit is enough for the fake to refuse the body.
    let body = match Limited::new(body, MAX_BODY_BYTES + 1).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => vec![0; MAX_BODY_BYTES + 1],
    };
    let served = fake.serve(Request::from_parts(parts, body));
    let response = match served {
        Served::Respond { response, delay } => {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            response
        }
        Served::Drop => {
            if log {
                eprintln!(
                    "{method} {path} dropped {}ms",
                    started.elapsed().as_millis()
                );
            }
            return Err(Dropped);
        }
    };
    if log {
        eprintln!(
            "{method} {path} {} {}ms",
            response.status().as_u16(),
            started.elapsed().as_millis()
        );
    }
    Ok(response.map(|body| Full::new(Bytes::from(body))))
}

/// A server on a background thread with its own runtime; stops on drop.
#[derive(Debug)]
pub(crate) struct Background {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    pub(crate) fn start(fake: Arc<Fake>) -> io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("authsignal-fake".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    // `from_std` needs the runtime, hence inside `block_on`.
                    if let Ok(listener) = TcpListener::from_std(listener) {
                        let shutdown = async {
                            let _ = stopped.await;
                        };
                        serve(fake, listener, shutdown, false).await;
                    }
                });
            })?;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Dropping the runtime at the end of the thread closes every
            // connection still open.
            let _ = thread.join();
        }
    }
}
