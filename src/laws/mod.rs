//! State breach-notification laws as cited, versioned rules data.
//!
//! One TOML file per jurisdiction (`data/ST.toml`: the 50 States, DC, PR, VI, GU), embedded
//! in the binary; the schema is [`schema`] and `src/laws/README.md`. Every rule carries its
//! citation and its provenance: `verified` (read in statute or enacted-bill text, with where
//! and when) or `unverified` (with its source). Counsel's files, checked against the same
//! schema, replace a jurisdiction's built-in file in a [`LawSet`].
//!
//! A [`LawSet`] is content-addressed: its digests cover the exact bytes of every file it
//! was built from (encoding below), so a recorded decision can name the rules it used and
//! a replay can rebuild the same set from stored bytes.
//!
//! Digest encoding (SHA-256 over exactly these bytes):
//!
//! ```text
//! "BDLAWS1\n"                    8 bytes (domain separator, version)
//! for each file, in jurisdiction-code order:
//!   code                         u32 big-endian byte length, then the UTF-8 bytes
//!   origin                       1 byte: 0 built-in, 1 counsel
//!   text                         u32 big-endian byte length, then the file's bytes
//! ```
//!
//! `builtin_digest` covers the built-in files, `counsel_digest` counsel's files (absent when
//! there are none), and `digest` the files in force after counsel's replace built-in ones.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

pub mod builtin;
pub mod load;
pub mod schema;
pub mod table;

#[cfg(test)]
mod tests;

pub use load::{COUNSEL_ONLY, JURISDICTIONS, LawError, load};
pub use schema::{LawFile, LawVersion};

/// Where a file in force came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    BuiltIn,
    Counsel,
}

impl Origin {
    pub fn key(self) -> &'static str {
        match self {
            Origin::BuiltIn => "built-in",
            Origin::Counsel => "counsel",
        }
    }

    fn byte(self) -> u8 {
        match self {
            Origin::BuiltIn => 0,
            Origin::Counsel => 1,
        }
    }
}

/// A rules file's text and where it came from, before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LawSource {
    pub origin: Origin,
    /// Names the file in errors (a path, or `built-in ST.toml`).
    pub name: String,
    pub text: String,
}

/// One jurisdiction's law in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Law {
    pub file: LawFile,
    pub origin: Origin,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub text: String,
}

/// Which version of a law governs a breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick<'a> {
    Version(&'a LawVersion),
    /// The breach was discovered before the earliest version in the data.
    BeforeData(NaiveDate),
}

impl Law {
    /// The version for a breach discovered on `date` (the latest one when the date is not
    /// recorded).
    pub fn version_for(&self, date: Option<NaiveDate>) -> Pick<'_> {
        let versions = &self.file.version;
        match date {
            None => versions.last().map(Pick::Version),
            Some(d) => versions
                .iter()
                .rev()
                .find(|v| v.effective <= d)
                .map(Pick::Version)
                .or_else(|| versions.first().map(|v| Pick::BeforeData(v.effective))),
        }
        .unwrap_or(Pick::BeforeData(NaiveDate::MAX))
    }
}

/// The laws in force: built-in files, with counsel's replacing theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LawSet {
    laws: BTreeMap<String, Law>,
    pub builtin_digest: String,
    pub counsel_digest: Option<String>,
    pub digest: String,
}

impl LawSet {
    /// Builds a set from built-in sources and counsel's (which replace built-in files of
    /// the same jurisdiction). Every file is parsed and validated; the first bad one is the
    /// error. Two counsel files for one jurisdiction are an error.
    pub fn build(builtin: &[LawSource], counsel: &[LawSource]) -> Result<LawSet, LawError> {
        let mut laws: BTreeMap<String, Law> = BTreeMap::new();
        for s in builtin {
            let law = parse_source(s)?;
            laws.insert(law.file.jurisdiction.clone(), law);
        }
        LawSet {
            builtin_digest: digest(laws.values()),
            laws,
            counsel_digest: None,
            digest: String::new(),
        }
        .with_counsel(counsel)
    }

