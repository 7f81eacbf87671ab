//! Progress bars: on a terminal (stderr) only; silent in scripts and pipes.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Ctx;

/// A bar of `total` items (a spinner when 0), hidden unless stderr is a terminal.
pub fn bar(ctx: &Ctx, total: u64, what: &str) -> ProgressBar {
    if !ctx.env.stderr_tty || ctx.json {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(&format!(
        "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} {{per_sec}} eta {{eta}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    pb.set_style(style);
    pb
}

/// A bar measured in bytes (file imports); its message can be changed as work moves on.
pub fn bytes_bar(ctx: &Ctx, total: u64, what: &str) -> ProgressBar {
    if !ctx.env.stderr_tty || ctx.json {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}
