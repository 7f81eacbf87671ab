//! Where the letters meet the roster: the recipients of each letter kind, bulk rendering
//! of a roster's letters in parallel, and the BA's identification CSV.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::progress::Progress;
use crate::audit::entry::hex;
use crate::domain::roster::RecipientClass;
use crate::domain::{Incident, RosterRow};
use crate::error::{Error, Result};
use crate::letters::manifest::{HashingWriter, ManifestFile};
use crate::letters::stencil::Stencil;
use crate::letters::{self, Format, LetterContext, LetterKind, RecipientContext, Renderer};
use crate::store::Reader;
use crate::store::phi::PhiCodec;
use crate::store::roster::RosterSeal;
use crate::store::roster::read::{GroupBlob, LiveRow, RosterView, for_each_group, open_blob};

fn no_roster(inc: &Incident) -> Error {
    Error::NotFound(format!(
        "no roster is imported for {}: import the list of affected individuals with `breachdesk roster import {} FILE.csv`",
        inc.id, inc.id
    ))
}

/// An incident's roster as the letters read it: its batches and its key.
pub struct RosterSource {
    pub view: RosterView,
    pub seal: RosterSeal,
}

impl RosterSource {
    /// The committed roster of `inc` (an error when there is none). The roster must be in
    /// the current format (`Desk::roster_current`).
    pub fn open(r: &Reader, inc: &Incident, codec: &PhiCodec) -> Result<RosterSource> {
        let view = r.roster_view(&inc.id)?;
        if !view.has_rows() {
            return Err(no_roster(inc));
        }
        let seal = r.roster_seal(&inc.id, codec)?.ok_or_else(|| {
            Error::Key(format!(
                "the roster of {} has no key in this database (it was removed outside breachdesk); run `breachdesk audit verify`",
                inc.id
            ))
        })?;
        Ok(RosterSource { view, seal })
    }

