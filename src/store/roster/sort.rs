//! External sort of fixed-size records for the roster import: runs sorted in memory, spilled
//! to temporary files sealed under a key that exists only in this process, and merged back
//! in order (some runs merged into longer ones first when there are too many to merge at
//! once).
//!
//! Memory is bounded whatever the number of records: a run holds at most `cap` records, and
//! a merge reads at most [`fan_in`] runs at a time through one [`BLOCK_BYTES`] block each,
//! with one buffer for the compressed block shared by all of them (a 190 M-row roster makes
//! about 630 runs of identifier records and 1,270 of name records, each merged in one level;
//! past [`fan_in`] runs, only as many as needed are first merged into one longer run, which
//! writes those once more).
//! The two sorts of an import merge at the same time, each holding one open file per run:
//! the soft limit of open files is raised towards the hard limit when it is lower, and the
//! fan-in is cut to what the limit allows.
//!
//! Run file: a sequence of blocks (how many is kept in memory, so a run cut at a block
//! boundary is refused too), each `u32 BE length n ‖ u32 BE plain length m ‖ tag (16) ‖
//! n bytes of ciphertext`. The m plain bytes (whole records) are LZ4-compressed (a block of
//! sorted records shrinks by about a quarter: the disk an import needs beside the database)
//! and sealed with XChaCha20-Poly1305 under the process's ephemeral key with nonce `sorter id
//! (u64 BE) ‖ run (u64 BE) ‖ block (u64 BE)` and m as associated data: a run file is
//! unreadable once the process is gone, and a changed byte stops the import instead of
//! corrupting it. (For an unencrypted database the compressed blocks are written in the
//! clear with a zero tag, like its rows.)

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};

/// Plaintext bytes per sealed block of a run file (a merge holds one such buffer per run,
/// so 2,048 runs merge in 16 MiB, and an import's two merges at once in 32 MiB).
pub const BLOCK_BYTES: usize = 8 * 1024;
/// Bytes before a block's ciphertext: stored length, plain length, tag.
const BLOCK_HEAD: usize = 24;
/// The most runs merged at once; past it, the excess is first merged into longer runs.
pub const FAN_IN: usize = 2048;
/// The fewest runs merged at once, whatever the open-file limit.
const MIN_FAN_IN: usize = 16;
/// Files left for everything else when the fan-in is cut to the open-file limit.
const OTHER_FILES: u64 = 128;

/// Runs merged at once: [`FAN_IN`], or less when the open-file limit cannot be raised for
/// two merges of that many runs at once (decided once per process).
pub fn fan_in() -> usize {
    static FAN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *FAN.get_or_init(|| fan_in_for(raise_open_file_limit()))
}

/// The fan-in two concurrent merges can have under a soft limit of `limit` open files.
fn fan_in_for(limit: Option<u64>) -> usize {
    match limit {
        None => FAN_IN,
        Some(l) => {
            let per_merge = l.saturating_sub(OTHER_FILES) / 2;
            usize::try_from(per_merge)
                .unwrap_or(FAN_IN)
                .clamp(MIN_FAN_IN, FAN_IN)
        }
    }
}

/// Raises the soft limit of open files to what two merges of [`FAN_IN`] runs need (within
/// the hard limit); the soft limit afterwards, `None` where there is none to read.
#[cfg(unix)]
fn raise_open_file_limit() -> Option<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    let want = (2 * FAN_IN as u64 + OTHER_FILES).min(hard);
    if soft < want && setrlimit(Resource::RLIMIT_NOFILE, want, hard).is_ok() {
        return Some(want);
    }
    Some(soft)
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> Option<u64> {
    None
}

fn tmp_error(e: std::io::Error) -> Error {
    Error::io(
        "cannot use the import's temporary sort files next to the database (they need about 80 bytes per row); check free space and permissions",
        e,
    )
}

fn damaged() -> Error {
    Error::Storage(
        "a temporary sort file of this import was changed while the import ran; run the import again"
            .into(),
    )
}

