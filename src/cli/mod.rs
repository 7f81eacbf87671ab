//! The command-line front end: clap arguments → typed request → desk → printed output.
//! Nothing here opens a table or reads a record: the use cases are `crate::desk`.

// Every line the command line prints goes through these, in place of the standard macros
// (which panic when standard output is closed or full, after a change was committed): a
// failed write becomes `Error::Output`, so the command ends quietly with exit 141 (closed
// early, e.g. `| head`) or 1 (full), never a panic. Defined before the modules so that they
// shadow the standard ones in every file of the front end.
macro_rules! println {
    () => {
        $crate::cli::output::write_out(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write_out(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

macro_rules! print {
    ($($arg:tt)*) => {
        $crate::cli::output::write_out(format_args!($($arg)*))?
    };
}

// Standard error is best effort: a message that cannot be shown is not a reason to fail.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod args;
mod cmd_assess;
mod cmd_audit;
mod cmd_demo;
mod cmd_exercise;
mod cmd_incident;
mod cmd_laws;
mod cmd_letters;
mod cmd_org;
mod cmd_report;
mod cmd_roster;
mod cmd_serve;
mod cmd_user;
pub mod context;
mod interview;
mod json;
pub mod output;
pub mod parse;
pub mod progress;

use std::path::PathBuf;

use crate::error::{Error, Result};
use args::{Cli, Command};
pub use context::{Ctx, Env, harden_process, parse_instant};

/// Runs one command. Returns the exit code on success (0 unless a check failed).
pub fn run(cli: Cli, env: Env) -> Result<i32> {
    let db_path = cli
        .db
        .clone()
        .or_else(|| env.db.clone())
        .unwrap_or_else(|| PathBuf::from("breachdesk.redb"));
    let on_behalf_of = cli.actor.clone().or_else(|| env.actor.clone());
    let ctx = Ctx {
        db_path,
        on_behalf_of,
        json: cli.json,
        env,
        key_file: cli.key_file.clone(),
        wait: cli.wait,
    };
    match cli.command {
        Command::Demo(a) => cmd_demo::run_demo(&ctx, a, &run),
        Command::Init(a) => cmd_org::init(&ctx, a),
        Command::Org(c) => cmd_org::run(&ctx, c),
        Command::Incident(c) => cmd_incident::run(&ctx, c),
        Command::Assess(a) => cmd_assess::assess(&ctx, a),
        Command::Evaluate(a) => cmd_assess::evaluate(&ctx, a),
        Command::Deadlines(a) => cmd_assess::deadlines(&ctx, a),
        Command::Notice(args::NoticeCommand::Record(a)) => cmd_letters::notice_record(&ctx, a),
        Command::Letters(args::LettersCommand::Check(a)) => cmd_letters::letters_check(&ctx, a),
        Command::Letters(args::LettersCommand::Render(a)) => cmd_letters::letters_render(&ctx, a),
        Command::Letters(args::LettersCommand::Batches { id }) => {
            cmd_letters::letters_batches(&ctx, &id)
        }
        Command::Letters(args::LettersCommand::Approve(a)) => cmd_letters::letters_approve(&ctx, a),
        Command::Letters(args::LettersCommand::Templates(c)) => cmd_letters::templates(&ctx, c),
        Command::Hhs(args::HhsCommand::AnnualLog(a)) => cmd_letters::annual_log(&ctx, a),
        Command::Laws(c) => cmd_laws::run(&ctx, c),
        Command::Report(a) => cmd_report::report(&ctx, a),
        Command::Exercise(c) => cmd_exercise::run(&ctx, c),
        Command::Audit(c) => cmd_audit::run(&ctx, c),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "breachdesk", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|e| Error::io("cannot write the man page", e))?;
            Ok(0)
        }
        Command::Roster(c) => cmd_roster::run(&ctx, c),
        Command::Rekey(a) => cmd_roster::rekey(&ctx, a),
        Command::Compact => cmd_roster::compact(&ctx),
        Command::User(c) => cmd_user::run(&ctx, c),
        Command::Serve(a) => cmd_serve::serve(&ctx, a),
    }
}
