//! State-law rules data in force: the built-in files with counsel's overrides stored in the
//! database (`laws set|clear|show|diff|list`). Counsel's files are checked against the same
//! schema as the built-in ones, stored with their whole history (the `laws` subject, one
//! audited entry per change naming the digest of the set now in force), and used by every
//! evaluation through [`Desk::laws`].

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::evaluate::{Policies, evaluate};
use super::office::{Desk, counts_or_estimate};
use super::records::Derived;
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use crate::laws::table::{self, Row, RuleLine};
use crate::laws::{Law, LawSet, LawSource, Origin, load, sha256_hex};
use crate::rules;
use crate::store::records::{CounselLawRecord, LawActionRecord};
use crate::store::{Action, Change, Subject};

/// Counsel's rules file, as given to `laws set` (or a what-if's `--laws`).
#[derive(Debug, Clone)]
pub struct LawsFile {
    /// How the file is named in messages and the history: its file name, no directories.
    pub name: String,
    /// The file's text (read bounded and as UTF-8 at the edge).
    pub text: String,
}

impl LawsFile {
    pub fn source(&self) -> LawSource {
        LawSource {
            origin: Origin::Counsel,
            name: self.name.clone(),
            text: self.text.clone(),
        }
    }
}

/// One version of counsel's file in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounselVersion {
    pub jurisdiction: String,
    pub seq: u32,
    /// `false`: this version removed counsel's file.
    pub set: bool,
    pub name: String,
    pub sha256: String,
    pub at: DateTime<Utc>,
    pub by: String,
}

impl From<&CounselLawRecord> for CounselVersion {
    fn from(r: &CounselLawRecord) -> CounselVersion {
        CounselVersion {
            jurisdiction: r.jurisdiction.clone(),
            seq: r.seq,
            set: r.action == LawActionRecord::Set,
            name: r.name.clone(),
            sha256: r.sha256.clone(),
            at: r.at,
            by: r.by.clone(),
        }
    }
}

/// What `laws set` or `laws clear` did.
#[derive(Debug, Clone)]
pub struct LawsChanged {
    pub jurisdiction: String,
    /// The version recorded; `None` when nothing was written (the same file is in force).
    pub seq: Option<u32>,
    /// SHA-256 of the file now in force for the jurisdiction.
    pub sha256: String,
    pub origin: Origin,
    /// The set now in force.
    pub digest: String,
    pub counsel_digest: Option<String>,
    /// Per open incident with residents of the jurisdiction: how its obligations move.
    pub effects: Vec<(IncidentId, Vec<String>)>,
}

/// `laws list`: one row per jurisdiction, and the digests of the set.
#[derive(Debug, Clone)]
pub struct LawsList {
    pub rows: Vec<Row>,
    pub digest: String,
    pub builtin_digest: String,
    pub counsel_digest: Option<String>,
}

/// One version of a law, with its rules.
#[derive(Debug, Clone)]
pub struct VersionView {
    pub effective: chrono::NaiveDate,
    pub citation: String,
    pub change: String,
    pub rules: Vec<RuleLine>,
}

/// `laws show ST`.
#[derive(Debug, Clone)]
pub struct LawShow {
    pub jurisdiction: String,
    pub name: String,
    pub origin: Origin,
    pub sha256: String,
    pub versions: Vec<VersionView>,
    /// When counsel's file is in force: the built-in file it replaces (its SHA-256).
    pub builtin_sha256: Option<String>,
    /// Counsel's versions for this jurisdiction, oldest first.
    pub history: Vec<CounselVersion>,
}

/// `laws diff`: counsel's file against the built-in one, for one jurisdiction.
#[derive(Debug, Clone)]
pub struct LawDiff {
    pub jurisdiction: String,
    /// `None` for a jurisdiction without built-in data (counsel added it).
    pub builtin_sha256: Option<String>,
    pub counsel_sha256: String,
    /// The summary lines that differ: (what, built-in, counsel's).
    pub summary: Vec<(String, String, String)>,
    /// Unified diff of the two files' text (built-in first).
    pub text: String,
}

