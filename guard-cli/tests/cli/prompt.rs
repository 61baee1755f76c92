//! Passwords and confirmations asked at a terminal: a real pseudo-terminal drives the binary
//! as a person would.

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

use crate::common::{Target, demo_file};

/// `guard <target> args` on a pseudo-terminal.
fn spawn(t: &Target, args: &[&str]) -> PtySession {
    rexpect::session::spawn_command(t.command(args), Some(30_000)).expect("a pseudo-terminal")
}

/// Reads to the end and returns what was printed and the exit code.
fn finish(mut session: PtySession) -> (String, i32) {
    let rest = session.exp_eof().expect("the command ends");
    match session.process().wait().expect("its exit status") {
        WaitStatus::Exited(_, code) => (rest, code),
        other => panic!("ended by {other:?}: {rest}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_asked_twice_without_echo_and_deletions_are_confirmed() {
    let (_dir, path) = demo_file().await;
    let t = Target::file(&path);

    // Asked twice; what is typed is not shown.
    let mut add = spawn(&t, &["user", "add", "pat", "--roles", "viewer"]);
    let mut seen = add.exp_string("New password: ").unwrap();
    add.send_line("pat's secret words").unwrap();
    seen += &add.exp_string("The same again: ").unwrap();
    add.send_line("pat's secret words").unwrap();
    let (rest, code) = finish(add);
    seen += &rest;
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("pat") && seen.contains("viewer"), "{seen}");
    assert!(!seen.contains("secret words"), "the password was echoed: {seen}");
    let verify = ["user", "verify-password", "pat", "--password-stdin"];
    t.run_with_input(&verify, "pat's secret words\n").ok();

    // Two different answers: nothing is created.
    let mut add = spawn(&t, &["user", "add", "mo"]);
    add.exp_string("New password: ").unwrap();
    add.send_line("one password").unwrap();
    add.exp_string("The same again: ").unwrap();
    add.send_line("another password").unwrap();
    let (said, code) = finish(add);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("guard: the two passwords differ; nothing was changed"), "{said}");
    t.run(&["user", "show", "mo"]).failed_saying("no user `mo`");

    // Checked at the terminal: asked once.
    let mut verify = spawn(&t, &["user", "verify-password", "pat"]);
    verify.exp_string("Password: ").unwrap();
    verify.send_line("not pat's").unwrap();
    let (said, code) = finish(verify);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("false") && said.contains("the password is not `pat`'s"), "{said}");

    // A deletion is asked about: no keeps it, yes deletes it.
    let mut delete = spawn(&t, &["user", "delete", "pat"]);
    delete.exp_string("[y/N] ").unwrap();
    delete.send_line("n").unwrap();
    let (said, code) = finish(delete);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("nothing was deleted"), "{said}");
    t.run(&["user", "show", "pat"]).ok();
    let mut delete = spawn(&t, &["user", "delete", "pat"]);
    delete.exp_string("Delete user `pat`").unwrap();
    delete.send_line("y").unwrap();
    let (said, code) = finish(delete);
    assert_eq!(code, 0, "{said}");
    t.run(&["user", "show", "pat"]).failed_saying("no user `pat`");
}
