//! The external sort behind [`Stager::import_rows`](super::Stager::import_rows): sorted runs
//! in temporary files, then a k-way merge into the rows table.
//!
//! Run file record: `hash (32) ‖ line (u64 BE) ‖ class (4) ‖ value length (u32 BE) ‖ value`,
//! where the value is the stored row (stamp and sealed JSON) exactly as it will be inserted.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Read, Write};

use std::path::{Path, PathBuf};

use super::{
    Batch, CHUNK_ROWS, Event, Outcome, PersonKeyer, Progress, ROSTER_BATCHES, ROSTER_ROWS,
    RosterTotals, RowClass, RowSource, batch_key, json, key_from_hash, row_json, seal_row, stamp,
};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::phi::PhiCodec;

/// Read buffer per run during the merge.
const MERGE_BUFFER: usize = 32 * 1024;

struct Rec {
    hash: [u8; 32],
    line: u64,
    class: RowClass,
    /// The row's JSON while reading; the stored value (stamped, sealed) once sealed.
    value: Vec<u8>,
}

impl RowClass {
    fn to_bytes(self) -> [u8; 4] {
        let st = self.state.unwrap_or([0, 0]);
        let flags = u8::from(self.deceased)
            | u8::from(self.nok_known) << 1
            | u8::from(self.reachable) << 2
            | u8::from(self.postal) << 3
            | u8::from(self.state.is_some()) << 4;
        [st[0], st[1], flags, 0]
    }

    fn from_bytes(b: [u8; 4]) -> RowClass {
        let f = b[2];
        RowClass {
            state: (f & 16 != 0).then_some([b[0], b[1]]),
            deceased: f & 1 != 0,
            nok_known: f & 2 != 0,
            reachable: f & 4 != 0,
            postal: f & 8 != 0,
        }
    }
}

fn tmp_error(e: std::io::Error) -> Error {
    Error::io(
        "cannot write the import's temporary sort files next to the database (they need about the size of the roster); check free space and permissions",
        e,
    )
}

/// The sorted runs of one import, in a private directory removed on drop.
pub(super) struct Runs {
    dir: PathBuf,
    files: Vec<PathBuf>,
    rows: u64,
}

impl Drop for Runs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The temporary directory of imports into the database at `db`. Only one import runs at a
/// time (the database is locked), so a leftover directory is from an interrupted import.
pub(super) fn tmp_dir(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".roster-tmp");
    PathBuf::from(s)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(tmp_error)?;
    }
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(tmp_error)
}

struct Chunk<I> {
    recs: Vec<Rec>,
    issues: Vec<I>,
    rows_read: u64,
    lines_done: u64,
    ended: bool,
}

