//! "Did you mean …?" for a misspelt role or permission, as the macros say it at compile
//! time: the closest declared name by edit distance (insertions, deletions, substitutions,
//! transpositions), if it is a plausible typo (at most a third of the name's length, at least
//! one edit), and what is declared.

/// The candidate closest to `name`, if it is close enough to be a typo of it.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let budget = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(name, c), c))
        .filter(|&(d, _)| d <= budget)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// What ends an unknown-name message: a suggestion, and what is declared.
pub fn help<'a>(
    name: &str,
    what: &str,
    declared: impl IntoIterator<Item = &'a str> + Clone,
) -> String {
    let list: Vec<&str> = declared.clone().into_iter().collect();
    let listed = if list.is_empty() {
        format!("the policy declares no {what}s")
    } else {
        format!("declared {what}s: {}", list.join(", "))
    };
    match closest(name, declared) {
        Some(best) => format!("did you mean `{best}`? ({listed})"),
        None => format!("({listed})"),
    }
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
        assert_eq!(
            help("admn", "role", roles),
            "did you mean `admin`? (declared roles: viewer, editor, admin)"
        );
        assert_eq!(help("x", "role", []), "(the policy declares no roles)");
    }
}
