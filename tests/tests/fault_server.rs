//! Self-tests of the scripted fault server, using only `std::net::TcpStream` as the client.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use authsignal_tests::fault_server::{FaultServer, RecordedRequest, Step, json_string};

const MS: Duration = Duration::from_millis(1);

/// A parsed response head.
#[derive(Debug)]
struct Head {
    version: String,
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
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
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
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

    fn read_head(&mut self) -> io::Result<Head> {
        loop {
            if let Some(pos) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let text = String::from_utf8(self.buf.drain(..pos + 4).collect()).unwrap();
                let mut lines = text.split("\r\n");
                let mut status_line = lines.next().unwrap().splitn(3, ' ');
                let version = status_line.next().unwrap().to_owned();
                let status = status_line.next().unwrap().parse().unwrap();
                let headers = lines
                    .filter(|l| !l.is_empty())
                    .map(|l| {
                        let (n, v) = l.split_once(':').unwrap();
                        (n.to_owned(), v.trim().to_owned())
                    })
                    .collect();
                return Ok(Head {
                    version,
                    status,
                    headers,
                });
            }
            if self.read_more()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    fn read_exact_body(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.read_more()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads until EOF or error: the bytes received, and how the stream ended.
    fn read_to_end(&mut self) -> (Vec<u8>, io::Result<()>) {
        loop {
            match self.read_more() {
                Ok(0) => return (std::mem::take(&mut self.buf), Ok(())),
                Ok(_) => {}
                Err(e) => return (std::mem::take(&mut self.buf), Err(e)),
            }
        }
    }

    fn read_line(&mut self) -> Vec<u8> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).collect();
                return line[..pos].to_vec();
            }
            assert!(self.read_more().unwrap() > 0, "EOF inside chunked body");
        }
    }

    /// Decodes a chunked body, asserting it is well-formed.
    fn read_chunked_body(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line();
            let size = usize::from_str_radix(std::str::from_utf8(&line).unwrap(), 16).unwrap();
            if size == 0 {
                assert_eq!(self.read_line(), b"", "no trailers expected");
                return body;
            }
            body.extend(self.read_exact_body(size).unwrap());
            assert_eq!(self.read_line(), b"", "chunk data must end with CRLF");
        }
    }

    /// Reads a complete `Content-Length` response.
    fn response(&mut self) -> (Head, Vec<u8>) {
        let head = self.read_head().unwrap();
        let len = head.content_length().expect("Content-Length");
        let body = self.read_exact_body(len).unwrap();
        (head, body)
    }

    /// Sends a GET and reads a complete `Content-Length` response.
    fn roundtrip(&mut self, path: &str) -> (Head, Vec<u8>) {
        self.get(path);
        self.response()
    }
}

fn assert_reset(result: io::Result<()>) {
    let err = result.expect_err("expected a connection reset, got EOF");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
}

fn assert_between(elapsed: Duration, min: Duration, max: Duration) {
    assert!(
        elapsed >= min && elapsed <= max,
        "elapsed {elapsed:?} not in [{min:?}, {max:?}]"
    );
}

