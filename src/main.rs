//! The `breachdesk` binary: parse arguments, read the environment once, run, map the error
//! to an exit code (table in README and `breachdesk --help`).

use clap::Parser;

fn main() {
    // A closed pipe (`breachdesk audit log | head`) ends the program quietly, as in other
    // command-line tools, instead of reporting a panic.
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
