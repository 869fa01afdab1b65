//! The scripted actions ([`Step`]) a [`FaultServer`](super::FaultServer) plays.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::RecordedRequest;

/// One scripted action, consumed by exactly one received request.
///
/// Steps that write a response head write an HTTP/1.1 status line with the standard reason
/// phrase, the caller's headers verbatim (in order, see [`Step::header`]), then automatic ones:
///
/// * `Content-Length` (or `Transfer-Encoding: chunked` for [`Step::chunked`] and
///   [`Step::endless`]), **omitted when the caller set `Content-Length` or
///   `Transfer-Encoding`** (any case), so a test can lie about framing;
/// * `Connection: keep-alive`, omitted when the caller set `Connection`. If the request asked
///   for `Connection: close` (or was HTTP/1.0 without keep-alive) the value is `close` and the
///   server closes the connection after the response.
///
/// "Close" below means a graceful close: `shutdown(Write)` (FIN). "Reset" means
/// `SO_LINGER = 0` before closing, which makes the kernel send RST.
#[derive(Debug, Clone)]
pub struct Step(pub(crate) Action);

/// What a [`Step`] does; see its constructors.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Writes nothing; after `wait`, closes or resets.
    Silent { wait: Duration, reset: bool },
    /// A `Content-Length` response, then keep-alive or a close.
    Reply(Reply),
    /// A chunked response: `chunks` then the last chunk, or `chunks` over and over `forever`.
    Chunked {
        status: u16,
        headers: Vec<(String, String)>,
        chunks: Vec<Vec<u8>>,
        forever: bool,
    },
    /// Bytes written verbatim, then a close if `close`.
    Raw { bytes: Vec<u8>, close: bool },
    /// A closure that picks the step for the request.
    Handler(Handler),
}

/// A response framed by `Content-Length`.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// `Content-Length` to declare instead of `body.len()`.
    pub(crate) declared_len: Option<usize>,
    /// Pause before each body byte; zero writes the body at once.
    pub(crate) drip: Duration,
    /// `None`: keep-alive. `Some((wait, reset))`: after `wait` without reading, close or reset.
    pub(crate) then_close: Option<(Duration, bool)>,
}

/// The closure of [`Step::handler`], wrapped so that [`Step`] can be `Clone` and `Debug`.
#[derive(Clone)]
pub(crate) struct Handler(pub(crate) Arc<dyn Fn(&RecordedRequest) -> Step + Send + Sync>);

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handler(..)")
    }
}

