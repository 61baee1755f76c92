//! Compile-time behaviour of the macros: what compiles, and the exact errors of what does not.
//! Refresh the `.stderr` snapshots with `TRYBUILD=overwrite cargo test -p guard-macros --test ui`
//! and read every diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/*/pass/*.rs");
    t.compile_fail("tests/ui/*/fail/*.rs");
}
