//! HMAC-SHA256 over `"{t}.{payload}"` and the base64 form of the tag.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::digest::KeyInit;
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

type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA256 state keyed with one API secret. It is keyed once, when a
/// [`Webhook`](super::Webhook) is built, and cloned for every message. Its
/// `Debug` is redacted.
#[derive(Clone)]
pub(super) struct SigningKey(HmacSha256);

impl SigningKey {
    pub(super) fn new(secret: &ApiSecretKey) -> Self {
        let key = secret.expose_secret().as_bytes();
        // HMAC is defined for keys of every length (RFC 2104 section 2: a key
        // longer than the hash block is hashed first, a shorter one is
        // zero-padded), and `Hmac<Sha256>` implements `new_from_slice` that
        // way: it never returns `InvalidLength`. So this `expect` cannot fire,
        // whatever the key; the property tests key it with lengths 0 to 200.
        #[allow(clippy::expect_used)]
        let mac = <HmacSha256 as KeyInit>::new_from_slice(key)
            .expect("HMAC-SHA256 accepts keys of any length");
        Self(mac)
    }

    /// The MAC state after absorbing `"{t}.{payload}"`, ready to finalize.
    fn absorb(&self, timestamp: i64, payload: &[u8]) -> HmacSha256 {
        let mut mac = self.0.clone();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        mac
    }

    /// Whether any of the decoded `candidates` is this key's tag for
    /// `"{t}.{payload}"`.
    pub(super) fn matches_any(
        &self,
        timestamp: i64,
        payload: &[u8],
        candidates: &[Vec<u8>],
    ) -> bool {
        let absorbed = self.absorb(timestamp, payload);
        // Constant time by construction: this is the only place a computed
        // tag meets a received one, and it goes through `Mac::verify_slice`,
        // which rejects a wrong length and compares the bytes with
        // `subtle::ConstantTimeEq`. Never compare tags with `==`.
        candidates
            .iter()
            .any(|candidate| absorbed.clone().verify_slice(candidate).is_ok())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
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
