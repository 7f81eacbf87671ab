//! Who holds a database: `breachdesk serve` leaves a small note beside the file while it
//! runs (`<db>.serving`: process id, address, start time; no PHI), so that a command run on
//! the same file meanwhile can say that the server owns it, and where, instead of a bare
//! "in use" error. The database's own file lock (redb) is what excludes a second process;
//! the note only explains it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The note's path: `<db>.serving`.
pub fn note_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".serving");
    PathBuf::from(s)
}

/// What the note says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerNote {
    pub pid: u32,
    /// Where the server listens, as a URL (`https://10.0.0.5:8443`).
    pub url: String,
    pub since: DateTime<Utc>,
}

/// The note, written when the server starts (it already holds the database) and removed
/// when the guard is dropped at shutdown.
pub struct NoteGuard {
    path: PathBuf,
}

impl NoteGuard {
    pub fn write(db: &Path, note: &ServerNote) -> Result<NoteGuard> {
        let path = note_path(db);
        let json = serde_json::to_string_pretty(note).map_err(|e| Error::Storage(e.to_string()))?;
        std::fs::write(&path, json + "\n")
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        Ok(NoteGuard { path })
    }
}

impl Drop for NoteGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The note beside `db`, when one is there and its process still runs.
pub fn serving(db: &Path) -> Option<ServerNote> {
    let text = std::fs::read_to_string(note_path(db)).ok()?;
    let note: ServerNote = serde_json::from_str(&text).ok()?;
    alive(note.pid).then_some(note)
}

#[cfg(target_os = "linux")]
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(not(target_os = "linux"))]
fn alive(_pid: u32) -> bool {
    true
}

/// A "database in use" error explained by the note, when there is one.
pub fn explain_lock(e: Error) -> Error {
    match e {
        Error::Locked { path } => match serving(&path) {
            Some(n) => Error::Served {
                by: format!(
                    "process {} at {}, since {}",
                    n.pid,
                    n.url,
                    n.since.format("%Y-%m-%d %H:%M UTC")
                ),
                path,
            },
            None => Error::Locked { path },
        },
        other => other,
    }
}
