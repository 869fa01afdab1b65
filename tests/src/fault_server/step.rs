//! The scripted actions ([`Step`]) a [`FaultServer`](super::FaultServer) plays.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::RecordedRequest;

/// Default size of one chunk written by [`Step::endless`]: 16 KiB.
pub const DEFAULT_ENDLESS_CHUNK: usize = 16 * 1024;

/// A callback that chooses the [`Step`] to play for a request, given the recorded request.
///
/// Wraps an `Arc<dyn Fn(&RecordedRequest) -> Step + Send + Sync>` so that [`Step`] can be
/// `Clone` and `Debug`. Build one with [`Step::handler`] or [`Handler::new`].
#[derive(Clone)]
pub struct Handler(pub Arc<dyn Fn(&RecordedRequest) -> Step + Send + Sync>);

impl Handler {
    /// Wraps a closure.
    pub fn new(f: impl Fn(&RecordedRequest) -> Step + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Calls the closure.
    pub fn call(&self, request: &RecordedRequest) -> Step {
        (self.0)(request)
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handler(..)")
    }
}

/// One scripted action, consumed by exactly one received request.
///
/// "Response-bearing" steps write an HTTP/1.1 status line with the standard reason phrase,
/// the caller's `headers` verbatim (in order), and some automatic headers:
///
/// * `Content-Length` (where the variant says so) — **omitted when the caller's headers already
///   contain `Content-Length` or `Transfer-Encoding`** (any case), so a test can lie about
///   framing by setting the header itself;
/// * `Connection: keep-alive` — omitted when the caller's headers contain `Connection`. If the
///   request asked for `Connection: close` (or was HTTP/1.0 without keep-alive), the automatic
///   value is `close` and the server closes the connection after the response.
///
/// "Close" below means a graceful close: `shutdown(Write)` (FIN) then dropping the socket.
/// "Reset" means `SO_LINGER = 0` then dropping the socket, which makes the kernel send RST.
#[derive(Debug, Clone)]
pub enum Step {
    /// A complete, well-formed response. Adds `Content-Length: body.len()` (except for 1xx, 204
    /// and 304 responses) and `Connection: keep-alive` per the rules above; the connection stays
    /// open for further requests unless a `Connection: close` was sent or requested. For a
    /// `HEAD` request the body is not written.
    Respond {
        /// Status code.
        status: u16,
        /// Extra headers, written verbatim.
        headers: Vec<(String, String)>,
        /// Body bytes.
        body: Vec<u8>,
    },
    /// Reads the full request, then resets the connection without writing a single byte.
    ResetBeforeResponse,
    /// Writes the status line and headers with `Content-Length: declared_len`, then the bytes
    /// of `sent` (possibly none: "reset after headers"), then resets the connection.
    ResetMidBody {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Value of the automatic `Content-Length` header.
        declared_len: usize,
        /// Body bytes written before the reset.
        sent: Vec<u8>,
    },
    /// Reads the full request, writes nothing for the given duration, then closes (FIN).
    /// With [`Duration::ZERO`] this is "close without response" ([`Step::close`]); a very long
    /// duration ([`Step::hang`]) lasts until the server is dropped.
    StallBeforeHeaders(Duration),
    /// Writes the head with `Content-Length: declared_len` and the bytes of `sent`, then writes
    /// nothing for `stall`, then closes (FIN).
    StallMidBody {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Value of the automatic `Content-Length` header.
        declared_len: usize,
        /// Body bytes written before the stall.
        sent: Vec<u8>,
        /// How long to stay silent before closing.
        stall: Duration,
    },
    /// Writes the head with `Content-Length: body.len()` at once, then the body one byte at a
    /// time, waiting `interval` before each byte. If the whole body gets written the connection
    /// stays usable (keep-alive); a write error ends the connection.
    DripFeed {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body bytes, dripped one per interval.
        body: Vec<u8>,
        /// Pause before each byte.
        interval: Duration,
    },
    /// Writes the head with `Content-Length: declared_len` and all of `body` (meant to be
    /// shorter than `declared_len`), then closes (FIN).
    Truncated {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Value of the automatic `Content-Length` header.
        declared_len: usize,
        /// Body bytes actually written.
        body: Vec<u8>,
    },
    /// A well-formed `Transfer-Encoding: chunked` response: one chunk per element of `chunks`
    /// (empty elements are skipped, since an empty chunk would end the body), then the
    /// terminating `0` chunk. The connection stays open (keep-alive).
    Chunked {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The chunks, in order.
        chunks: Vec<Vec<u8>>,
    },
    /// A `Transfer-Encoding: chunked` response that never ends: writes `chunk` (framed as a
    /// chunk) over and over until a write fails (the client went away) or the server is
    /// dropped. An empty `chunk` is replaced by [`DEFAULT_ENDLESS_CHUNK`] bytes of `b'a'`.
    /// Bytes written are counted in [`FaultServer::bytes_written_total`](super::FaultServer::bytes_written_total).
    Endless {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The chunk payload repeated forever.
        chunk: Vec<u8>,
    },
    /// A redirect: status (301, 302, 307, 308, ...) with `Location: location` and an empty body
    /// (`Content-Length: 0`); keep-alive.
    Redirect {
        /// Status code.
        status: u16,
        /// Value of the `Location` header.
        location: String,
    },
    /// Writes a complete response exactly like [`Step::Respond`] (advertising keep-alive), then
    /// waits `close_after` **without reading**, then closes the connection silently: FIN, or
    /// RST when `reset` is true. A request the client sends during the wait is neither read
    /// nor recorded (and, being unread, makes the kernel turn even the FIN variant into RST).
    RespondThenClose {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body bytes.
        body: Vec<u8>,
        /// Delay between the end of the response and the close.
        close_after: Duration,
        /// Reset (RST) instead of a graceful close (FIN).
        reset: bool,
    },
    /// An `HTTP/1.0` response with no automatic headers at all (no `Content-Length`, no
    /// `Connection`): status line, the caller's headers, the body, then close (FIN) — the
    /// close delimits the body.
    Http10CloseDelimited {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body bytes.
        body: Vec<u8>,
    },
    /// Writes `bytes` verbatim (no status line or headers are added), then closes (FIN) if
    /// `close` is true, else keeps the connection open for the next request. For malformed
    /// responses.
    Raw {
        /// Bytes written as-is.
        bytes: Vec<u8>,
        /// Close (FIN) after writing.
        close: bool,
    },
    /// Waits `delay` after the request was read, then plays `then`.
    Delayed {
        /// Pause before playing `then`.
        delay: Duration,
        /// The step played after the pause.
        then: Box<Step>,
    },
    /// Asks the handler which step to play for this request (the request is already recorded
    /// when the handler runs). A handler may return another `Handler` step (followed up to 8
    /// levels deep). If the handler panics, or nests too deep, the server answers `500` with a
    /// `text/plain` explanation.
    Handler(Handler),
}

impl Step {
    /// `status` with a JSON body and `Content-Type: application/json`.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Respond {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    /// `status` with an empty body.
    pub fn status(status: u16) -> Self {
        Self::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `status` with the given body and no `Content-Type`.
    pub fn body(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Respond {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// `status` with a `text/plain; charset=utf-8` body.
    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Respond {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.into(),
        }
    }

    /// `status` with a `text/html` body (e.g. a proxy error page).
    pub fn html(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Respond {
            status,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: body.into(),
        }
    }

    /// See [`Step::ResetBeforeResponse`].
    pub fn reset() -> Self {
        Self::ResetBeforeResponse
    }

    /// Head with `Content-Length: declared_len`, no body byte, then RST
    /// ([`Step::ResetMidBody`] with empty `sent`).
    pub fn reset_after_headers(status: u16, declared_len: usize) -> Self {
        Self::reset_mid_body(status, declared_len, Vec::new())
    }

    /// See [`Step::ResetMidBody`].
    pub fn reset_mid_body(status: u16, declared_len: usize, sent: impl Into<Vec<u8>>) -> Self {
        Self::ResetMidBody {
            status,
            headers: Vec::new(),
            declared_len,
            sent: sent.into(),
        }
    }

    /// See [`Step::StallBeforeHeaders`].
    pub fn stall(duration: Duration) -> Self {
        Self::StallBeforeHeaders(duration)
    }

    /// Reads the request and closes (FIN) without writing anything (an "empty reply").
    pub fn close() -> Self {
        Self::StallBeforeHeaders(Duration::ZERO)
    }

    /// Reads the request and never answers; the connection is only closed when the server is
    /// dropped (technically a one-hour [`Step::StallBeforeHeaders`]).
    pub fn hang() -> Self {
        Self::StallBeforeHeaders(Duration::from_secs(3600))
    }

    /// See [`Step::StallMidBody`].
    pub fn stall_mid_body(
        status: u16,
        declared_len: usize,
        sent: impl Into<Vec<u8>>,
        stall: Duration,
    ) -> Self {
        Self::StallMidBody {
            status,
            headers: Vec::new(),
            declared_len,
            sent: sent.into(),
            stall,
        }
    }

    /// See [`Step::DripFeed`].
    pub fn drip_feed(status: u16, body: impl Into<Vec<u8>>, interval: Duration) -> Self {
        Self::DripFeed {
            status,
            headers: Vec::new(),
            body: body.into(),
            interval,
        }
    }

    /// See [`Step::Truncated`].
    pub fn truncated(status: u16, declared_len: usize, body: impl Into<Vec<u8>>) -> Self {
        Self::Truncated {
            status,
            headers: Vec::new(),
            declared_len,
            body: body.into(),
        }
    }

    /// See [`Step::Chunked`].
    pub fn chunked<C: Into<Vec<u8>>>(status: u16, chunks: impl IntoIterator<Item = C>) -> Self {
        Self::Chunked {
            status,
            headers: Vec::new(),
            chunks: chunks.into_iter().map(Into::into).collect(),
        }
    }

    /// An [`Step::Endless`] stream of [`DEFAULT_ENDLESS_CHUNK`]-byte chunks of `b'a'`.
    pub fn endless(status: u16) -> Self {
        Self::Endless {
            status,
            headers: Vec::new(),
            chunk: vec![b'a'; DEFAULT_ENDLESS_CHUNK],
        }
    }

    /// See [`Step::Redirect`].
    pub fn redirect(status: u16, location: impl Into<String>) -> Self {
        Self::Redirect {
            status,
            location: location.into(),
        }
    }

    /// [`Step::RespondThenClose`] with a graceful close (FIN).
    pub fn respond_then_close(
        status: u16,
        body: impl Into<Vec<u8>>,
        close_after: Duration,
    ) -> Self {
        Self::RespondThenClose {
            status,
            headers: Vec::new(),
            body: body.into(),
            close_after,
            reset: false,
        }
    }

    /// [`Step::RespondThenClose`] with a reset (RST).
    pub fn respond_then_reset(
        status: u16,
        body: impl Into<Vec<u8>>,
        close_after: Duration,
    ) -> Self {
        Self::RespondThenClose {
            status,
            headers: Vec::new(),
            body: body.into(),
            close_after,
            reset: true,
        }
    }

    /// See [`Step::Http10CloseDelimited`].
    pub fn http10(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Http10CloseDelimited {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// See [`Step::Raw`].
    pub fn raw(bytes: impl Into<Vec<u8>>, close: bool) -> Self {
        Self::Raw {
            bytes: bytes.into(),
            close,
        }
    }

    /// See [`Step::Handler`].
    pub fn handler(f: impl Fn(&RecordedRequest) -> Step + Send + Sync + 'static) -> Self {
        Self::Handler(Handler::new(f))
    }

    /// A handler answering `200` with a JSON object describing the request:
    /// `{"method":..,"path":..,"connectionId":..,"index":..,"body":..}` (the body as a lossy
    /// UTF-8 string). All strings are JSON-escaped with [`json_string`].
    pub fn echo() -> Self {
        Self::handler(|req| {
            Step::json(
                200,
                format!(
                    r#"{{"method":{},"path":{},"connectionId":{},"index":{},"body":{}}}"#,
                    json_string(&req.method),
                    json_string(&req.path),
                    req.connection_id,
                    req.index,
                    json_string(&req.body_text()),
                ),
            )
        })
    }

    /// Adds a header to a response-bearing step (for [`Step::Redirect`] it turns the step into
    /// the equivalent [`Step::Respond`] carrying `Location`; for [`Step::Delayed`] it applies to
    /// the inner step).
    ///
    /// # Panics
    ///
    /// For steps that write no response head ([`Step::ResetBeforeResponse`],
    /// [`Step::StallBeforeHeaders`], [`Step::Raw`], [`Step::Handler`]): that is a bug in the
    /// test script, reported at script construction time.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let entry = (name.into(), value.into());
        match &mut self {
            Self::Respond { headers, .. }
            | Self::ResetMidBody { headers, .. }
            | Self::StallMidBody { headers, .. }
            | Self::DripFeed { headers, .. }
            | Self::Truncated { headers, .. }
            | Self::Chunked { headers, .. }
            | Self::Endless { headers, .. }
            | Self::RespondThenClose { headers, .. }
            | Self::Http10CloseDelimited { headers, .. } => {
                headers.push(entry);
                self
            }
            Self::Redirect { status, location } => Self::Respond {
                status: *status,
                headers: vec![("Location".into(), std::mem::take(location)), entry],
                body: Vec::new(),
            },
            Self::Delayed { delay, then } => Self::Delayed {
                delay: *delay,
                then: Box::new(
                    std::mem::replace(then.as_mut(), Self::close()).header(entry.0, entry.1),
                ),
            },
            Self::ResetBeforeResponse
            | Self::StallBeforeHeaders(_)
            | Self::Raw { .. }
            | Self::Handler(_) => {
                panic!(
                    "fault server: Step::header() on a step that writes no response head: {self:?}"
                )
            }
        }
    }

    /// Plays this step after waiting `delay` (see [`Step::Delayed`]).
    #[must_use]
    pub fn delayed(self, delay: Duration) -> Self {
        Self::Delayed {
            delay,
            then: Box::new(self),
        }
    }

    /// Repeats this step `n` times, for building scripts: `[Step::status(503).times(2), ..].concat()`.
    pub fn times(self, n: usize) -> Vec<Step> {
        vec![self; n]
    }
}

/// Encodes `s` as a JSON string literal, quotes included (`"a\"b"`), escaping `"`, `\` and
/// control characters. For building JSON bodies in handlers without a JSON dependency.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
