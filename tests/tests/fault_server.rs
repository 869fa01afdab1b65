//! Self-tests of the scripted fault server, using only `std::net::TcpStream` as the client.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use authsignal_tests::fault_server::{FaultServer, RecordedRequest, Step, json_string};

const MS: Duration = Duration::from_millis(1);
const ZERO: Duration = Duration::ZERO;
/// The request every table row sends.
const POST: &[u8] = b"POST /v1/track HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";

/// A parsed response head.
#[derive(Debug)]
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> Option<usize> {
        self.header("content-length").map(|v| v.parse().unwrap())
    }
}

/// Minimal raw HTTP/1.1 client over one TCP connection.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(server: &FaultServer) -> Client {
        let stream = TcpStream::connect(server.addr()).unwrap();
        stream.set_read_timeout(Some(5000 * MS)).unwrap();
        let buf = Vec::new();
        Client { stream, buf }
    }

    fn send(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).unwrap();
    }

    fn get(&mut self, path: &str) {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
    }

    /// Reads more bytes into the buffer; `Ok(0)` is EOF.
    fn read_more(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; 64 * 1024];
        let n = self.stream.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// Reads until the buffer holds `n` bytes, and takes them.
    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.read_more().unwrap() > 0, "EOF after {:?}", self.buf);
        }
        self.buf.drain(..n).collect()
    }

    fn read_head(&mut self) -> Head {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut response = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(len) = response.parse(&self.buf).unwrap() {
                assert_eq!(response.version, Some(1), "HTTP/1.1");
                let headers = (response.headers.iter())
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8(h.value.to_vec()).unwrap(),
                        )
                    })
                    .collect();
                let status = response.code.unwrap();
                self.buf.drain(..len);
                return Head { status, headers };
            }
            assert!(self.read_more().unwrap() > 0, "EOF inside a response head");
        }
    }

    /// Reads until EOF or error: the bytes received, how the stream ended, and how long it was
    /// silent before ending (since `since` if no byte came).
    fn read_to_end(&mut self, since: Instant) -> (Vec<u8>, io::Result<()>, Duration) {
        let mut last_byte = since;
        loop {
            match self.read_more() {
                Ok(0) => return (std::mem::take(&mut self.buf), Ok(()), last_byte.elapsed()),
                Ok(_) => last_byte = Instant::now(),
                Err(e) => return (std::mem::take(&mut self.buf), Err(e), last_byte.elapsed()),
            }
        }
    }

    /// Reads a complete `Content-Length` response.
    fn response(&mut self) -> (Head, Vec<u8>) {
        let head = self.read_head();
        let body = self.take(head.content_length().expect("Content-Length"));
        (head, body)
    }

    /// Sends a GET and reads a complete `Content-Length` response.
    fn roundtrip(&mut self, path: &str) -> (Head, Vec<u8>) {
        self.get(path);
        self.response()
    }
}

/// Bytes as text, for readable failures.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// How a table row's connection ends after its bytes.
#[derive(Debug, Clone, Copy)]
enum Then {
    /// Stays open: a second request gets the same bytes on the same connection.
    Open,
    /// FIN after at least this much silence.
    Fin(Duration),
    /// RST.
    Rst,
}