/// The temporary directory of imports into the database at `db`. Only one import runs at a
/// time (the database is locked), so a leftover directory is from an interrupted import.
pub fn tmp_dir(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".roster-tmp");
    PathBuf::from(s)
}

/// A private (0700) temporary directory, emptied first; removed on drop.
pub struct TmpDir {
    path: PathBuf,
}

impl TmpDir {
    pub fn create(path: &Path) -> Result<TmpDir> {
        if path.exists() {
            std::fs::remove_dir_all(path).map_err(tmp_error)?;
        }
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(path).map_err(tmp_error)?;
        Ok(TmpDir {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The ephemeral key sealing run files (random, never stored); none for an unencrypted
/// database, whose rows are stored in the clear anyway.
pub struct RunKey {
    cipher: Option<XChaCha20Poly1305>,
}

impl RunKey {
    pub fn generate() -> Result<RunKey> {
        let mut k = [0u8; 32];
        getrandom::getrandom(&mut k)
            .map_err(|e| Error::Storage(format!("the random number generator failed: {e}")))?;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&k));
        k.fill(0);
        Ok(RunKey {
            cipher: Some(cipher),
        })
    }

    /// Run files in the clear (an unencrypted database).
    pub fn plain() -> RunKey {
        RunKey { cipher: None }
    }
}

static SORTER_IDS: AtomicU64 = AtomicU64::new(1);

fn nonce(sorter: u64, run: u64, block: u64) -> [u8; 24] {
    let mut n = [0u8; 24];
    n[..8].copy_from_slice(&sorter.to_be_bytes());
    n[8..16].copy_from_slice(&run.to_be_bytes());
    n[16..].copy_from_slice(&block.to_be_bytes());
    n
}

struct RunFile {
    path: PathBuf,
    run: u64,
    /// Blocks written (a reader that meets the end of the file sooner refuses the run).
    blocks: u64,
}

/// Sorts records of `N` bytes by their bytes.
pub struct Sorter<'k, const N: usize> {
    key: &'k RunKey,
    dir: PathBuf,
    id: u64,
    cap: usize,
    buf: Vec<[u8; N]>,
    runs: Vec<RunFile>,
    next_run: u64,
    /// Records pushed.
    pub len: u64,
    /// Bytes written to run files (for the benchmark's disk figure).
    pub spilled: u64,
    /// Records written again by merges before the final one.
    rewritten: u64,
}

impl<'k, const N: usize> Sorter<'k, N> {
    /// A sorter holding at most `memory` bytes of records before spilling a run.
    pub fn new(key: &'k RunKey, dir: &Path, memory: usize) -> Sorter<'k, N> {
        let cap = (memory / N).max(1024);
        Sorter {
            key,
            dir: dir.to_path_buf(),
            id: SORTER_IDS.fetch_add(1, Ordering::Relaxed),
            cap,
            buf: Vec::new(),
            runs: Vec::new(),
            next_run: 0,
            len: 0,
            spilled: 0,
            rewritten: 0,
        }
    }

    pub fn push(&mut self, rec: [u8; N]) -> Result<()> {
        if self.buf.len() >= self.cap {
            self.spill()?;
        }
        if self.buf.capacity() == 0 {
            // One allocation for the run (pages are touched only as records arrive).
            self.buf.reserve_exact(self.cap);
        }
        self.buf.push(rec);
        self.len += 1;
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        self.buf.sort_unstable();
        let mut run = self.new_run();
        let mut w = RunWriter::create(self.key, self.id, &run)?;
        for r in &self.buf {
            w.push(r)?;
        }
        let (written, blocks) = w.finish()?;
        self.spilled += written;
        run.blocks = blocks;
        self.runs.push(run);
        self.buf.clear();
        Ok(())
    }

    fn new_run(&mut self) -> RunFile {
        let run = self.next_run;
        self.next_run += 1;
        RunFile {
            path: self.dir.join(format!("sort-{}-{run:06}", self.id)),
            run,
            blocks: 0,
        }
    }

    /// Every record, in order. Past [`fan_in`] runs, the fewest runs that bring the count
    /// down to it are first merged into one (repeatedly, when even that is not enough).
    pub fn finish(self) -> Result<Merged<'k, N>> {
        self.finish_with(fan_in())
    }

