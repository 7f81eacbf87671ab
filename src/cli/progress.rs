//! Progress bars: on a terminal (stderr) only; silent in scripts, pipes and with `--json`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::context::Ctx;
use crate::desk::Progress;

/// A bar for long desk work, hidden unless stderr is a terminal.
pub struct Bar {
    pb: std::sync::Mutex<ProgressBar>,
    shown: bool,
}

impl Bar {
    pub fn new(ctx: &Ctx) -> Bar {
        let shown = ctx.env.stderr_tty && !ctx.json;
        Bar {
            pb: std::sync::Mutex::new(ProgressBar::hidden()),
            shown,
        }
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: u64, bytes: bool) {
        if !self.shown {
            return;
        }
        let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let template = match (bytes, what) {
            (true, _) => {
                "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
                    .to_string()
            }
            (false, "writing") => {
                "{msg} [{bar:30}] {human_pos}/{human_len} rows {per_sec} ETA {eta}".to_string()
            }
            (false, _) => "{spinner} {msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}".to_string(),
        };
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        pb.set_style(style);
        pb.set_message(what.to_string());
        if let Ok(mut cur) = self.pb.lock() {
            *cur = pb;
        }
    }

    fn set(&self, done: u64) {
        if let Ok(pb) = self.pb.lock() {
            pb.set_position(done);
        }
    }

    fn add(&self, n: u64) {
        if let Ok(pb) = self.pb.lock() {
            pb.inc(n);
        }
    }

    fn finish(&self) {
        if let Ok(pb) = self.pb.lock() {
            pb.finish_and_clear();
        }
    }
}
