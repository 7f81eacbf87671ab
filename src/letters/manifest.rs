//! The manifest of a rendered batch: what was rendered, from which template and data,
//! into which files, each with its SHA-256. Written as `manifest.json` beside the files; its
//! own SHA-256 goes into the audit chain.

use serde::{Deserialize, Serialize};

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
}