#[test]
fn respond_json_sends_status_headers_and_body() {
    let server = FaultServer::start(vec![Step::json(201, r#"{"a":1}"#).header("X-Extra", "yes")]);
    assert_eq!(server.url(), format!("http://127.0.0.1:{}", server.port()));
    let (head, body) = Client::connect(&server).roundtrip("/v1/users/u1");
    assert_eq!(head.version, "HTTP/1.1");
    assert_eq!(head.status, 201);
    assert_eq!(head.header("content-type"), Some("application/json"));
    assert_eq!(head.header("x-extra"), Some("yes"));
    assert_eq!(head.header("connection"), Some("keep-alive"));
    assert_eq!(head.content_length(), Some(7));
    assert_eq!(body, br#"{"a":1}"#);
}

#[test]
fn status_with_retry_after_header() {
    let server = FaultServer::start(vec![Step::status(429).header("Retry-After", "1")]);
    let (head, body) = Client::connect(&server).roundtrip("/");
    assert_eq!(head.status, 429);
    assert_eq!(head.header("Retry-After"), Some("1"));
    assert_eq!(head.content_length(), Some(0));
    assert!(body.is_empty());
}

#[test]
fn caller_headers_suppress_automatic_ones() {
    let server = FaultServer::start(vec![
        Step::body(200, "abc")
            .header("Content-Length", "2")
            .header("Connection", "close"),
    ]);
    let mut client = Client::connect(&server);
    client.get("/");
    let head = client.read_head().unwrap();
    assert_eq!(head.header("content-length"), Some("2"));
    assert_eq!(head.headers.len(), 2, "{head:?}");
    let (rest, end) = client.read_to_end();
    assert_eq!(
        rest, b"abc",
        "the body is written as given, whatever the header says"
    );
    end.unwrap();
}

#[test]
fn records_requests_with_headers_and_body() {
    let server = FaultServer::start(vec![Step::status(204)]);
    let mut client = Client::connect(&server);
    let before = Instant::now();
    client.send(b"POST /v1/users/u1/actions/signIn?x=1&y=2 HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nX-Dup: a\r\nx-dup: b\r\nContent-Length: 11\r\n\r\n{\"k\":\"v\"}\r\n");
    let head = client.read_head().unwrap();
    assert_eq!(head.status, 204);
    assert_eq!(
        head.content_length(),
        None,
        "no automatic Content-Length on 204"
    );

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
    assert_eq!(req.header_all("x-dup"), vec!["a", "b"]);
    assert_eq!(req.body, b"{\"k\":\"v\"}\r\n");
    assert_eq!(req.connection_id, 0);
    assert!(req.received_at >= before);
}

#[test]
fn chunked_request_body_is_decoded() {
    let server = FaultServer::start(vec![Step::status(200)]);
    let mut client = Client::connect(&server);
    client.send(b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n");
    assert_eq!(client.response().0.status, 200);
    assert_eq!(server.requests()[0].body, b"abc0123456789");
}

#[test]
fn expect_100_continue_is_answered() {
    let server = FaultServer::start(vec![Step::status(200)]);
    let mut client = Client::connect(&server);
    client.send(b"PUT /e HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(client.read_head().unwrap().status, 100);
    client.send(b"hi");
    assert_eq!(client.response().0.status, 200);
    assert_eq!(server.requests()[0].body, b"hi");
}

#[test]
fn keep_alive_requests_share_one_connection_and_consume_steps_in_order() {
    let server = FaultServer::start(vec![
        Step::status(500),
        Step::status(502),
        Step::json(200, "{}"),
    ]);
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
    let server = FaultServer::start(vec![Step::text(200, "one"), Step::text(200, "two")]);
    let mut client = Client::connect(&server);
    client.send(b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    assert_eq!(client.response().1, b"one");
    assert_eq!(client.response().1, b"two");
    assert_eq!(server.request_count(), 2);
}

#[test]
fn script_repeats_last_step_when_exhausted() {
    let server =
        FaultServer::start([Step::status(503).times(2), vec![Step::text(200, "ok")]].concat());
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
    let server = FaultServer::start(vec![Step::text(200, "x")]);
    let mut client = Client::connect(&server);
    client.send(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    let (head, body) = client.response();
    assert_eq!(head.header("connection"), Some("close"));
    assert_eq!(body, b"x");
    let (rest, end) = client.read_to_end();
    assert!(rest.is_empty());
    end.unwrap();
}

#[test]
fn reset_before_response_resets_after_reading_the_request() {
    let server = FaultServer::start(vec![Step::reset()]);
    let mut client = Client::connect(&server);
    client.send(b"POST /v1/track HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody");
    let (bytes, end) = client.read_to_end();
    assert!(bytes.is_empty(), "no byte may precede the reset");
    assert_reset(end);
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        1,
        "the request was received in full before the reset"
    );
    assert_eq!(requests[0].body, b"body");
}

#[test]
fn reset_after_headers_and_mid_body() {
    let server = FaultServer::start(vec![
        Step::reset_after_headers(200, 100),
        Step::reset_mid_body(200, 100, "0123456789").header("Content-Type", "application/json"),
    ]);
    let mut client = Client::connect(&server);
    client.get("/a");
    let head = client.read_head().unwrap();
    assert_eq!((head.status, head.content_length()), (200, Some(100)));
    let (bytes, end) = client.read_to_end();
    assert!(bytes.is_empty());
    assert_reset(end);

    let mut client = Client::connect(&server);
    client.get("/b");
    let head = client.read_head().unwrap();
    assert_eq!(head.content_length(), Some(100));
    assert_eq!(head.header("content-type"), Some("application/json"));
    let (bytes, end) = client.read_to_end();
    assert_eq!(bytes, b"0123456789");
    assert_reset(end);
}

#[test]
fn stall_before_headers_sends_nothing_then_closes() {
    let server = FaultServer::start(vec![Step::stall(Duration::from_millis(250))]);
    let mut client = Client::connect(&server);
    client
        .stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let start = Instant::now();
    client.get("/");
    let err = client
        .read_more()
        .expect_err("nothing may arrive during the stall");
    assert!(matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ));
    client
        .stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (bytes, end) = client.read_to_end();
    assert!(bytes.is_empty());
    end.unwrap();
    assert_between(start.elapsed(), 240 * MS, 2000 * MS);
    assert_eq!(server.request_count(), 1);
}

#[test]
fn close_sends_an_empty_reply() {
    let server = FaultServer::start(vec![Step::close()]);
    let mut client = Client::connect(&server);
    client.get("/");
    let (bytes, end) = client.read_to_end();
    assert!(bytes.is_empty());
    end.unwrap();
}

#[test]
fn hang_lasts_until_the_server_is_dropped_and_drop_is_prompt() {
    let server = FaultServer::start(vec![Step::hang()]);
    let mut client = Client::connect(&server);
    let mut idle = Client::connect(&server); // an idle keep-alive connection, never used
    client.get("/");
    assert!(server.wait_for_requests(1, Duration::from_secs(2)));
    client
        .stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    assert!(client.read_more().is_err(), "hang must send nothing");

    let start = Instant::now();
    drop(server);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        start.elapsed()
    );
    client
        .stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    idle.stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    assert!(client.read_to_end().0.is_empty());
    assert!(idle.read_to_end().0.is_empty());
}

#[test]
fn stall_mid_body_sends_part_then_silence_then_closes() {
    let server = FaultServer::start(vec![Step::stall_mid_body(
        200,
        50,
        "{\"partial\":",
        Duration::from_millis(200),
    )]);
    let mut client = Client::connect(&server);
    let start = Instant::now();
    client.get("/");
    let head = client.read_head().unwrap();
    assert_eq!(head.content_length(), Some(50));
    let (bytes, end) = client.read_to_end();
    end.unwrap();
    assert_eq!(bytes, b"{\"partial\":");
    assert_between(start.elapsed(), 190 * MS, 2000 * MS);
}

#[test]
fn drip_feed_sends_one_byte_per_interval() {
    let server = FaultServer::start(vec![Step::drip_feed(
        200,
        "abcde",
        Duration::from_millis(40),
    )]);
    let mut client = Client::connect(&server);
    let start = Instant::now();
    client.get("/");
    let head = client.read_head().unwrap();
    let head_at = start.elapsed();
    assert!(
        head_at < Duration::from_millis(100),
        "head is sent at once ({head_at:?})"
    );
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
    assert_between(start.elapsed(), 190 * MS, 2000 * MS);
    // The connection is still usable afterwards.
    client.buf.clear();
    assert_eq!(client.roundtrip("/again").1, b"abcde");
}

#[test]
fn truncated_sends_fewer_bytes_than_content_length_then_fin() {
    let server = FaultServer::start(vec![Step::truncated(200, 100, vec![b'x'; 50])]);
    let mut client = Client::connect(&server);
    client.get("/");
    let head = client.read_head().unwrap();
    assert_eq!(head.content_length(), Some(100));
    let (bytes, end) = client.read_to_end();
    end.expect("a truncated body ends with FIN, not RST");
    assert_eq!(bytes.len(), 50);
}

#[test]
fn chunked_response_is_well_formed_and_keeps_the_connection() {
    let server = FaultServer::start(vec![
        Step::chunked(200, ["{\"a\":", "", "1}"]).header("Content-Type", "application/json"),
        Step::text(200, "next"),
    ]);
    let mut client = Client::connect(&server);
    client.get("/");
    let head = client.read_head().unwrap();
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert_eq!(head.content_length(), None);
    assert_eq!(client.read_chunked_body(), b"{\"a\":1}");
    assert_eq!(client.roundtrip("/next").1, b"next");
    assert_eq!(server.connection_count(), 1);
}

#[test]
fn endless_streams_until_the_client_goes_away() {
    let server = FaultServer::start(vec![Step::endless(200)]);
    let mut client = Client::connect(&server);
    client.get("/");
    let head = client.read_head().unwrap();
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    while client.buf.len() < 512 * 1024 {
        assert!(client.read_more().unwrap() > 0, "endless body ended");
    }
    assert!(server.bytes_written_total() >= 512 * 1024);
    drop(client);

    // The writer notices the client is gone and the connection thread ends.
    let deadline = Instant::now() + Duration::from_secs(3);
    while server.active_connections() > 0 {
        assert!(Instant::now() < deadline, "endless writer did not stop");
        thread::sleep(5 * MS);
    }
    let written = server.bytes_written_total();
    thread::sleep(50 * MS);
    assert_eq!(server.bytes_written_total(), written);
}

#[test]
fn redirect_sends_location() {
    let server = FaultServer::start(vec![
        Step::redirect(307, "http://127.0.0.1:1/elsewhere"),
        Step::redirect(301, "/moved").header("X-Why", "test"),
    ]);
    let mut client = Client::connect(&server);
    let (head, body) = client.roundtrip("/");
    assert_eq!(head.status, 307);
    assert_eq!(
        head.header("location"),
        Some("http://127.0.0.1:1/elsewhere")
    );
    assert!(body.is_empty());
    let (head, _) = client.roundtrip("/");
    assert_eq!(
        (head.status, head.header("location"), head.header("x-why")),
        (301, Some("/moved"), Some("test"))
    );
}

#[test]
fn respond_then_close_advertises_keep_alive_then_fins() {
    let server = FaultServer::start(vec![Step::respond_then_close(
        200,
        "ok",
        Duration::from_millis(100),
    )]);
    let mut client = Client::connect(&server);
    let (head, body) = client.roundtrip("/");
    let responded = Instant::now();
    assert_eq!(head.header("connection"), Some("keep-alive"));
    assert_eq!(body, b"ok");
    let (rest, end) = client.read_to_end();
    assert!(rest.is_empty());
    end.expect("FIN variant closes gracefully");
    assert_between(responded.elapsed(), 80 * MS, 2000 * MS);
}

#[test]
fn respond_then_reset_advertises_keep_alive_then_resets() {
    let server = FaultServer::start(vec![Step::respond_then_reset(
        200,
        "ok",
        Duration::from_millis(50),
    )]);
    let mut client = Client::connect(&server);
    let (head, body) = client.roundtrip("/");
    assert_eq!(head.header("connection"), Some("keep-alive"));
    assert_eq!(body, b"ok");
    let (rest, end) = client.read_to_end();
    assert!(rest.is_empty());
    assert_reset(end);
}

#[test]
fn http10_body_is_close_delimited() {
    let server = FaultServer::start(vec![
        Step::http10(200, "{\"ok\":true}").header("Content-Type", "application/json"),
    ]);
    let mut client = Client::connect(&server);
    client.get("/");
    let head = client.read_head().unwrap();
    assert_eq!((head.version.as_str(), head.status), ("HTTP/1.0", 200));
    assert_eq!(head.content_length(), None);
    assert_eq!(head.header("connection"), None);
    assert_eq!(head.header("content-type"), Some("application/json"));
    let (body, end) = client.read_to_end();
    end.unwrap();
    assert_eq!(body, b"{\"ok\":true}");
}

#[test]
fn raw_bytes_are_written_verbatim() {
    let server = FaultServer::start(vec![
        Step::raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", false),
        Step::raw("garbage", true),
    ]);
    let mut client = Client::connect(&server);
    assert_eq!(client.roundtrip("/").1, b"hi");
    client.get("/");
    let (bytes, end) = client.read_to_end();
    end.unwrap();
    assert_eq!(bytes, b"garbage");
}

#[test]
fn delayed_step_waits_before_answering() {
    let server = FaultServer::start(vec![
        Step::text(200, "late")
            .delayed(Duration::from_millis(150))
            .header("X-A", "1"),
    ]);
    let mut client = Client::connect(&server);
    let start = Instant::now();
    let (head, body) = client.roundtrip("/");
    assert_between(start.elapsed(), 140 * MS, 2000 * MS);
    assert_eq!(
        (head.header("x-a"), body.as_slice()),
        (Some("1"), b"late".as_slice())
    );
}

#[test]
fn handler_answers_based_on_the_request() {
    let server = FaultServer::start(vec![Step::handler(|req: &RecordedRequest| {
        let id = req
            .path_only()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Step::json(200, format!(r#"{{"userId":{}}}"#, json_string(&id)))
    })]);
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
fn echo_json_describes_the_request() {
    let server = FaultServer::echo_json();
    let mut client = Client::connect(&server);
    client.send(b"POST /p?q=\"1\" HTTP/1.1\r\nContent-Length: 3\r\n\r\na\nb");
    let (_, body) = client.response();
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"method":"POST","path":"/p?q=\"1\"","connectionId":0,"index":0,"body":"a\nb"}"#
    );
}

#[test]
fn panicking_handler_answers_500_and_server_survives() {
    let server = FaultServer::start(vec![
        Step::handler(|_: &RecordedRequest| panic!("handler bug (expected in this test)")),
        Step::text(200, "fine"),
    ]);
    let mut client = Client::connect(&server);
    let (head, body) = client.roundtrip("/");
    assert_eq!(head.status, 500);
    assert!(String::from_utf8(body).unwrap().contains("panicked"));
    assert_eq!(client.roundtrip("/").1, b"fine");
}

#[test]
fn malformed_request_gets_400_and_is_not_recorded() {
    let server = FaultServer::start(vec![Step::text(200, "ok")]);
    for garbage in [
        &b"NONSENSE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nbad header\r\n\r\n",
        b"\x00\xff\xfe / HTTP/1.1\r\n\r\n",
    ] {
        let mut client = Client::connect(&server);
        client.send(garbage);
        let head = client.read_head().unwrap();
        assert_eq!(head.status, 400);
        assert_eq!(head.header("connection"), Some("close"));
    }
    assert_eq!(server.request_count(), 0);
    assert_eq!(Client::connect(&server).roundtrip("/").1, b"ok");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn client_closing_mid_request_is_tolerated() {
    let server = FaultServer::start(vec![Step::text(200, "ok")]);
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
    let server = Arc::new(FaultServer::start(vec![Step::handler(
        |req: &RecordedRequest| {
            let id = req
                .path_only()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            Step::json(200, format!(r#"{{"userId":{}}}"#, json_string(&id)))
        },
    )]));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let server = Arc::clone(&server);
            let barrier = Arc::clone(&barrier);
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
    let result = std::panic::catch_unwind(|| Step::reset().header("X", "y"));
    assert!(result.is_err());
}
