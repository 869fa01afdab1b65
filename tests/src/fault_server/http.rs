//! Minimal HTTP/1.x helpers: request-head parsing and response-head writing.
//!
//! Hand-written on purpose: the fault server must be able to produce bytes no real server
//! library would emit. Lenient where leniency is harmless (bare `\n` line endings, obsolete
//! header folding, leading empty lines), strict where a mistake would hide a client bug.

/// A parsed request head.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) version: String,
    pub(crate) headers: Vec<(String, String)>,
}

/// How the request body is delimited.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    Length(usize),
    Chunked,
}

/// Returns the length of the request head including its terminating empty line, once the
/// buffer holds a complete head. Accepts `\r\n` and bare `\n` line endings.
pub(crate) fn find_head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            match buf.get(i + 1..) {
                Some([b'\n', ..]) => return Some(i + 2),
                Some([b'\r', b'\n', ..]) => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Parses a complete request head (as delimited by [`find_head_end`]).
pub(crate) fn parse_head(bytes: &[u8]) -> Result<Head, &'static str> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().ok_or("empty request")?;
    let mut parts = request_line.split_ascii_whitespace();
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("malformed request line");
    };
    if !version.starts_with("HTTP/1.") {
        return Err("unsupported HTTP version");
    }
    if !method
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err("malformed method");
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // Obsolete line folding: continue the previous header's value.
            let (_, value) = headers.last_mut().ok_or("folded line without a header")?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line.split_once(':').ok_or("header line without a colon")?;
        if name.is_empty()
            || name
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err("malformed header name");
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(Head {
        method: method.to_owned(),
        target: target.to_owned(),
        version: version.to_owned(),
        headers,
    })
}

/// All values of header `name` (case-insensitive), in order.
pub(crate) fn header_values<'h, 'n>(
    headers: &'h [(String, String)],
    name: &'n str,
) -> impl Iterator<Item = &'h str> + use<'h, 'n> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// True if any comma-separated token of any `name` header equals `token` (case-insensitive).
pub(crate) fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    header_values(headers, name)
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// How the body of a request with these headers is delimited.
pub(crate) fn request_framing(headers: &[(String, String)]) -> Result<Framing, &'static str> {
    let codings: Vec<&str> = header_values(headers, "transfer-encoding")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(last) = codings.last() {
        return if last.eq_ignore_ascii_case("chunked") {
            Ok(Framing::Chunked)
        } else {
            Err("transfer-encoding without final chunked")
        };
    }
    let mut length = None;
    for value in header_values(headers, "content-length").flat_map(|v| v.split(',')) {
        let n: usize = value.trim().parse().map_err(|_| "invalid content-length")?;
        if length.is_some_and(|l| l != n) {
            return Err("conflicting content-length values");
        }
        length = Some(n);
    }
    Ok(Framing::Length(length.unwrap_or(0)))
}

/// Whether the client asked for the connection to be closed after this exchange.
pub(crate) fn client_wants_close(version: &str, headers: &[(String, String)]) -> bool {
    if has_token(headers, "connection", "close") {
        return true;
    }
    version == "HTTP/1.0" && !has_token(headers, "connection", "keep-alive")
}

/// Parses a chunk-size line (`1a;ext=1` → 26).
pub(crate) fn parse_chunk_size(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line).ok()?;
    let size = text.split(';').next()?.trim();
    if size.is_empty() || size.len() > 15 {
        return None;
    }
    usize::from_str_radix(size, 16).ok()
}

/// Headers the server adds on its own unless the caller already set them.
#[derive(Debug, Default)]
pub(crate) struct AutoHeaders {
    /// Add `Content-Length: n` unless the caller set `Content-Length` or `Transfer-Encoding`.
    pub(crate) content_length: Option<usize>,
    /// Add `Transfer-Encoding: chunked` unless the caller set `Content-Length` or
    /// `Transfer-Encoding`.
    pub(crate) chunked: bool,
    /// Add `Connection: <value>` unless the caller set `Connection`.
    pub(crate) connection: Option<&'static str>,
}