impl Step {
    fn reply(status: u16, body: impl Into<Vec<u8>>, declared_len: Option<usize>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            declared_len,
            drip: Duration::ZERO,
            then_close: None,
        }
    }

    fn reply_then_close(reply: Reply, wait: Duration, reset: bool) -> Self {
        let then_close = Some((wait, reset));
        Self(Action::Reply(Reply {
            then_close,
            ..reply
        }))
    }

    /// `status` with the given body and no `Content-Type`; the connection stays open. No
    /// `Content-Length` is added to an empty 1xx, 204 or 304 response.
    pub fn body(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self(Action::Reply(Self::reply(status, body, None)))
    }

    /// `status` with an empty body.
    pub fn status(status: u16) -> Self {
        Self::body(status, Vec::new())
    }

    /// `status` with a JSON body and `Content-Type: application/json`.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::body(status, body).header("Content-Type", "application/json")
    }

    /// `status` with a `text/plain; charset=utf-8` body.
    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::body(status, body).header("Content-Type", "text/plain; charset=utf-8")
    }

    /// A redirect (301, 302, 307, ...) to `location` with an empty body; keep-alive.
    pub fn redirect(status: u16, location: impl Into<String>) -> Self {
        Self::status(status).header("Location", location)
    }

    /// Reads the full request, then resets the connection without writing a byte.
    pub fn reset() -> Self {
        Self(Action::Silent {
            wait: Duration::ZERO,
            reset: true,
        })
    }

    /// Writes the head with `Content-Length: declared_len`, then the bytes of `sent` (none:
    /// "reset after headers"), then resets the connection.
    pub fn reset_mid_body(status: u16, declared_len: usize, sent: impl Into<Vec<u8>>) -> Self {
        let reply = Self::reply(status, sent, Some(declared_len));
        Self::reply_then_close(reply, Duration::ZERO, true)
    }

    /// Reads the full request, writes nothing for `duration`, then closes.
    pub fn stall(duration: Duration) -> Self {
        Self(Action::Silent {
            wait: duration,
            reset: false,
        })
    }

    /// Reads the request and never answers; the connection closes when the server is dropped
    /// (a one-hour [`Step::stall`]).
    pub fn hang() -> Self {
        Self::stall(Duration::from_secs(3600))
    }

    /// Writes the head with `Content-Length: declared_len` and the bytes of `sent`, then
    /// nothing for `stall`, then closes.
    pub fn stall_mid_body(
        status: u16,
        declared_len: usize,
        sent: impl Into<Vec<u8>>,
        stall: Duration,
    ) -> Self {
        let reply = Self::reply(status, sent, Some(declared_len));
        Self::reply_then_close(reply, stall, false)
    }

    /// Writes the head at once, then the body one byte at a time, waiting `interval` before
    /// each byte. Once the whole body is written the connection stays usable.
    pub fn drip_feed(status: u16, body: impl Into<Vec<u8>>, interval: Duration) -> Self {
        Self(Action::Reply(Reply {
            drip: interval,
            ..Self::reply(status, body, None)
        }))
    }

    /// Writes the head with `Content-Length: declared_len` and all of `body` (meant to be
    /// shorter), then closes.
    pub fn truncated(status: u16, declared_len: usize, body: impl Into<Vec<u8>>) -> Self {
        let reply = Self::reply(status, body, Some(declared_len));
        Self::reply_then_close(reply, Duration::ZERO, false)
    }

    /// A well-formed chunked response: one chunk per element of `chunks` (empty ones are
    /// skipped, since an empty chunk would end the body), then the last chunk; keep-alive.
    pub fn chunked<C: Into<Vec<u8>>>(status: u16, chunks: impl IntoIterator<Item = C>) -> Self {
        Self(Action::Chunked {
            status,
            headers: Vec::new(),
            chunks: chunks.into_iter().map(Into::into).collect(),
            forever: false,
        })
    }

    /// A chunked response that never ends: 16 KiB chunks of `b'a'` until a write fails (the
    /// client went away) or the server is dropped. Bytes written are counted in
    /// [`FaultServer::bytes_written_total`](super::FaultServer::bytes_written_total).
    pub fn endless(status: u16) -> Self {
        Self(Action::Chunked {
            status,
            headers: Vec::new(),
            chunks: vec![vec![b'a'; 16 * 1024]],
            forever: true,
        })
    }

    /// Writes a complete response like [`Step::body`] (advertising keep-alive), then waits
    /// `close_after` **without reading**, then closes. A request sent during the wait is
    /// neither read nor recorded (and, being unread, makes the kernel send RST, not FIN).
    pub fn respond_then_close(
        status: u16,
        body: impl Into<Vec<u8>>,
        close_after: Duration,
    ) -> Self {
        Self::reply_then_close(Self::reply(status, body, None), close_after, false)
    }

    /// Like [`Step::respond_then_close`], but resets the connection instead of closing it.
    pub fn respond_then_reset(
        status: u16,
        body: impl Into<Vec<u8>>,
        close_after: Duration,
    ) -> Self {
        Self::reply_then_close(Self::reply(status, body, None), close_after, true)
    }

    /// Writes `bytes` verbatim (no status line or headers are added), then closes if `close`,
    /// else keeps the connection open for the next request. For malformed responses.
    pub fn raw(bytes: impl Into<Vec<u8>>, close: bool) -> Self {
        Self(Action::Raw {
            bytes: bytes.into(),
            close,
        })
    }

    /// Asks `f` which step to play for this request (already recorded when `f` runs). If `f`
    /// panics or returns another handler step, the server answers `500` with a `text/plain`
    /// explanation.
    pub fn handler(f: impl Fn(&RecordedRequest) -> Step + Send + Sync + 'static) -> Self {
        Self(Action::Handler(Handler(Arc::new(f))))
    }

    /// Adds a header to a step that writes a response head.
    ///
    /// # Panics
    ///
    /// For [`Step::reset`], [`Step::stall`], [`Step::hang`], [`Step::raw`] and
    /// [`Step::handler`], which write no head: a bug in the test script, reported when the
    /// script is built.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        match &mut self.0 {
            Action::Reply(Reply { headers, .. }) | Action::Chunked { headers, .. } => {
                headers.push((name.into(), value.into()))
            }
            _ => panic!("fault server: Step::header() on a step that writes no head: {self:?}"),
        }
        self
    }
}

/// Encodes `s` as a JSON string literal, quotes included (`"a\"b"`), for building JSON bodies
/// in handlers.
pub fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}
