//! The `breachdesk` binary: parse arguments, read the environment once, run, map the error
//! to an exit code (table in README and `breachdesk --help`).

use clap::Parser;

fn main() {
    // Before anything is read: no core dump and no ptrace attachment (keys, passphrase and
    // decrypted PHI live in this process's memory).
    for warning in breachdesk::cli::harden_process() {
        eprintln!("warning: {warning}");
    }
    // The front end prints through fallible writes (a closed or full standard output is an
    // error, not a panic). This hook stays as a backstop: a closed pipe ends the program
    // quietly wherever a write happens.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
    let cli = match breachdesk::cli::args::Cli::try_parse() {
        Ok(cli) => cli,
        // A value that failed its parser (a date, an ID, a kind) is invalid input, like every
        // other validation failure: exit 3 with the parser's message.
        Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation => {
            let msg = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string());
            eprintln!("error: {msg}");
            std::process::exit(breachdesk::error::exit::INVALID_INPUT);
        }
        Err(e) => e.exit(),
    };
    let code =
        match breachdesk::cli::Env::from_process().and_then(|env| breachdesk::cli::run(cli, env)) {
            Ok(code) => code,
            // Output closed early (`| head`): end quietly, as other command-line tools do.
            Err(e @ breachdesk::error::Error::Output(_))
                if e.exit_code() == breachdesk::error::exit::OUTPUT_CLOSED =>
            {
                e.exit_code()
            }
            Err(e) => {
                use std::io::Write as _;
                let _ = writeln!(std::io::stderr(), "error: {e}");
                e.exit_code()
            }
        };
    std::process::exit(code);
}
