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
use crate::domain::{Incident, RosterRow};
use crate::error::{Error, Result};
use crate::letters::manifest::{HashingWriter, ManifestFile};
use crate::letters::stencil::Stencil;
use crate::letters::{self, Format, LetterContext, LetterKind, RecipientContext, Renderer};
use crate::store::Reader;
use crate::store::phi::PhiCodec;
use crate::store::roster;

fn no_roster(inc: &Incident) -> Error {
    Error::NotFound(format!(
        "no roster is imported for {}: import the list of affected individuals with `breachdesk roster import {} FILE.csv`",
        inc.id, inc.id
    ))
}

/// Calls `f` with each committed row's key and stored value, in key order, until it
/// returns `false`. An incident without a committed roster is an error.
fn for_each_stored(
    r: &Reader,
    inc: &Incident,
    f: impl FnMut(&str, &[u8]) -> Result<bool>,
) -> Result<()> {
    let batches = r.committed_batches(&inc.id)?;
    if batches.is_empty() {
        return Err(no_roster(inc));
    }
    r.for_each_roster_row(&inc.id, &batches, f)
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
    match kind {
        LetterKind::Individual if !r.deceased && r.reachable() => {
            let name = if r.minor && !r.representative_name.is_empty() {
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
        LetterKind::NextOfKin if r.deceased && r.nok_contact_known() => Some(RecipientContext {
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

/// The stored rows of one shard, copied out of the read transaction into one buffer.
#[derive(Default)]
struct Rows {
    bytes: Vec<u8>,
    /// (key end, value end) offsets into `bytes`; each key starts where the previous value
    /// ended.
    ends: Vec<(usize, usize)>,
}

impl Rows {
    fn push(&mut self, key: &str, value: &[u8]) {
        self.bytes.extend_from_slice(key.as_bytes());
        let k = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.ends.push((k, self.bytes.len()));
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let mut start = 0;
        self.ends.iter().map(move |&(k, v)| {
            let key = std::str::from_utf8(&self.bytes[start..k]).unwrap_or("");
            let value = &self.bytes[k..v];
            start = v;
            (key, value)
        })
    }
}

/// One shard's work: its index and the stored rows it covers.
type Job = (usize, Rows);

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
    // Compile the stencil and check it on the first real recipients.
    let mut sample = Vec::new();
    let mut seen = 0;
    for_each_stored(r, inc, |k, v| {
        let row = roster::decode_row(codec, k, v)?;
        if let Some(r) = recipient(spec.kind, row) {
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
        let (index, rows) = job;
        let mut recipients = Vec::with_capacity(rows.len());
        for (k, v) in rows.iter() {
            let row = roster::decode_row(codec, k, v)?;
            if let Some(r) = recipient(spec.kind, row) {
                recipients.push(r);
            }
        }
        progress.add(rows.len() as u64);
        drop(rows);
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
        let mut index = 0usize;
        let mut chunk = Rows::default();
        let r = for_each_stored(r, inc, |k, v| {
            chunk.push(k, v);
            if chunk.len() >= per_file {
                index += 1;
                let job = (index, std::mem::take(&mut chunk));
                send.send(job)
                    .map_err(|_| Error::Storage("the letter workers stopped".into()))?;
            }
            Ok(true)
        })
        .and_then(|()| {
            if chunk.len() > 0 {
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

/// Writes the CSV identifying each individual (164.410(c)(1)); returns how many.
pub fn attachment(r: &Reader, inc: &Incident, codec: &PhiCodec, path: &Path) -> Result<u64> {
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
    ];
    let csv_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("cannot write the identification CSV", io),
        other => Error::Storage(format!("cannot write the identification CSV: {other:?}")),
    };
    w.write_record(header).map_err(csv_err)?;
    let mut n = 0u64;
    for_each_stored(r, inc, |k, v| {
        let r = roster::decode_row(codec, k, v)?;
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
