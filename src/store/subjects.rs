//! The subject → records mapping, written once: which stored records make up each audited
//! subject, in digest order. The subject digest ([`digest`]), the orphan scan of
//! `audit verify` ([`orphans`]) and the table in ARCHITECTURE.md ([`markdown_table`], checked
//! by a test) all read [`MAPPING`].
//!
//! Subject digest: SHA-256 over, for each record of the subject in mapping order (and key
//! order within a rule), `u32 BE len ‖ table name ‖ u32 BE len ‖ key ‖ u32 BE len ‖ value`;
//! an absent record contributes nothing.

use redb::ReadableTable;

use super::roster;
use super::tables::{
    ASSESSMENTS_NAME, DETERMINATIONS_NAME, INCIDENTS_NAME, LAW_TEXTS_NAME, LAWS_NAME,
    MANIFESTS_NAME, META_ACCESS, META_CLOCK, META_ENCRYPTION, META_NAME, META_ORG, META_ORG_TEXT,
    META_RESEALED, META_SCHEMA, META_SIGNING_KEY, META_TEMPLATES, META_WRAPPED_KEY, PHI_NAME,
    ROSTER_BATCHES_NAME, ROSTER_COUNTS_NAME, ROSTER_DEAD_NAME, ROSTER_GROUPS_NAME,
    ROSTER_ISSUES_NAME, ROSTER_KEYS_NAME, ROSTER_ROWS_NAME, SubjectDigest, USERS_NAME, digest_one,
    digest_prefix,
};
use crate::audit::entry::Hash;
use crate::audit::subject::{Subject, SubjectKind};
use crate::error::Result;

/// Which keys of a table belong to a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// One key of `meta_v1`.
    Meta(&'static str),
    /// The record keyed by the incident ID.
    Id,
    /// Every key under a prefix, in key order; `{id}` stands for the incident ID.
    Prefix(&'static str),
    /// The incident's roster batch records (`<id>/<seq>`) except those still staging, in key
    /// order (an unreadable record counts as committed).
    CommittedBatches,
    /// The incident's roster rows in release 0.1's format (`<id>/<person key>`) except those
    /// of a staging batch, in key order.
    CommittedRows,
    /// The incident's schema-2 roster records (`<id>/<batch>/…`: groups, issues; dead marks
    /// by the batch that wrote them) except those of staging or purged batches, in key order.
    CommittedV2,
}

/// One rule of the mapping: records of `table` selected by `keys` belong to a `subject`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub subject: SubjectKind,
    pub table: &'static str,
    pub keys: Keys,
    /// How `audit verify` names such a record when no audit entry covers its subject.
    pub orphan: &'static str,
}

const fn rule(subject: SubjectKind, table: &'static str, keys: Keys, orphan: &'static str) -> Rule {
    Rule {
        subject,
        table,
        keys,
        orphan,
    }
}

