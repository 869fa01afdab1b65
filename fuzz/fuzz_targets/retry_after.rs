//! F5: `retry_after` on arbitrary `Retry-After`/`Date` values, plus an
//! oracle mode with two generated IMF-fixdates.
//!
//! Input: `[mode]`, then for mode 0: `[len] retry-after [flag] date-rest`;
//! for mode 1: `[d2: i64 BE] [delta: i64 BE]`.
#![no_main]

use std::time::Duration;

use authsignal_core::http::{HeaderMap, HeaderValue, header};
use authsignal_core::retry_after;
use authsignal_fuzz::{MAX_HTTP_DATE, Reader, imf_fixdate};
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
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&imf_fixdate(then)).unwrap(),
        );
        headers.insert(
            header::DATE,
            HeaderValue::from_str(&imf_fixdate(now)).unwrap(),
        );
        let result = retry_after(&headers);
        if then >= now {
            assert_eq!(result, Some(Duration::from_secs((then - now) as u64)));
        } else {
            assert!(matches!(result, None | Some(Duration::ZERO)), "{result:?}");
        }
    }
});
