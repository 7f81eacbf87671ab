//! The audit entry and its byte encodings (documented in ARCHITECTURE.md, "Audit encoding").
//!
//! The entry hash is SHA-256 over an exact byte string, written by hand rather than by serde
//! so that the encoding is a contract. Two versions exist; old entries are never rewritten, so
//! a chain may hold both (release 0.1 wrote version 1; every later entry is version 2):
//!
//! ```text
//! "BDAUDIT1"                      8 bytes, domain separator and version
//! seq                             u64 big-endian
//! timestamp                       i64 big-endian, microseconds since 1970-01-01T00:00:00Z
//! actor, action, subject, detail  each: u32 big-endian byte length, then UTF-8 bytes
//! digest                          32 bytes, SHA-256 of the new state of the subject
//! prev_hash                       32 bytes, entry hash of seq-1 (all zero for seq 1)
//! ```
//!
//! ```text
//! "BDAUDIT2"                      8 bytes
//! seq                             u64 big-endian
//! timestamp                       i64 big-endian, microseconds since 1970-01-01T00:00:00Z
//! clock                           u8: 0 system clock, 1 pinned (BREACHDESK_NOW), 2 simulated (exercise)
//! os_uid                          u32 big-endian: the process's user id (0xFFFFFFFF unknown)
//! os_account, via, user,          each: u32 big-endian byte length, then UTF-8 bytes
//!   on_behalf_of, action,           (an absent user or on_behalf_of is the empty string)
//!   subject, detail
//! digest                          32 bytes
//! prev_hash                       32 bytes
//! ```
//!
//! The stored value is that byte string followed by the 32-byte entry hash.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

pub const MAGIC: &[u8; 8] = b"BDAUDIT1";
pub const MAGIC_V2: &[u8; 8] = b"BDAUDIT2";
pub type Hash = [u8; 32];
pub const ZERO: Hash = [0u8; 32];
/// `os_uid` when the user id is unknown (not a Unix system).
const NO_UID: u32 = u32::MAX;

/// Where an entry's time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    /// The system clock: the only source of evidence.
    System,
    /// `BREACHDESK_NOW`, on a database created for it (tests, demos): not evidence.
    Pinned,
    /// An exercise's simulated date.
    Simulated,
}

impl ClockSource {
    fn byte(self) -> u8 {
        match self {
            ClockSource::System => 0,
            ClockSource::Pinned => 1,
            ClockSource::Simulated => 2,
        }
    }

    fn from_byte(b: u8) -> Option<ClockSource> {
        Some(match b {
            0 => ClockSource::System,
            1 => ClockSource::Pinned,
            2 => ClockSource::Simulated,
            _ => return None,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            ClockSource::System => "system",
            ClockSource::Pinned => "pinned",
            ClockSource::Simulated => "simulated",
        }
    }
}

/// How the acting person reached breachdesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The command line: the OS account is the one accountable.
    Cli,
    /// The web server: the logged-in user is the one accountable.
    Web,
}

impl Via {
    pub fn key(self) -> &'static str {
        match self {
            Via::Cli => "cli",
            Via::Web => "web",
        }
    }

    fn from_key(s: &str) -> Option<Via> {
        match s {
            "cli" => Some(Via::Cli),
            "web" => Some(Via::Web),
            _ => None,
        }
    }
}

/// Who made a change, as every version-2 entry records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    /// The operating-system account that ran the process, from its user id (never from an
    /// environment variable); `uid N` when the id has no name.
    pub os_account: String,
    /// The process's user id (`None` off Unix).
    pub os_uid: Option<u32>,
    pub via: Via,
    /// The user logged in to the web server (`None` on the command line).
    pub user: Option<String>,
    /// The person the change was made for (`--actor`), as given: a name, not an identity.
    pub on_behalf_of: Option<String>,
}