/// The mapping, in digest order. Staging roster rows and batches (an import not yet
/// committed, see `store::roster`) belong to no subject and are never orphans.
pub const MAPPING: &[Rule] = &[
    rule(
        SubjectKind::Store,
        META_NAME,
        Keys::Meta(META_SCHEMA),
        "setting",
    ),
    rule(
        SubjectKind::Org,
        META_NAME,
        Keys::Meta(META_CLOCK),
        "setting",
    ),
    rule(
        SubjectKind::Org,
        META_NAME,
        Keys::Meta(META_ENCRYPTION),
        "setting",
    ),
    rule(SubjectKind::Org, META_NAME, Keys::Meta(META_ORG), "setting"),
    rule(
        SubjectKind::Org,
        META_NAME,
        Keys::Meta(META_ORG_TEXT),
        "setting",
    ),
    rule(
        SubjectKind::Org,
        META_NAME,
        Keys::Meta(META_RESEALED),
        "setting",
    ),
    rule(
        SubjectKind::Org,
        META_NAME,
        Keys::Meta(META_TEMPLATES),
        "setting",
    ),
    rule(
        SubjectKind::Org,
        META_NAME,
        Keys::Meta(META_WRAPPED_KEY),
        "setting",
    ),
    rule(
        SubjectKind::SigningKey,
        META_NAME,
        Keys::Meta(META_SIGNING_KEY),
        "setting",
    ),
    rule(SubjectKind::Incident, INCIDENTS_NAME, Keys::Id, "record"),
    rule(
        SubjectKind::Incident,
        PHI_NAME,
        Keys::Prefix("incident/{id}/"),
        "protected value of",
    ),
    rule(
        SubjectKind::Incident,
        ASSESSMENTS_NAME,
        Keys::Id,
        "determination of",
    ),
    rule(
        SubjectKind::Incident,
        MANIFESTS_NAME,
        Keys::Prefix("{id}/"),
        "letters manifest of",
    ),
    rule(
        SubjectKind::Incident,
        DETERMINATIONS_NAME,
        Keys::Prefix("{id}/"),
        "recorded determination of",
    ),
    rule(
        SubjectKind::Incident,
        LAW_TEXTS_NAME,
        Keys::Prefix("{id}/"),
        "rules file used by a determination of",
    ),
    rule(
        SubjectKind::Roster,
        ROSTER_BATCHES_NAME,
        Keys::CommittedBatches,
        "stored",
    ),
    rule(
        SubjectKind::Roster,
        ROSTER_ROWS_NAME,
        Keys::CommittedRows,
        "stored",
    ),
    rule(SubjectKind::Roster, ROSTER_COUNTS_NAME, Keys::Id, "stored"),
    rule(
        SubjectKind::Laws,
        LAWS_NAME,
        Keys::Prefix(""),
        "rules file of counsel in",
    ),
    rule(SubjectKind::Roster, ROSTER_KEYS_NAME, Keys::Id, "stored"),
    rule(
        SubjectKind::Roster,
        ROSTER_GROUPS_NAME,
        Keys::CommittedV2,
        "stored",
    ),
    rule(
        SubjectKind::Roster,
        ROSTER_DEAD_NAME,
        Keys::CommittedV2,
        "stored",
    ),
    rule(
        SubjectKind::Roster,
        ROSTER_ISSUES_NAME,
        Keys::CommittedV2,
        "stored",
    ),
    rule(SubjectKind::User, USERS_NAME, Keys::Id, "record"),
    rule(
        SubjectKind::Access,
        META_NAME,
        Keys::Meta(META_ACCESS),
        "setting",
    ),
];

/// The tables the mapping reads, opened in one transaction (read or write).
pub(super) struct Tables<T> {
    pub(super) meta: T,
    pub(super) incidents: T,
    pub(super) phi: T,
    pub(super) assessments: T,
    pub(super) manifests: T,
    pub(super) roster_rows: T,
    pub(super) roster_batches: T,
    pub(super) roster_counts: T,
    pub(super) laws: T,
    pub(super) determinations: T,
    pub(super) law_texts: T,
    /// Schema 2's tables (`None` in an older file opened read-only: no records).
    pub(super) roster_keys: Option<T>,
    pub(super) roster_groups: Option<T>,
    pub(super) roster_dead: Option<T>,
    pub(super) roster_issues: Option<T>,
    /// The users step's table (`None` in an older file opened read-only: no records).
    pub(super) users: Option<T>,
}

impl<T> Tables<T> {
    fn get(&self, name: &str) -> Option<&T> {
        match name {
            META_NAME => Some(&self.meta),
            INCIDENTS_NAME => Some(&self.incidents),
            PHI_NAME => Some(&self.phi),
            ASSESSMENTS_NAME => Some(&self.assessments),
            MANIFESTS_NAME => Some(&self.manifests),
            ROSTER_ROWS_NAME => Some(&self.roster_rows),
            ROSTER_BATCHES_NAME => Some(&self.roster_batches),
            ROSTER_KEYS_NAME => self.roster_keys.as_ref(),
            ROSTER_GROUPS_NAME => self.roster_groups.as_ref(),
            ROSTER_DEAD_NAME => self.roster_dead.as_ref(),
            ROSTER_ISSUES_NAME => self.roster_issues.as_ref(),
            LAWS_NAME => Some(&self.laws),
            DETERMINATIONS_NAME => Some(&self.determinations),
            LAW_TEXTS_NAME => Some(&self.law_texts),
            USERS_NAME => self.users.as_ref(),
            _ => Some(&self.roster_counts),
        }
    }
}