    fn finish_with(mut self, fan_in: usize) -> Result<Merged<'k, N>> {
        let fan_in = fan_in.max(2);
        if !self.runs.is_empty() && !self.buf.is_empty() {
            // The last run goes to disk too, so the merge holds one block per run and not a
            // whole run besides (its memory then depends only on the number of runs).
            self.spill()?;
        }
        if !self.runs.is_empty() {
            self.buf = Vec::new();
        }
        self.buf.sort_unstable();
        // The records still in memory count as one run of the final merge. Merging `take`
        // runs into one removes `take - 1`: only the excess is rewritten.
        loop {
            let inputs = self.runs.len() + usize::from(!self.buf.is_empty());
            if inputs <= fan_in {
                break;
            }
            let take = (inputs - fan_in + 1).min(fan_in);
            let group: Vec<RunFile> = self.runs.drain(..take).collect();
            let mut out = self.new_run();
            let mut w = RunWriter::create(self.key, self.id, &out)?;
            let mut m = Merged::<N>::new(self.key, self.id, group, Vec::new())?;
            while let Some(r) = m.next_rec()? {
                w.push(&r)?;
                self.rewritten += 1;
            }
            let (written, blocks) = w.finish()?;
            self.spilled += written;
            out.blocks = blocks;
            self.runs.push(out);
        }
        let runs = std::mem::take(&mut self.runs);
        let buf = std::mem::take(&mut self.buf);
        let mut m = Merged::new(self.key, self.id, runs, buf)?;
        m.spilled = self.spilled;
        m.rewritten = self.rewritten;
        Ok(m)
    }
}

struct RunWriter<'k> {
    key: &'k RunKey,
    sorter: u64,
    run: u64,
    block: u64,
    w: BufWriter<File>,
    plain: Vec<u8>,
    /// The block compressed, then sealed in place.
    packed: Vec<u8>,
    written: u64,
}