impl Who {
    /// A command-line caller.
    pub fn cli(os_account: &str, os_uid: Option<u32>, on_behalf_of: Option<String>) -> Who {
        Who {
            os_account: os_account.to_string(),
            os_uid,
            via: Via::Cli,
            user: None,
            on_behalf_of: on_behalf_of.filter(|s| !s.trim().is_empty()),
        }
    }

    /// The accountable identity: the logged-in user on the web, else the OS account.
    pub fn accountable(&self) -> &str {
        self.user.as_deref().unwrap_or(&self.os_account)
    }

    /// The person a change was made by or for: `--actor` when given, else the accountable
    /// identity (a note's default author).
    pub fn person(&self) -> &str {
        self.on_behalf_of
            .as_deref()
            .unwrap_or_else(|| self.accountable())
    }

    /// One line for people: `alice`, `alice for Dana Reyes`, `dana (web)`.
    pub fn describe(&self) -> String {
        let mut s = match self.via {
            Via::Cli => self.os_account.clone(),
            Via::Web => format!("{} (web)", self.accountable()),
        };
        if let Some(b) = &self.on_behalf_of {
            s.push_str(" for ");
            s.push_str(b);
        }
        s
    }
}

/// What an entry says about who acted and by which clock, by encoding version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// `BDAUDIT1` (release 0.1): one name, taken from `--actor`, `BREACHDESK_ACTOR` or `$USER`
    /// and never checked; the clock is not recorded.
    V1 { actor: String },
    /// `BDAUDIT2`: the OS account, the channel, the logged-in user, the person acted for, and
    /// the clock.
    V2 { who: Who, clock: ClockSource },
}

impl Recorded {
    pub fn version(&self) -> u8 {
        match self {
            Recorded::V1 { .. } => 1,
            Recorded::V2 { .. } => 2,
        }
    }

    /// One line for people (see [`Who::describe`]; a version-1 entry's name as written).
    pub fn describe(&self) -> String {
        match self {
            Recorded::V1 { actor } => actor.clone(),
            Recorded::V2 { who, .. } => who.describe(),
        }
    }

    /// Who is accountable, with how it was established: `alice (OS account, uid 1000)`,
    /// `dana (web login; server account breachdesk)`, or a release-0.1 name marked unverified.
    pub fn accountable(&self) -> String {
        match self {
            Recorded::V1 { actor } => format!("{actor} (release 0.1: name as given, unverified)"),
            Recorded::V2 { who, .. } => match (&who.via, &who.user) {
                (Via::Web, Some(u)) => {
                    format!("{u} (web login; server account {})", who.os_account)
                }
                _ => match who.os_uid {
                    Some(uid) => format!("{} (OS account, uid {uid})", who.os_account),
                    None => format!("{} (OS account)", who.os_account),
                },
            },
        }
    }

    /// The person acted for (`--actor`), if named.
    pub fn on_behalf_of(&self) -> Option<&str> {
        self.who().and_then(|w| w.on_behalf_of.as_deref())
    }

    pub fn who(&self) -> Option<&Who> {
        match self {
            Recorded::V1 { .. } => None,
            Recorded::V2 { who, .. } => Some(who),
        }
    }

