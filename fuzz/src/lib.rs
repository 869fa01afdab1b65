//! Shared input decoding and oracles for the fuzz targets.
//!
//! Inputs are sliced by hand (see [`Reader`]) so that seed files are easy to
//! write: a fixed prefix of control bytes, then the body.

use authsignal_core::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use percent_encoding::percent_decode_str;
use std::{
    any::TypeId,
    sync::LazyLock,
    time::{Duration, UNIX_EPOCH},
};

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

/// 9999-12-31T23:59:59Z, the last instant a four-digit year can name.
pub const MAX_HTTP_DATE: i64 = 253_402_300_799;

/// The three HTTP-date forms of RFC 9110 §5.6.7.
#[derive(Debug, Clone, Copy)]
pub enum DateForm {
    /// `Sun, 06 Nov 1994 08:49:37 GMT`
    ImfFixdate,
    /// `Sunday, 06-Nov-94 08:49:37 GMT`
    Rfc850,
    /// `Sun Nov  6 08:49:37 1994`
    Asctime,
}

impl DateForm {
    /// One of the three forms, picked by a control byte.
    pub fn from_byte(byte: u8) -> Self {
        match byte % 3 {
            0 => Self::ImfFixdate,
            1 => Self::Rfc850,
            _ => Self::Asctime,
        }
    }
}

/// Unix seconds 0 ≤ `t` ≤ [`MAX_HTTP_DATE`] as an HTTP date: the IMF-fixdate
/// that `httpdate` formats, its fields rearranged for the obsolete forms. An
/// RFC 850 two-digit year stands for 1970..=2069, so other years keep the
/// IMF-fixdate.
pub fn http_date(t: i64, form: DateForm) -> String {
    let secs = u64::try_from(t).expect("a date after 1970");
    let imf = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
    let (weekday, day, month, year, time) = (
        &imf[0..3],
        &imf[5..7],
        &imf[8..11],
        &imf[12..16],
        &imf[17..25],
    );
    match form {
        DateForm::Rfc850 if (1970..=2069).contains(&year.parse::<u32>().unwrap()) => {
            let weekday = match weekday {
                "Mon" => "Monday",
                "Tue" => "Tuesday",
                "Wed" => "Wednesday",
                "Thu" => "Thursday",
                "Fri" => "Friday",
                "Sat" => "Saturday",
                _ => "Sunday",
            };
            format!("{weekday}, {day}-{month}-{} {time} GMT", &year[2..])
        }
        DateForm::Asctime => {
            let day = day.trim_start_matches('0');
            format!("{weekday} {month} {day:>2} {time} {year}")
        }
        _ => imf,
    }
}

/// Whether `b` is an RFC 3986 §2.3 unreserved byte (`A-Z a-z 0-9 - . _ ~`).
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

/// Asserts that `segment` is the one canonical encoding of `value` (RFC 3986
/// §6.2.2): `percent-encoding` decodes it to exactly `value`'s bytes; it
/// holds only unreserved characters and `%XX` triples with upper-case hex;
/// and it has one triple per byte of `value` outside the unreserved set, so
/// no unreserved byte is escaped and nothing is left raw that should not be.
pub fn assert_canonical_segment(segment: &str, value: &str) {
    let decoded: Vec<u8> = percent_decode_str(segment).collect();
    assert_eq!(decoded, value.as_bytes(), "{segment}");
    assert!(
        segment.bytes().all(|b| is_unreserved(b) || b == b'%'),
        "{segment}"
    );
    for escape in segment.split('%').skip(1) {
        let hex = escape.as_bytes().get(..2).unwrap_or_default();
        assert!(
            hex.len() == 2 && hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')),
            "{segment}"
        );
    }
    let reserved = value.bytes().filter(|&b| !is_unreserved(b)).count();
    assert_eq!(segment.matches('%').count(), reserved, "{segment}");
}
