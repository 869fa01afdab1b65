//! A small, fast HTTP/1.1 server on loopback for the end-to-end benchmark.
//!
//! One thread accepts; each connection gets a thread that serves requests
//! one after another on the same socket (keep-alive). Every request, whatever
//! its method and path, gets the same `200` answer with `Content-Length`
//! and `Connection: keep-alive`. It counts accepted connections and served
//! requests, so a benchmark can tell whether the client reused its
//! connection. It reads only what it needs (request line and headers up to
//! the blank line, then `Content-Length` bytes of body) and allocates nothing
//! per request once a connection is warm.

use std::{
    io::{self, BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
};

/// A running loopback server; it stops accepting when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
}

#[derive(Debug, Default)]
struct Stats {
    connections: AtomicUsize,
    requests: AtomicUsize,
    stopping: AtomicBool,
    /// The CPU new connection threads pin themselves to, plus one (0: none).
    pin: AtomicUsize,
}

impl Server {
    /// Starts a server on `127.0.0.1:0` that answers every request with
    /// `200` and `body` as `application/json`.
    pub fn start(body: &[u8]) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(Stats::default());
        let response: Arc<[u8]> = response_bytes(body).into();
        let accept_stats = Arc::clone(&stats);
        thread::Builder::new()
            .name("bench-server-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept_stats.stopping.load(Ordering::Acquire) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    accept_stats.connections.fetch_add(1, Ordering::Relaxed);
                    let stats = Arc::clone(&accept_stats);
                    let response = Arc::clone(&response);
                    let spawned = thread::Builder::new()
                        .name("bench-server-conn".into())
                        .spawn(move || {
                            if let Some(core) = stats.pin.load(Ordering::Relaxed).checked_sub(1) {
                                crate::pin_current_thread(core);
                            }
                            // A client closing or resetting its socket ends the thread.
                            let _ = serve(stream, &response, &stats);
                        });
                    drop(spawned);
                }
            })?;
        Ok(Self { addr, stats })
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.stats.connections.load(Ordering::Relaxed)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::Relaxed)
    }

    /// Runs the threads of connections accepted from now on on CPU `core`
    /// only (see [`crate::pin_current_thread`]).
    pub fn pin_new_connections(&self, core: usize) {
        self.stats.pin.store(core + 1, Ordering::Relaxed);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stats.stopping.store(true, Ordering::Release);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn response_bytes(body: &[u8]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: keep-alive\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

/// Serves one connection until the client closes it.
fn serve(stream: TcpStream, response: &[u8], stats: &Stats) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    let mut line = Vec::with_capacity(256);
    let mut body = Vec::with_capacity(1024);
    loop {
        // Request line; end of stream here is a clean close.
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let mut content_length = 0usize;
        let mut close = false;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let header = trim_line_end(&line);
            if header.is_empty() {
                break;
            }
            if let Some(value) = header_value(header, b"content-length") {
                content_length = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or(io::ErrorKind::InvalidData)?;
            } else if let Some(value) = header_value(header, b"connection") {
                close = value.eq_ignore_ascii_case(b"close");
            }
        }
        body.resize(content_length, 0);
        reader.read_exact(&mut body)?;
        // Counted before answering, so a client that has its answer sees it.
        stats.requests.fetch_add(1, Ordering::Relaxed);
        writer.write_all(response)?;
        if close {
            return Ok(());
        }
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The value of `header` if its name is `name` (case-insensitive).
fn header_value<'a>(header: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let colon = header.iter().position(|&b| b == b':')?;
    let (key, value) = header.split_at(colon);
    if !key.eq_ignore_ascii_case(name) {
        return None;
    }
    Some(value[1..].trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_several_requests_on_one_connection() {
        let server = Server::start(br#"{"ok":true}"#).unwrap();
        let mut stream = TcpStream::connect(server.url().trim_start_matches("http://")).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        for _ in 0..3 {
            stream
                .write_all(b"POST /v1/x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}")
                .unwrap();
            let mut status = String::new();
            reader.read_line(&mut status).unwrap();
            assert_eq!(status, "HTTP/1.1 200 OK\r\n");
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header == "\r\n" {
                    break;
                }
                if let Some(v) = header.strip_prefix("content-length: ") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            assert_eq!(body, br#"{"ok":true}"#);
        }
        assert_eq!(server.connections(), 1);
        assert_eq!(server.requests(), 3);
    }
}
