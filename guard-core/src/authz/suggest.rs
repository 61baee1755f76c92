//! "Did you mean …?" for a misspelt role, at run time: the closest declared name by edit
//! distance (insertions, deletions, substitutions, transpositions), if it is a plausible typo
//! (at most a third of the name's length, at least one edit). The macros apply the same rule
//! at compile time (`guard-macros/src/suggest.rs`: a proc-macro crate does not depend on
//! this one); the tests of both pin the same answers.

/// The candidate closest to `name`, if it is close enough to be a typo of it.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let budget = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(name, c), c))
        .filter(|&(d, _)| d <= budget)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_plausible_typos_only() {
        let roles = ["viewer", "editor", "admin"];
        assert_eq!(closest("admn", roles), Some("admin"));
        assert_eq!(closest("veiwer", roles), Some("viewer"));
        assert_eq!(closest("root", roles), None);
    }
}