/// The set in force from counsel's stored files. A stored file that no longer loads (a
/// later release reads the schema more strictly) is an error naming it and the way out.
pub fn law_set(counsel: &[CounselLawRecord]) -> Result<Cow<'static, LawSet>> {
    let sources: Vec<LawSource> = counsel
        .iter()
        .map(|r| LawSource {
            origin: Origin::Counsel,
            name: format!(
                "counsel's {} (version {}, {})",
                r.name, r.seq, r.jurisdiction
            ),
            text: r.text.clone(),
        })
        .collect();
    LawSet::in_force(&sources).map_err(|e| {
        Error::invalid(format!(
            "{e}; correct it with `breachdesk laws set FILE`, or remove it with `breachdesk laws clear ST`"
        ))
    })
}

/// The summary rows and digests of a set.
pub fn list(set: &LawSet) -> LawsList {
    LawsList {
        rows: table::rows(set),
        digest: set.digest.clone(),
        builtin_digest: set.builtin_digest.clone(),
        counsel_digest: set.counsel_digest.clone(),
    }
}

fn versions(law: &Law) -> Vec<VersionView> {
    law.file
        .version
        .iter()
        .map(|v| VersionView {
            effective: v.effective,
            citation: v.citation.clone(),
            change: v.change.clone(),
            rules: table::rules_of(v),
        })
        .collect()
}

fn not_covered(code: &str) -> Error {
    if crate::laws::COUNSEL_ONLY.contains(&code) {
        return Error::NotFound(format!(
            "no rules data for {code} ({}): breachdesk has no built-in file for it; counsel may add one (`breachdesk laws set FILE` with jurisdiction = \"{code}\")",
            crate::domain::vocab::state_name(code)
        ));
    }
    Error::NotFound(format!(
        "no rules data for {code}: give a two-letter code of {} or {} (see `breachdesk laws list`)",
        crate::laws::JURISDICTIONS.join(", "),
        crate::laws::COUNSEL_ONLY.join(", ")
    ))
}

/// `laws show ST` on a set and counsel's history.
pub fn show(set: &LawSet, history: &[CounselVersion], code: &str) -> Result<LawShow> {
    let law = set.get(code).ok_or_else(|| not_covered(code))?;
    let builtin_sha256 = match law.origin {
        Origin::Counsel => LawSet::builtin().get(code).map(|l| l.sha256.clone()),
        Origin::BuiltIn => None,
    };
    Ok(LawShow {
        jurisdiction: code.to_string(),
        name: law.file.name.clone(),
        origin: law.origin,
        sha256: law.sha256.clone(),
        versions: versions(law),
        builtin_sha256,
        history: history
            .iter()
            .filter(|r| r.jurisdiction == code)
            .cloned()
            .collect(),
    })
}

/// `laws diff [ST]` on a set: every counsel file in force (or the one of `code`).
pub fn diff(set: &LawSet, code: Option<&str>) -> Result<Vec<LawDiff>> {
    if let Some(c) = code {
        let law = set.get(c).ok_or_else(|| not_covered(c))?;
        if law.origin != Origin::Counsel {
            return Ok(vec![]);
        }
    }
    let builtin = LawSet::builtin();
    let rows_of = |s: &LawSet| -> std::collections::BTreeMap<String, Row> {
        table::rows(s)
            .into_iter()
            .map(|r| (r.jurisdiction.clone(), r))
            .collect()
    };
    let ours = rows_of(set);
    let theirs = rows_of(builtin);
    let mut out = Vec::new();
    for law in set.counsel() {
        let j = &law.file.jurisdiction;
        if code.is_some_and(|c| c != j) {
            continue;
        }
        let base = builtin.get(j);
        let mut summary = Vec::new();
        if let Some(ours) = ours.get(j) {
            let empty = Row {
                jurisdiction: j.clone(),
                name: String::new(),
                origin: "",
                effective: String::new(),
                citation: String::new(),
                individual: String::new(),
                regulators: String::new(),
                cra: String::new(),
                hipaa: String::new(),
                verified: 0,
                rules: 0,
                verified_in: vec![],
            };
            let b = theirs.get(j).unwrap_or(&empty);
            let fields: [(&str, &str, &str); 6] = [
                ("current version from", &b.effective, &ours.effective),
                ("citation", &b.citation, &ours.citation),
                ("notice to residents", &b.individual, &ours.individual),
                ("regulators", &b.regulators, &ours.regulators),
                ("consumer reporting agencies", &b.cra, &ours.cra),
                ("HIPAA entities", &b.hipaa, &ours.hipaa),
            ];
            for (what, x, y) in fields {
                if x != y {
                    summary.push((what.to_string(), x.to_string(), y.to_string()));
                }
            }
            let (bv, ov) = (
                format!("{} of {}", b.verified, b.rules),
                format!("{} of {}", ours.verified, ours.rules),
            );
            if bv != ov {
                summary.push(("rules verified".into(), bv, ov));
            }
        }
        let before = base.map(|b| b.text.as_str()).unwrap_or("");
        let text = similar::TextDiff::from_lines(before, law.text.as_str())
            .unified_diff()
            .context_radius(2)
            .header(
                &format!("built-in {}.toml", j.to_ascii_lowercase()),
                &format!("counsel's {}.toml", j.to_ascii_lowercase()),
            )
            .to_string();
        out.push(LawDiff {
            jurisdiction: j.clone(),
            builtin_sha256: base.map(|b| b.sha256.clone()),
            counsel_sha256: law.sha256.clone(),
            summary,
            text,
        });
    }
    Ok(out)
}

