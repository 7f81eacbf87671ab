//! Table definitions (versioned names) and the subject-digest encoding.
//!
//! Storage encodings live here and in the sibling modules; domain types do not know them.

use redb::{ReadableTable, TableDefinition};
use sha2::{Digest, Sha256};

use crate::audit::entry::Hash;
use crate::error::Result;

/// Schema version this binary writes and the newest it can read.
pub const SCHEMA_VERSION: u32 = 6;

/// Settings and singletons: schema version, organization, wrapped key, signing public key.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new(META_NAME);
/// Incident records (JSON, typed text sealed into `PHI`), keyed by incident ID.
pub const INCIDENTS: TableDefinition<&str, &[u8]> = TableDefinition::new(INCIDENTS_NAME);
/// Each incident's data key (wrapped by the database's) and its sealed text, keyed
/// `incident/<id>/<key|fields|derived>` (see `store::incidents`).
pub const PHI: TableDefinition<&str, &[u8]> = TableDefinition::new(PHI_NAME);
/// Derived state per incident (determination with any human override, the obligations
/// snapshot and what changed at the last update), keyed by incident ID.
pub const ASSESSMENTS: TableDefinition<&str, &[u8]> = TableDefinition::new(ASSESSMENTS_NAME);
/// Manifests of rendered letter batches, keyed `<incident>/<NNNN>`.
pub const MANIFESTS: TableDefinition<&str, &[u8]> = TableDefinition::new(MANIFESTS_NAME);
/// The audit chain, keyed by sequence number.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit_v1");

/// Roster rows as release 0.1 wrote them (one sealed JSON row each), keyed
/// `<incident>/<person key hex>`; value `batch u32 BE ‖ line u64 BE ‖ sealed RosterRow JSON`.
/// Read only to convert them (schema 2; see `store::roster::legacy`).
pub const ROSTER_ROWS: TableDefinition<&str, &[u8]> = TableDefinition::new(ROSTER_ROWS_NAME);
/// Each roster's own data key, wrapped by the database's data key (schema 2), keyed
/// `<incident>`. Deleting it crypto-shreds the roster (see `store::roster`).
pub const ROSTER_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new(ROSTER_KEYS_NAME);
/// Roster rows in sealed groups, in file order (schema 2), keyed
/// `<incident>/<batch, 6 digits>/<first ordinal, 10 digits>`.
pub const ROSTER_GROUPS: TableDefinition<&str, &[u8]> = TableDefinition::new(ROSTER_GROUPS_NAME);
/// Rows of a group that no longer count (duplicate, replaced, resolved), keyed
/// `<incident>/<by batch>/<target batch>/<ordinal>` (schema 2).
pub const ROSTER_DEAD: TableDefinition<&str, &[u8]> = TableDefinition::new(ROSTER_DEAD_NAME);
/// Data-quality issues per row (rejected, needs fixing, warnings, duplicates, possible
/// duplicates; no values), keyed `<incident>/<batch>/<ordinal>/<slot>` (schema 2).
pub const ROSTER_ISSUES: TableDefinition<&str, &[u8]> = TableDefinition::new(ROSTER_ISSUES_NAME);
/// Roster import batches (JSON), keyed `<incident>/<batch seq, 6 digits>`.
pub const ROSTER_BATCHES: TableDefinition<&str, &[u8]> = TableDefinition::new(ROSTER_BATCHES_NAME);
/// Roster aggregate counts per incident (JSON `Counts` plus extra tallies; no PHI).
pub const ROSTER_COUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new(ROSTER_COUNTS_NAME);

/// Counsel's State-law rules files, every version ever set or cleared, keyed
/// `<ST>/<NNNNNN>` (a sequence per jurisdiction). The last record of a jurisdiction decides
/// what is in force; older ones stay for replays. The `laws` audit subject.
pub const LAWS: TableDefinition<&str, &[u8]> = TableDefinition::new(LAWS_NAME);
/// Recorded determinations, every one kept (engine version, rules digests, the inputs and
/// their hash, the result), keyed `<incident>/<NNNNNN>`. Part of the incident's subject.
pub const DETERMINATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new(DETERMINATIONS_NAME);
/// Copies of the State rules files a recorded determination used, keyed
/// `<incident>/<sha256 hex>` (content-addressed, stored once per incident): a replay uses
/// them even after the binary's built-in data changed. Part of the incident's subject.
pub const LAW_TEXTS: TableDefinition<&str, &[u8]> = TableDefinition::new(LAW_TEXTS_NAME);
/// People who sign in to `breachdesk serve` (JSON, see `store::users`), keyed by user
/// name. Added by the `users` migration step (schema version 6).
pub const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new(USERS_NAME);