    /// The built-in laws, parsed once. The built-in files are validated by the test suite
    /// (`laws::tests::every_builtin_file_loads`), so this cannot fail in a released binary.
    pub fn builtin() -> &'static LawSet {
        static SET: OnceLock<LawSet> = OnceLock::new();
        SET.get_or_init(|| {
            LawSet::build(&builtin::sources(), &[])
                .expect("built-in rules data is validated by the test suite")
        })
    }

    /// The built-in laws with counsel's files in force (each replacing its jurisdiction's
    /// built-in file, or adding one): the built-in files are parsed once per process, so only
    /// counsel's are parsed here. Borrowed when counsel has none.
    pub fn in_force(counsel: &[LawSource]) -> Result<Cow<'static, LawSet>, LawError> {
        if counsel.is_empty() {
            return Ok(Cow::Borrowed(LawSet::builtin()));
        }
        LawSet::builtin().with_counsel(counsel).map(Cow::Owned)
    }

    /// This set's built-in files with `counsel`'s in force instead of any counsel files it
    /// holds. Digests as [`LawSet::build`] computes them.
    pub fn with_counsel(&self, counsel: &[LawSource]) -> Result<LawSet, LawError> {
        let mut laws: BTreeMap<String, Law> = self
            .laws
            .iter()
            .filter(|(_, l)| l.origin == Origin::BuiltIn)
            .map(|(k, l)| (k.clone(), l.clone()))
            .collect();
        let builtin_digest = digest(laws.values());
        let mut counsel_laws: Vec<Law> = Vec::new();
        for s in counsel {
            let law = parse_source(s)?;
            if counsel_laws
                .iter()
                .any(|l| l.file.jurisdiction == law.file.jurisdiction)
            {
                return Err(duplicate(s, &law));
            }
            counsel_laws.push(law.clone());
            laws.insert(law.file.jurisdiction.clone(), law);
        }
        let counsel_digest = (!counsel_laws.is_empty()).then(|| digest(counsel_laws.iter()));
        let digest = digest(laws.values());
        Ok(LawSet {
            laws,
            builtin_digest,
            counsel_digest,
            digest,
        })
    }

    /// A set of exactly these files (for a replay: the files a past decision used, from
    /// their stored copies). Its digests cover these files only.
    pub fn of(laws: Vec<Law>) -> LawSet {
        let builtin: Vec<&Law> = laws
            .iter()
            .filter(|l| l.origin == Origin::BuiltIn)
            .collect();
        let counsel: Vec<&Law> = laws
            .iter()
            .filter(|l| l.origin == Origin::Counsel)
            .collect();
        let builtin_digest = digest(builtin.into_iter());
        let counsel_digest = (!counsel.is_empty()).then(|| digest(counsel.into_iter()));
        let map: BTreeMap<String, Law> = laws
            .into_iter()
            .map(|l| (l.file.jurisdiction.clone(), l))
            .collect();
        let digest = digest(map.values());
        LawSet {
            laws: map,
            builtin_digest,
            counsel_digest,
            digest,
        }
    }

    pub fn get(&self, code: &str) -> Option<&Law> {
        self.laws.get(code)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Law> {
        self.laws.values()
    }

    /// Counsel's files in force.
    pub fn counsel(&self) -> impl Iterator<Item = &Law> {
        self.laws.values().filter(|l| l.origin == Origin::Counsel)
    }
}

/// Parses and validates one source into a law in force.
pub fn parse_source(src: &LawSource) -> Result<Law, LawError> {
    let file = load(&src.text, &src.name)?;
    Ok(Law {
        file,
        origin: src.origin,
        sha256: sha256_hex(&src.text),
        text: src.text.clone(),
    })
}

fn duplicate(s: &LawSource, law: &Law) -> LawError {
    LawError {
        file: s.name.clone(),
        line: None,
        field: "jurisdiction".into(),
        reason: format!(
            "counsel's rules already include a file for {}; give one file per jurisdiction",
            law.file.jurisdiction
        ),
    }
}

/// SHA-256 of a rules file's bytes, hex: how a file is named in determinations and replays.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn digest<'a>(laws: impl Iterator<Item = &'a Law>) -> String {
    let mut sorted: Vec<&Law> = laws.collect();
    sorted.sort_by(|a, b| a.file.jurisdiction.cmp(&b.file.jurisdiction));
    let mut h = Sha256::new();
    h.update(b"BDLAWS1\n");
    for l in sorted {
        let code = l.file.jurisdiction.as_bytes();
        h.update((code.len() as u32).to_be_bytes());
        h.update(code);
        h.update([l.origin.byte()]);
        h.update((l.text.len() as u32).to_be_bytes());
        h.update(l.text.as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