/// Checks a file of counsel's against the schema; the error names file, line and field.
pub fn check(f: &LawsFile) -> Result<crate::laws::LawFile> {
    load(&f.text, &f.name).map_err(|e| Error::invalid(e.to_string()))
}

impl Desk<'_> {
    /// The State laws in force for this database: the built-in files with counsel's stored
    /// ones. Read once per desk.
    pub fn laws(&self) -> Result<&LawSet> {
        if let Some(l) = self.laws.get() {
            return Ok(l);
        }
        let set = law_set(&self.reader()?.counsel_laws()?)?;
        Ok(self.laws.get_or_init(|| set))
    }

    /// Every version of counsel's files, by jurisdiction then sequence.
    pub fn laws_history(&self) -> Result<Vec<CounselVersion>> {
        Ok(self
            .reader()?
            .counsel_law_history()?
            .iter()
            .map(CounselVersion::from)
            .collect())
    }

    /// `laws list`.
    pub fn laws_list(&self) -> Result<LawsList> {
        Ok(list(self.laws()?))
    }

    /// `laws show ST`.
    pub fn laws_show(&self, code: &str) -> Result<LawShow> {
        show(self.laws()?, &self.laws_history()?, code)
    }

    /// `laws diff [ST]`.
    pub fn laws_diff(&self, code: Option<&str>) -> Result<Vec<LawDiff>> {
        diff(self.laws()?, code)
    }

    /// `laws set FILE`: counsel's file for its jurisdiction, checked against the schema and
    /// stored as a new version (audited, with the digest of the set now in force). The same
    /// file as the one in force writes nothing.
    pub fn set_laws(&self, f: &LawsFile) -> Result<LawsChanged> {
        let file = check(f)?;
        let code = file.jurisdiction.clone();
        let sha = sha256_hex(&f.text);
        let before = self.laws()?.clone();
        let current = before.get(&code);
        if current.is_some_and(|l| l.origin == Origin::Counsel && l.sha256 == sha) {
            return Ok(LawsChanged {
                jurisdiction: code,
                seq: None,
                sha256: sha,
                origin: Origin::Counsel,
                digest: before.digest.clone(),
                counsel_digest: before.counsel_digest.clone(),
                effects: vec![],
            });
        }
        let replaces = current
            .map(|l| format!("{}:{}", l.origin.key(), l.sha256))
            .unwrap_or_else(|| "none".into());
        let name = file_name(&f.name);
        let mut rec = CounselLawRecord {
            jurisdiction: code.clone(),
            seq: 0,
            action: LawActionRecord::Set,
            name,
            sha256: sha.clone(),
            text: f.text.clone(),
            at: self.ctx.now,
            by: self.ctx.who.describe(),
        };
        let after = self.store().write(&self.actor()?, |w| {
            let mut counsel = w.counsel_laws()?;
            counsel.retain(|r| r.jurisdiction != code);
            counsel.push(rec.clone());
            let set = law_set(&counsel)?.into_owned();
            w.add_counsel_law(&mut rec)?;
            let detail = format!(
                "jurisdiction={code} seq={} sha256={sha} replaces={replaces} digest={} counsel_digest={}",
                rec.seq,
                set.digest,
                set.counsel_digest.as_deref().unwrap_or("none")
            );
            Ok((set, Change::new(Action::LawsSet, Subject::Laws).detail(detail)))
        })?;
        let effects = self.effects(&before, &after, &code)?;
        Ok(LawsChanged {
            jurisdiction: code,
            seq: Some(rec.seq),
            sha256: sha,
            origin: Origin::Counsel,
            digest: after.digest.clone(),
            counsel_digest: after.counsel_digest.clone(),
            effects,
        })
    }

    /// `laws clear ST`: removes counsel's file; the built-in one applies again (audited; the
    /// removed versions stay in the history for replays).
    pub fn clear_laws(&self, code: &str) -> Result<LawsChanged> {
        let before = self.laws()?.clone();
        let Some(current) = before.get(code).filter(|l| l.origin == Origin::Counsel) else {
            return Err(Error::NotFound(format!(
                "counsel has no rules file in force for {code}; `breachdesk laws list` shows where counsel's files apply"
            )));
        };
        let cleared = current.sha256.clone();
        let mut rec = CounselLawRecord {
            jurisdiction: code.to_string(),
            seq: 0,
            action: LawActionRecord::Clear,
            name: String::new(),
            sha256: String::new(),
            text: String::new(),
            at: self.ctx.now,
            by: self.ctx.who.describe(),
        };
        let after = self.store().write(&self.actor()?, |w| {
            let mut counsel = w.counsel_laws()?;
            counsel.retain(|r| r.jurisdiction != code);
            let set = law_set(&counsel)?.into_owned();
            w.add_counsel_law(&mut rec)?;
            let detail = format!(
                "jurisdiction={code} seq={} cleared={cleared} digest={} counsel_digest={}",
                rec.seq,
                set.digest,
                set.counsel_digest.as_deref().unwrap_or("none")
            );
            Ok((
                set,
                Change::new(Action::LawsClear, Subject::Laws).detail(detail),
            ))
        })?;
        let effects = self.effects(&before, &after, code)?;
        // AS and MP have no built-in data: clearing leaves them without rules (empty hash).
        let (sha256, origin) = after
            .get(code)
            .map(|l| (l.sha256.clone(), l.origin))
            .unwrap_or((String::new(), Origin::BuiltIn));
        Ok(LawsChanged {
            jurisdiction: code.to_string(),
            seq: Some(rec.seq),
            sha256,
            origin,
            digest: after.digest.clone(),
            counsel_digest: after.counsel_digest.clone(),
            effects,
        })
    }

    /// How the obligations of the open incidents with residents of `code` move from the
    /// set `before` to `after` (what `laws set` and `laws clear` report).
    fn effects(
        &self,
        before: &LawSet,
        after: &LawSet,
        code: &str,
    ) -> Result<Vec<(IncidentId, Vec<String>)>> {
        // An exercise database or a register without an organization has nothing to move.
        let Ok(org) = self.org() else {
            return Ok(vec![]);
        };
        let today = self.today()?;
        // Only dates and counts matter here: the records without their text.
        let codec = self.office.no_phi();
        let r = self.reader()?;
        let mut out = Vec::new();
        for inc in r.incidents(codec)? {
            if !inc.status.is_open() {
                continue;
            }
            let counts = counts_or_estimate(r.roster_counts(&inc.id)?, &inc);
            if counts.by_state.get(code).copied().unwrap_or(0) == 0 {
                continue;
            }
            let d = Derived::from(r.derived(&inc.id, codec)?);
            let a = evaluate(org, before, &inc, &d, &counts, Policies::default(), today);
            let b = evaluate(org, after, &inc, &d, &counts, Policies::default(), today);
            let moved = rules::diff_obligations(&a.obligations, &b.obligations);
            if !moved.is_empty() {
                out.push((inc.id.clone(), moved));
            }
        }
        Ok(out)
    }
}

/// The last component of a path as given, for the history (never a directory).
fn file_name(name: &str) -> String {
    std::path::Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_string())
}
