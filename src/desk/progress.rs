//! Progress of long work (a roster import, bulk letters), reported to whatever shows it: a
//! bar on a terminal, nothing in a script, a page that polls on the web.

/// What a front end shows of long work. Every method has a silent default.
pub trait Progress: Sync {
    /// A phase of `total` units begins (`bytes`: the units are bytes of a file); `what`
    /// names it ("checking", "importing", "writing", "letters").
    fn start(&self, what: &str, total: u64, bytes: bool) {
        let _ = (what, total, bytes);
    }
    /// Units done so far in this phase.
    fn set(&self, done: u64) {
        let _ = done;
    }
    /// More units done.
    fn add(&self, n: u64) {
        let _ = n;
    }
    /// The phase is over (clear the bar).
    fn finish(&self) {}
}

/// Shows nothing.
pub struct Silent;

impl Progress for Silent {}