fn subject_string(kind: SubjectKind, id: &str) -> String {
    match kind {
        SubjectKind::Store
        | SubjectKind::Org
        | SubjectKind::SigningKey
        | SubjectKind::Laws
        | SubjectKind::Access => kind.pattern().to_string(),
        SubjectKind::Incident => format!("incident/{id}"),
        SubjectKind::Roster => format!("roster/{id}"),
        SubjectKind::User => format!("user/{id}"),
    }
}

/// The digest of a subject's current state.
pub(super) fn digest<T>(subject: &Subject, t: &Tables<T>) -> Result<Hash>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let mut d = SubjectDigest::default();
    let id = subject.key_part();
    // Filled by the batches rule, which comes before the rows rules.
    let mut sets = roster::BatchSets::default();
    for r in MAPPING.iter().filter(|r| r.subject == subject.kind()) {
        let Some(table) = t.get(r.table) else {
            continue;
        };
        match r.keys {
            Keys::Meta(key) => digest_one(&mut d, r.table, table, key)?,
            Keys::Id => digest_one(&mut d, r.table, table, id)?,
            Keys::Prefix(p) => digest_prefix(&mut d, r.table, table, &p.replace("{id}", id))?,
            Keys::CommittedBatches => {
                sets = roster::digest_batches(&mut d, r.table, id, table)?;
            }
            Keys::CommittedRows => roster::digest_rows(&mut d, r.table, id, table, &sets)?,
            Keys::CommittedV2 => roster::digest_v2(&mut d, r.table, id, table, &sets)?,
        }
    }
    Ok(d.finish())
}

/// Every stored record whose subject has no audit entry: `(subject, how to name it)`, in
/// mapping order, one per record (consecutive records of one subject in a prefix-keyed
/// table count once). `audited(subject)` says whether a subject string has an entry.
pub(super) fn orphans<T>(
    t: &Tables<T>,
    audited: &dyn Fn(&str) -> bool,
) -> Result<Vec<(String, &'static str)>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let mut out = Vec::new();
    let mut push = |subject: String, what: &'static str| {
        if !audited(&subject) {
            out.push((subject, what));
        }
    };
    let mut seen_tables: Vec<&str> = Vec::new();
    for r in MAPPING {
        if seen_tables.contains(&r.table) {
            continue;
        }
        seen_tables.push(r.table);
        let Some(table) = t.get(r.table) else {
            continue;
        };
        match r.keys {
            Keys::Meta(_) => {
                for row in table.iter()? {
                    let (k, v) = row?;
                    let key = k.value();
                    match MAPPING.iter().find(|m| {
                        m.table == r.table && matches!(m.keys, Keys::Meta(mk) if mk == key)
                    }) {
                        // Release 0.1 did not audit the schema version: a file still at
                        // version 1 (not yet migrated, e.g. opened read-only) has no `store`
                        // entry, and that is no damage.
                        Some(_) if key == META_SCHEMA && v.value() == b"1" => {}
                        Some(m) => push(subject_string(m.subject, ""), m.orphan),
                        // A key no subject owns decides nothing breachdesk knows of, yet
                        // nothing may sit in the file outside the chain.
                        None => push(format!("{}[{key}]", r.table), "unknown setting"),
                    }
                }
            }
            Keys::Id if r.subject != SubjectKind::Roster => {
                for row in table.iter()? {
                    let (k, _) = row?;
                    push(subject_string(r.subject, k.value()), r.orphan);
                }
            }
            Keys::Prefix(pattern) => {
                let (lead, _) = pattern.split_once("{id}").unwrap_or((pattern, ""));
                let mut last = String::new();
                for row in table.iter()? {
                    let (k, _) = row?;
                    let key = k.value();
                    let subject = match key.strip_prefix(lead) {
                        Some(rest) => {
                            subject_string(r.subject, rest.split('/').next().unwrap_or(""))
                        }
                        // Not a key of any subject: name the record itself.
                        None => format!("{}[{key}]", r.table),
                    };
                    if subject != last {
                        push(subject.clone(), r.orphan);
                        last = subject;
                    }
                }
            }
            // The roster's three tables are scanned together: committed records only, and
            // the rows of an audited roster are skipped without being read.
            Keys::Id | Keys::CommittedBatches | Keys::CommittedRows | Keys::CommittedV2 => {
                let tables = roster::RosterTables {
                    rows: &t.roster_rows,
                    batches: &t.roster_batches,
                    counts: &t.roster_counts,
                    keys: t.roster_keys.as_ref(),
                    groups: t.roster_groups.as_ref(),
                    dead: t.roster_dead.as_ref(),
                    issues: t.roster_issues.as_ref(),
                };
                for id in roster::committed_incidents(&tables, |id| {
                    audited(&subject_string(SubjectKind::Roster, id))
                })? {
                    push(subject_string(SubjectKind::Roster, &id), r.orphan);
                }
                seen_tables.extend([
                    ROSTER_ROWS_NAME,
                    ROSTER_BATCHES_NAME,
                    ROSTER_COUNTS_NAME,
                    ROSTER_KEYS_NAME,
                    ROSTER_GROUPS_NAME,
                    ROSTER_DEAD_NAME,
                    ROSTER_ISSUES_NAME,
                ]);
            }
        }
    }
    Ok(out)
}

