//! HMAC-SHA256 over `"{t}.{payload}"` and the base64 form of the tag.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::digest::{Digest as _, KeyInit};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::ApiSecretKey;

/// Longest base64 text (with padding) that can encode a SHA-256 digest.
const MAX_SIGNATURE_B64_LEN: usize = 44;

/// Standard alphabet; encodes without `=`, decodes with or without it, and
/// rejects non-canonical trailing bits.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(super) type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA256 state keyed with one API secret. Its `Debug` is redacted.
#[derive(Clone)]
pub(super) struct SigningKey(HmacSha256);

impl SigningKey {
    pub(super) fn new(secret: &ApiSecretKey) -> Self {
        Self(keyed_hmac(secret.expose_secret().as_bytes()))
    }

    /// The MAC state after absorbing `"{t}.{payload}"`, ready to finalize.
    pub(super) fn absorb(&self, timestamp: i64, payload: &[u8]) -> HmacSha256 {
        let mut mac = self.0.clone();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        mac
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// HMAC-SHA256 keyed with `key`, built without a fallible call: the key is
/// normalized to one SHA-256 block exactly as RFC 2104 specifies (hashed when
/// longer than a block, then zero-padded), which is what
/// `Hmac::new_from_slice` does internally.
fn keyed_hmac(key: &[u8]) -> HmacSha256 {
    let mut block = hmac::digest::Key::<HmacSha256>::default();
    let hashed;
    let key = if key.len() > block.len() {
        hashed = Sha256::digest(key);
        hashed.as_slice()
    } else {
        key
    };
    for (dst, src) in block.iter_mut().zip(key) {
        *dst = *src;
    }
    <HmacSha256 as KeyInit>::new(&block)
}

/// Decodes one `v2` candidate; `None` if it cannot possibly be a SHA-256 MAC.
pub(super) fn decode_signature(candidate: &str) -> Option<Vec<u8>> {
    if candidate.is_empty() || candidate.len() > MAX_SIGNATURE_B64_LEN {
        return None;
    }
    BASE64.decode(candidate).ok()
}

/// Signs `payload` as Authsignal does and returns the complete
/// `x-signature-v2` header value, `t=<timestamp>,v2=<signature>`.
///
/// Use it in your own tests to produce requests that [`Webhook`](super::Webhook) accepts.
/// `timestamp` is Unix seconds; a negative one gives a header that no verifier
/// accepts (the format requires a non-negative `t`).
///
/// ```
/// use authsignal_core::ApiSecretKey;
/// use authsignal_core::webhook::{sign, Webhook};
///
/// let secret = ApiSecretKey::new("test-secret-key-123");
/// let header = sign(&secret, b"{}", 1630000000);
/// assert_eq!(header, "t=1630000000,v2=5A34twV5yi1Tr0WX6lDL2A6Q0HumnxL7eWzln9LqYKI");
/// assert!(Webhook::new(secret).verify(b"{}", &header, 1630000000).is_ok());
/// ```
#[must_use]
pub fn sign(secret: &ApiSecretKey, payload: &[u8], timestamp: i64) -> String {
    let tag = SigningKey::new(secret)
        .absorb(timestamp, payload)
        .finalize()
        .into_bytes();
    format!("t={timestamp},v2={}", BASE64.encode(tag))
}
