//! User names: shown as given, compared after Unicode normalisation (NFKC) and in lower
//! case, so that `Ann`, `ANN` and `Ａｎｎ` are one name.

use compact_str::CompactString;
use unicode_normalization::UnicodeNormalization;

/// The longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Why a name cannot be a user's.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error(
    "a user name is 1 to {MAX_NAME_CHARS} characters, without control, invisible or direction-changing characters, or spaces at either end"
)]
pub struct InvalidName;

/// The name as it is compared; an error for a name no user may have.
pub fn normalize(name: &str) -> Result<CompactString, InvalidName> {
    let chars = name.chars().count();
    let valid = (1..=MAX_NAME_CHARS).contains(&chars)
        && crate::credentials::shown::displayable(name)
        && name.trim() == name;
    if !valid {
        return Err(InvalidName);
    }
    let normalized: String = name.nfkc().collect::<String>().to_lowercase();
    Ok(CompactString::from(normalized))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_name_however_it_is_written() {
        assert_eq!(normalize("Ann").unwrap(), "ann");
        assert_eq!(normalize("ANN").unwrap(), normalize("ann").unwrap());
        assert_eq!(normalize("Ａｎｎ").unwrap(), "ann", "full-width letters");
        assert_eq!(normalize("Zoë").unwrap(), normalize("Zoe\u{308}").unwrap(), "composed or not");
        for bad in ["", " ann", "ann ", "a\nb", "a\u{0}b", "adm\u{202E}in", "a\u{200D}nn"] {
            assert_eq!(normalize(bad), Err(InvalidName), "{bad:?}");
        }
        assert!(normalize(&"x".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(normalize(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
