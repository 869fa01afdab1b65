//! One connection: read requests (parsed by `httparse`), record them, play their steps.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::step::{Action, Reply};
use super::{Mode, RecordedRequest, Shared, Step};

/// Socket read/write timeout: how often blocked I/O re-checks the stop flag.
pub(crate) const POLL: Duration = Duration::from_millis(50);
/// Largest accepted request head.
const MAX_HEAD: usize = 64 * 1024;
/// Largest accepted request body.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// How a connection goes on after a step.
enum After {
    KeepAlive,
    /// Graceful close (FIN).
    Close,
    /// `SO_LINGER = 0`, then close (RST).
    Reset,
    /// Just drop the socket (client went away, I/O error, or stop).
    Drop,
}

/// Why reading a request failed.
enum ReadError {
    /// The peer closed, the server is stopping, or an I/O error occurred.
    Gone,
    /// The request is malformed: answer with this status and close.
    Bad(u16, &'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Gone
    }
}

/// How a response body is delimited.
enum Framing {
    Length(usize),
    Chunked,
    /// No framing header: a bodiless status.
    None,
}

/// The connection's byte stream: the socket itself, or TLS over it.
enum Io {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Io {
    fn tcp(&self) -> &TcpStream {
        match self {
            Io::Plain(tcp) => tcp,
            Io::Tls(tls) => &tls.sock,
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Io::Plain(tcp) => tcp.read(buf),
            Io::Tls(tls) => tls.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Io::Plain(tcp) => tcp.write(buf),
            // Flush each write so a step's pacing reaches the wire as played.
            Io::Tls(tls) => tls.write(buf).and_then(|n| tls.flush().map(|()| n)),
        }
    }
}

struct Conn<'a> {
    stream: Io,
    /// Received bytes not yet consumed (pipelined data stays here for the next request).
    buf: Vec<u8>,
    id: u64,
    shared: &'a Shared,
}

/// Serves one accepted connection until it ends.
pub(crate) fn serve(stream: TcpStream, id: u64, shared: &Shared) {
    let stream = match &shared.mode {
        Mode::Http => Io::Plain(stream),
        Mode::Tls(config, _) => match rustls::ServerConnection::new(Arc::clone(config)) {
            Ok(tls) => Io::Tls(Box::new(rustls::StreamOwned::new(tls, stream))),
            Err(_) => return,
        },
        Mode::Silent => {
            // Hold the socket, reading and writing nothing, until the server stops.
            shared.sleep(Duration::MAX);
            return;
        }
    };
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
        id,
        shared,
    };
    match conn.run() {
        After::Close => drop(conn.stream.tcp().shutdown(Shutdown::Write)),
        After::Reset => {
            drop(socket2::SockRef::from(conn.stream.tcp()).set_linger(Some(Duration::ZERO)));
        }
        After::KeepAlive | After::Drop => {}
    }
    // The last close of the socket (this one or the registry's clone) sends FIN or RST.
}

