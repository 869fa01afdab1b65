//! The `x-signature-v2` header: reading it from a [`http::HeaderMap`],
//! size checks and parsing into a timestamp and candidate signatures.

use super::{MAX_HEADER_LEN, MAX_SIGNATURES, SIGNATURE_HEADER, WebhookError};

/// Decimal digits in `i64::MAX`; a longer `t` cannot be a valid timestamp.
const MAX_TIMESTAMP_DIGITS: usize = 19;

/// The parsed signature header.
pub(super) struct SignatureHeader<'h> {
    pub(super) timestamp: i64,
    pub(super) signatures: Vec<&'h str>,
}

pub(super) fn parse_header(header: &str) -> Result<SignatureHeader<'_>, WebhookError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(WebhookError::HeaderTooLarge {
            reason: "longer than 8192 bytes",
        });
    }

    let mut timestamp: Option<i64> = None;
    let mut signatures: Vec<&str> = Vec::new();

    for item in header.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            // Empty items (a trailing comma) and items without `=` carry no
            // `t` or `v2`; like unknown keys, they are ignored.
            continue;
        };
        let value = value.trim_ascii();
        match key.trim_ascii() {
            "t" => {
                if timestamp.is_some() {
                    return Err(WebhookError::malformed("more than one 't' item"));
                }
                timestamp = Some(parse_timestamp(value)?);
            }
            "v2" => {
                if signatures.len() >= MAX_SIGNATURES {
                    return Err(WebhookError::HeaderTooLarge {
                        reason: "more than 32 'v2' signatures",
                    });
                }
                signatures.push(value);
            }
            // `v1`, a future `v3`, …
            _ => {}
        }
    }

    let Some(timestamp) = timestamp else {
        return Err(WebhookError::malformed("no 't' timestamp"));
    };
    if signatures.is_empty() {
        return Err(WebhookError::malformed("no 'v2' signature"));
    }
    Ok(SignatureHeader {
        timestamp,
        signatures,
    })
}

fn parse_timestamp(value: &str) -> Result<i64, WebhookError> {
    const REASON: &str = "'t' is not a non-negative integer number of seconds";
    if value.is_empty()
        || value.len() > MAX_TIMESTAMP_DIGITS
        || !value.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(WebhookError::malformed(REASON));
    }
    value
        .parse::<i64>()
        .map_err(|_| WebhookError::malformed(REASON))
}

/// Reads the `x-signature-v2` header from `headers` (header names are
/// case-insensitive).
///
/// # Errors
///
/// [`WebhookError::MissingHeader`] when absent; [`WebhookError::MalformedHeader`]
/// when it is present more than once or is not visible ASCII.
///
/// ```
/// use authsignal_core::webhook::{signature_header, WebhookError};
/// use http::{HeaderMap, HeaderValue};
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(signature_header(&headers), Err(WebhookError::MissingHeader));
/// headers.insert("X-Signature-V2", HeaderValue::from_static("t=1,v2=abc"));
/// assert_eq!(signature_header(&headers), Ok("t=1,v2=abc"));
/// ```
pub fn signature_header(headers: &http::HeaderMap) -> Result<&str, WebhookError> {
    let mut values = headers.get_all(SIGNATURE_HEADER).iter();
    let Some(value) = values.next() else {
        return Err(WebhookError::MissingHeader);
    };
    if values.next().is_some() {
        return Err(WebhookError::malformed("header present more than once"));
    }
    value
        .to_str()
        .map_err(|_| WebhookError::malformed("header is not visible ASCII"))
}