fn describe(r: &Rule) -> String {
    match r.keys {
        Keys::Meta(k) => format!("`{k}`"),
        Keys::Id => format!("`{}[<id>]`", r.table),
        Keys::Prefix("") => format!("every `{}` key, in key order", r.table),
        Keys::Prefix(p) => format!(
            "every `{}` key under `{}`, in key order",
            r.table,
            p.replace("{id}", "<id>")
        ),
        Keys::CommittedBatches => format!(
            "committed `{}` records under `<id>/`, in key order",
            r.table
        ),
        Keys::CommittedRows => format!(
            "`{}` rows under `<id>/` except a staging batch's, in key order",
            r.table
        ),
        Keys::CommittedV2 => format!(
            "`{}` records under `<id>/<batch>/` except staging or purged batches', in key order",
            r.table
        ),
    }
}

/// The mapping as the Markdown table in ARCHITECTURE.md ("Subject digest").
pub fn markdown_table() -> String {
    let mut out = String::from("| subject | records, in digest order |\n|---|---|\n");
    for kind in SubjectKind::ALL {
        let rules: Vec<&Rule> = MAPPING.iter().filter(|r| r.subject == *kind).collect();
        let mut parts: Vec<String> = Vec::new();
        let mut i = 0;
        while i < rules.len() {
            let r = rules[i];
            if let Keys::Meta(_) = r.keys {
                // Consecutive keys of one meta table read as one list.
                let mut keys = Vec::new();
                while i < rules.len() && matches!(rules[i].keys, Keys::Meta(_)) {
                    keys.push(describe(rules[i]));
                    i += 1;
                }
                parts.push(format!("`{}` {}", r.table, keys.join(", ")));
                continue;
            }
            parts.push(describe(r));
            i += 1;
        }
        out.push_str(&format!(
            "| `{}` | {} |\n",
            kind.pattern(),
            parts.join("; ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ARCHITECTURE.md shows the mapping; this keeps it the mapping the code uses.
    #[test]
    fn architecture_md_shows_the_mapping() {
        let doc = include_str!("../../ARCHITECTURE.md");
        let table = markdown_table();
        assert!(
            doc.contains(&table),
            "ARCHITECTURE.md must contain the subject → records table as generated:\n{table}"
        );
    }

    #[test]
    fn every_subject_kind_has_records_and_every_table_is_mapped() {
        for kind in SubjectKind::ALL {
            assert!(MAPPING.iter().any(|r| r.subject == *kind), "{kind:?}");
        }
        for name in super::super::tables::AUDITED_TABLES {
            assert!(MAPPING.iter().any(|r| r.table == *name), "{name}");
        }
    }
}
