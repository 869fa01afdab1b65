//! One connection: read requests, record them, play their steps.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::http::{self, AutoHeaders, Framing};
use super::{RecordedRequest, Shared, Step};

/// Socket read/write timeout: how often blocked I/O re-checks the stop flag.
pub(crate) const POLL: Duration = Duration::from_millis(50);
/// A request must be complete this long after its first byte arrived.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest accepted request head.
const MAX_HEAD: usize = 64 * 1024;
/// Largest accepted request body.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Largest accepted chunk-size or trailer line.
const MAX_LINE: usize = 8 * 1024;
/// How deep `Step::Handler` results may nest.
const MAX_HANDLER_DEPTH: u8 = 8;

/// How a connection ends.
enum End {
    /// Just drop the socket (client went away, I/O error, or stop).
    Drop,
    /// `shutdown(Write)` (FIN), then drop.
    Close,
    /// `SO_LINGER = 0`, then drop (RST).
    Reset,
}

/// What to do after a step was played.
enum After {
    KeepAlive,
    End(End),
}

/// Why reading a request failed.
enum ReadError {
    /// The peer closed, the server is stopping, a timeout hit, or an I/O error occurred.
    Gone,
    /// The request is malformed: answer with this status and close.
    Bad(u16, &'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Gone
    }
}

struct Conn<'a> {
    stream: TcpStream,
    /// Received bytes not yet consumed (pipelined data stays here for the next request).
    buf: Vec<u8>,
    id: u64,
    shared: &'a Arc<Shared>,
}

/// Serves one accepted connection until it ends.
pub(crate) fn serve(stream: TcpStream, id: u64, shared: &Arc<Shared>) {
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
        id,
        shared,
    };
    let end = conn.run();
    match end {
        End::Drop => {}
        End::Close => {
            let _ = conn.stream.shutdown(Shutdown::Write);
        }
        End::Reset => {
            let _ = socket2::SockRef::from(&conn.stream).set_linger(Some(Duration::ZERO));
        }
    }
    // Dropping `conn` closes this descriptor; the registry clone is removed by the caller's
    // guard right after, and the last close is what sends FIN/RST.
}

