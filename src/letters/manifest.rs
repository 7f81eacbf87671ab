//! The manifest of a rendered batch: what was rendered, from which template and data,
//! into which files, each with its SHA-256. Written as `manifest.json` beside the files; its
//! own SHA-256 goes into the audit chain.

use std::io::Write;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestFile {
    pub name: String,
    pub count: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json`: what was rendered, from which template and data, into which files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format_version: u32,
    pub incident: String,
    pub kind: String,
    pub format: String,
    pub exercise: bool,
    pub notice_date: String,
    pub count: u64,
    pub template_sha256: String,
    pub data_sha256: String,
    pub files: Vec<ManifestFile>,
    /// SHA-256 over the partials the templates used (see `desk::letters::partials_hash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partials_sha256: Option<String>,
    /// How the documents reach people: `mail` (print, or the mail vendor's file) or
    /// `email` (one message per person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Print layout of HTML letters: `single` (one page per letter) or `duplex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// Printed pages per letter in that layout, for the mail house.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages_per_letter: Option<u32>,
}

/// A writer that hashes (SHA-256) and counts what passes through it, for manifest entries.
pub struct HashingWriter<W: Write> {
    pub inner: W,
    hash: Sha256,
    pub bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> HashingWriter<W> {
        HashingWriter {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    /// The SHA-256 (lowercase hex) and byte count of everything written.
    pub fn finish(self) -> (String, u64) {
        (crate::audit::entry::hex(&self.hash.finalize()), self.bytes)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