    /// Calls `f` with every live row in key order (batch, then file order), with its
    /// recipient class, until it returns `false`.
    pub fn for_each_row(
        &self,
        r: &Reader,
        inc: &Incident,
        f: &mut dyn FnMut(RecipientClass, LiveRow) -> Result<bool>,
    ) -> Result<()> {
        let mut payload = Vec::new();
        for_each_group(r, &inc.id, &self.view, &mut |g| {
            for row in open_blob(&self.seal, &self.view, &g, &mut payload)? {
                if !f(row.row.recipient_class(), row)? {
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }
}

/// A covered entity's name for matching: case and repeated spaces ignored (as the import
/// counts them).
fn fold_entity(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether a row belongs to the covered entity named (case and spacing ignored); every row
/// does when no entity is named.
pub fn of_entity(row: &RosterRow, entity: Option<&str>) -> bool {
    entity.is_none_or(|e| fold_entity(&row.covered_entity) == fold_entity(e))
}

/// The recipient of a letter of `kind` for this person, if they get one: living individuals
/// who can be reached (by post, or by e-mail with consent) get the individual letter, a
/// minor's through the parent or guardian named; the next of kin or personal representative
/// of a deceased individual, when their address is known, gets the next-of-kin letter
/// (164.404(d)(1)(ii)).
pub fn recipient(kind: LetterKind, r: RosterRow) -> Option<RecipientContext> {
    let lines = |a: String, b: String| -> Vec<String> {
        [a, b].into_iter().filter(|s| !s.is_empty()).collect()
    };
    let class = r.recipient_class();
    match kind {
        LetterKind::Individual
            if matches!(class, RecipientClass::Postal | RecipientClass::Email) =>
        {
            let name = if r.minor == Some(true) && !r.representative_name.is_empty() {
                format!(
                    "{}, parent or guardian of {}",
                    r.representative_name,
                    r.display_name()
                )
            } else {
                r.display_name()
            };
            let postal = r.has_postal_address();
            let email = if r.email_usable() {
                r.email
            } else {
                String::new()
            };
            let (address_lines, city, state, zip) = if postal {
                (
                    lines(r.address1, r.address2),
                    r.city,
                    r.state.unwrap_or_default(),
                    r.zip,
                )
            } else {
                (vec![], String::new(), String::new(), String::new())
            };
            Some(RecipientContext {
                id: r.id,
                name,
                address_lines,
                city,
                state,
                zip,
                email,
                deceased_name: None,
            })
        }
        LetterKind::NextOfKin if class == RecipientClass::NextOfKin => Some(RecipientContext {
            deceased_name: Some(r.display_name()),
            id: r.id,
            name: r.nok_name,
            address_lines: lines(r.nok_address, String::new()),
            city: r.nok_city,
            state: r.nok_state.unwrap_or_default(),
            zip: r.nok_zip,
            email: String::new(),
        }),
        _ => None,
    }
}

/// Adds a recipient to a batch's data hash: every field as a u64 big-endian length and its
/// UTF-8 bytes, the address lines preceded by their number.
fn hash_recipient(h: &mut Sha256, r: &RecipientContext) {
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    put(&r.id);
    put(&r.name);
    put(&r.city);
    put(&r.state);
    put(&r.zip);
    put(&r.email);
    put(r.deceased_name.as_deref().unwrap_or(""));
    h.update((r.address_lines.len() as u64).to_be_bytes());
    for l in &r.address_lines {
        h.update((l.len() as u64).to_be_bytes());
        h.update(l.as_bytes());
    }
}

/// What [`render_bulk`] produced.
pub struct Bulk {
    pub files: Vec<ManifestFile>,
    pub data_sha256: String,
    pub count: u64,
}

/// What one batch of letters is.
pub struct BulkSpec<'a> {
    pub kind: LetterKind,
    pub format: Format,
    /// Mail-merge CSV instead of letters.
    pub csv: bool,
    pub stem: &'a str,
    pub title: &'a str,
    pub per_file: usize,
    pub out: &'a Path,
}

/// Part of a group in a shard: its live rows `skip..skip + take`.
struct Slice {
    group: GroupBlob,
    skip: usize,
    take: usize,
}

/// One shard's work: its index and the groups (or parts of groups) it covers.
type Job = (usize, Vec<Slice>);

struct ShardDone {
    index: usize,
    partial: PathBuf,
    file: ManifestFile,
    data: [u8; 32],
}

fn io(e: std::io::Error) -> Error {
    Error::io("cannot write a letters file", e)
}

fn letter_err(e: letters::LetterError) -> Error {
    Error::invalid(e.to_string())
}

/// Renders every recipient's letter of `spec.kind` from the roster into shard files, on all
/// cores. Rows are read in key order and cut into shards of `per_file` stored rows; each
/// shard is decoded, filtered and rendered by a worker into its own file, so the output is
/// the same bytes whatever the number of threads. Files are written under `.partial` names
/// and renamed (numbered in order, empty shards dropped) only when all are complete.
pub fn render_bulk(
    r: &Reader,
    inc: &Incident,
    codec: &PhiCodec,
    renderer: &Renderer,
    base: &LetterContext,
    spec: &BulkSpec,
    progress: &dyn Progress,
) -> Result<Bulk> {
    let per_file = spec.per_file.max(1);
    let source = RosterSource::open(r, inc, codec)?;
    // Compile the stencil and check it on the first real recipients.
    let mut sample = Vec::new();
    let mut seen = 0;
    source.for_each_row(r, inc, &mut |_, row| {
        if let Some(r) = recipient(spec.kind, row.row) {
            sample.push(r);
        }
        seen += 1;
        Ok(sample.len() < 1_000 && seen < 20_000)
    })?;
    let stencil = if spec.csv {
        None
    } else {
        let deceased = spec.kind == LetterKind::NextOfKin;
        Stencil::build(renderer, spec.kind, spec.format, base, deceased)
            .map_err(letter_err)?
            .filter(|s| s.verify(renderer, spec.kind, spec.format, base, sample.iter()))
    };
    // Without a stencil the renderer checks strictness and contacts on the first letter.
    if let (None, false, Some(first)) = (&stencil, spec.csv, sample.first()) {
        let mut ctx = base.clone();
        ctx.recipient = Some(first.clone());
        renderer
            .render(spec.kind, spec.format, &ctx)
            .map_err(letter_err)?;
    }

    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let (send, recv) = std::sync::mpsc::sync_channel::<Job>(workers);
    let recv = Mutex::new(recv);
    let done: Mutex<Vec<ShardDone>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let count = AtomicU64::new(0);
    let ext = match (spec.csv, spec.format) {
        (true, _) => "csv",
        (false, Format::Text) => "txt",
        (false, Format::Html) => "html",
    };

    let work = |job: Job| -> Result<Option<ShardDone>> {
        let (index, slices) = job;
        let mut recipients = Vec::new();
        let mut payload = Vec::with_capacity(4096);
        let mut n = 0u64;
        for sl in &slices {
            let rows = open_blob(&source.seal, &source.view, &sl.group, &mut payload)?;
            for row in rows.into_iter().skip(sl.skip).take(sl.take) {
                n += 1;
                if let Some(r) = recipient(spec.kind, row.row) {
                    recipients.push(r);
                }
            }
        }
        progress.add(n);
        drop(slices);
        if recipients.is_empty() {
            return Ok(None);
        }
        let partial = spec
            .out
            .join(format!(".{}-{index:06}.{ext}.partial", spec.stem));
        let f = File::create(&partial)
            .map_err(|e| Error::io(format!("cannot create {}", partial.display()), e))?;
        // Buffer first, hash second: the hash sees 1 MiB blocks, not every small write.
        let mut w = BufWriter::with_capacity(1 << 20, HashingWriter::new(f));
        let mut data = Sha256::new();
        for r in &recipients {
            hash_recipient(&mut data, r);
        }
        if spec.csv {
            letters::mail_merge_csv(&mut w, spec.kind, base.exercise, recipients.iter())
                .map_err(letter_err)?;
        } else {
            if spec.format == Format::Html {
                letters::write_html_head(&mut w, spec.title, base.exercise).map_err(letter_err)?;
            }
            let mut ctx = base.clone();
            for (i, r) in recipients.iter().enumerate() {
                if spec.format == Format::Text && i > 0 {
                    w.write_all(b"\x0c\n").map_err(io)?;
                }
                match &stencil {
                    Some(st) => st.render_to(r, &mut w).map_err(io)?,
                    None => {
                        ctx.recipient = Some(r.clone());
                        renderer
                            .render_to(spec.kind, spec.format, &ctx, &mut w)
                            .map_err(letter_err)?;
                    }
                }
            }
            if spec.format == Format::Html {
                letters::write_html_foot(&mut w).map_err(letter_err)?;
            }
        }
        let w = w.into_inner().map_err(|e| io(e.into_error()))?;
        let (sha256, bytes) = w.finish();
        count.fetch_add(recipients.len() as u64, Ordering::Relaxed);
        Ok(Some(ShardDone {
            index,
            partial,
            file: ManifestFile {
                name: String::new(),
                count: recipients.len() as u64,
                bytes,
                sha256,
            },
            data: data.finalize().into(),
        }))
    };

    let read_result = std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let job = match recv.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        continue;
                    }
                    match work(job) {
                        Ok(Some(d)) => {
                            if let Ok(mut v) = done.lock() {
                                v.push(d);
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e);
                            }
                        }
                    }
                }
            });
        }
        // Shards of exactly `per_file` live rows in key order, cut through groups where
        // needed (a group's live rows are its row count less its dead marks).
        let mut index = 0usize;
        let mut chunk: Vec<Slice> = Vec::new();
        let mut in_chunk = 0usize;
        let r = for_each_group(r, &inc.id, &source.view, &mut |g| {
            let rows = crate::store::roster::codec::group_header(&g.value)
                .map(|(_, n)| usize::from(n))
                .unwrap_or(0);
            let live = rows.saturating_sub(g.dead.len());
            let mut skip = 0;
            while skip < live {
                let take = (live - skip).min(per_file - in_chunk);
                chunk.push(Slice {
                    group: g.clone(),
                    skip,
                    take,
                });
                skip += take;
                in_chunk += take;
                if in_chunk >= per_file {
                    index += 1;
                    send.send((index, std::mem::take(&mut chunk)))
                        .map_err(|_| Error::Storage("the letter workers stopped".into()))?;
                    in_chunk = 0;
                }
            }
            Ok(true)
        })
        .and_then(|()| {
            if !chunk.is_empty() {
                index += 1;
                send.send((index, std::mem::take(&mut chunk)))
                    .map_err(|_| Error::Storage("the letter workers stopped".into()))?;
            }
            Ok(())
        });
        drop(send);
        r
    });
    let mut done = done
        .into_inner()
        .map_err(|_| Error::Storage("a letter worker panicked".into()))?;
    let cleanup = |done: &[ShardDone]| {
        for d in done {
            let _ = std::fs::remove_file(&d.partial);
        }
    };
    let failed = failure
        .into_inner()
        .map_err(|_| Error::Storage("a letter worker panicked".into()))?;
    if let Some(e) = failed.or(read_result.err()) {
        cleanup(&done);
        return Err(e);
    }
    done.sort_by_key(|d| d.index);
    let mut all = Sha256::new();
    all.update(serde_json::to_vec(base).map_err(|e| Error::Storage(e.to_string()))?);
    let mut files = Vec::with_capacity(done.len());
    for (n, d) in done.iter().enumerate() {
        let name = format!("{}-{:05}.{ext}", spec.stem, n + 1);
        std::fs::rename(&d.partial, spec.out.join(&name)).map_err(|e| {
            cleanup(&done);
            Error::io(format!("cannot rename {}", d.partial.display()), e)
        })?;
        all.update(d.data);
        let mut f = d.file.clone();
        f.name = name;
        files.push(f);
    }
    Ok(Bulk {
        files,
        data_sha256: hex(&all.finalize()),
        count: count.into_inner(),
    })
}

