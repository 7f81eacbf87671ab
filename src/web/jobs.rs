//! Long work started from a page (a roster import, a letters render) runs on a blocking
//! thread; the page the browser is sent to refreshes itself (no script: a `refresh` meta
//! tag) and shows the progress the desk reports, then the result. A job belongs to the
//! person who started it and to one incident; its ID is random and carries no PHI.
//!
//! Uploaded rosters wait in `<data dir>/uploads` (0600) between the upload and the import
//! and are deleted when the import ends or the job is dropped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::desk::letters::Rendered;
use crate::desk::{ImportReport, Progress};
use crate::domain::IncidentId;
use crate::intake::roster_csv::Field;

/// Progress as the desk reports it, readable from another thread.
#[derive(Default)]
pub struct Meter {
    phase: Mutex<String>,
    total: AtomicU64,
    done: AtomicU64,
    bytes: std::sync::atomic::AtomicBool,
}

impl Progress for Meter {
    fn start(&self, what: &str, total: u64, bytes: bool) {
        if let Ok(mut p) = self.phase.lock() {
            *p = what.to_string();
        }
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        self.bytes.store(bytes, Ordering::Relaxed);
    }
    fn set(&self, done: u64) {
        self.done.store(done, Ordering::Relaxed);
    }
    fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
}

impl Meter {
    /// (phase, done, total, counting bytes)
    pub fn read(&self) -> (String, u64, u64, bool) {
        (
            self.phase.lock().map(|p| p.clone()).unwrap_or_default(),
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// One column of an uploaded roster: its header text and the field recognised.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub field: Option<Field>,
}

pub enum State {
    /// A roster uploaded, waiting for the column mapping.
    Uploaded {
        file: PathBuf,
        bytes: u64,
        columns: Vec<Column>,
        error: Option<String>,
    },
    Running,
    Imported(Box<ImportReport>),
    Rendered(Box<Rendered>),
    Failed(String),
}

pub enum Kind {
    Roster,
    Letters,
}

pub struct Job {
    pub id: String,
    pub owner: String,
    pub incident: IncidentId,
    pub kind: Kind,
    pub started: Instant,
    pub meter: Meter,
    pub state: Mutex<State>,
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Ok(State::Uploaded { file, .. }) = self.state.get_mut() {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Every job of this process.
pub struct Jobs {
    pub uploads: PathBuf,
    map: Mutex<HashMap<String, Arc<Job>>>,
}

impl Jobs {
    pub fn new(uploads: PathBuf) -> Jobs {
        Jobs {
            uploads,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub fn add(&self, job: Job) -> Arc<Job> {
        let j = Arc::new(job);
        if let Ok(mut m) = self.map.lock() {
            // Finished jobs are kept a day for their report, then dropped.
            m.retain(|_, v| v.started.elapsed().as_secs() < 86_400);
            m.insert(j.id.clone(), j.clone());
        }
        j
    }

    /// A job of `owner` about `incident`, if there is one with this ID.
    pub fn get(&self, id: &str, owner: &str, incident: &IncidentId) -> Option<Arc<Job>> {
        let m = self.map.lock().ok()?;
        m.get(id)
            .filter(|j| j.owner == owner && j.incident == *incident)
            .cloned()
    }
}