/// True if a comma-separated token of a `name` header equals `token` (case-insensitive).
fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Status line, the caller's headers verbatim, the automatic ones they leave out, blank line.
fn response_head(
    status: u16,
    headers: &[(String, String)],
    framing: Framing,
    connection: &str,
) -> Vec<u8> {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if !has("content-length") && !has("transfer-encoding") {
        match framing {
            Framing::Length(n) => out.push_str(&format!("Content-Length: {n}\r\n")),
            Framing::Chunked => out.push_str("Transfer-Encoding: chunked\r\n"),
            Framing::None => {}
        }
    }
    if !has("connection") {
        out.push_str(&format!("Connection: {connection}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

impl Conn<'_> {
    fn run(&mut self) -> After {
        loop {
            let request = match self.read_request() {
                Ok(Some(request)) => request,
                Ok(None) | Err(ReadError::Gone) => return After::Drop,
                Err(ReadError::Bad(status, why)) => {
                    let headers = [("Content-Type".to_owned(), "text/plain".to_owned())];
                    let length = Framing::Length(why.len());
                    let head = response_head(status, &headers, length, "close");
                    let _ = self.write_all(&[&head, why.as_bytes()].concat());
                    return After::Close;
                }
            };
            let (request, step) = self.shared.record(request);
            let step =
                step.unwrap_or_else(|| Arc::new(Step::text(500, "fault server: empty script")));
            match self.play(&step, &request) {
                Ok(After::KeepAlive) => {}
                Ok(end) => return end,
                Err(_) => return After::Drop,
            }
        }
    }

    /// Reads more bytes into `buf`, waiting until data, EOF or stop.
    fn fill(&mut self) -> Result<(), ReadError> {
        let mut tmp = [0u8; 16 * 1024];
        loop {
            if self.shared.is_stopping() {
                return Err(ReadError::Gone);
            }
            match self.stream.read(&mut tmp) {
                Ok(0) => return Err(ReadError::Gone),
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(());
                }
                Err(e) if is_poll_timeout(&e) => {}
                Err(_) => return Err(ReadError::Gone),
            }
        }
    }

    /// Reads the next request. `Ok(None)`: the client closed cleanly between requests.
    fn read_request(&mut self) -> Result<Option<RecordedRequest>, ReadError> {
        let (head_len, mut request) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Request::new(&mut headers);
            match parsed.parse(&self.buf) {
                Ok(httparse::Status::Complete(len)) => break (len, self.recorded(&parsed)),
                Ok(httparse::Status::Partial) if self.buf.len() > MAX_HEAD => {
                    return Err(ReadError::Bad(431, "request head too large"));
                }
                Ok(httparse::Status::Partial) => {}
                Err(_) => return Err(ReadError::Bad(400, "malformed request head")),
            }
            match self.fill() {
                Err(ReadError::Gone) if self.buf.iter().all(|b| b"\r\n".contains(b)) => {
                    return Ok(None);
                }
                other => other?,
            }
        };
        self.buf.drain(..head_len);
        if request.header("transfer-encoding").is_some() {
            return Err(ReadError::Bad(
                400,
                "chunked request bodies are not supported",
            ));
        }
        let mut length = 0;
        if let Some(value) = request.header("content-length") {
            length = value
                .parse()
                .map_err(|_| ReadError::Bad(400, "bad content-length"))?;
        }
        if length > MAX_BODY {
            return Err(ReadError::Bad(413, "request body too large"));
        }
        while self.buf.len() < length {
            self.fill()?;
        }
        request.body = self.buf.drain(..length).collect();
        Ok(Some(request))
    }

    /// The recorded form of a parsed head (body still empty).
    fn recorded(&self, parsed: &httparse::Request<'_, '_>) -> RecordedRequest {
        let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        RecordedRequest {
            index: 0,
            method: parsed.method.unwrap_or_default().to_owned(),
            path: parsed.path.unwrap_or_default().to_owned(),
            version: format!("HTTP/1.{}", parsed.version.unwrap_or(1)),
            headers: (parsed.headers.iter())
                .map(|h| (h.name.to_owned(), lossy(h.value)))
                .collect(),
            body: Vec::new(),
            connection_id: self.id,
            received_at: Instant::now(),
        }
    }

    /// Writes all of `data`, counting bytes; blocked writes re-check the stop flag.
    fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            match self.stream.write(data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    (self.shared.bytes_written).fetch_add(n as u64, Ordering::SeqCst);
                    data = &data[n..];
                }
                Err(e) if is_poll_timeout(&e) && !self.shared.is_stopping() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Sleeps `d`; `Err` if the server stopped meanwhile.
    fn sleep(&self, d: Duration) -> io::Result<()> {
        if self.shared.sleep(d) {
            Ok(())
        } else {
            Err(io::Error::other("fault server stopping"))
        }
    }

    fn play(&mut self, step: &Step, request: &RecordedRequest) -> io::Result<After> {
        let wants_close = has_token(&request.headers, "connection", "close")
            || (request.version == "HTTP/1.0"
                && !has_token(&request.headers, "connection", "keep-alive"));
        let connection = if wants_close { "close" } else { "keep-alive" };
        // After a complete response: keep-alive unless either side asked for a close.
        let complete = |headers: &[(String, String)]| {
            if wants_close || has_token(headers, "connection", "close") {
                After::Close
            } else {
                After::KeepAlive
            }
        };
        let ending = |reset: bool| if reset { After::Reset } else { After::Close };
        match &step.0 {
            Action::Silent { wait, reset } => {
                let _ = self.sleep(*wait);
                Ok(ending(*reset))
            }
            Action::Reply(reply) => {
                let Reply {
                    status, headers, ..
                } = reply;
                let bodiless = (100..200).contains(status) || [204, 304].contains(status);
                let framing = match reply.declared_len {
                    Some(n) => Framing::Length(n),
                    None if bodiless && reply.body.is_empty() => Framing::None,
                    None => Framing::Length(reply.body.len()),
                };
                let head = response_head(*status, headers, framing, connection);
                if reply.drip.is_zero() {
                    self.write_all(&[head, reply.body.clone()].concat())?;
                } else {
                    self.write_all(&head)?;
                    for byte in &reply.body {
                        self.sleep(reply.drip)?;
                        self.write_all(std::slice::from_ref(byte))?;
                    }
                }
                let Some((wait, reset)) = reply.then_close else {
                    return Ok(complete(headers));
                };
                let _ = self.sleep(wait);
                Ok(ending(reset))
            }
            Action::Chunked {
                status,
                headers,
                chunks,
                forever,
            } => {
                let mut frames = Vec::new();
                for chunk in chunks.iter().filter(|c| !c.is_empty()) {
                    frames.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    frames.extend_from_slice(chunk);
                    frames.extend_from_slice(b"\r\n");
                }
                let head = response_head(*status, headers, Framing::Chunked, connection);
                if *forever {
                    // Ends only by a write error: the client went away or the server stops.
                    self.write_all(&head)?;
                    loop {
                        self.write_all(&frames)?;
                    }
                }
                self.write_all(&[&head[..], &frames, b"0\r\n\r\n"].concat())?;
                Ok(complete(headers))
            }
            Action::Raw { bytes, close } => {
                self.write_all(bytes)?;
                Ok(if *close {
                    After::Close
                } else {
                    After::KeepAlive
                })
            }
            Action::Handler(handler) => {
                let next = match catch_unwind(AssertUnwindSafe(|| (handler.0)(request))) {
                    Ok(Step(Action::Handler(_))) => {
                        Step::text(500, "fault server: a handler returned a handler step")
                    }
                    Ok(next) => next,
                    Err(_) => Step::text(500, "fault server: handler panicked"),
                };
                self.play(&next, request)
            }
        }
    }
}

/// Whether `e` is the socket timeout that lets blocked I/O re-check the stop flag.
fn is_poll_timeout(e: &io::Error) -> bool {
    use io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
    matches!(e.kind(), WouldBlock | TimedOut | Interrupted)
}