pub const META_NAME: &str = "meta_v1";
pub const INCIDENTS_NAME: &str = "incidents_v1";
pub const PHI_NAME: &str = "phi_v1";
pub const ASSESSMENTS_NAME: &str = "assessments_v1";
pub const MANIFESTS_NAME: &str = "manifests_v1";
pub const ROSTER_ROWS_NAME: &str = "roster_rows_v1";
pub const ROSTER_BATCHES_NAME: &str = "roster_batches_v1";
pub const ROSTER_COUNTS_NAME: &str = "roster_counts_v1";
pub const LAWS_NAME: &str = "laws_v1";
pub const DETERMINATIONS_NAME: &str = "determinations_v1";
pub const LAW_TEXTS_NAME: &str = "law_texts_v1";
pub const ROSTER_KEYS_NAME: &str = "roster_keys_v2";
pub const ROSTER_GROUPS_NAME: &str = "roster_groups_v2";
pub const ROSTER_DEAD_NAME: &str = "roster_dead_v2";
pub const ROSTER_ISSUES_NAME: &str = "roster_issues_v2";
pub const USERS_NAME: &str = "users_v1";

/// Every table whose records belong to audited subjects (all but the audit chain).
#[cfg(test)]
pub const AUDITED_TABLES: &[&str] = &[
    META_NAME,
    INCIDENTS_NAME,
    PHI_NAME,
    ASSESSMENTS_NAME,
    MANIFESTS_NAME,
    ROSTER_ROWS_NAME,
    ROSTER_BATCHES_NAME,
    ROSTER_COUNTS_NAME,
    LAWS_NAME,
    DETERMINATIONS_NAME,
    LAW_TEXTS_NAME,
    ROSTER_KEYS_NAME,
    ROSTER_GROUPS_NAME,
    ROSTER_DEAD_NAME,
    ROSTER_ISSUES_NAME,
    USERS_NAME,
];

pub const META_SCHEMA: &str = "schema_version";
pub const META_ORG: &str = "org";
/// The organization's text (the privacy officer), sealed under the database's data key
/// (schema 3; see `store::sealing::ORG_CLEAR`).
pub const META_ORG_TEXT: &str = "org_text";
/// The subjects the last `rekey --rotate` sealed again, with their digests then (see
/// `store::rotate`).
pub const META_RESEALED: &str = "resealed";
pub const META_ENCRYPTION: &str = "encryption";
pub const META_WRAPPED_KEY: &str = "wrapped_key";
pub const META_SIGNING_KEY: &str = "audit_public_key";
/// The clock the database accepts: `system` (a real register) or `pinned` (tests, demos);
/// absent in files written before the marker existed (they are real). Written by `init`.
pub const META_CLOCK: &str = "clock";
/// The organization's stored template set (JSON map of file name to text).
pub const META_TEMPLATES: &str = "templates";
/// Sign-in attempts under names that match no user (a count; the names are never kept).
pub const META_ACCESS: &str = "access";

/// Incremental digest of a subject's state: for every stored (table, key, value) that belongs
/// to it, in table order then key order, `u32 BE len ‖ table ‖ u32 BE len ‖ key ‖ u32 BE len ‖
/// value`. A subject with nothing stored digests to SHA-256 of the empty string.
#[derive(Default)]
pub struct SubjectDigest(Sha256);

impl SubjectDigest {
    pub fn add(&mut self, table: &str, key: &[u8], value: &[u8]) {
        for part in [table.as_bytes(), key, value] {
            self.0.update((part.len() as u32).to_be_bytes());
            self.0.update(part);
        }
    }

    pub fn finish(self) -> Hash {
        self.0.finalize().into()
    }
}

/// Adds every entry of a `&str`-keyed table whose key starts with `prefix`.
pub fn digest_prefix(
    d: &mut SubjectDigest,
    name: &str,
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    prefix: &str,
) -> Result<()> {
    for row in table.range(prefix..)? {
        let (k, v) = row?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        d.add(name, key.as_bytes(), v.value());
    }
    Ok(())
}

/// Adds one entry of a `&str`-keyed table if present.
pub fn digest_one(
    d: &mut SubjectDigest,
    name: &str,
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<()> {
    if let Some(v) = table.get(key)? {
        d.add(name, key.as_bytes(), v.value());
    }
    Ok(())
}
