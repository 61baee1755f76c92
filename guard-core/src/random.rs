//! Random identifiers and secrets from the operating system's CSPRNG.

/// The base62 alphabet used by keys and ids: digits, then upper, then lower case.
pub(crate) const BASE62: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The operating system could not supply random bytes.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(getrandom::Error);

/// `len` characters drawn uniformly from [`BASE62`]: each carries log2(62) ≈ 5.95 bits.
///
/// Bytes of 248 and above are rejected so that `byte % 62` stays uniform.
pub(crate) fn base62(len: usize) -> Result<String, RandomError> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(RandomError)?;
        for &byte in buf.iter().filter(|&&b| b < 248) {
            if out.len() == len {
                break;
            }
            out.push(char::from(BASE62[usize::from(byte % 62)]));
        }
    }
    Ok(out)
}

/// `value` in base62, left-padded with `0` to exactly `width` characters (truncated to the
/// lowest digits if it does not fit).
pub(crate) fn base62_fixed(mut value: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_draws_from_the_alphabet() {
        let s = base62(500).unwrap();
        assert_eq!(s.len(), 500);
        assert!(s.bytes().all(|b| BASE62.contains(&b)));
        assert_ne!(base62(43).unwrap(), base62(43).unwrap());
    }

    #[test]
    fn fixed_width_encoding() {
        assert_eq!(base62_fixed(0, 6), "000000");
        assert_eq!(base62_fixed(61, 3), "00z");
        assert_eq!(base62_fixed(62, 3), "010");
        assert_eq!(base62_fixed(u64::from(u32::MAX), 6), "4gfFC3");
    }
}