impl Conn<'_> {
    fn run(&mut self) -> End {
        loop {
            let request = match self.read_request() {
                Ok(Some(request)) => request,
                Ok(None) | Err(ReadError::Gone) => return End::Drop,
                Err(ReadError::Bad(status, why)) => {
                    let head = http::response_head(
                        "HTTP/1.1",
                        status,
                        &[("Content-Type".into(), "text/plain".into())],
                        &AutoHeaders {
                            content_length: Some(why.len()),
                            chunked: false,
                            connection: Some("close"),
                        },
                    );
                    let _ = self.write_all(&[head, why.as_bytes().to_vec()].concat());
                    return End::Close;
                }
            };
            let (request, step) = self.shared.record(request);
            let result = match step {
                Some(step) => self.play(&step, &request, 0),
                None => self.respond_plain(&request, 500, "fault server: empty script"),
            };
            match result {
                Ok(After::KeepAlive) => {}
                Ok(After::End(end)) => return end,
                Err(_) => return End::Drop,
            }
        }
    }

    // ----- reading -------------------------------------------------------------------------

    /// Reads more bytes into `buf`. `deadline: None` waits until data, EOF or stop.
    fn fill(&mut self, deadline: Option<Instant>) -> Result<(), ReadError> {
        let mut tmp = [0u8; 16 * 1024];
        loop {
            if self.shared.is_stopping() || deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(ReadError::Gone);
            }
            match self.stream.read(&mut tmp) {
                Ok(0) => return Err(ReadError::Gone),
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => return Err(ReadError::Gone),
            }
        }
    }

    /// Reads one `\n`-terminated line (without the line ending) for chunked bodies.
    fn read_line(&mut self, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(ReadError::Bad(400, "chunk line too long"));
            }
            self.fill(Some(deadline))?;
        }
    }

    /// Ensures `buf` holds at least `n` bytes.
    fn fill_to(&mut self, n: usize, deadline: Instant) -> Result<(), ReadError> {
        while self.buf.len() < n {
            self.fill(Some(deadline))?;
        }
        Ok(())
    }

    /// Reads the next request. `Ok(None)`: the client closed cleanly between requests.
    fn read_request(&mut self) -> Result<Option<RecordedRequest>, ReadError> {
        let mut deadline = None;
        let head_len = loop {
            // Tolerate empty lines before a request line (RFC 9112 §2.2).
            let skip = self
                .buf
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            self.buf.drain(..skip);
            if !self.buf.is_empty() && deadline.is_none() {
                deadline = Some(Instant::now() + REQUEST_TIMEOUT);
            }
            if let Some(len) = http::find_head_end(&self.buf) {
                break len;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Bad(431, "request head too large"));
            }
            match self.fill(deadline) {
                Ok(()) => {}
                Err(ReadError::Gone) if self.buf.is_empty() => return Ok(None),
                Err(e) => return Err(e),
            }
        };
        let deadline = deadline.unwrap_or_else(|| Instant::now() + REQUEST_TIMEOUT);
        let head =
            http::parse_head(&self.buf[..head_len]).map_err(|why| ReadError::Bad(400, why))?;
        self.buf.drain(..head_len);
        let received_at = Instant::now();
        let framing =
            http::request_framing(&head.headers).map_err(|why| ReadError::Bad(400, why))?;

        let expects_body = framing != Framing::Length(0);
        if expects_body && http::has_token(&head.headers, "expect", "100-continue") {
            self.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let body = match framing {
            Framing::Length(n) => {
                if n > MAX_BODY {
                    return Err(ReadError::Bad(413, "request body too large"));
                }
                self.fill_to(n, deadline)?;
                self.buf.drain(..n).collect()
            }
            Framing::Chunked => self.read_chunked(deadline)?,
        };
        Ok(Some(RecordedRequest {
            index: 0,
            method: head.method,
            path: head.target,
            version: head.version,
            headers: head.headers,
            body,
            connection_id: self.id,
            received_at,
        }))
    }

    fn read_chunked(&mut self, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(deadline)?;
            let size =
                http::parse_chunk_size(&line).ok_or(ReadError::Bad(400, "bad chunk size"))?;
            if size == 0 {
                // Trailer section: lines until an empty one.
                while !self.read_line(deadline)?.is_empty() {}
                return Ok(body);
            }
            if body.len().saturating_add(size) > MAX_BODY {
                return Err(ReadError::Bad(413, "request body too large"));
            }
            self.fill_to(size, deadline)?;
            body.extend(self.buf.drain(..size));
            if !self.read_line(deadline)?.is_empty() {
                return Err(ReadError::Bad(400, "chunk data longer than its size"));
            }
        }
    }

    // ----- writing -------------------------------------------------------------------------

    /// Writes all of `data`, counting bytes; blocked writes re-check the stop flag.
    fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            match self.stream.write(data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.shared
                        .bytes_written
                        .fetch_add(n as u64, Ordering::SeqCst);
                    data = &data[n..];
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    if self.shared.is_stopping() {
                        return Err(e);
                    }
                }
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

    fn respond_plain(
        &mut self,
        request: &RecordedRequest,
        status: u16,
        text: &str,
    ) -> io::Result<After> {
        let step = Step::text(status, text);
        self.play(&step, request, MAX_HANDLER_DEPTH)
    }

    // ----- playing steps -------------------------------------------------------------------

    fn play(&mut self, step: &Step, request: &RecordedRequest, depth: u8) -> io::Result<After> {
        let wants_close = http::client_wants_close(&request.version, &request.headers);
        let auto_connection = Some(if wants_close { "close" } else { "keep-alive" });
        // Whether the connection may stay open after a complete response.
        let after_complete = |headers: &[(String, String)]| {
            if wants_close || http::has_token(headers, "connection", "close") {
                After::End(End::Close)
            } else {
                After::KeepAlive
            }
        };
        let length_head = |status: u16, headers: &[(String, String)], len: usize| {
            http::response_head(
                "HTTP/1.1",
                status,
                headers,
                &AutoHeaders {
                    content_length: Some(len),
                    chunked: false,
                    connection: auto_connection,
                },
            )
        };

        match step {
            Step::Respond {
                status,
                headers,
                body,
            } => {
                self.write_response(request, *status, headers, body, auto_connection)?;
                Ok(after_complete(headers))
            }
            Step::ResetBeforeResponse => Ok(After::End(End::Reset)),
            Step::ResetMidBody {
                status,
                headers,
                declared_len,
                sent,
            } => {
                self.write_all(
                    &[length_head(*status, headers, *declared_len), sent.clone()].concat(),
                )?;
                Ok(After::End(End::Reset))
            }
            Step::StallBeforeHeaders(duration) => {
                let _ = self.sleep(*duration);
                Ok(After::End(End::Close))
            }
            Step::StallMidBody {
                status,
                headers,
                declared_len,
                sent,
                stall,
            } => {
                self.write_all(
                    &[length_head(*status, headers, *declared_len), sent.clone()].concat(),
                )?;
                let _ = self.sleep(*stall);
                Ok(After::End(End::Close))
            }
            Step::DripFeed {
                status,
                headers,
                body,
                interval,
            } => {
                self.write_all(&length_head(*status, headers, body.len()))?;
                for byte in body {
                    self.sleep(*interval)?;
                    self.write_all(std::slice::from_ref(byte))?;
                }
                Ok(after_complete(headers))
            }
            Step::Truncated {
                status,
                headers,
                declared_len,
                body,
            } => {
                self.write_all(
                    &[length_head(*status, headers, *declared_len), body.clone()].concat(),
                )?;
                Ok(After::End(End::Close))
            }
            Step::Chunked {
                status,
                headers,
                chunks,
            } => {
                let mut out = http::response_head(
                    "HTTP/1.1",
                    *status,
                    headers,
                    &AutoHeaders {
                        content_length: None,
                        chunked: true,
                        connection: auto_connection,
                    },
                );
                for chunk in chunks.iter().filter(|c| !c.is_empty()) {
                    out.extend_from_slice(&chunk_frame(chunk));
                }
                out.extend_from_slice(b"0\r\n\r\n");
                self.write_all(&out)?;
                Ok(after_complete(headers))
            }
            Step::Endless {
                status,
                headers,
                chunk,
            } => {
                self.write_all(&http::response_head(
                    "HTTP/1.1",
                    *status,
                    headers,
                    &AutoHeaders {
                        content_length: None,
                        chunked: true,
                        connection: auto_connection,
                    },
                ))?;
                let frame = if chunk.is_empty() {
                    chunk_frame(&vec![b'a'; super::DEFAULT_ENDLESS_CHUNK])
                } else {
                    chunk_frame(chunk)
                };
                // Ends only by a write error (client gone) or stop (write_all returns Err).
                loop {
                    self.write_all(&frame)?;
                }
            }
            Step::Redirect { status, location } => {
                let headers = [("Location".to_owned(), location.clone())];
                self.write_response(request, *status, &headers, &[], auto_connection)?;
                Ok(after_complete(&headers))
            }
            Step::RespondThenClose {
                status,
                headers,
                body,
                close_after,
                reset,
            } => {
                self.write_response(request, *status, headers, body, auto_connection)?;
                let _ = self.sleep(*close_after);
                Ok(After::End(if *reset { End::Reset } else { End::Close }))
            }
            Step::Http10CloseDelimited {
                status,
                headers,
                body,
            } => {
                let head =
                    http::response_head("HTTP/1.0", *status, headers, &AutoHeaders::default());
                self.write_all(&[head, body.clone()].concat())?;
                Ok(After::End(End::Close))
            }
            Step::Raw { bytes, close } => {
                self.write_all(bytes)?;
                Ok(if *close {
                    After::End(End::Close)
                } else {
                    After::KeepAlive
                })
            }
            Step::Delayed { delay, then } => {
                self.sleep(*delay)?;
                self.play(then, request, depth)
            }
            Step::Handler(handler) => {
                if depth >= MAX_HANDLER_DEPTH {
                    return self.respond_plain(
                        request,
                        500,
                        "fault server: handler steps nested too deep",
                    );
                }
                match catch_unwind(AssertUnwindSafe(|| handler.call(request))) {
                    Ok(next) => self.play(&next, request, depth + 1),
                    Err(_) => self.respond_plain(request, 500, "fault server: handler panicked"),
                }
            }
        }
    }

    /// Head with automatic `Content-Length` (none for 1xx/204/304) plus body (none for `HEAD`).
    fn write_response(
        &mut self,
        request: &RecordedRequest,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
        connection: Option<&'static str>,
    ) -> io::Result<()> {
        let bodiless_status = (100..200).contains(&status) || status == 204 || status == 304;
        let content_length = if bodiless_status && body.is_empty() {
            None
        } else {
            Some(body.len())
        };
        let mut out = http::response_head(
            "HTTP/1.1",
            status,
            headers,
            &AutoHeaders {
                content_length,
                chunked: false,
                connection,
            },
        );
        if !request.method.eq_ignore_ascii_case("HEAD") {
            out.extend_from_slice(body);
        }
        self.write_all(&out)
    }
}

/// Frames `data` as one chunk: `<hex len>\r\n<data>\r\n`.
fn chunk_frame(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}
