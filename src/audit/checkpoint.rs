//! Checkpoints: the chain's head at a moment, kept outside the database (printed, mailed,
//! filed) and optionally signed with ed25519. `audit verify --against` compares the chain
//! with one to catch truncation, rollback to an older copy, and forked history.
//!
//! The signature covers these exact bytes (UTF-8, `\n` line ends); format 2 (written since
//! schema version 2) names the signing key's fingerprint, format 1 (release 0.1) does not:
//!
//! ```text
//! breachdesk-checkpoint-v2                  breachdesk-checkpoint-v1
//! seq=<decimal>                             seq=<decimal>
//! head=<64 lowercase hex>                   head=<64 lowercase hex>
//! time=<RFC 3339 UTC, seconds>              time=<RFC 3339 UTC, seconds>
//! key=<SHA-256 of the public key, hex>
//! ```
//!
//! A checkpoint names its key, so when the database's key was replaced after it was made,
//! `audit verify --against` says so (and when, from the audited `audit.keygen` entry) rather
//! than calling the checkpoint bad.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use sha2::{Digest, Sha256};

use super::entry::{Hash, hex, parse_hex32};
use super::verify::{Damage, Finding};

/// The format this binary writes; it reads this one and format 1 (release 0.1).
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format_version: u32,
    pub seq: u64,
    pub head_hash: String,
    pub time: String,
    /// Format 2: the fingerprint of the key that signed it (SHA-256 of the public key, hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
    #[serde(default)]
    pub public_key: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
}

/// A signing key's fingerprint: SHA-256 of its 32 public bytes, hex.
pub fn fingerprint(public: &[u8; 32]) -> String {
    hex(&Sha256::digest(public))
}

/// The first 16 hex digits of a fingerprint, for messages.
pub fn short(fp: &str) -> &str {
    fp.get(..16).unwrap_or(fp)
}

impl Checkpoint {
    pub fn new(seq: u64, head: &Hash, time: &str) -> Checkpoint {
        Checkpoint {
            format_version: FORMAT_VERSION,
            seq,
            head_hash: hex(head),
            time: time.to_string(),
            key_fingerprint: None,
            public_key: None,
            signature: None,
        }
    }

    pub fn message(&self) -> String {
        match self.format_version {
            1 => format!(
                "breachdesk-checkpoint-v1\nseq={}\nhead={}\ntime={}\n",
                self.seq, self.head_hash, self.time
            ),
            _ => format!(
                "breachdesk-checkpoint-v2\nseq={}\nhead={}\ntime={}\nkey={}\n",
                self.seq,
                self.head_hash,
                self.time,
                self.key_fingerprint.as_deref().unwrap_or("none")
            ),
        }
    }

    pub fn sign(&mut self, key: &SigningKey) {
        let public = *key.verifying_key().as_bytes();
        if self.format_version >= 2 {
            self.key_fingerprint = Some(fingerprint(&public));
        }
        let sig = key.sign(self.message().as_bytes());
        self.public_key = Some(hex(&public));
        self.signature = Some(hex_bytes(&sig.to_bytes()));
    }

    /// The public key the checkpoint says signed it (format 2: only when it matches the
    /// signed fingerprint).
    pub fn named_key(&self) -> Option<[u8; 32]> {
        let k = self.public_key.as_deref().and_then(parse_hex32)?;
        match (&self.key_fingerprint, self.format_version) {
            (Some(fp), _) if *fp != fingerprint(&k) => None,
            (None, v) if v >= 2 && self.signature.is_some() => None,
            _ => Some(k),
        }
    }