#[test]
fn each_step_writes_exactly_its_bytes_then_keeps_closes_or_resets() {
    let ok = "HTTP/1.1 200 OK\r\n";
    let keep = "Connection: keep-alive\r\n\r\n";
    let (json, x50) = ("Content-Type: application/json\r\n", "x".repeat(50));
    let raw = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    #[rustfmt::skip]
    let rows: Vec<(Step, Then, String)> = vec![
        (Step::json(201, r#"{"a":1}"#).header("X-Extra", "yes"), Then::Open,
            format!("HTTP/1.1 201 Created\r\n{json}X-Extra: yes\r\n\
                     Content-Length: 7\r\n{keep}{{\"a\":1}}")),
        (Step::status(429).header("Retry-After", "1"), Then::Open,
            format!("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n\
                     Content-Length: 0\r\n{keep}")),
        (Step::status(204), Then::Open, format!("HTTP/1.1 204 No Content\r\n{keep}")),
        (Step::text(200, "x"), Then::Open,
            format!("{ok}Content-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\n{keep}x")),
        (Step::redirect(307, "http://127.0.0.1:1/elsewhere"), Then::Open,
            format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/elsewhere\r\n\
                     Content-Length: 0\r\n{keep}")),
        (Step::redirect(301, "/moved").header("X-Why", "test"), Then::Open,
            format!("HTTP/1.1 301 Moved Permanently\r\nLocation: /moved\r\nX-Why: test\r\n\
                     Content-Length: 0\r\n{keep}")),
        (Step::chunked(200, ["{\"a\":", "", "1}"]).header("Content-Type", "application/json"),
            Then::Open,
            format!("{ok}{json}Transfer-Encoding: chunked\r\n{keep}\
                     5\r\n{{\"a\":\r\n2\r\n1}}\r\n0\r\n\r\n")),
        (Step::raw(raw, false), Then::Open, raw.to_owned()),
        // The caller's framing and Connection headers replace the automatic ones, and the
        // body is written as given, whatever the header says.
        (Step::body(200, "abc").header("Content-Length", "2").header("Connection", "close"),
            Then::Fin(ZERO), format!("{ok}Content-Length: 2\r\nConnection: close\r\n\r\nabc")),
        (Step::reset(), Then::Rst, String::new()),
        (Step::reset_mid_body(200, 100, ""), Then::Rst,
            format!("{ok}Content-Length: 100\r\n{keep}")),
        (Step::reset_mid_body(200, 100, "0123456789").header("Content-Type", "application/json"),
            Then::Rst, format!("{ok}{json}Content-Length: 100\r\n{keep}0123456789")),
        (Step::stall(250 * MS), Then::Fin(240 * MS), String::new()),
        (Step::stall(ZERO), Then::Fin(ZERO), String::new()),
        (Step::stall_mid_body(200, 50, "{\"partial\":", 200 * MS), Then::Fin(190 * MS),
            format!("{ok}Content-Length: 50\r\n{keep}{{\"partial\":")),
        (Step::truncated(200, 100, x50.clone()), Then::Fin(ZERO),
            format!("{ok}Content-Length: 100\r\n{keep}{x50}")),
        // Keep-alive is advertised, then the connection ends without reading further.
        (Step::respond_then_close(200, "ok", 100 * MS), Then::Fin(80 * MS),
            format!("{ok}Content-Length: 2\r\n{keep}ok")),
        (Step::respond_then_reset(200, "ok", 50 * MS), Then::Rst,
            format!("{ok}Content-Length: 2\r\n{keep}ok")),
        (Step::raw("garbage", true), Then::Fin(ZERO), "garbage".to_owned()),
    ];
    for (step, then, expected) in rows {
        let ctx = format!("{step:?}");
        let server = FaultServer::start([step]);
        let mut client = Client::connect(&server);
        let sent = Instant::now();
        client.send(POST);
        let requests = if let Then::Open = then {
            let first = client.take(expected.len());
            client.send(POST);
            let second = client.take(expected.len());
            assert_eq!([first, second].map(text), [expected.as_str(); 2], "{ctx}");
            2
        } else {
            let (bytes, end, silence) = client.read_to_end(sent);
            assert_eq!(text(bytes), expected, "{ctx}");
            match then {
                Then::Fin(min) => {
                    end.unwrap_or_else(|e| panic!("{ctx}: expected FIN, got {e}"));
                    assert!(
                        silence >= min,
                        "{ctx}: silent {silence:?}, expected {min:?}"
                    );
                }
                _ => {
                    let err = end.expect_err(&format!("{ctx}: expected a reset, got EOF"));
                    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{ctx}: {err}");
                }
            }
            assert!(
                sent.elapsed() <= 2000 * MS,
                "{ctx}: took {:?}",
                sent.elapsed()
            );
            1
        };
        // Requests are received in full (and recorded) before their step plays.
        let recorded = server.requests();
        assert_eq!(recorded.len(), requests, "{ctx}");
        assert!(
            recorded.iter().all(|r| r.body == b"body"),
            "{ctx}: {recorded:?}"
        );
        assert_eq!(server.connection_count(), 1, "{ctx}");
    }
}

#[test]
fn records_requests_with_headers_and_body() {
    let server = FaultServer::start([Step::status(204)]);
    assert_eq!(server.url(), format!("http://127.0.0.1:{}", server.port()));
    assert_eq!(server.addr().port(), server.port());
    let mut client = Client::connect(&server);
    let before = Instant::now();
    client.send(
        b"POST /v1/users/u1/actions/signIn?x=1&y=2 HTTP/1.1\r\nHost: test\r\n\
          Content-Type: application/json\r\nX-Dup: a\r\nx-dup: b\r\nContent-Length: 11\r\n\r\n\
          {\"k\":\"v\"}\r\n",
    );
    assert_eq!(client.read_head().status, 204);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.index, 0);
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/users/u1/actions/signIn?x=1&y=2");
    assert_eq!(req.path_only(), "/v1/users/u1/actions/signIn");
    assert_eq!(req.query(), Some("x=1&y=2"));
    assert_eq!(req.version, "HTTP/1.1");
    assert_eq!(req.header("CONTENT-TYPE"), Some("application/json"));
    assert_eq!(req.header("x-dup"), Some("a"));
    assert_eq!(
        req.headers[2..4],
        [("X-Dup".into(), "a".into()), ("x-dup".into(), "b".into())]
    );
    assert_eq!(req.body, b"{\"k\":\"v\"}\r\n");
    assert_eq!(req.body_text(), "{\"k\":\"v\"}\r\n");
    assert_eq!(req.connection_id, 0);
    assert!(req.received_at >= before);
}

#[test]
fn keep_alive_requests_share_one_connection_and_consume_steps_in_order() {
    let server = FaultServer::start([Step::status(500), Step::status(502), Step::json(200, "{}")]);
    let mut client = Client::connect(&server);
    assert_eq!(client.roundtrip("/1").0.status, 500);
    assert_eq!(client.roundtrip("/2").0.status, 502);
    assert_eq!(server.connection_count(), 1);
    assert_eq!(server.request_count(), 2);
    let requests = server.requests();
    assert_eq!(requests[0].connection_id, requests[1].connection_id);
    assert_eq!((requests[0].index, requests[1].index), (0, 1));

    // A new connection takes the next step of the same script.
    let mut other = Client::connect(&server);
    assert_eq!(other.roundtrip("/3").0.status, 200);
    assert_eq!(server.connection_count(), 2);
    assert_ne!(
        server.requests()[2].connection_id,
        requests[0].connection_id
    );
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = FaultServer::start([Step::text(200, "one"), Step::text(200, "two")]);
    let mut client = Client::connect(&server);
    // The second head ends its lines with a bare LF.
    client.send(b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\nHost: test\n\n");
    assert_eq!(client.response().1, b"one");
    assert_eq!(client.response().1, b"two");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("host"), Some("test"));
    assert!(requests.iter().all(|r| r.body.is_empty()), "{requests:?}");
}

#[test]
fn script_repeats_last_step_when_exhausted() {
    let server = FaultServer::start([Step::status(503), Step::status(503), Step::text(200, "ok")]);
    let mut client = Client::connect(&server);
    let statuses: Vec<u16> = (0..5)
        .map(|i| client.roundtrip(&format!("/{i}")).0.status)
        .collect();
    assert_eq!(statuses, [503, 503, 200, 200, 200]);
    assert_eq!(server.request_count(), 5);
    assert_eq!(server.requests()[4].index, 4);
}

#[test]
fn empty_script_answers_500() {
    let server = FaultServer::start(Vec::new());
    let (head, body) = Client::connect(&server).roundtrip("/");
    assert_eq!(head.status, 500);
    assert!(String::from_utf8(body).unwrap().contains("empty script"));
}

#[test]
fn client_connection_close_is_honoured() {
    let server = FaultServer::start([Step::text(200, "x")]);
    for (request, connection) in [
        (&b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"[..], "close"),
        (b"GET / HTTP/1.0\r\n\r\n", "close"),
        (
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            "keep-alive",
        ),
    ] {
        let mut client = Client::connect(&server);
        client.send(request);
        let (head, body) = client.response();
        assert_eq!(head.header("connection"), Some(connection));
        assert_eq!(body, b"x");
        if connection == "close" {
            let (rest, end, _) = client.read_to_end(Instant::now());
            assert!(rest.is_empty());
            end.unwrap();
        } else {
            assert_eq!(client.roundtrip("/again").1, b"x");
        }
    }
}

#[test]
fn hang_lasts_until_the_server_is_dropped_and_drop_is_prompt() {
    let server = FaultServer::start([Step::hang()]);
    let mut client = Client::connect(&server);
    let mut idle = Client::connect(&server); // an idle keep-alive connection, never used
    client.get("/");
    assert!(server.wait_for_requests(1, 2000 * MS));
    assert!(!server.wait_for_requests(2, 20 * MS));
    client.stream.set_read_timeout(Some(50 * MS)).unwrap();
    assert!(client.read_more().is_err(), "hang must send nothing");

    let start = Instant::now();
    drop(server);
    assert!(
        start.elapsed() < 1000 * MS,
        "drop took {:?}",
        start.elapsed()
    );
    client.stream.set_read_timeout(Some(2000 * MS)).unwrap();
    idle.stream.set_read_timeout(Some(2000 * MS)).unwrap();
    assert!(client.read_to_end(start).0.is_empty());
    assert!(idle.read_to_end(start).0.is_empty());
}

#[test]
fn drip_feed_sends_one_byte_per_interval() {
    let server = FaultServer::start([Step::drip_feed(200, "abcde", 40 * MS)]);
    let mut client = Client::connect(&server);
    let start = Instant::now();
    client.get("/");
    let head = client.read_head();
    let head_at = start.elapsed();
    assert!(head_at < 100 * MS, "head is sent at once ({head_at:?})");
    assert_eq!(head.content_length(), Some(5));
    let mut reads = 0;
    while client.buf.len() < 5 {
        assert!(client.read_more().unwrap() > 0);
        reads += 1;
    }
    assert_eq!(client.buf, b"abcde");
    assert!(
        reads >= 3,
        "bytes should trickle in separately, got {reads} reads"
    );
    let elapsed = start.elapsed();
    assert!(elapsed >= 190 * MS && elapsed <= 2000 * MS, "{elapsed:?}");
    // The connection is still usable afterwards.
    client.buf.clear();
    assert_eq!(client.roundtrip("/again").1, b"abcde");
}

#[test]
fn endless_streams_until_the_client_goes_away() {
    let server = FaultServer::start([Step::endless(200)]);
    let mut client = Client::connect(&server);
    client.get("/");
    let head = client.read_head();
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert_eq!(client.take(16 * 1024 + 8)[..8], *b"4000\r\naa");
    while client.buf.len() < 512 * 1024 {
        assert!(client.read_more().unwrap() > 0, "endless body ended");
    }
    assert!(server.bytes_written_total() >= 512 * 1024);
    assert_eq!(server.active_connections(), 1);
    drop(client);

    // The writer notices the client is gone and the connection thread ends.
    let deadline = Instant::now() + 3000 * MS;
    while server.active_connections() > 0 {
        assert!(Instant::now() < deadline, "endless writer did not stop");
        thread::sleep(5 * MS);
    }
    let written = server.bytes_written_total();
    thread::sleep(50 * MS);
    assert_eq!(server.bytes_written_total(), written);
}

/// Answers `{"userId":<last path segment>}`.
fn user_id_handler() -> Step {
    Step::handler(|req: &RecordedRequest| {
        let id = req.path_only().rsplit('/').next().unwrap_or_default();
        Step::json(200, format!(r#"{{"userId":{}}}"#, json_string(id)))
    })
}

#[test]
fn handler_answers_based_on_the_request() {
    let server = FaultServer::start([user_id_handler()]);
    let mut client = Client::connect(&server);
    assert_eq!(
        client.roundtrip("/v1/users/alice").1,
        br#"{"userId":"alice"}"#
    );
    assert_eq!(
        client.roundtrip("/v1/users/bob?x=1").1,
        br#"{"userId":"bob"}"#
    );
}

#[test]
fn panicking_or_nesting_handler_answers_500_and_server_survives() {
    let server = FaultServer::start([
        Step::handler(|_: &RecordedRequest| panic!("handler bug (expected in this test)")),
        Step::handler(|_: &RecordedRequest| user_id_handler()),
        Step::text(200, "fine"),
    ]);
    let mut client = Client::connect(&server);
    for expected in ["panicked", "returned a handler step"] {
        let (head, body) = client.roundtrip("/");
        assert_eq!(head.status, 500);
        assert!(
            String::from_utf8(body).unwrap().contains(expected),
            "{expected}"
        );
    }
    assert_eq!(client.roundtrip("/").1, b"fine");
}

#[test]
fn malformed_request_gets_400_and_is_not_recorded() {
    let server = FaultServer::start([Step::text(200, "ok")]);
    for garbage in [
        &b"NONSENSE\r\n\r\n"[..],
        b"GET /\r\n\r\n",
        b"G\xffT / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"GET / HTTP/1.1\r\nbad header\r\n\r\n",
        b"\x00\xff\xfe / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/2\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ] {
        let mut client = Client::connect(&server);
        client.send(garbage);
        let head = client.read_head();
        assert_eq!(head.status, 400, "{}", garbage.escape_ascii());
        assert_eq!(head.header("connection"), Some("close"));
    }
    assert_eq!(server.request_count(), 0);
    assert_eq!(Client::connect(&server).roundtrip("/").1, b"ok");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn client_closing_mid_request_is_tolerated() {
    let server = FaultServer::start([Step::text(200, "ok")]);
    let mut client = Client::connect(&server);
    client.send(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort");
    drop(client);
    let mut client = Client::connect(&server);
    client.send(b"GET / HTT");
    drop(client);
    assert_eq!(Client::connect(&server).roundtrip("/").1, b"ok");
    assert_eq!(server.request_count(), 1);
    assert_eq!(server.connection_count(), 3);
}

#[test]
fn thirty_two_concurrent_clients_get_their_own_answers() {
    const THREADS: usize = 32;
    const PER_THREAD: usize = 5;
    let server = Arc::new(FaultServer::start([user_id_handler()]));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (server, barrier) = (Arc::clone(&server), Arc::clone(&barrier));
            thread::spawn(move || {
                let mut client = Client::connect(&server);
                barrier.wait();
                for i in 0..PER_THREAD {
                    let id = format!("user-{t}-{i}");
                    let (head, body) = client.roundtrip(&format!("/v1/users/{id}"));
                    assert_eq!(head.status, 200);
                    assert_eq!(
                        String::from_utf8(body).unwrap(),
                        format!(r#"{{"userId":"{id}"}}"#)
                    );
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(server.connection_count(), THREADS);
    assert_eq!(server.request_count(), THREADS * PER_THREAD);
    let mut indices: Vec<usize> = server.requests().iter().map(|r| r.index).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..THREADS * PER_THREAD).collect::<Vec<_>>());
}

#[test]
fn header_on_a_headless_step_panics_at_construction() {
    for headless in [
        Step::reset(),
        Step::stall(MS),
        Step::raw("x", true),
        user_id_handler(),
    ] {
        let result = catch_unwind(AssertUnwindSafe(|| headless.header("X", "y")));
        assert!(result.is_err());
    }
}
