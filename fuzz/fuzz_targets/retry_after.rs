//! F5: `retry_after` on arbitrary `Retry-After`/`Date` values, plus an
//! oracle mode with two HTTP dates formatted by `httpdate`, each in any of
//! the three forms of RFC 9110 §5.6.7.
//!
//! Input: `[mode]`, then for mode 0: `[len] retry-after [flag] date-rest`;
//! for mode 1: `[d2: i64 BE] [delta: i64 BE] [retry form] [date form]`
//! (form `n % 3`: IMF-fixdate, RFC 850, asctime).
#![no_main]

use std::time::Duration;

use authsignal_core::http::{HeaderMap, HeaderValue, header};
use authsignal_core::retry_after;
use authsignal_fuzz::{DateForm, MAX_HTTP_DATE, Reader, http_date};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = Reader::new(data);
    let mut headers = HeaderMap::new();
    if reader.u8() & 1 == 0 {
        let Ok(retry) = HeaderValue::from_bytes(reader.chunk(255)) else {
            return;
        };
        headers.insert(header::RETRY_AFTER, retry.clone());
        let with_date = reader.u8() & 1 == 0;
        if with_date {
            let Ok(date) = HeaderValue::from_bytes(reader.rest()) else {
                return;
            };
            headers.insert(header::DATE, date);
        }
        let result = retry_after(&headers);
        match retry.to_str().map(str::trim) {
            Ok(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                assert_eq!(result, text.parse::<u64>().ok().map(Duration::from_secs));
            }
            Ok(_) => {
                if !with_date {
                    assert_eq!(result, None, "an HTTP date needs a Date header");
                }
                if let Some(delay) = result {
                    assert!(delay.as_secs() <= MAX_HTTP_DATE as u64);
                }
            }
            Err(_) => assert_eq!(result, None),
        }
    } else {
        let now = reader.i64().rem_euclid(MAX_HTTP_DATE + 1);
        let delta = reader.i64();
        let then = now.saturating_add(delta).clamp(0, MAX_HTTP_DATE);
        let retry = http_date(then, DateForm::from_byte(reader.u8()));
        let date = http_date(now, DateForm::from_byte(reader.u8()));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_str(&retry).unwrap());
        headers.insert(header::DATE, HeaderValue::from_str(&date).unwrap());
        let result = retry_after(&headers);
        if then >= now {
            let expected = Some(Duration::from_secs((then - now) as u64));
            assert_eq!(result, expected, "{retry} vs {date}");
        } else {
            assert_eq!(result, Some(Duration::ZERO), "{retry} vs {date}");
        }
    }
});
