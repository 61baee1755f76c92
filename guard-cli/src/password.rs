//! Passwords and confirmations from the person at the terminal: never from the command line,
//! where other users and the shell's history would see them.

use std::io::{BufRead, IsTerminal, Write};

use crate::failure::Failure;

/// The first line of standard input, without its end of line.
pub(crate) fn line_from_stdin(what: &str) -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::new(format!("the {what} cannot be read: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// A new password: from standard input, or asked twice at the terminal, without echo.
pub(crate) fn new_password(from_stdin: bool) -> Result<String, Failure> {
    if from_stdin {
        return line_from_stdin("password");
    }
    let first = ask("New password: ")?;
    let second = ask("The same again: ")?;
    if first != second {
        return Err(Failure::new("the two passwords differ; nothing was changed"));
    }
    Ok(first)
}

/// A password to check: from standard input, or asked once at the terminal, without echo.
pub(crate) fn password(from_stdin: bool) -> Result<String, Failure> {
    if from_stdin { line_from_stdin("password") } else { ask("Password: ") }
}

fn ask(prompt: &str) -> Result<String, Failure> {
    rpassword::prompt_password(prompt).map_err(|_| {
        Failure::new("no terminal to ask for the password on: give it with --password-stdin")
    })
}

/// Whether the person at the terminal says yes to `question`; without a terminal, no (and
/// `--yes` is what a script passes).
pub(crate) fn confirm(question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(format!("{question} Not without a terminal: pass --yes")));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let answer = line_from_stdin("answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
