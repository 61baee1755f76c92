//! "Did you mean …?" for misspelt names, by optimal string alignment distance (insertions,
//! deletions, substitutions, transpositions). guard-core says it the same way at run time
//! (`authz::suggest`), for names the admin API and the command line are given.

/// The candidate closest to `name` by edit distance, if it is close enough to be a plausible
/// typo (at most a third of the name's length, and at least one edit allowed).
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

/// The sentence that ends an unknown-name error: a suggestion and what is declared.
pub(crate) fn help<'a>(
    name: &str,
    what: &str,
    declared: impl IntoIterator<Item = &'a str> + Clone,
) -> String {
    let list: Vec<&str> = declared.clone().into_iter().collect();
    let listed = self::declared(what, &list);
    match closest(name, declared) {
        Some(best) => format!("did you mean `{best}`? ({listed})"),
        None => format!("({listed})"),
    }
}

/// What the policy declares of one kind: `declared roles: a, b`.
pub(crate) fn declared(what: &str, names: &[&str]) -> String {
    if names.is_empty() {
        format!("the policy declares no {what}s")
    } else {
        format!("declared {what}s: {}", names.join(", "))
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
    }
}
