//! Shared input decoding and oracles for the fuzz targets.
//!
//! Inputs are sliced by hand (see [`Reader`]) so that seed files are easy to
//! write: a fixed prefix of control bytes, then the body.

use authsignal_core::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use std::{any::TypeId, sync::LazyLock};

use authsignal_core::{Endpoint, EndpointInfo, EndpointVisitor, Error, visit_endpoints};

/// Longest `Display` of an error built from a response, in bytes.
pub const MAX_DISPLAY_BYTES: usize = 600;

/// Reads control values from the front of the input; past the end every
/// read yields zeros / empty slices.
#[derive(Debug)]
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self(data)
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }

    /// One byte (0 at the end).
    pub fn u8(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }

    /// A big-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// A big-endian i64.
    pub fn i64(&mut self) -> i64 {
        let mut buf = [0u8; 8];
        let head = self.bytes(8);
        buf[..head.len()].copy_from_slice(head);
        i64::from_be_bytes(buf)
    }

    /// A length byte, then that many bytes.
    pub fn chunk(&mut self, max: u8) -> &'a [u8] {
        let len = usize::from(self.u8() % max);
        self.bytes(len)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

/// A status in 100..=599 from two bytes.
pub fn status(reader: &mut Reader<'_>) -> StatusCode {
    StatusCode::from_u16(100 + reader.u16() % 500).unwrap()
}

/// Up to five headers: `[count] ([kind] [len] value)*`. Kinds 0..=2 are
/// `Retry-After`, `Date`, `Content-Type`; 3 takes its name from the input.
/// Invalid names or values are skipped.
pub fn headers(reader: &mut Reader<'_>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for _ in 0..reader.u8() % 6 {
        let name = match reader.u8() % 4 {
            0 => Some(header::RETRY_AFTER),
            1 => Some(header::DATE),
            2 => Some(header::CONTENT_TYPE),
            _ => HeaderName::from_bytes(reader.chunk(16)).ok(),
        };
        let value = HeaderValue::from_bytes(reader.chunk(64));
        if let (Some(name), Ok(value)) = (name, value) {
            map.append(name, value);
        }
    }
    map
}

/// A response with `status`, `headers` and `body`.
pub fn response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Response<Vec<u8>> {
    let mut response = Response::new(body.to_vec());
    *response.status_mut() = status;
    *response.headers_mut() = headers.clone();
    response
}

/// `parse_response` of one endpoint's example request, its output dropped.
pub type Parse = Box<dyn Fn(Response<Vec<u8>>) -> Result<(), Error> + Send + Sync>;

/// One endpoint's parser.
pub struct Case {
    /// The endpoint's name.
    pub name: &'static str,
    /// Whether every 2xx body is accepted (deletes, revocations).
    pub ignores_body: bool,
    /// `parse_response` of the endpoint's example request.
    pub parse: Parse,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every endpoint of the SDK, as core lists them.
pub fn endpoints() -> &'static [Case] {
    struct Collect(Vec<Case>);
    impl EndpointVisitor for Collect {
        fn visit<E>(&mut self, _info: EndpointInfo, example: E)
        where
            E: Endpoint + Send + Sync + 'static,
            E::Output: 'static,
        {
            self.0.push(Case {
                name: E::NAME,
                ignores_body: TypeId::of::<E::Output>() == TypeId::of::<()>(),
                parse: Box::new(move |response| example.parse_response(response).map(drop)),
            });
        }
    }
    static CASES: LazyLock<Vec<Case>> = LazyLock::new(|| {
        let mut collect = Collect(Vec::new());
        visit_endpoints(&mut collect);
        collect.0
    });
    &CASES
}

/// Whether `body` is a JSON object (as the error parser must see it).
pub fn is_json_object(body: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<serde_json::Value>(body),
        Ok(serde_json::Value::Object(_))
    )
}

/// Longest error code kept from an error body, in bytes.
pub const CODE_CAP: usize = 64;

/// Longest error description kept from an error body, in bytes.
pub const DESCRIPTION_CAP: usize = 400;