/// Builds a response head: status line, caller headers verbatim, automatic headers, blank line.
pub(crate) fn response_head(
    version: &str,
    status: u16,
    headers: &[(String, String)],
    auto: &AutoHeaders,
) -> Vec<u8> {
    let mut out = format!("{version} {status} {}\r\n", reason_phrase(status));
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    let has = |name: &str| header_values(headers, name).next().is_some();
    let framed_by_caller = has("content-length") || has("transfer-encoding");
    if !framed_by_caller {
        if let Some(n) = auto.content_length {
            out.push_str(&format!("Content-Length: {n}\r\n"));
        } else if auto.chunked {
            out.push_str("Transfer-Encoding: chunked\r\n");
        }
    }
    match auto.connection {
        Some(value) if !has("connection") => {
            out.push_str("Connection: ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        _ => {}
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// The standard reason phrase for `status` (`"Unknown"` for unregistered codes).
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        425 => "Too Early",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn head_end_handles_crlf_and_lf() {
        assert_eq!(
            find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest"),
            Some(24)
        );
        assert_eq!(find_head_end(b"GET / HTTP/1.1\nA: b\n\nrest"), Some(21));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
        assert_eq!(find_head_end(b""), None);
    }

    #[test]
    fn parses_head_with_folding() {
        let head = parse_head(b"POST /v1/x?y=1 HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n")
            .unwrap();
        assert_eq!(head.method, "POST");
        assert_eq!(head.target, "/v1/x?y=1");
        assert_eq!(head.headers, h(&[("Host", "a"), ("X-Long", "one two")]));
        assert!(parse_head(b"GET /\r\n\r\n").is_err());
        assert!(parse_head(b"GET / HTTP/2\r\n\r\n").is_err());
        assert!(parse_head(b"GET / HTTP/1.1\r\nNoColon\r\n\r\n").is_err());
        assert!(parse_head(b"G\xffT / HTTP/1.1\r\n\r\n").is_err());
    }

    #[test]
    fn framing() {
        assert_eq!(request_framing(&h(&[])), Ok(Framing::Length(0)));
        assert_eq!(
            request_framing(&h(&[("content-length", "5")])),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            request_framing(&h(&[("Content-Length", "5, 5")])),
            Ok(Framing::Length(5))
        );
        assert!(request_framing(&h(&[("Content-Length", "5"), ("content-length", "6")])).is_err());
        assert!(request_framing(&h(&[("Content-Length", "-1")])).is_err());
        assert_eq!(
            request_framing(&h(&[
                ("Transfer-Encoding", "gzip, Chunked"),
                ("Content-Length", "3")
            ])),
            Ok(Framing::Chunked)
        );
        assert!(request_framing(&h(&[("Transfer-Encoding", "gzip")])).is_err());
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a"), Some(26));
        assert_eq!(parse_chunk_size(b"0;ext=1"), Some(0));
        assert_eq!(parse_chunk_size(b""), None);
        assert_eq!(parse_chunk_size(b"zz"), None);
        assert_eq!(parse_chunk_size(b"ffffffffffffffffffff"), None);
    }

    #[test]
    fn response_head_auto_headers() {
        let auto = AutoHeaders {
            content_length: Some(2),
            chunked: false,
            connection: Some("keep-alive"),
        };
        let head = response_head("HTTP/1.1", 429, &h(&[("Retry-After", "1")]), &auto);
        assert_eq!(
            head,
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n"
        );
        let head = response_head(
            "HTTP/1.1",
            200,
            &h(&[("content-length", "9"), ("connection", "close")]),
            &auto,
        );
        assert_eq!(
            head,
            b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\n"
        );
    }

    #[test]
    fn close_detection() {
        assert!(client_wants_close(
            "HTTP/1.1",
            &h(&[("Connection", "Close")])
        ));
        assert!(!client_wants_close("HTTP/1.1", &h(&[])));
        assert!(client_wants_close("HTTP/1.0", &h(&[])));
        assert!(!client_wants_close(
            "HTTP/1.0",
            &h(&[("connection", "keep-alive")])
        ));
    }
}