    /// Checks the signature against `trusted` (the database's recorded key, or one given on
    /// the command line). An unsigned checkpoint passes only when no key is trusted.
    pub fn check_signature(&self, trusted: Option<&[u8; 32]>) -> Result<&'static str, Finding> {
        let bad = |message: String| Finding {
            seq: Some(self.seq),
            damage: Damage::BadCheckpoint,
            message,
        };
        if !(1..=FORMAT_VERSION).contains(&self.format_version) {
            return Err(bad(format!(
                "the checkpoint's format_version is not one this binary reads (1 to {FORMAT_VERSION})"
            )));
        }
        if self.signature.is_some() && self.format_version >= 2 && self.named_key().is_none() {
            return Err(bad(
                "the checkpoint's public_key does not match its signed key_fingerprint: the file was altered"
                    .into(),
            ));
        }
        if parse_hex32(&self.head_hash).is_none() {
            return Err(bad("the checkpoint's head_hash is not 64 hex digits".into()));
        }
        // The time is printed in findings: it must be what `audit checkpoint` writes.
        if chrono::DateTime::parse_from_rfc3339(&self.time).is_err() {
            return Err(bad(
                "the checkpoint's time is not an RFC 3339 time (2026-03-01T09:30:00Z)".into(),
            ));
        }
        let Some(sig_hex) = &self.signature else {
            return match trusted {
                Some(_) => Err(bad(
                    "the checkpoint is unsigned but this database has an audit signing key; a genuine checkpoint would be signed"
                        .into(),
                )),
                None => Ok("unsigned checkpoint (no signing key recorded)"),
            };
        };
        let key_bytes = match (trusted, self.public_key.as_deref().and_then(parse_hex32)) {
            (Some(t), Some(k)) if *t != k => {
                return Err(bad(
                    "the checkpoint was signed with a key other than this database's audit signing key".into(),
                ));
            }
            (Some(t), _) => *t,
            (None, Some(k)) => k,
            (None, None) => {
                return Err(bad(
                    "the checkpoint's public_key is missing or malformed".into()
                ));
            }
        };
        let key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| bad("the checkpoint's public key is not a valid ed25519 key".into()))?;
        let sig = parse_hex64(sig_hex)
            .map(|b| Signature::from_bytes(&b))
            .ok_or_else(|| bad("the checkpoint's signature is not 128 hex digits".into()))?;
        key.verify(self.message().as_bytes(), &sig).map_err(|_| {
            bad("the checkpoint's signature does not verify: the file was forged or altered".into())
        })?;
        Ok(if trusted.is_some() {
            "signature verified against the database's audit signing key"
        } else {
            "signature verified against the key inside the checkpoint (no key recorded in the database)"
        })
    }
}

fn hex_bytes(b: &[u8]) -> String {
    hex(b)
}

/// 128 hex digits → 64 bytes. Works on bytes, so a multi-byte character anywhere (even
/// across byte 64) is simply not a hex digit.
fn parse_hex64(s: &str) -> Option<[u8; 64]> {
    let b = s.trim().as_bytes();
    if b.len() != 128 {
        return None;
    }
    let mut out = [0u8; 64];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        *o = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

impl Checkpoint {
    /// Parses a checkpoint file. The error says what is wrong and where (line, column, field
    /// name), never a value from the file.
    pub fn parse(text: &str) -> Result<Checkpoint, String> {
        serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let field = msg
                .split('`')
                .nth(1)
                .filter(|f| f.len() <= 40 && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            let what = match (e.classify(), field) {
                (serde_json::error::Category::Data, Some(f)) if msg.starts_with("missing field") => {
                    format!("missing field `{f}`")
                }
                (serde_json::error::Category::Data, Some(f)) if msg.starts_with("unknown field") => {
                    format!(
                        "unknown field `{f}` (fields: format_version, seq, head_hash, time, key_fingerprint, public_key, signature)"
                    )
                }
                (serde_json::error::Category::Data, _) => {
                    "a field has the wrong type or value".to_string()
                }
                (serde_json::error::Category::Eof, _) => "the file ends too early".to_string(),
                _ => "not valid JSON".to_string(),
            };
            format!("{what} (line {}, column {})", e.line(), e.column())
        })
    }
}