/// Whether `got` is `full` capped at `max` bytes: unchanged when it fits,
/// otherwise the longest prefix (on a character boundary) that fits together
/// with a trailing `…`.
pub fn is_capped(full: &str, got: &str, max: usize) -> bool {
    if full.len() <= max {
        return got == full;
    }
    let Some(prefix) = got.strip_suffix('…') else {
        return false;
    };
    let ellipsis = '…'.len_utf8();
    got.len() <= max
        && full.starts_with(prefix)
        && full[prefix.len()..]
            .chars()
            .next()
            .is_some_and(|next| prefix.len() + next.len_utf8() + ellipsis > max)
}

/// Checks an error built from a non-2xx response of `status`.
pub fn check_error(status: StatusCode, headers: &HeaderMap, body: &[u8], error: &Error) {
    assert_eq!(error.status(), Some(status), "{error:?}");
    assert_eq!(error.attempts(), 1);
    assert!(error.to_string().len() <= MAX_DISPLAY_BYTES, "{error:?}");
    let not_error_status = status.is_informational() || status.is_redirection();
    match error {
        Error::UnexpectedResponse(e) => {
            assert!(
                status.is_informational() || status.is_redirection() || !is_json_object(body),
                "a JSON object error body gave {e:?}"
            );
            assert!(e.excerpt.chars().count() <= 200, "excerpt too long");
            assert!(!e.excerpt.chars().any(|c| c.is_control() && c != '\n'));
            // A gateway's 429/503 page keeps its Retry-After.
            let expected = if not_error_status {
                None
            } else {
                authsignal_core::retry_after(headers)
            };
            assert_eq!(e.retry_after, expected);
            assert_eq!(error.retry_after(), expected);
        }
        Error::Api(e) => {
            assert!(status.is_client_error() || status.is_server_error());
            assert!(is_json_object(body), "a non-object body gave {e:?}");
            assert_eq!(e.retry_after, authsignal_core::retry_after(headers));
            let fields: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(body).unwrap();
            let text = |key: &str| match fields.get(key) {
                Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.as_str()),
                _ => None,
            };
            let expected = text("errorCode").or_else(|| text("error"));
            let code = e.code.as_ref().map(|c| c.as_str());
            assert_eq!(code.is_some(), expected.is_some());
            if let (Some(code), Some(full)) = (code, expected) {
                assert!(is_capped(full, code, CODE_CAP), "{full:?} -> {code:?}");
            }
            let description = text("errorDescription");
            assert_eq!(e.description.is_some(), description.is_some());
            if let (Some(got), Some(full)) = (&e.description, description) {
                assert!(is_capped(full, got, DESCRIPTION_CAP), "{full:?} -> {got:?}");
            }
        }
        other => panic!("HTTP {status} gave {other:?}"),
    }
}

/// 9999-12-31T23:59:59Z.
pub const MAX_HTTP_DATE: i64 = 253_402_300_799;

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn month_len(year: i64, month0: usize) -> i64 {
    const LEN: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    LEN[month0] + i64::from(month0 == 1 && is_leap(year))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for Unix seconds 0 ≤ `t` ≤ [`MAX_HTTP_DATE`]:
/// whole 400-year cycles (146 097 days), then years, then months.
pub fn imf_fixdate(t: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    assert!((0..=MAX_HTTP_DATE).contains(&t));
    let days = t / 86_400;
    let secs = t % 86_400;
    let mut year = 1970 + 400 * (days / 146_097);
    let mut rest = days % 146_097;
    loop {
        let len = if is_leap(year) { 366 } else { 365 };
        if rest < len {
            break;
        }
        rest -= len;
        year += 1;
    }
    let mut month0 = 0;
    while rest >= month_len(year, month0) {
        rest -= month_len(year, month0);
        month0 += 1;
    }
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[usize::try_from((days + 4) % 7).unwrap()];
    format!(
        "{weekday}, {:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        rest + 1,
        MONTHS[month0],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Whether `b` is an RFC 3986 unreserved byte.
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Decodes a canonical encoded segment (unreserved bytes and upper-case
/// `%XX` of reserved bytes only); `None` for anything else.
pub fn decode_segment(segment: &str) -> Option<Vec<u8>> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = (hex(*bytes.get(i + 1)?)? << 4) | hex(*bytes.get(i + 2)?)?;
            if is_unreserved(byte) {
                return None;
            }
            out.push(byte);
            i += 3;
        } else if is_unreserved(bytes[i]) {
            out.push(bytes[i]);
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixdate_known_answers() {
        assert_eq!(
            super::imf_fixdate(784_111_777),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            super::imf_fixdate(super::MAX_HTTP_DATE),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }
}
