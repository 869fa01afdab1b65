//! F4: `Webhook::verify` end to end, with an oracle: it never returns `Ok`
//! unless the header carries `sign(..)`'s signature for the payload and the
//! header's own `t`, within five minutes of `now`; and a header made by
//! `sign` for a fresh `t` is always accepted.
//!
//! Input: `[mode] [t: i64 BE] [skew: u16 BE] [len] extra payload-rest`.
#![no_main]

use authsignal_core::ApiSecretKey;
use authsignal_core::webhook::{Webhook, sign};
use authsignal_fuzz::Reader;
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "sk_fuzz_webhook_secret";

/// The `v2` value `sign` produces for `payload` at `t`.
fn expected_signature(secret: &ApiSecretKey, payload: &[u8], t: i64) -> String {
    let header = sign(secret, payload, t);
    header.split_once(",v2=").unwrap().1.to_owned()
}

fuzz_target!(|data: &[u8]| {
    let secret = ApiSecretKey::new(SECRET);
    let mut reader = Reader::new(data);
    let mode = reader.u8();
    let t = match mode >> 4 {
        0 => reader.i64(),
        // Mostly plausible, non-negative times.
        _ => reader.i64().rem_euclid(4_000_000_000),
    };
    // now = t + skew, skew in -512..=511: straddles the 300 s tolerance.
    let now = t.saturating_add(i64::from(reader.u16() % 1024) - 512);
    let extra = String::from_utf8_lossy(reader.chunk(255)).into_owned();
    let payload = reader.rest();

    let signed = sign(&secret, payload, t);
    let header = match mode % 8 {
        0 => extra.clone(),
        1 => signed.clone(),
        2 => format!("{signed},{extra}"),
        3 => format!("{extra},{signed}"),
        4 => {
            // One character of the signed header replaced.
            let mut chars: Vec<char> = signed.chars().collect();
            let at = usize::from(reader_byte(&extra, 0)) % chars.len();
            chars[at] = char::from(reader_byte(&extra, 1) % 0x80);
            chars.into_iter().collect()
        }
        5 => format!("t={extra},v2={}", expected_signature(&secret, payload, t)),
        6 => signed.replace(",v2=", &format!(",{extra},v2=")),
        _ => format!("{extra}{signed}"),
    };

    let webhook = Webhook::new(secret.clone());
    let result = webhook.verify(payload, &header, now);

    if let Ok(verified) = &result {
        // Oracle: exactly one `t` item, the signature for it, and fresh.
        let items: Vec<(&str, &str)> = header
            .split(',')
            .filter_map(|item| item.split_once('='))
            .map(|(k, v)| (k.trim_ascii(), v.trim_ascii()))
            .collect();
        let ts: Vec<&str> = items
            .iter()
            .filter(|(k, _)| *k == "t")
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(
            ts.len(),
            1,
            "accepted with {} 't' items: {header:?}",
            ts.len()
        );
        let header_t: i64 = ts[0].parse().expect("accepted a non-numeric t");
        assert!(ts[0].bytes().all(|b| b.is_ascii_digit()), "t {:?}", ts[0]);
        assert_eq!(verified.timestamp(), header_t);
        assert!(
            (i128::from(now) - i128::from(header_t)).abs() <= 300,
            "accepted t={header_t} at now={now}"
        );
        let expected = expected_signature(&secret, payload, header_t);
        assert!(
            header.contains(&expected),
            "accepted without the signature: {header:?}"
        );
        let padded = format!("{expected}=");
        assert!(
            items
                .iter()
                .any(|(k, v)| *k == "v2" && (*v == expected || *v == padded)),
            "no v2 item equals the signature: {header:?}"
        );
        // Skipping the time check can only accept more.
        assert!(webhook.verify_ignoring_timestamp(payload, &header).is_ok());
        // Decoding the verified payload never panics.
        let _ = verified.event();
        let _ = verified.log_event_batch();
    }

    // Completeness: a header straight from `sign`, fresh and non-negative, passes.
    if mode % 8 == 1 && t >= 0 && (i128::from(now) - i128::from(t)).abs() <= 300 {
        assert!(result.is_ok(), "rejected a fresh signed header: {result:?}");
    }
});

/// Byte `i` of `s`, or 0.
fn reader_byte(s: &str, i: usize) -> u8 {
    s.as_bytes().get(i).copied().unwrap_or(0)
}