/// Compares the chain with a checkpoint. `entry_hash(seq)` gives the stored hash of the
/// entry at `seq` in the chain, if present.
pub fn compare(
    cp: &Checkpoint,
    head_seq: u64,
    entry_hash: impl Fn(u64) -> Option<Hash>,
) -> Option<Finding> {
    if head_seq < cp.seq {
        return Some(Finding {
            seq: Some(head_seq + 1),
            damage: Damage::Truncated,
            message: format!(
                "the chain ends at entry {head_seq} but the checkpoint of {} records entry {}: entries were truncated or the database was rolled back to an older copy",
                cp.time, cp.seq
            ),
        });
    }
    let want = parse_hex32(&cp.head_hash)?;
    match entry_hash(cp.seq) {
        Some(h) if h == want => None,
        _ => Some(Finding {
            seq: Some(cp.seq),
            damage: Damage::Forked,
            message: format!(
                "entry {} differs from the checkpoint of {}: the history forked at or before entry {}",
                cp.seq, cp.time, cp.seq
            ),
        }),
    }
}

/// Generates a signing key from the OS random source.
pub fn generate_key() -> Result<SigningKey, String> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| format!("no OS randomness: {e}"))?;
    Ok(SigningKey::from_bytes(&seed))
}

pub fn key_to_hex(key: &SigningKey) -> String {
    hex(&key.to_bytes())
}

pub fn key_from_hex(s: &str) -> Option<SigningKey> {
    parse_hex32(s).map(|b| SigningKey::from_bytes(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_and_forgery() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let mut cp = Checkpoint::new(5, &[1u8; 32], "2026-01-01T00:00:00Z");
        cp.sign(&key);
        let trusted = *key.verifying_key().as_bytes();
        assert!(cp.check_signature(Some(&trusted)).is_ok());
        let mut forged = cp.clone();
        forged.seq = 4;
        assert!(forged.check_signature(Some(&trusted)).is_err());
        // A forger who signs with their own key is caught by the trusted key.
        let other = SigningKey::from_bytes(&[9u8; 32]);
        let mut own = Checkpoint::new(4, &[1u8; 32], "2026-01-01T00:00:00Z");
        own.sign(&other);
        assert!(own.check_signature(Some(&trusted)).is_err());
    }

    /// Regression: a signature of 128 bytes with a multi-byte character across byte 64
    /// panicked (a string slice inside the character) instead of reporting a bad checkpoint.
    #[test]
    fn multibyte_signature_is_a_bad_checkpoint_not_a_panic() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let mut cp = Checkpoint::new(5, &[1u8; 32], "2026-01-01T00:00:00Z");
        cp.sign(&key);
        let mut sig = "a".repeat(63);
        sig.push('é');
        sig.push_str(&"b".repeat(63));
        assert_eq!(sig.len(), 128);
        cp.signature = Some(sig);
        let trusted = *key.verifying_key().as_bytes();
        let f = cp.check_signature(Some(&trusted)).expect_err("bad");
        assert_eq!(f.damage, Damage::BadCheckpoint);
        assert!(parse_hex64(&"é".repeat(64)).is_none());
    }

    #[test]
    fn parse_errors_name_fields_never_values() {
        let e = Checkpoint::parse("{\"format_version\":1,\"seq\":\"SECRET\"}").expect_err("type");
        assert!(!e.contains("SECRET"), "{e}");
        assert!(e.contains("line 1"), "{e}");
        let e = Checkpoint::parse("{\"format_version\":1}").expect_err("missing");
        assert!(e.contains("missing field `seq`"), "{e}");
        let e = Checkpoint::parse("\u{0}\u{1}binary").expect_err("binary");
        assert!(e.contains("not valid JSON"), "{e}");
    }

    #[test]
    fn compare_names_truncation_and_fork() {
        let cp = Checkpoint::new(5, &[1u8; 32], "t");
        assert_eq!(
            compare(&cp, 3, |_| None).map(|f| f.damage),
            Some(Damage::Truncated)
        );
        assert_eq!(
            compare(&cp, 9, |_| Some([2u8; 32])).map(|f| f.damage),
            Some(Damage::Forked)
        );
        assert!(compare(&cp, 9, |_| Some([1u8; 32])).is_none());
    }
}
