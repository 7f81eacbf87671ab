//! Looking after the file: giving space back (compaction, and overwriting free pages after
//! a purge; schema migrations run in `Office::open`). These need the office to itself
//! (`&mut`): the command line runs them after its use case; a server would run them when
//! idle.

use super::office::Office;
use crate::error::Result;
use crate::store::compact::{Compacted, Space};
use crate::store::roster;

impl Office {
    /// The file's size and free space.
    pub fn space(&self) -> Result<Space> {
        self.store().space()
    }

    /// `compact`: finishes any interrupted purge (deletes what it left unreadable), then
    /// compacts the file and overwrites the free pages left inside it. Changes no record.
    pub fn compact(&mut self) -> Result<Compacted> {
        for id in roster::purge::residue(self.store())? {
            roster::purge::delete_residue(self.store(), &id)?;
        }
        let before = self.store().space()?;
        self.store_mut().compact()?;
        let scrubbed = self.store_mut().scrub_free_space()?;
        Ok(Compacted {
            before,
            after: scrubbed.after,
        })
    }

    /// Compacts when at least a quarter of the file (and 64 MiB) is free, e.g. after an
    /// import discarded a large staging batch. `None` when it did not pay.
    pub fn compact_if_pays(&mut self) -> Result<Option<Compacted>> {
        if self.store().space()?.compaction_pays() {
            return Ok(Some(self.store_mut().compact()?));
        }
        Ok(None)
    }
}
