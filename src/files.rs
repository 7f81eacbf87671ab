//! Files at the edge: reading outside input with a clear size limit, and writing outputs
//! so that a failure never leaves a half-written file.
//!
//! - **Bounded reads.** Every file read whole (facts, scenarios, templates, checkpoints, key
//!   files) has a [`Limit`]; reading stops one byte past it, so `/dev/zero`, a FIFO that
//!   never ends or a multi-gigabyte mistake is refused with the limit named instead of
//!   filling memory. Streamed inputs (rosters, OCR exports, evidence files) bound each
//!   record instead and refuse what is not a regular file where they must read it twice.
//! - **Errors map to the exit-code table**: a missing file is "not found" (4), a file that
//!   is too large or not UTF-8 is invalid input (3), any other I/O failure (permissions, a
//!   device error, a full disk) is an I/O error (8). Messages name the file and the limit,
//!   never its content.
//! - **Atomic outputs.** [`AtomicFile`] writes to a temporary file in the destination's
//!   directory, flushes and syncs it, then renames it over the destination; dropped
//!   without [`AtomicFile::commit`], the temporary file is removed. A reader never sees a
//!   partial checkpoint, key file, report or letter batch.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A size limit for one kind of input, and its name for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub bytes: u64,
    /// "facts file", "scenario", ...
    pub what: &'static str,
}

const MIB: u64 = 1024 * 1024;

/// A facts file (`incident new --from`, `evaluate`): real ones are a few KiB.
pub const FACTS: Limit = Limit {
    bytes: MIB,
    what: "facts file",
};
/// A tabletop scenario file.
pub const SCENARIO: Limit = Limit {
    bytes: 4 * MIB,
    what: "scenario file",
};
/// One letter template.
pub const TEMPLATE: Limit = Limit {
    bytes: MIB,
    what: "template",
};
/// A State-law rules file of counsel's (`laws set`, `evaluate --laws`): the largest
/// built-in one is about 20 KiB.
pub const LAWS_FILE: Limit = Limit {
    bytes: MIB,
    what: "rules file",
};
/// An audit checkpoint (a few hundred bytes).
pub const CHECKPOINT: Limit = Limit {
    bytes: 64 * 1024,
    what: "checkpoint",
};
/// A passphrase or signing-key file.
pub const KEY_FILE: Limit = Limit {
    bytes: 64 * 1024,
    what: "key file",
};

impl Limit {
    fn describe(self) -> String {
        if self.bytes >= MIB && self.bytes.is_multiple_of(MIB) {
            format!("{} MiB", self.bytes / MIB)
        } else {
            format!("{} KiB", self.bytes / 1024)
        }
    }
}

/// The error for a file that cannot be opened or read: "not found" (exit 4) when it does
/// not exist, else an I/O error (exit 8). `what` names the kind of file.
pub fn read_error(path: &Path, what: &str, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::NotFound => Error::NotFound(format!(
            "the {what} {} does not exist; check the path",
            path.display()
        )),
        io::ErrorKind::InvalidData => Error::invalid(format!(
            "the {what} {} is not UTF-8 text: save it as UTF-8",
            path.display()
        )),
        _ => Error::io(format!("cannot read the {what} {}", path.display()), e),
    }
}

/// Reads a whole text file of at most `limit.bytes`. Works for pipes and devices too
/// (`/dev/stdin`, a FIFO): they are read up to the limit, never further.
pub fn read_text(path: &Path, limit: Limit) -> Result<String> {
    if path.is_dir() {
        return Err(Error::invalid(format!(
            "{} is a directory, not a {}",
            path.display(),
            limit.what
        )));
    }
    let f = File::open(path).map_err(|e| read_error(path, limit.what, e))?;
    read_text_from(f, &path.display().to_string(), limit).map_err(|e| match e {
        Error::Io { source, .. } => read_error(path, limit.what, source),
        other => other,
    })
}

/// Reads at most `limit.bytes` of text from `r`; `origin` names it in errors ("standard
/// input", a path).
pub fn read_text_from(r: impl Read, origin: &str, limit: Limit) -> Result<String> {
    let bytes = read_bytes_from(r, origin, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
        Error::invalid(format!(
            "{origin}, line {line}: not UTF-8 text; save the {} as UTF-8",
            limit.what
        ))
    })
}

/// Reads at most `limit.bytes` bytes from `r`.
pub fn read_bytes_from(r: impl Read, origin: &str, limit: Limit) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(limit.bytes.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(format!("cannot read {origin}"), e))?;
    if buf.len() as u64 > limit.bytes {
        return Err(Error::invalid(format!(
            "{origin} is larger than {}, the limit for a {}; check that it is the right file",
            limit.describe(),
            limit.what
        )));
    }
    Ok(buf)
}