/// Phase 1: parse, hash and seal on one thread, sort and write runs on this one.
/// `on_rows(rows_read, lines_done, issue)` reports progress and rejected rows in line order.
#[allow(clippy::too_many_arguments)]
pub(super) fn make_runs<S: RowSource>(
    reader: &mut S,
    run_rows: usize,
    dir: &Path,
    keyer: &PersonKeyer,
    codec: &PhiCodec,
    incident: &str,
    seq: u32,
    progress: &(dyn Fn(Progress) + Sync),
    on_rows: &mut dyn FnMut(u64, u64, Option<S::Issue>),
) -> Result<Runs> {
    create_private_dir(dir)?;
    let mut runs = Runs {
        dir: dir.to_path_buf(),
        files: Vec::new(),
        rows: 0,
    };
    std::thread::scope(|scope| -> Result<()> {
        let (send, recv) = std::sync::mpsc::sync_channel::<Result<Chunk<S::Issue>>>(0);
        scope.spawn(move || {
            let mut tick = 0u32;
            let mut total_read = 0u64;
            let mut lines_done = 0u64;
            loop {
                let mut c = Chunk {
                    recs: Vec::with_capacity(run_rows.min(1 << 16)),
                    issues: Vec::new(),
                    rows_read: 0,
                    lines_done: 0,
                    ended: false,
                };
                while c.recs.len() + c.issues.len() < run_rows {
                    tick += 1;
                    if tick >= 4096 {
                        tick = 0;
                        progress(Progress::Read(reader.bytes_read()));
                    }
                    match reader.next_row() {
                        Err(e) => {
                            let _ = send.send(Err(e));
                            return;
                        }
                        Ok(None) => {
                            c.ended = true;
                            break;
                        }
                        Ok(Some((line, Err(issue)))) => {
                            total_read += 1;
                            lines_done = lines_done.max(line);
                            c.issues.push(issue);
                        }
                        Ok(Some((line, Ok(row)))) => {
                            total_read += 1;
                            lines_done = lines_done.max(line);
                            let hash = keyer.hash(incident, &row.id);
                            // Sealed on the other thread, which has less to do.
                            match row_json(&row) {
                                Ok(value) => c.recs.push(Rec {
                                    hash,
                                    line,
                                    class: RowClass::of(&row),
                                    value,
                                }),
                                Err(e) => {
                                    let _ = send.send(Err(e));
                                    return;
                                }
                            }
                        }
                    }
                }
                progress(Progress::Read(reader.bytes_read()));
                c.rows_read = total_read;
                c.lines_done = lines_done;
                let ended = c.ended;
                if send.send(Ok(c)).is_err() || ended {
                    return;
                }
            }
        });
        let mut key = String::with_capacity(96);
        for msg in recv {
            let mut c = msg?;
            for r in c.recs.iter_mut() {
                key_from_hash(incident, &r.hash, &mut key);
                r.value = seal_row(codec, &key, seq, r.line, &r.value)?;
            }
            for issue in c.issues.drain(..) {
                on_rows(c.rows_read, c.lines_done, Some(issue));
            }
            on_rows(c.rows_read, c.lines_done, None);
            if !c.recs.is_empty() {
                c.recs
                    .sort_unstable_by(|a, b| a.hash.cmp(&b.hash).then(a.line.cmp(&b.line)));
                let path = dir.join(format!("run-{:06}", runs.files.len()));
                write_run(&path, &c.recs)?;
                runs.rows += c.recs.len() as u64;
                runs.files.push(path);
            }
            if c.ended {
                break;
            }
        }
        Ok(())
    })?;
    Ok(runs)
}

fn write_run(path: &Path, recs: &[Rec]) -> Result<()> {
    let f = File::create(path).map_err(tmp_error)?;
    let mut w = BufWriter::with_capacity(256 * 1024, f);
    for r in recs {
        let len = u32::try_from(r.value.len())
            .map_err(|_| Error::invalid("a roster row is larger than 4 GiB"))?;
        w.write_all(&r.hash).map_err(tmp_error)?;
        w.write_all(&r.line.to_be_bytes()).map_err(tmp_error)?;
        w.write_all(&r.class.to_bytes()).map_err(tmp_error)?;
        w.write_all(&len.to_be_bytes()).map_err(tmp_error)?;
        w.write_all(&r.value).map_err(tmp_error)?;
    }
    w.flush().map_err(tmp_error)
}

fn read_rec(r: &mut BufReader<File>) -> Result<Option<Rec>> {
    let mut head = [0u8; 48];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(tmp_error(e)),
    }
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&head[..32]);
    let line = u64::from_be_bytes([
        head[32], head[33], head[34], head[35], head[36], head[37], head[38], head[39],
    ]);
    let class = RowClass::from_bytes([head[40], head[41], head[42], head[43]]);
    let len = u32::from_be_bytes([head[44], head[45], head[46], head[47]]) as usize;
    let mut value = vec![0u8; len];
    r.read_exact(&mut value).map_err(tmp_error)?;
    Ok(Some(Rec {
        hash,
        line,
        class,
        value,
    }))
}