/// Writes the CSV identifying each individual (164.410(c)(1)) of the covered entity named
/// (all of the roster's when `entity` is `None`: a roster without a covered-entity column);
/// returns how many.
pub fn attachment(
    r: &Reader,
    inc: &Incident,
    codec: &PhiCodec,
    path: &Path,
    entity: Option<&str>,
) -> Result<u64> {
    let source = RosterSource::open(r, inc, codec)?;
    // PHI: owner-only, and only under its name once complete.
    let f = crate::files::AtomicFile::create(path, true)?;
    let mut w = csv::Writer::from_writer(f);
    let header = [
        "id",
        "first_name",
        "last_name",
        "address1",
        "address2",
        "city",
        "state",
        "zip",
        "email",
        "deceased",
        "nok_name",
        "nok_address",
        "nok_city",
        "nok_state",
        "nok_zip",
        "date_of_birth",
        "covered_entity",
    ];
    let csv_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("cannot write the identification CSV", io),
        other => Error::Storage(format!("cannot write the identification CSV: {other:?}")),
    };
    w.write_record(header).map_err(csv_err)?;
    let mut n = 0u64;
    source.for_each_row(r, inc, &mut |_, row| {
        let r = row.row;
        if !of_entity(&r, entity) {
            return Ok(true);
        }
        let dob = r.date_of_birth.map(|d| d.to_string()).unwrap_or_default();
        let cells = [
            r.id.as_str(),
            &r.first_name,
            &r.last_name,
            &r.address1,
            &r.address2,
            &r.city,
            r.state.as_deref().unwrap_or(""),
            &r.zip,
            &r.email,
            if r.deceased { "yes" } else { "no" },
            &r.nok_name,
            &r.nok_address,
            &r.nok_city,
            r.nok_state.as_deref().unwrap_or(""),
            &r.nok_zip,
            &dob,
            &r.covered_entity,
        ];
        w.write_record(
            cells
                .iter()
                .map(|c| letters::neutralize_formula(c).into_owned()),
        )
        .map_err(csv_err)?;
        n += 1;
        Ok(true)
    })?;
    w.flush()
        .map_err(|e| Error::io("cannot write the identification CSV", e))?;
    w.into_inner()
        .map_err(|e| Error::io("cannot write the identification CSV", e.into_error()))?
        .commit()?;
    Ok(n)
}