/// Whether `path` is a regular file (following symbolic links).
pub fn is_regular_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// An output file written under a temporary name in the destination's directory and
/// renamed into place by [`AtomicFile::commit`]. Dropped uncommitted, it leaves nothing.
pub struct AtomicFile {
    tmp: Option<tempfile::NamedTempFile>,
    writer: Option<BufWriter<File>>,
    path: PathBuf,
    no_clobber: bool,
}

impl AtomicFile {
    /// Starts a file that will replace `path` on commit. `private`: owner-only permissions
    /// (0600) for secrets and PHI; otherwise 0644.
    pub fn create(path: &Path, private: bool) -> Result<AtomicFile> {
        AtomicFile::start(path, private, false)
    }

    /// Like [`AtomicFile::create`], but the commit fails if `path` exists by then (a key file
    /// is never overwritten).
    pub fn create_new(path: &Path, private: bool) -> Result<AtomicFile> {
        AtomicFile::start(path, private, true)
    }

    fn start(path: &Path, private: bool, no_clobber: bool) -> Result<AtomicFile> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let prefix = format!(".{name}.");
        let mut b = tempfile::Builder::new();
        b.prefix(&prefix).suffix(".partial");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            b.permissions(std::fs::Permissions::from_mode(if private {
                0o600
            } else {
                0o644
            }));
        }
        let tmp = b
            .tempfile_in(&dir)
            .map_err(|e| write_error(path, "cannot create a temporary file beside", e))?;
        // The umask applies to the mode given at creation; set it again so it cannot widen
        // or narrow it.
        set_mode(tmp.path(), if private { 0o600 } else { 0o644 })
            .map_err(|e| write_error(path, "cannot protect a temporary file beside", e))?;
        let file = tmp
            .reopen()
            .map_err(|e| write_error(path, "cannot create a temporary file beside", e))?;
        Ok(AtomicFile {
            tmp: Some(tmp),
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
            path: path.to_path_buf(),
            no_clobber,
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames into place.
    pub fn commit(mut self) -> Result<()> {
        let path = self.path.clone();
        if let Some(w) = self.writer.take() {
            let f = w
                .into_inner()
                .map_err(|e| write_error(&path, "cannot write", e.into_error()))?;
            f.sync_all()
                .map_err(|e| write_error(&path, "cannot write", e))?;
        }
        let Some(tmp) = self.tmp.take() else {
            return Ok(());
        };
        let persisted = if self.no_clobber {
            tmp.persist_noclobber(&path)
        } else {
            tmp.persist(&path)
        };
        persisted.map_err(|e| {
            if e.error.kind() == io::ErrorKind::AlreadyExists {
                Error::invalid(format!(
                    "{} already exists and is never overwritten; move it away first",
                    path.display()
                ))
            } else {
                write_error(&path, "cannot write", e.error)
            }
        })?;
        // The rename is durable once the directory is synced (best effort: not every file
        // system lets a directory be opened).
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.writer {
            Some(w) => w.write(buf),
            None => Err(io::Error::other("the file was already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.writer {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Close before the temporary file is deleted (NamedTempFile's own drop).
        self.writer.take();
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Creates `dir` owner-only (0700, set explicitly so the umask cannot widen or narrow it).
/// Missing parents are created owner-only too. Refuses a path that is a symbolic link or
/// a file.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(Error::invalid(format!(
                "{} is a symbolic link; name a real directory (outputs never follow links)",
                dir.display()
            )));
        }
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => {
            return Err(Error::invalid(format!(
                "{} exists and is not a directory",
                dir.display()
            )));
        }
        Err(_) => {}
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        create_private_dir(parent)?;
    }
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    set_mode(dir, 0o700).map_err(|e| Error::io(format!("cannot protect {}", dir.display()), e))
}

/// Creates a new owner-only (0600) file; fails if anything, a symbolic link included,
/// already has that name (so it never writes through a link).
pub fn create_private_file(path: &Path) -> Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::invalid(format!(
                "{} already exists; move it away (outputs are never written over)",
                path.display()
            ))
        } else {
            Error::io(format!("cannot create {}", path.display()), e)
        }
    })?;
    set_mode(path, 0o600)
        .map_err(|e| Error::io(format!("cannot protect {}", path.display()), e))?;
    Ok(f)
}