/// Phase 2: merges the runs in (key, line) order into the rows table, committing a staging
/// transaction every [`CHUNK_ROWS`] rows.
pub(super) fn merge_into<I>(
    store: &Store,
    incident: &str,
    batch: &mut Batch,
    added: &mut RosterTotals,
    runs: Runs,
    progress: &(dyn Fn(Progress) + Sync),
    on_event: &mut dyn FnMut(Event<I>),
) -> Result<()> {
    let mut readers = Vec::with_capacity(runs.files.len());
    for p in &runs.files {
        let f = File::open(p).map_err(tmp_error)?;
        readers.push(BufReader::with_capacity(MERGE_BUFFER, f));
    }
    let mut heads: Vec<Option<Rec>> = Vec::with_capacity(readers.len());
    let mut heap = BinaryHeap::with_capacity(readers.len());
    for (i, r) in readers.iter_mut().enumerate() {
        let rec = read_rec(r)?;
        if let Some(rec) = &rec {
            heap.push(Reverse((rec.hash, rec.line, i)));
        }
        heads.push(rec);
    }
    let seq = batch.seq;
    let total = runs.rows;
    let mut done = 0u64;
    let mut key = String::with_capacity(96);
    // The current group of equal keys: its hash, first line and the first row's outcome.
    let mut group: Option<([u8; 32], u64, Outcome)> = None;
    loop {
        let tx = store.db()?.begin_write()?;
        let mut n = 0usize;
        {
            let mut rows = tx.open_table(ROSTER_ROWS)?;
            while n < CHUNK_ROWS {
                let Some(Reverse((_, _, i))) = heap.pop() else {
                    break;
                };
                let Some(rec) = heads[i].take() else {
                    continue;
                };
                heads[i] = read_rec(&mut readers[i])?;
                if let Some(next) = &heads[i] {
                    heap.push(Reverse((next.hash, next.line, i)));
                }
                n += 1;
                let outcome = match group {
                    Some((h, first_line, first)) if h == rec.hash => match first {
                        Outcome::Accepted => Outcome::Duplicate {
                            first_batch: seq,
                            first_line,
                        },
                        d => d,
                    },
                    _ => {
                        key_from_hash(incident, &rec.hash, &mut key);
                        // Insert first (one tree walk); put an earlier row back if there
                        // was one.
                        let old = rows
                            .insert(key.as_str(), rec.value.as_slice())?
                            .map(|v| v.value().to_vec());
                        let o = match old {
                            None => Outcome::Accepted,
                            Some(old) => match stamp(&old) {
                                None => {
                                    return Err(Error::Database(
                                        "a stored roster row is damaged (no stamp); run `breachdesk audit verify`"
                                            .into(),
                                    ));
                                }
                                // Staged by this batch before an interruption: same row.
                                Some((b, l)) if b == seq && l == rec.line => Outcome::Accepted,
                                Some((b, l)) => {
                                    rows.insert(key.as_str(), old.as_slice())?;
                                    Outcome::Duplicate {
                                        first_batch: b,
                                        first_line: l,
                                    }
                                }
                            },
                        };
                        group = Some((rec.hash, rec.line, o));
                        o
                    }
                };
                match outcome {
                    Outcome::Accepted => {
                        batch.accepted += 1;
                        added.add_class(&rec.class);
                    }
                    Outcome::Duplicate {
                        first_batch,
                        first_line,
                    } => {
                        batch.duplicates += 1;
                        on_event(Event::Duplicate {
                            line: rec.line,
                            first_batch,
                            first_line,
                        });
                    }
                }
            }
            let mut batches = tx.open_table(ROSTER_BATCHES)?;
            let v = json(&*batch)?;
            batches.insert(batch_key(incident, seq).as_str(), v.as_slice())?;
        }
        tx.commit()?;
        done += n as u64;
        progress(Progress::Write { done, total });
        if heap.is_empty() {
            return Ok(());
        }
    }
}
