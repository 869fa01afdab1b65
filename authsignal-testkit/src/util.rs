//! Small helpers: percent-decoding, query parsing, randomness and time
//! formatting. Everything here is dependency-free and never panics.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Decodes `%XX` escapes in one path segment. `+` stays a literal plus.
///
/// Returns `None` for a malformed escape or for bytes that are not UTF-8.
pub(crate) fn percent_decode(input: &str) -> Option<String> {
    decode_bytes(input.as_bytes(), false)
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space).
pub(crate) fn form_decode(input: &str) -> Option<String> {
    decode_bytes(input.as_bytes(), true)
}

fn decode_bytes(input: &[u8], plus_is_space: bool) -> Option<String> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' => {
                let hi = hex_value(*input.get(i + 1)?)?;
                let lo = hex_value(*input.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Parses a query string into `(name, value)` pairs, form-decoding both.
///
/// Returns `None` when any component is malformed.
pub(crate) fn parse_query(query: &str) -> Option<Vec<(String, String)>> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((form_decode(name)?, form_decode(value)?))
        })
        .collect()
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 64 unpredictable-enough bits for a test double: std's randomly keyed
/// SipHash over a process-wide counter and the current time.
pub(crate) fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.finish()
}

/// `bytes` random bytes as lower-case hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    let mut remaining = bytes;
    while remaining > 0 {
        let chunk = random_u64().to_be_bytes();
        for byte in chunk.iter().take(remaining.min(8)) {
            out.push_str(&format!("{byte:02x}"));
        }
        remaining = remaining.saturating_sub(8);
    }
    out
}

/// A random UUID v4 in the canonical 8-4-4-4-12 form.
pub(crate) fn uuid_v4() -> String {
    let hi = random_u64();
    let lo = random_u64();
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// A random six-digit one-time code (leading zeros kept).
pub(crate) fn otp_code() -> String {
    format!("{:06}", random_u64() % 1_000_000)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// Formats Unix milliseconds as RFC 3339 UTC, e.g. `2025-02-20T01:51:56.070Z`.
pub(crate) fn format_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Parses an RFC 3339 / ISO-8601 date or date-time into Unix milliseconds.
///
/// Accepts `YYYY-MM-DD`, and `YYYY-MM-DDTHH:MM[:SS[.fraction]]` followed by
/// `Z`, `±HH:MM`, `±HHMM` or nothing (read as UTC). A space may replace `T`.
pub(crate) fn parse_datetime(input: &str) -> Option<i64> {
    let s = input.trim().as_bytes();
    let year = digits(s, 0, 4)?;
    expect(s, 4, b'-')?;
    let month = digits(s, 5, 2)?;
    expect(s, 7, b'-')?;
    let day = digits(s, 8, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if s.len() == 10 {
        return Some(days * 86_400_000);
    }
    if !matches!(s.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = digits(s, 11, 2)?;
    expect(s, 13, b':')?;
    let minute = digits(s, 14, 2)?;
    let mut pos = 16;
    let mut second = 0;
    let mut millis = 0;
    if s.get(pos) == Some(&b':') {
        second = digits(s, pos + 1, 2)?;
        pos += 3;
        if s.get(pos) == Some(&b'.') {
            pos += 1;
            let start = pos;
            let mut scale = 100;
            while let Some(d) = s.get(pos).filter(|b| b.is_ascii_digit()) {
                millis += i64::from(d - b'0') * scale;
                scale /= 10;
                pos += 1;
            }
            if pos == start {
                return None;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_minutes = match s.get(pos) {
        None => 0,
        Some(b'Z' | b'z') if s.len() == pos + 1 => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = digits(s, pos + 1, 2)?;
            let om = match s.get(pos + 3) {
                Some(b':') if s.len() == pos + 6 => digits(s, pos + 4, 2)?,
                Some(_) if s.len() == pos + 5 => digits(s, pos + 3, 2)?,
                None => 0,
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let total = oh * 60 + om;
            if *sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

fn digits(s: &[u8], start: usize, len: usize) -> Option<i64> {
    let slice = s.get(start..start + len)?;
    slice.iter().try_fold(0i64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

fn expect(s: &[u8], pos: usize, byte: u8) -> Option<()> {
    (s.get(pos) == Some(&byte)).then_some(())
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Shift the year so that it starts in March: the leap day is then the
    // last day of the shifted year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y.rem_euclid(400);
    let shifted_month = (month + 9) % 12; // March = 0
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Whether `code` is a valid action code: `^[a-zA-Z0-9_-]{1,64}$`.
pub(crate) fn is_valid_action_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%E2%9C%93").as_deref(), Some("\u{2713}"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%FF"), None);
        assert_eq!(form_decode("a+b%40c").as_deref(), Some("a b@c"));
    }

    #[test]
    fn query_parsing() {
        let pairs = parse_query("email=test%40example.com&phoneNumber=%2B1&&flag").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("email".into(), "test@example.com".into()),
                ("phoneNumber".into(), "+1".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(parse_query("a=%"), None);
    }

    #[test]
    fn time_round_trip() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        let t = parse_datetime("2025-02-20T01:51:56.070Z").unwrap();
        assert_eq!(t, 1_740_016_316_070);
        assert_eq!(format_millis(t), "2025-02-20T01:51:56.070Z");
        assert_eq!(parse_datetime("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(
            parse_datetime("2025-02-20T03:51:56+02:00"),
            Some(1_740_016_316_000)
        );
        assert_eq!(parse_datetime("2023-02-29"), None);
        assert_eq!(parse_datetime("nonsense"), None);
        assert_eq!(parse_datetime("2025-02-20T01:51:56Zjunk"), None);
        for days in [-800_000, -1, 0, 59, 60, 11_016, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn random_values_look_right() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(uuid_v4(), uuid_v4());
        assert_eq!(random_hex(20).len(), 40);
        let code = otp_code();
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn action_codes() {
        assert!(is_valid_action_code("signIn"));
        assert!(is_valid_action_code("a-b_C9"));
        assert!(!is_valid_action_code(""));
        assert!(!is_valid_action_code("sign in"));
        assert!(!is_valid_action_code(&"a".repeat(65)));
    }
}
