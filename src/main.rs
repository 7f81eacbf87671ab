//! The `breachdesk` binary: parse arguments, read the environment once, run, map the error
//! to an exit code (table in README and `breachdesk --help`).

use clap::Parser;

fn main() {
    let cli = breachdesk::cli::args::Cli::parse();
    let code =
        match breachdesk::cli::Env::from_process().and_then(|env| breachdesk::cli::run(cli, env)) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                e.exit_code()
            }
        };
    std::process::exit(code);
}