/// A file name part for a covered entity: lowercase letters and digits, hyphens between.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "entity".into()
    } else {
        out.chars().take(60).collect()
    }
}

/// The business associate's notices to covered entities (164.410), one per covered entity
/// with the CSV identifying that entity's individuals and no one else's: every entity of the
/// roster's covered-entity column (or the one named), or, for a roster without that column,
/// the entity named (default the organization's only `--serves`). Writes the CSVs into
/// `out`; returns each letter's context (its `attachment_name` is the CSV's file name).
pub fn ba_to_ce(
    r: &Reader,
    inc: &Incident,
    codec: &PhiCodec,
    org: &crate::domain::Organization,
    named: Option<&str>,
    counts: &crate::domain::Counts,
    out: &Path,
) -> Result<Vec<letters::BaToCeContext>> {
    let totals = r.roster_totals(&inc.id)?;
    let entities: Vec<String> = totals
        .as_ref()
        .map(|t| t.by_entity.keys().cloned().collect())
        .unwrap_or_default();
    // (the covered entity's name, the roster's entity to select, its counts)
    let targets: Vec<(String, Option<String>, crate::domain::Counts)> = if entities.is_empty() {
        let ce = match named {
            Some(n) => n.to_string(),
            None if org.serves.len() > 1 => {
                return Err(Error::invalid(format!(
                    "this business associate serves {} covered entities but the roster has no covered-entity column, so it cannot tell whose individuals are whose: import the roster with a covered_entity column (aliases: \"Covered Entity\", \"Client\"), or name the one covered entity all of them belong to with --covered-entity NAME",
                    org.serves.len()
                )));
            }
            None => org.serves.first().cloned().ok_or_else(|| {
                Error::invalid(
                    "name the covered entity with --covered-entity NAME (or record it with `org update --serves`)",
                )
            })?,
        };
        vec![(ce, None, counts.clone())]
    } else {
        let by = |e: &str| {
            totals
                .as_ref()
                .and_then(|t| t.by_entity.get(e).cloned())
                .unwrap_or_default()
        };
        match named {
            Some(n) => {
                let e = entities
                    .iter()
                    .find(|e| fold_entity(e) == fold_entity(n))
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "--covered-entity names no covered entity of the roster's covered-entity column; the roster has: {}",
                            entities.join(", ")
                        ))
                    })?;
                vec![(e.clone(), Some(e.clone()), by(e))]
            }
            None => entities
                .iter()
                .map(|e| (e.clone(), Some(e.clone()), by(e)))
                .collect(),
        }
    };
    let mut used: Vec<String> = Vec::new();
    let mut letters_out = Vec::new();
    for (ce, filter, ce_counts) in targets {
        let name = match &filter {
            None => "ba_to_ce-individuals.csv".to_string(),
            Some(e) => {
                let mut base = format!("ba_to_ce-individuals-{}", slug(e));
                let mut k = 2;
                while used.contains(&base) {
                    base = format!("ba_to_ce-individuals-{}-{k}", slug(e));
                    k += 1;
                }
                used.push(base.clone());
                format!("{base}.csv")
            }
        };
        let n = attachment(r, inc, codec, &out.join(&name), filter.as_deref())?;
        if n == 0 {
            let _ = std::fs::remove_file(out.join(&name));
            return Err(Error::invalid(format!(
                "the roster holds no individual of {ce} to identify to it"
            )));
        }
        let mut b = letters::BaToCeContext::new(&org.legal_name, &ce, &ce_counts, &name);
        b.individuals_count = n;
        letters_out.push(b);
    }
    Ok(letters_out)
}