    pub fn clock(&self) -> Option<ClockSource> {
        match self {
            Recorded::V1 { .. } => None,
            Recorded::V2 { clock, .. } => Some(*clock),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// Who acted and by which clock (the encoding version follows from it).
    pub recorded: Recorded,
    pub action: String,
    pub subject: String,
    /// Non-PHI detail, e.g. "rows=1000 rejected=3 file_sha256=…".
    pub detail: String,
    pub digest: Hash,
    pub prev_hash: Hash,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

impl AuditEntry {
    /// The canonical bytes the entry hash covers.
    pub fn encode_body(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(128 + self.action.len() + self.subject.len() + self.detail.len());
        self.encode_body_into(&mut out);
        out
    }

    pub fn encode_body_into(&self, out: &mut Vec<u8>) {
        match &self.recorded {
            Recorded::V1 { actor } => {
                out.extend_from_slice(MAGIC);
                out.extend_from_slice(&self.seq.to_be_bytes());
                out.extend_from_slice(&self.at.timestamp_micros().to_be_bytes());
                put_str(out, actor);
            }
            Recorded::V2 { who, clock } => {
                out.extend_from_slice(MAGIC_V2);
                out.extend_from_slice(&self.seq.to_be_bytes());
                out.extend_from_slice(&self.at.timestamp_micros().to_be_bytes());
                out.push(clock.byte());
                out.extend_from_slice(&who.os_uid.unwrap_or(NO_UID).to_be_bytes());
                put_str(out, &who.os_account);
                put_str(out, who.via.key());
                put_str(out, who.user.as_deref().unwrap_or(""));
                put_str(out, who.on_behalf_of.as_deref().unwrap_or(""));
            }
        }
        for s in [&self.action, &self.subject, &self.detail] {
            put_str(out, s);
        }
        out.extend_from_slice(&self.digest);
        out.extend_from_slice(&self.prev_hash);
    }

    pub fn hash(&self) -> Hash {
        Sha256::digest(self.encode_body()).into()
    }

    /// The stored value: body then entry hash.
    pub fn encode_stored(&self) -> Vec<u8> {
        let mut out = self.encode_body();
        let h: Hash = Sha256::digest(&out).into();
        out.extend_from_slice(&h);
        out
    }
}

/// A stored entry, decoded, with the hash it carries and the hash its body actually has.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub entry: AuditEntry,
    pub stored_hash: Hash,
    pub computed_hash: Hash,
}

/// Decodes a stored entry of either version. `None` when the bytes are not a well-formed
/// entry (which `audit verify` reports as an edited entry).
pub fn decode_stored(bytes: &[u8]) -> Option<StoredEntry> {
    if bytes.len() < 32 {
        return None;
    }
    let (body, tail) = bytes.split_at(bytes.len() - 32);
    let mut r = Reader { buf: body, pos: 0 };
    let magic = r.take(8)?;
    let v2 = if magic == MAGIC_V2 {
        true
    } else if magic == MAGIC {
        false
    } else {
        return None;
    };
    let seq = u64::from_be_bytes(r.take(8)?.try_into().ok()?);
    let micros = i64::from_be_bytes(r.take(8)?.try_into().ok()?);
    let at = DateTime::<Utc>::from_timestamp_micros(micros)?;
    let recorded = if v2 {
        let clock = ClockSource::from_byte(r.take(1)?[0])?;
        let uid = u32::from_be_bytes(r.take(4)?.try_into().ok()?);
        let os_account = r.string()?;
        let via = Via::from_key(&r.string()?)?;
        let some = |s: String| (!s.is_empty()).then_some(s);
        let user = some(r.string()?);
        let on_behalf_of = some(r.string()?);
        Recorded::V2 {
            who: Who {
                os_account,
                os_uid: (uid != NO_UID).then_some(uid),
                via,
                user,
                on_behalf_of,
            },
            clock,
        }
    } else {
        Recorded::V1 { actor: r.string()? }
    };
    let action = r.string()?;
    let subject = r.string()?;
    let detail = r.string()?;
    let digest: Hash = r.take(32)?.try_into().ok()?;
    let prev_hash: Hash = r.take(32)?.try_into().ok()?;
    if r.pos != body.len() {
        return None;
    }
    let computed_hash: Hash = Sha256::digest(body).into();
    Some(StoredEntry {
        entry: AuditEntry {
            seq,
            at,
            recorded,
            action,
            subject,
            detail,
            digest,
            prev_hash,
        },
        stored_hash: tail.try_into().ok()?,
        computed_hash,
    })
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn string(&mut self) -> Option<String> {
        let len = u32::from_be_bytes(self.take(4)?.try_into().ok()?) as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

pub fn hex(h: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(h.len() * 2);
    for b in h {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

pub fn parse_hex32(s: &str) -> Option<Hash> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let hi = (chunk[0] as char).to_digit(16)?;
        let lo = (chunk[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .expect("valid time")
    }

    fn sample() -> AuditEntry {
        AuditEntry {
            seq: 1,
            at: at(),
            recorded: Recorded::V1 {
                actor: "privacy.officer".into(),
            },
            action: "incident.new".into(),
            subject: "incident/2026-0001".into(),
            detail: String::new(),
            digest: [0x11; 32],
            prev_hash: ZERO,
        }
    }

    fn sample_v2() -> AuditEntry {
        AuditEntry {
            recorded: Recorded::V2 {
                who: Who::cli("alice", Some(1000), Some("Dana Reyes".into())),
                clock: ClockSource::System,
            },
            ..sample()
        }
    }

    /// Pins the documented byte encoding: if this hash changes, every existing chain breaks.
    /// The expected value was computed independently (Python struct + hashlib) from the
    /// layout in the module doc.
    #[test]
    fn golden_entry_hash() {
        let e = sample();
        let body = e.encode_body();
        assert_eq!(&body[..8], b"BDAUDIT1");
        assert_eq!(body.len(), 8 + 8 + 8 + 4 * 4 + 15 + 12 + 18 + 64);
        assert_eq!(
            hex(&e.hash()),
            "21b637689a029f005295cbdd3ef1c994e0956dee67b0d426abc52f98da733c7a"
        );
    }

    /// Version 2, pinned the same way: the hashes were computed with Python's `struct` and
    /// `hashlib` from the layout in the module doc (a one-off script, values recorded here):
    /// `b"BDAUDIT2" + pack(">Q", seq) + pack(">q", micros) + bytes([clock]) + pack(">I", uid)`
    /// then each string as `pack(">I", len) + utf8`, then digest and prev_hash.
    #[test]
    fn golden_entry_hash_v2() {
        let e = sample_v2();
        let body = e.encode_body();
        assert_eq!(&body[..8], b"BDAUDIT2");
        assert_eq!(body.len(), 169);
        assert_eq!(
            hex(&e.hash()),
            "aebf15ebfa37a7fd38700694365648c1bd3048b3eae6174ed9fdcd47293102b2"
        );
        let web = AuditEntry {
            seq: 2,
            recorded: Recorded::V2 {
                who: Who {
                    os_account: "breachdesk".into(),
                    os_uid: None,
                    via: Via::Web,
                    user: Some("dana".into()),
                    on_behalf_of: None,
                },
                clock: ClockSource::Pinned,
            },
            action: "notice.record".into(),
            detail: "kind=individual".into(),
            prev_hash: [0x22; 32],
            ..sample()
        };
        assert_eq!(web.encode_body().len(), 184);
        assert_eq!(
            hex(&web.hash()),
            "4b7c3a68ecec6f97631e8881b1e32c869c9baa25e2d806718b5d90774554403b"
        );
    }

    #[test]
    fn round_trip_and_tamper() {
        for e in [sample(), sample_v2()] {
            let stored = e.encode_stored();
            let d = decode_stored(&stored).expect("decodes");
            assert_eq!(d.entry, e);
            assert_eq!(d.stored_hash, d.computed_hash);
            let mut bad = stored.clone();
            bad[40] ^= 1;
            if let Some(d) = decode_stored(&bad) {
                assert_ne!(d.stored_hash, d.computed_hash);
            }
            assert!(decode_stored(&stored[..20]).is_none());
        }
    }

    #[test]
    fn who_is_described_for_people() {
        assert_eq!(Who::cli("alice", Some(1), None).describe(), "alice");
        let w = Who::cli("alice", Some(1), Some("Dana Reyes".into()));
        assert_eq!(w.describe(), "alice for Dana Reyes");
        assert_eq!(w.person(), "Dana Reyes");
        assert_eq!(
            Who::cli("alice", None, Some("  ".into())).on_behalf_of,
            None
        );
    }

    #[test]
    fn hex_round_trip() {
        let h = [0xab; 32];
        assert_eq!(parse_hex32(&hex(&h)), Some(h));
        assert_eq!(parse_hex32("zz"), None);
    }
}