impl<'k> RunWriter<'k> {
    fn create(key: &'k RunKey, sorter: u64, run: &RunFile) -> Result<RunWriter<'k>> {
        let f = File::create(&run.path).map_err(tmp_error)?;
        Ok(RunWriter {
            key,
            sorter,
            run: run.run,
            block: 0,
            w: BufWriter::with_capacity(BLOCK_BYTES + 64, f),
            plain: Vec::with_capacity(BLOCK_BYTES + 64),
            packed: Vec::new(),
            written: 0,
        })
    }

    fn push(&mut self, rec: &[u8]) -> Result<()> {
        self.plain.extend_from_slice(rec);
        if self.plain.len() + rec.len() > BLOCK_BYTES {
            self.flush_block()?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> Result<()> {
        if self.plain.is_empty() {
            return Ok(());
        }
        let n = nonce(self.sorter, self.run, self.block);
        self.block += 1;
        let plain_len = (self.plain.len() as u32).to_be_bytes();
        self.packed.resize(
            lz4_flex::block::get_maximum_output_size(self.plain.len()),
            0,
        );
        let packed = lz4_flex::block::compress_into(&self.plain, &mut self.packed)
            .map_err(|_| Error::Storage("cannot compress a temporary sort block".into()))?;
        self.packed.truncate(packed);
        let tag = match &self.key.cipher {
            Some(c) => c
                .encrypt_in_place_detached(XNonce::from_slice(&n), &plain_len, &mut self.packed)
                .map_err(|_| Error::Storage("cannot seal a temporary sort block".into()))?,
            None => Tag::default(),
        };
        let len = self.packed.len() as u32;
        self.w.write_all(&len.to_be_bytes()).map_err(tmp_error)?;
        self.w.write_all(&plain_len).map_err(tmp_error)?;
        self.w.write_all(&tag).map_err(tmp_error)?;
        self.w.write_all(&self.packed).map_err(tmp_error)?;
        self.written += (BLOCK_HEAD + self.packed.len()) as u64;
        self.plain.clear();
        Ok(())
    }

    /// Bytes written and blocks.
    fn finish(mut self) -> Result<(u64, u64)> {
        self.flush_block()?;
        self.w.flush().map_err(tmp_error)?;
        Ok((self.written, self.block))
    }
}

struct RunReader<'k, const N: usize> {
    key: &'k RunKey,
    sorter: u64,
    run: u64,
    block: u64,
    blocks: u64,
    f: File,
    path: PathBuf,
    /// The current block's records, decompressed.
    buf: Vec<u8>,
    pos: usize,
}

impl<'k, const N: usize> RunReader<'k, N> {
    fn open(key: &'k RunKey, sorter: u64, run: &RunFile) -> Result<RunReader<'k, N>> {
        Ok(RunReader {
            key,
            sorter,
            run: run.run,
            block: 0,
            blocks: run.blocks,
            f: File::open(&run.path).map_err(tmp_error)?,
            path: run.path.clone(),
            buf: Vec::new(),
            pos: 0,
        })
    }

    /// The next record; `packed` is scratch space for the block as stored (one buffer for
    /// every run of a merge).
    fn next_rec(&mut self, packed: &mut Vec<u8>) -> Result<Option<[u8; N]>> {
        if self.pos + N > self.buf.len() {
            if self.pos != self.buf.len() {
                return Err(damaged());
            }
            let mut head = [0u8; BLOCK_HEAD];
            if !read_head(&mut self.f, &mut head)? {
                // Every block written must have been read: a run cut at a block boundary
                // must not pass for a shorter run.
                if self.block != self.blocks {
                    return Err(damaged());
                }
                self.buf = Vec::new();
                self.pos = 0;
                return Ok(None);
            }
            let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let plain_len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
            if plain_len == 0
                || plain_len > BLOCK_BYTES + N
                || !plain_len.is_multiple_of(N)
                || len > lz4_flex::block::get_maximum_output_size(plain_len)
                || self.block >= self.blocks
            {
                return Err(damaged());
            }
            packed.resize(len, 0);
            self.f.read_exact(packed).map_err(|e| {
                if e.kind() == ErrorKind::UnexpectedEof {
                    damaged()
                } else {
                    tmp_error(e)
                }
            })?;
            let n = nonce(self.sorter, self.run, self.block);
            self.block += 1;
            if let Some(c) = &self.key.cipher {
                c.decrypt_in_place_detached(
                    XNonce::from_slice(&n),
                    &head[4..8],
                    packed,
                    Tag::from_slice(&head[8..24]),
                )
                .map_err(|_| damaged())?;
            }
            if self.buf.capacity() < BLOCK_BYTES + N {
                self.buf.reserve_exact(BLOCK_BYTES + N - self.buf.len());
            }
            self.buf.resize(plain_len, 0);
            let got =
                lz4_flex::block::decompress_into(packed, &mut self.buf).map_err(|_| damaged())?;
            if got != plain_len {
                return Err(damaged());
            }
            self.pos = 0;
        }
        let mut r = [0u8; N];
        r.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Ok(Some(r))
    }
}

/// Reads a block's head: `false` at the end of the file, an error when the file ends inside
/// it (a truncated run file must not pass for a shorter run).
fn read_head(f: &mut File, head: &mut [u8; BLOCK_HEAD]) -> Result<bool> {
    let mut got = 0;
    while got < head.len() {
        match f.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(damaged()),
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(tmp_error(e)),
        }
    }
    Ok(true)
}

impl<const N: usize> Drop for RunReader<'_, N> {
    fn drop(&mut self) {
        // A merged run is not needed again.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The merged, sorted stream of a [`Sorter`]'s records.
pub struct Merged<'k, const N: usize> {
    readers: Vec<RunReader<'k, N>>,
    /// The block being read, as stored (shared by the readers).
    packed: Vec<u8>,
    mem: std::vec::IntoIter<[u8; N]>,
    heap: BinaryHeap<Reverse<([u8; N], usize)>>,
    /// Bytes the sorter wrote to run files, every level included.
    spilled: u64,
    /// Records written again by merges before this one.
    rewritten: u64,
}

impl<'k, const N: usize> Merged<'k, N> {
    fn new(
        key: &'k RunKey,
        sorter: u64,
        runs: Vec<RunFile>,
        mem: Vec<[u8; N]>,
    ) -> Result<Merged<'k, N>> {
        let mut readers = Vec::with_capacity(runs.len());
        for r in &runs {
            readers.push(RunReader::open(key, sorter, r)?);
        }
        let mut m = Merged {
            heap: BinaryHeap::with_capacity(readers.len() + 1),
            readers,
            packed: Vec::with_capacity(lz4_flex::block::get_maximum_output_size(BLOCK_BYTES + N)),
            mem: mem.into_iter(),
            spilled: 0,
            rewritten: 0,
        };
        for i in 0..m.readers.len() {
            if let Some(r) = m.readers[i].next_rec(&mut m.packed)? {
                m.heap.push(Reverse((r, i)));
            }
        }
        let mem_index = m.readers.len();
        if let Some(r) = m.mem.next() {
            m.heap.push(Reverse((r, mem_index)));
        }
        Ok(m)
    }

    /// Bytes written to run files by the sort that made this merge.
    pub fn spilled(&self) -> u64 {
        self.spilled
    }

    /// The next record in order.
    pub fn next_rec(&mut self) -> Result<Option<[u8; N]>> {
        let Some(Reverse((rec, i))) = self.heap.pop() else {
            return Ok(None);
        };
        let next = if i == self.readers.len() {
            self.mem.next()
        } else {
            self.readers[i].next_rec(&mut self.packed)?
        };
        if let Some(n) = next {
            self.heap.push(Reverse((n, i)));
        }
        Ok(Some(rec))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn records(n: u64, seed: u64) -> Vec<[u8; 12]> {
        let mut x = seed;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let mut r = [0u8; 12];
                r[..8].copy_from_slice(&(x % 5000).to_be_bytes());
                r[8..].copy_from_slice(&(i as u32).to_be_bytes());
                r
            })
            .collect()
    }

