//! `guard`: users, keys, roles and the admin secret, on the store the servers use, from a
//! terminal. Exit codes: 0 done, 1 failed (one line on standard error), 2 a usage error.

mod admin;
mod cli;
mod commands;
mod failure;
mod open;
mod output;
mod password;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command, DbCommand};
use crate::failure::Failure;
use crate::output::Out;

fn main() -> ExitCode {
    // Whatever goes wrong is one line and exit code 1, never a backtrace.
    std::panic::set_hook(Box::new(|panic| {
        eprintln!("guard: an internal error: {panic}");
        std::process::exit(1);
    }));
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return failed(&Failure::new(format!("no runtime: {error}"))),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failed(&failure),
    }
}

fn failed(failure: &Failure) -> ExitCode {
    eprintln!("guard: {}", failure.message());
    ExitCode::FAILURE
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let out = Out { format: cli.format };
    // What works without the admin API.
    match &cli.command {
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "guard", &mut script);
            output::write(&String::from_utf8_lossy(&script));
            return Ok(());
        }
        Command::Db(_) if cli.server.is_some() => {
            return Err(Failure::new(
                "db commands work on the store itself, not through a server: stop it first",
            ));
        }
        Command::Db(DbCommand::Copy { from, to, force }) => {
            return commands::db::copy(out, from, to, *force).await;
        }
        Command::Db(DbCommand::Check) => return commands::db::check(out, cli.db()).await,
        _ => {}
    }
    let admin = open::admin(&cli).await?;
    let done = match cli.command {
        Command::User(command) => commands::users::run(&admin, out, command).await,
        Command::Key(command) => commands::keys::run(&admin, out, command).await,
        Command::Roles => commands::other::roles(&admin, out).await,
        Command::AdminSecret(command) => commands::other::admin_secret(&admin, out, command).await,
        Command::Sessions(command) => commands::other::sessions(&admin, out, command).await,
        Command::Db(_) | Command::Completions { .. } => Ok(()), // answered above
    };
    admin.close();
    done
}
