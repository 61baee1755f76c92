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

/// `value` in base62, left-padded with `0` to exactly `N` characters (truncated to the
/// lowest digits if it does not fit). On the stack: key verification calls it per request.
pub(crate) fn base62_fixed<const N: usize>(mut value: u64) -> [u8; N] {
    let mut digits = [b'0'; N];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits
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
        assert_eq!(&base62_fixed::<6>(0), b"000000");
        assert_eq!(&base62_fixed::<3>(61), b"00z");
        assert_eq!(&base62_fixed::<3>(62), b"010");
        assert_eq!(&base62_fixed::<6>(u64::from(u32::MAX)), b"4gfFC3");
    }
}
