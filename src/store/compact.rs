//! Giving space back: redb keeps freed pages inside the file for reuse, so a purge or a
//! discarded import leaves the file as large as before. [`Store::compact`] moves pages down
//! and truncates the file; [`Store::scrub_free_space`] overwrites the free pages left inside
//! it, so nothing a purge destroyed (a roster's wrapped key above all) survives in the file
//! or in a copy of it taken afterwards.

use redb::{ReadableTableMetadata, TableDefinition};

use super::Store;
use crate::error::{Error, Result};

/// Scratch table used to overwrite free pages; never left in the file.
const SCRUB: TableDefinition<u64, &[u8]> = TableDefinition::new("scrub_scratch");

/// The file's size and the part of it not holding live pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    pub file_bytes: u64,
    pub free_bytes: u64,
}

impl Space {
    /// Compaction pays when at least a quarter of the file, and at least 64 MiB, is free.
    pub fn compaction_pays(&self) -> bool {
        self.free_bytes >= 64 << 20 && self.free_bytes * 4 >= self.file_bytes
    }
}

/// What compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    pub before: Space,
    pub after: Space,
}

fn compaction_error(e: redb::CompactionError) -> Error {
    match e {
        redb::CompactionError::TransactionInProgress
        | redb::CompactionError::EphemeralSavepointExists
        | redb::CompactionError::PersistentSavepointExists => Error::Locked {
            path: std::path::PathBuf::from("the database"),
        },
        other => Error::Storage(format!("compaction failed: {other}")),
    }
}

impl Store {
    /// The file's size and free space.
    pub fn space(&self) -> Result<Space> {
        let file_bytes = std::fs::metadata(&self.path)
            .map(|m| m.len())
            .map_err(|e| {
                Error::io(
                    format!("cannot read the size of {}", self.path.display()),
                    e,
                )
            })?;
        let tx = self.db()?.begin_write()?;
        let stats = tx.stats()?;
        drop(tx);
        let live = stats.allocated_pages() * stats.page_size() as u64;
        Ok(Space {
            file_bytes,
            free_bytes: file_bytes.saturating_sub(live),
        })
    }

    /// Compacts the file until redb can move nothing more (needs the database to itself: no
    /// other transaction open). Changes no record, so it needs no audit entry.
    pub fn compact(&mut self) -> Result<Compacted> {
        let before = self.space()?;
        let db = self.db_mut()?;
        while db.compact().map_err(compaction_error)? {}
        let after = self.space()?;
        Ok(Compacted { before, after })
    }

    /// Overwrites every free page inside the file with zeros (a scratch table fills the free
    /// space until the file must grow, then goes), then compacts again. Bounded by the free
    /// space, which compaction has just made small.
    pub fn scrub_free_space(&mut self) -> Result<Compacted> {
        let before = self.space()?;
        let filler = vec![0u8; 2000];
        let start_len = before.file_bytes;
        let mut key = 0u64;
        // Bounded: at most the free space plus one chunk is written.
        let limit = before.free_bytes / 1000 + 1024;
        loop {
            let tx = self.db()?.begin_write()?;
            {
                let mut t = tx.open_table(SCRUB)?;
                for _ in 0..256 {
                    t.insert(key, filler.as_slice())?;
                    key += 1;
                }
            }
            tx.commit()?;
            let len = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
            if len > start_len || key > limit {
                break;
            }
        }
        let tx = self.db()?.begin_write()?;
        let n = tx.open_table(SCRUB)?.len()?;
        tx.delete_table(SCRUB)?;
        tx.commit()?;
        let _ = n;
        let db = self.db_mut()?;
        while db.compact().map_err(compaction_error)? {}
        let after = self.space()?;
        Ok(Compacted { before, after })
    }
}
