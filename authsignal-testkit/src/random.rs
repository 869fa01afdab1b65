//! Random ids, tokens and codes. A test double needs them unique and
//! unguessable enough, not cryptographically strong: `fastrand` it is.

/// `bytes` random bytes as lower-case hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", fastrand::u8(..)))
        .collect()
}

/// A random UUID v4 in the canonical 8-4-4-4-12 form.
pub(crate) fn uuid_v4() -> String {
    // Version 4 in the 13th hex digit, variant 10 in the 17th.
    let bits = (fastrand::u128(..) & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A random six-digit one-time code (leading zeros kept).
pub(crate) fn otp_code() -> String {
    format!("{:06}", fastrand::u32(..1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(uuid_v4(), uuid_v4());
        assert_eq!(random_hex(20).len(), 40);
        let code = otp_code();
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    }
}