    /// Many runs (more than a fan-in of 128, so some are merged first), the last one spilled
    /// when the merge starts, come back sorted and complete; the run files are gone afterwards.
    #[test]
    fn sorts_through_multi_level_merges() {
        let dir = tempfile::tempdir().unwrap();
        let key = RunKey::generate().unwrap();
        let recs = records(300_000, 0x9e37_79b9);
        // 1024 records per run (the minimum) → 293 runs.
        let mut s = Sorter::<12>::new(&key, dir.path(), 1);
        for r in &recs {
            s.push(*r).unwrap();
        }
        let fan = 128;
        assert!(s.runs.len() > fan, "{}", s.runs.len());
        let mut m = s.finish_with(fan).unwrap();
        let mut out = Vec::new();
        while let Some(r) = m.next_rec().unwrap() {
            out.push(r);
        }
        drop(m);
        let mut want = recs.clone();
        want.sort_unstable();
        assert_eq!(out, want);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn in_memory_only_and_empty() {
        let dir = tempfile::tempdir().unwrap();
        let key = RunKey::generate().unwrap();
        let s = Sorter::<12>::new(&key, dir.path(), 1 << 20);
        assert!(s.finish().unwrap().next_rec().unwrap().is_none());
        let mut s = Sorter::<12>::new(&key, dir.path(), 1 << 20);
        for r in records(100, 7) {
            s.push(r).unwrap();
        }
        let mut m = s.finish().unwrap();
        let mut n = 0;
        let mut prev = [0u8; 12];
        while let Some(r) = m.next_rec().unwrap() {
            assert!(r >= prev);
            prev = r;
            n += 1;
        }
        assert_eq!(n, 100);
    }

    /// A run file holds no record in the clear, and a changed byte is detected.
    #[test]
    fn run_files_are_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let key = RunKey::generate().unwrap();
        let mut s = Sorter::<12>::new(&key, dir.path(), 1);
        let canary = *b"CANARYCANARY";
        for _ in 0..3000 {
            s.push(canary).unwrap();
        }
        let path = s.runs[0].path.clone();
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"CANARY"));
        bytes[30] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let failed = match s.finish() {
            Err(_) => true,
            Ok(mut m) => loop {
                match m.next_rec() {
                    Ok(Some(_)) => {}
                    Ok(None) => break false,
                    Err(_) => break true,
                }
            },
        };
        assert!(failed);
    }

    #[test]
    fn fan_in_follows_the_open_file_limit() {
        assert_eq!(fan_in_for(None), FAN_IN);
        assert_eq!(fan_in_for(Some(1 << 20)), FAN_IN);
        // A soft limit of 1,024 that could not be raised: two merges of 448 runs.
        assert_eq!(fan_in_for(Some(1024)), 448);
        assert_eq!(fan_in_for(Some(4096)), 1984);
        assert_eq!(fan_in_for(Some(64)), MIN_FAN_IN);
        assert!(fan_in() >= MIN_FAN_IN);
    }

    fn drain<const N: usize>(s: Sorter<'_, N>) -> Result<Vec<[u8; N]>> {
        let mut m = s.finish()?;
        let mut out = Vec::new();
        while let Some(r) = m.next_rec()? {
            out.push(r);
        }
        Ok(out)
    }

    /// Run files of an unencrypted database are compressed too, and come back whole; a run
    /// file cut short (to nothing, inside a block's head or its bytes, or exactly at the end
    /// of a block) stops the merge instead of passing for a shorter run.
    #[test]
    fn plain_runs_round_trip_and_a_truncated_run_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = RunKey::plain();
        let recs = records(5000, 3);
        let mut s = Sorter::<12>::new(&key, dir.path(), 1);
        for r in &recs {
            s.push(*r).unwrap();
        }
        let mut want = recs.clone();
        want.sort_unstable();
        assert_eq!(drain(s).unwrap(), want);
        for plain in [true, false] {
            for cut in ["nothing", "head", "bytes", "block end"] {
                let key = if plain {
                    RunKey::plain()
                } else {
                    RunKey::generate().unwrap()
                };
                let mut s = Sorter::<12>::new(&key, dir.path(), 1);
                for r in &recs {
                    s.push(*r).unwrap();
                }
                let path = s.runs[0].path.clone();
                let bytes = std::fs::read(&path).unwrap();
                let first_block = BLOCK_HEAD
                    + u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
                // The run holds two blocks (1,024 records of 12 bytes).
                assert!(bytes.len() > first_block + BLOCK_HEAD);
                let at = match cut {
                    "nothing" => 0,
                    "head" => BLOCK_HEAD / 2,
                    "bytes" => BLOCK_HEAD + 5,
                    _ => first_block,
                };
                std::fs::write(&path, &bytes[..at]).unwrap();
                assert!(drain(s).is_err(), "run cut ({cut}), plain {plain}");
            }
        }
    }

    /// Past the fan-in, only the excess runs are merged first: the final merge takes exactly
    /// the fan-in, and the records are written again only for the runs merged early.
    #[test]
    fn only_the_excess_runs_are_merged_first() {
        let dir = tempfile::tempdir().unwrap();
        let key = RunKey::generate().unwrap();
        let recs = records(300_000, 11);
        let mut s = Sorter::<12>::new(&key, dir.path(), 1);
        for r in &recs {
            s.push(*r).unwrap();
        }
        let runs = s.runs.len();
        let fan = 200;
        // 292 runs on disk, and the records still in memory spilled as a 293rd when the
        // merge starts: 94 runs are merged into one first, then the final merge takes 200.
        assert_eq!(runs, 292);
        let m = s.finish_with(fan).unwrap();
        assert_eq!(m.readers.len(), fan);
        assert_eq!(m.mem.len(), 0);
        // 94 runs of 1,024 records.
        assert_eq!(m.rewritten, 94 * 1024);
        let mut m = m;
        let mut n = 0;
        let mut prev = [0u8; 12];
        while let Some(r) = m.next_rec().unwrap() {
            assert!(r >= prev);
            prev = r;
            n += 1;
        }
        assert_eq!(n, recs.len());
    }
}
