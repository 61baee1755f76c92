//! "Did you mean …?" for misspelt names.

/// The candidate closest to `name` by edit distance, if it is close enough to be a plausible
/// typo (at most a third of the name's length, and at least one edit allowed).
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let budget = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(name, c), c))
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

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
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