/// Refuses `path` if something exists there and `force` is not given.
pub fn refuse_existing(path: &Path, force: bool) -> Result<()> {
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::invalid(format!(
            "{} already exists; pass --force to replace it",
            path.display()
        )));
    }
    Ok(())
}

/// Writes `bytes` to `path` whole (see [`AtomicFile`]); `private`: owner-only (0600). An
/// existing `path` is refused unless `force` (then replaced; a symbolic link there is
/// replaced itself, never followed). The directory must exist.
pub fn write_output(path: &Path, bytes: &[u8], private: bool, force: bool) -> Result<()> {
    refuse_existing(path, force)?;
    let mut f = if force {
        AtomicFile::create(path, private)?
    } else {
        AtomicFile::create_new(path, private)?
    };
    f.write_all(bytes)
        .map_err(|e| write_error(path, "cannot write", e))?;
    f.commit()
}

/// Makes a rename durable (best effort: not every file system lets a directory be opened).
pub fn sync_dir(dir: Option<&Path>) {
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// An I/O error while writing `path`.
pub fn write_error(path: &Path, doing: &str, e: io::Error) -> Error {
    Error::io(format!("{doing} {}", path.display()), e)
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let mut f = AtomicFile::create(path, private)?;
    f.write_all(bytes)
        .map_err(|e| write_error(path, "cannot write", e))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_read_refuses_past_the_limit() {
        let small = Limit {
            bytes: 8,
            what: "facts file",
        };
        assert_eq!(
            read_text_from(&b"12345678"[..], "x", small).expect("fits"),
            "12345678"
        );
        let e = read_text_from(&b"123456789"[..], "x", small).expect_err("too large");
        assert_eq!(e.exit_code(), crate::error::exit::INVALID_INPUT);
        assert!(e.to_string().contains("limit for a facts file"), "{e}");
        // An endless source stops one byte past the limit.
        let e = read_text_from(io::repeat(0), "endless", small).expect_err("endless");
        assert!(e.to_string().contains("larger than"), "{e}");
        let e = read_text_from(&b"ok\n\xff\n"[..], "bad", small).expect_err("not utf-8");
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn missing_file_is_not_found_and_dir_is_invalid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = read_text(&dir.path().join("nope.toml"), FACTS).expect_err("missing");
        assert_eq!(e.exit_code(), crate::error::exit::NOT_FOUND);
        let e = read_text(dir.path(), FACTS).expect_err("dir");
        assert_eq!(e.exit_code(), crate::error::exit::INVALID_INPUT);
    }

    #[test]
    fn atomic_file_leaves_nothing_when_dropped_and_replaces_on_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("out.json");
        {
            let mut f = AtomicFile::create(&p, false).expect("create");
            f.write_all(b"half").expect("write");
        }
        assert!(!p.exists());
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
        write_atomic(&p, b"one", false).expect("write");
        write_atomic(&p, b"two", false).expect("replace");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        let f = AtomicFile::create_new(&p, true).expect("create");
        let e = f.commit().expect_err("exists");
        assert!(e.to_string().contains("never overwritten"), "{e}");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }
}

#[cfg(all(test, unix))]
mod private_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn private_outputs_whatever_the_umask_and_never_through_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().join("a/b");
        create_private_dir(&d).expect("dir");
        assert!(write_output(&dir.path().join("none/x"), b"x", true, false).is_err());
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        let f = d.join("x.html");
        write_output(&f, b"one", true, false).expect("write");
        assert_eq!(mode(&f), 0o600);
        let e = write_output(&f, b"two", true, false).expect_err("exists");
        assert!(e.to_string().contains("--force"), "{e}");
        write_output(&f, b"two", true, true).expect("forced");
        assert_eq!(std::fs::read(&f).expect("read"), b"two");
        // A link planted where the output goes is replaced, its target untouched.
        let target = dir.path().join("target");
        std::fs::write(&target, b"keep").expect("write");
        let link = d.join("link.html");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(create_private_file(&link).is_err());
        write_output(&link, b"new", true, false).expect_err("exists");
        write_output(&link, b"new", true, true).expect("replaces the link");
        assert_eq!(std::fs::read(&target).expect("read"), b"keep");
        assert!(
            !std::fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&d)
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}

/// Bytes of disk a file takes: its allocated blocks where the platform says (a file
/// extended with holes takes less than its length), else its length; 0 when unreadable.
pub fn disk_used(path: &Path) -> u64 {
    let Ok(m) = std::fs::metadata(path) else {
        return 0;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        m.blocks() * 512
    }
    #[cfg(not(unix))]
    {
        m.len()
    }
}
