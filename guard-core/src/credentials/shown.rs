//! Names people read in listings (a user's, a key's): no character that is invisible or that
//! reorders the text around it, so that a listing shows what is there. A name like
//! `admin\u{202E}txt.exe` (right-to-left override) or one padded with zero-width joiners could
//! otherwise pass for another.

/// Whether `name` shows as what it is: no control characters, no invisible formatting and
/// no bidirectional controls.
pub fn displayable(name: &str) -> bool {
    !name.chars().any(|c| c.is_control() || hidden_or_reordering(c))
}

/// Unicode's format characters that are invisible or reorder text: bidirectional marks,
/// embeddings, overrides and isolates; zero-width spaces, joiners and non-joiners; the word
/// joiner and invisible operators; the byte-order mark; the soft hyphen; interlinear
/// annotation controls.
fn hidden_or_reordering(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_reordering_characters_are_refused() {
        for shown in ["ann", "Zoë", "José María", "Ｆｕｌｌ", "日本語", "ops key #2"] {
            assert!(displayable(shown), "{shown:?}");
        }
        for hidden in [
            "admin\u{202E}txt",
            "a\u{200D}dmin",
            "ad\u{200B}min",
            "\u{2066}x\u{2069}",
            "\u{FEFF}ann",
            "a\u{00AD}b",
            "a\u{200F}b",
            "a\nb",
        ] {
            assert!(!displayable(hidden), "{hidden:?}");
        }
    }
}
