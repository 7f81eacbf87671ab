//! Byte encodings of a schema-2 roster: rows, sealed groups of rows, dead marks, issues,
//! the wrapped roster key, and the keyed hashes that find duplicates. Documented in
//! ARCHITECTURE.md ("Roster encodings"); the golden-bytes tests below pin them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::phi::{PhiCodec, locked_error};
use super::super::tables::{ROSTER_GROUPS_NAME, ROSTER_KEYS_NAME};
use super::super::vault::{DataKey, Vault, associated_data};
use crate::domain::RosterRow;
use crate::error::{Error, Result};

/// Format byte that starts every group value.
pub const GROUP_FORMAT: u8 = 0x02;
/// Bytes of a group value before its body: format, origin batch (u32), rows (u16).
pub const GROUP_HEADER: usize = 7;
/// Body tag of a plain (unencrypted database) group.
pub const BODY_PLAIN: u8 = 0x00;
/// Body tag of a sealed group (the vault's seal version).
pub const BODY_SEALED: u8 = 0x01;
/// Rows are added to a group while its payload stays within this many bytes, so that a
/// group with its key and AEAD overhead fills one 4 KiB B-tree leaf (a larger row makes a
/// group of its own).
pub const GROUP_PAYLOAD_LIMIT: usize = 3_950;
/// Format byte of a stored roster key.
pub const KEY_FORMAT: u8 = 0x01;

const FLAG_EMAIL_CONSENT: u8 = 1;
const FLAG_DECEASED: u8 = 2;
const FLAG_MINOR_KNOWN: u8 = 4;
const FLAG_MINOR: u8 = 8;
const FLAG_DOB: u8 = 16;

/// The string fields of a row record, in presence-mask bit order.
pub const STRING_FIELDS: [&str; 18] = [
    "id",
    "first_name",
    "last_name",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "email",
    "phone",
    "nok_name",
    "nok_address",
    "nok_city",
    "nok_state",
    "nok_zip",
    "representative_name",
    "covered_entity",
    "credit_monitoring_code",
];

fn strings(r: &RosterRow) -> [&str; 18] {
    [
        &r.id,
        &r.first_name,
        &r.last_name,
        &r.address1,
        &r.address2,
        &r.city,
        r.state.as_deref().unwrap_or(""),
        &r.zip,
        &r.email,
        &r.phone,
        &r.nok_name,
        &r.nok_address,
        &r.nok_city,
        r.nok_state.as_deref().unwrap_or(""),
        &r.nok_zip,
        &r.representative_name,
        &r.covered_entity,
        &r.credit_monitoring_code,
    ]
}

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn get_varint(buf: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = buf.split_first()?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// The body of a row record (without its ordinal and line):
/// `flags u8 ‖ varint presence mask ‖ [i32 BE days since 1970-01-01 when FLAG_DOB] ‖ for each
/// present string field, in [`STRING_FIELDS`] order: varint length ‖ UTF-8`.
pub fn encode_row_body(r: &RosterRow, out: &mut Vec<u8>) {
    let mut flags = 0u8;
    if r.email_consent {
        flags |= FLAG_EMAIL_CONSENT;
    }
    if r.deceased {
        flags |= FLAG_DECEASED;
    }
    if let Some(m) = r.minor {
        flags |= FLAG_MINOR_KNOWN;
        if m {
            flags |= FLAG_MINOR;
        }
    }
    if r.date_of_birth.is_some() {
        flags |= FLAG_DOB;
    }
    out.push(flags);
    let s = strings(r);
    let mut mask = 0u64;
    for (i, f) in s.iter().enumerate() {
        if !f.is_empty() {
            mask |= 1 << i;
        }
    }
    put_varint(out, mask);
    if let Some(d) = r.date_of_birth {
        let days = (d - epoch()).num_days() as i32;
        out.extend_from_slice(&days.to_be_bytes());
    }
    for f in s.iter().filter(|f| !f.is_empty()) {
        put_varint(out, f.len() as u64);
        out.extend_from_slice(f.as_bytes());
    }
}

/// Decodes a row body written by [`encode_row_body`]; `None` when the bytes are not one.
pub fn decode_row_body(buf: &mut &[u8]) -> Option<RosterRow> {
    let (&flags, rest) = buf.split_first()?;
    *buf = rest;
    let mask = get_varint(buf)?;
    if mask >> STRING_FIELDS.len() != 0 {
        return None;
    }
    let dob = if flags & FLAG_DOB != 0 {
        let b: [u8; 4] = buf.get(..4)?.try_into().ok()?;
        *buf = &buf[4..];
        Some(epoch() + chrono::Duration::days(i64::from(i32::from_be_bytes(b))))
    } else {
        None
    };
    let mut vals: [String; 18] = Default::default();
    for (i, v) in vals.iter_mut().enumerate() {
        if mask & (1 << i) != 0 {
            let n = usize::try_from(get_varint(buf)?).ok()?;
            let bytes = buf.get(..n)?;
            *v = std::str::from_utf8(bytes).ok()?.to_string();
            *buf = &buf[n..];
        }
    }
    let [
        id,
        first_name,
        last_name,
        address1,
        address2,
        city,
        state,
        zip,
        email,
        phone,
        nok_name,
        nok_address,
        nok_city,
        nok_state,
        nok_zip,
        representative_name,
        covered_entity,
        credit_monitoring_code,
    ] = vals;
    let opt = |s: String| (!s.is_empty()).then_some(s);
    Some(RosterRow {
        id,
        first_name,
        last_name,
        address1,
        address2,
        city,
        state: opt(state),
        zip,
        email,
        email_consent: flags & FLAG_EMAIL_CONSENT != 0,
        phone,
        deceased: flags & FLAG_DECEASED != 0,
        nok_name,
        nok_address,
        nok_city,
        nok_state: opt(nok_state),
        nok_zip,
        date_of_birth: dob,
        minor: (flags & FLAG_MINOR_KNOWN != 0).then_some(flags & FLAG_MINOR != 0),
        representative_name,
        covered_entity,
        credit_monitoring_code,
    })
}

/// How a roster's groups are sealed: plain in an unencrypted database, else under the
/// roster's own [`DataKey`].
pub enum RosterSeal {
    Plain,
    Sealed(DataKey),
    /// During a key rotation (`rotate`): groups open under either key; new ones are sealed
    /// under the next.
    Rotating {
        current: DataKey,
        next: DataKey,
    },
}

impl RosterSeal {
    /// The key's fingerprint (hex), for the audit trail; `None` when plain.
    pub fn fingerprint(&self) -> Option<String> {
        match self {
            RosterSeal::Plain => None,
            RosterSeal::Sealed(k) | RosterSeal::Rotating { current: k, .. } => {
                Some(crate::audit::entry::hex(&k.fingerprint()))
            }
        }
    }

    fn secret(&self, label: &str) -> Option<[u8; 32]> {
        match self {
            RosterSeal::Plain => None,
            RosterSeal::Sealed(k) | RosterSeal::Rotating { current: k, .. } => {
                Some(k.derive_subkey(label))
            }
        }
    }

    /// A key rotation is under way.
    pub fn rotating(&self) -> bool {
        matches!(self, RosterSeal::Rotating { .. })
    }
}

/// The associated data of a group: table, key, and a field naming the batch binding
/// (`group origin=<origin> rows=<n> file=<file sha256>`), so a group moved to another key,
/// batch, import or file fails to open.
pub fn group_ad(key: &str, origin: u32, rows: u16, file_sha256: &str) -> Vec<u8> {
    associated_data(
        ROSTER_GROUPS_NAME,
        key.as_bytes(),
        &format!("group origin={origin} rows={rows} file={file_sha256}"),
    )
}

/// A group value: `0x02 ‖ origin batch u32 BE ‖ rows u16 BE ‖ body`, body `0x00 ‖ payload`
/// (plain) or `0x01 ‖ nonce ‖ sealed payload ‖ tag` (sealed with [`group_ad`]).
pub fn seal_group(
    seal: &RosterSeal,
    key: &str,
    origin: u32,
    rows: u16,
    file_sha256: &str,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    out.clear();
    out.push(GROUP_FORMAT);
    out.extend_from_slice(&origin.to_be_bytes());
    out.extend_from_slice(&rows.to_be_bytes());
    match seal {
        RosterSeal::Plain => {
            out.push(BODY_PLAIN);
            out.extend_from_slice(payload);
        }
        RosterSeal::Sealed(k) | RosterSeal::Rotating { next: k, .. } => k
            .seal_append(&group_ad(key, origin, rows, file_sha256), payload, out)
            .map_err(|e| Error::Key(format!("cannot seal roster rows: {e}")))?,
    }
    Ok(())
}

/// A group's header: (origin batch, rows); `None` when the value is not a group.
pub fn group_header(value: &[u8]) -> Option<(u32, u16)> {
    if value.first() != Some(&GROUP_FORMAT) || value.len() < GROUP_HEADER + 1 {
        return None;
    }
    let origin = u32::from_be_bytes(value[1..5].try_into().ok()?);
    let rows = u16::from_be_bytes(value[5..7].try_into().ok()?);
    Some((origin, rows))
}

/// The group is stored in plaintext (tag `0x00`).
pub fn group_is_plain(value: &[u8]) -> bool {
    value.get(GROUP_HEADER) == Some(&BODY_PLAIN)
}

pub fn damaged_group() -> Error {
    Error::Key(
        "a stored roster group failed authentication: it was altered, moved, planted or sealed under another key; run `breachdesk audit verify`"
            .into(),
    )
}

/// Opens a group's payload into `out`. A plain group in an encrypted database, or any
/// group that fails authentication, is an error (never shown).
pub fn open_group(
    seal: &RosterSeal,
    key: &str,
    file_sha256: &str,
    value: &[u8],
    out: &mut Vec<u8>,
) -> Result<(u32, u16)> {
    let (origin, rows) = group_header(value).ok_or_else(damaged_group)?;
    let body = &value[GROUP_HEADER..];
    match (seal, body.first()) {
        (RosterSeal::Plain, Some(&BODY_PLAIN)) => {
            out.clear();
            out.extend_from_slice(&body[1..]);
        }
        (RosterSeal::Sealed(k), Some(&BODY_SEALED)) => k
            .open_into(&group_ad(key, origin, rows, file_sha256), body, out)
            .map_err(|_| damaged_group())?,
        (RosterSeal::Rotating { current, next }, Some(&BODY_SEALED)) => {
            let ad = group_ad(key, origin, rows, file_sha256);
            current
                .open_into(&ad, body, out)
                .or_else(|_| next.open_into(&ad, body, out))
                .map_err(|_| damaged_group())?
        }
        _ => return Err(damaged_group()),
    }
    Ok((origin, rows))
}

/// One row of a group: its ordinal in the batch (0-based, over the file's data rows), its
/// line in the file and the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub ordinal: u32,
    pub line: u64,
    pub row: RosterRow,
}

/// Appends a row record to a group payload: `varint (ordinal − previous ordinal) ‖ varint
/// (line − previous line) ‖ body` (the first row's ordinal delta is from the group's first
/// ordinal, its line delta from 0).
pub fn push_row(payload: &mut Vec<u8>, ordinal_delta: u32, line_delta: u64, body: &[u8]) {
    put_varint(payload, u64::from(ordinal_delta));
    put_varint(payload, line_delta);
    payload.extend_from_slice(body);
}

/// Decodes a group payload of `rows` rows whose first ordinal is `first`.
pub fn decode_payload(first: u32, rows: u16, payload: &[u8]) -> Result<Vec<GroupRow>> {
    let mut buf = payload;
    let mut out = Vec::with_capacity(usize::from(rows));
    let (mut ordinal, mut line) = (u64::from(first), 0u64);
    for _ in 0..rows {
        let d = get_varint(&mut buf).ok_or_else(damaged_group)?;
        let l = get_varint(&mut buf).ok_or_else(damaged_group)?;
        ordinal = ordinal.checked_add(d).ok_or_else(damaged_group)?;
        line = line.checked_add(l).ok_or_else(damaged_group)?;
        let row = decode_row_body(&mut buf).ok_or_else(damaged_group)?;
        out.push(GroupRow {
            ordinal: u32::try_from(ordinal).map_err(|_| damaged_group())?,
            line,
            row,
        });
    }
    if !buf.is_empty() {
        return Err(damaged_group());
    }
    Ok(out)
}

pub fn batch_part(seq: u32) -> String {
    format!("{seq:06}")
}

/// `<incident>/<batch>/<first ordinal>`.
pub fn group_key(id: &str, batch: u32, first: u32) -> String {
    format!("{id}/{batch:06}/{first:010}")
}

/// (batch, first ordinal) of a group key under `<id>/`.
pub fn parse_group_key(key: &str) -> Option<(u32, u32)> {
    let mut parts = key.rsplitn(3, '/');
    let first = parts.next()?.parse().ok()?;
    let batch = parts.next()?.parse().ok()?;
    Some((batch, first))
}

/// Why a row no longer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadReason {
    /// Same identifier as an earlier row: counted once.
    Duplicate = 1,
    /// A row that needed fixing, replaced by a later import of the same identifier.
    Replaced = 2,
    /// A rejected row whose identifier a later import brought in.
    Resolved = 3,
}

impl DeadReason {
    pub fn from_byte(b: u8) -> Option<DeadReason> {
        match b {
            1 => Some(DeadReason::Duplicate),
            2 => Some(DeadReason::Replaced),
            3 => Some(DeadReason::Resolved),
            _ => None,
        }
    }
}

/// `<incident>/<by batch>/<target batch>/<ordinal>`; value one byte, the [`DeadReason`].
pub fn dead_key(id: &str, by: u32, target: u32, ordinal: u32) -> String {
    format!("{id}/{by:06}/{target:06}/{ordinal:010}")
}

/// (by batch, target batch, ordinal) of a dead-mark key.
pub fn parse_dead_key(key: &str) -> Option<(u32, u32, u32)> {
    let mut p = key.rsplitn(4, '/');
    let ordinal = p.next()?.parse().ok()?;
    let target = p.next()?.parse().ok()?;
    let by = p.next()?.parse().ok()?;
    Some((by, target, ordinal))
}

/// Kinds of data-quality issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// Not imported (a value failed validation).
    Rejected,
    /// Imported, counted as unreachable until fixed and imported again.
    NeedsFixing,
    /// Imported; a value is unusable or doubtful (a ZIP, an e-mail, …).
    Warning,
    /// Same identifier as an earlier row: counted once.
    Duplicate,
    /// Another identifier with the same name and date of birth, or the same name and
    /// address: review before mailing.
    PossibleDuplicate,
}

impl IssueKind {
    pub fn key(self) -> &'static str {
        match self {
            IssueKind::Rejected => "rejected",
            IssueKind::NeedsFixing => "needs_fixing",
            IssueKind::Warning => "warning",
            IssueKind::Duplicate => "duplicate",
            IssueKind::PossibleDuplicate => "possible_duplicate",
        }
    }
}

/// Another row an issue refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowRef {
    pub batch: u32,
    pub line: u64,
}

/// One stored issue (JSON in `roster_issues_v2`). Never a value from the roster: the field
/// key, the column's header, the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRecord {
    pub kind: IssueKind,
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub reason: String,
    /// The row this one duplicates or resembles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<RowRef>,
    /// Keyed hash (hex) of a rejected row's identifier, so a later import of a fixed row
    /// resolves it; not reversible without the roster key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
}

/// Issue slots: one row may have several issues.
pub const SLOT_REJECTED: u16 = 0;
pub const SLOT_NEEDS_FIXING: u16 = 1;
pub const SLOT_WARNING: u16 = 10;
pub const SLOT_DUPLICATE: u16 = 100;
pub const SLOT_POSSIBLE: u16 = 110;

/// `<incident>/<batch>/<ordinal>/<slot>`.
pub fn issue_key(id: &str, batch: u32, ordinal: u32, slot: u16) -> String {
    format!("{id}/{batch:06}/{ordinal:010}/{slot:03}")
}

/// (batch, ordinal) of an issue key.
pub fn parse_issue_key(key: &str) -> Option<(u32, u32)> {
    let mut p = key.rsplitn(4, '/');
    let _slot = p.next()?;
    let ordinal = p.next()?.parse().ok()?;
    let batch = p.next()?.parse().ok()?;
    Some((batch, ordinal))
}

/// The associated data of a wrapped roster key.
pub fn roster_key_ad(id: &str) -> Vec<u8> {
    associated_data(ROSTER_KEYS_NAME, id.as_bytes(), "roster-key")
}

/// A stored roster key: `0x01 ‖ fingerprint (32) ‖ wrapped key` (the key sealed under the
/// database's data key with [`roster_key_ad`]).
pub fn encode_roster_key(vault: &Vault, id: &str, key: &DataKey) -> Result<Vec<u8>> {
    let mut out = vec![KEY_FORMAT];
    out.extend_from_slice(&key.fingerprint());
    let wrapped = vault
        .wrap_key(key, &roster_key_ad(id))
        .map_err(|e| Error::Key(format!("cannot wrap the roster key: {e}")))?;
    out.extend_from_slice(&wrapped);
    Ok(out)
}

/// The fingerprint (hex) recorded with a stored roster key (needs no key).
pub fn roster_key_fingerprint(stored: &[u8]) -> Option<String> {
    match stored.first() {
        Some(&KEY_FORMAT) if stored.len() > 33 => Some(crate::audit::entry::hex(&stored[1..33])),
        // During a rotation: the current key's record, after a u16 length.
        Some(&0x02) => roster_key_fingerprint(stored.get(3..)?),
        _ => None,
    }
}

/// Unwraps a stored roster key with the database key.
pub fn decode_roster_key(vault: &Vault, id: &str, stored: &[u8]) -> Result<DataKey> {
    let damaged = || {
        Error::Key(
            "the roster's key failed authentication (altered, moved, or the database key is not the one it was wrapped under); run `breachdesk audit verify`"
                .into(),
        )
    };
    if stored.first() != Some(&KEY_FORMAT) || stored.len() <= 33 {
        return Err(damaged());
    }
    let key = vault
        .unwrap_key(&roster_key_ad(id), &stored[33..])
        .map_err(|_| damaged())?;
    if key.fingerprint()[..] != stored[1..33] {
        return Err(damaged());
    }
    Ok(key)
}

/// The codec's vault, or the locked error.
pub fn vault(codec: &PhiCodec) -> Result<Option<&Vault>> {
    match codec {
        PhiCodec::Plain => Ok(None),
        PhiCodec::Sealed(v) => Ok(Some(v)),
        PhiCodec::Locked => Err(locked_error()),
    }
}

/// Keyed hashes of a roster: person keys (of the identifier) and match keys (of a
/// normalised name with a date of birth or an address), under subkeys of the roster key,
/// so they say nothing without it. A plain database uses public labels instead.
#[derive(Clone)]
pub struct Keyer {
    person: Sha256,
    matching: Sha256,
}

impl Keyer {
    pub fn new(seal: &RosterSeal) -> Keyer {
        let start = |label: &str| {
            let mut h = Sha256::new();
            match seal.secret(label) {
                Some(k) => h.update(k),
                None => h.update(format!("breachdesk-{label}-public")),
            }
            h
        };
        Keyer {
            person: start("roster-person-v2"),
            matching: start("roster-match-v2"),
        }
    }

    /// The person key of an identifier (the first 16 bytes of the keyed SHA-256).
    pub fn person(&self, id: &str) -> [u8; 16] {
        self.person_bytes(id.as_bytes())
    }

    /// [`Keyer::person`] of an identifier's UTF-8 bytes.
    pub fn person_bytes(&self, id: &[u8]) -> [u8; 16] {
        let mut h = self.person.clone();
        h.update(id);
        let d = h.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&d[..16]);
        out
    }

    /// A match key: `basis` (1 name and date of birth, 2 name and address) and the
    /// normalised text.
    pub fn matching(&self, basis: u8, text: &str) -> [u8; 8] {
        let mut h = self.match_hasher(basis);
        h.update(text.as_bytes());
        finish8(h)
    }

    /// A match key's hasher, `basis` fed: feed it the normalised text, then [`finish8`].
    pub fn match_hasher(&self, basis: u8) -> Sha256 {
        let mut h = self.matching.clone();
        h.update([basis]);
        h
    }
}

/// The first 8 bytes of a match key's hash.
pub fn finish8(h: Sha256) -> [u8; 8] {
    let d = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&d[..8]);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> RosterRow {
        RosterRow {
            id: "MRN-1".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            address1: "1 Main St".into(),
            city: "Austin".into(),
            state: Some("TX".into()),
            zip: "78701".into(),
            deceased: true,
            nok_state: Some("CA".into()),
            date_of_birth: NaiveDate::from_ymd_opt(1950, 2, 28),
            minor: Some(false),
            covered_entity: "Lakeside".into(),
            ..RosterRow::default()
        }
    }

    /// The row body encoding, byte for byte (ARCHITECTURE.md "Roster encodings").
    #[test]
    fn row_body_golden_bytes() {
        let r = RosterRow {
            id: "7".into(),
            last_name: "Li".into(),
            state: Some("NY".into()),
            email_consent: true,
            minor: Some(true),
            date_of_birth: NaiveDate::from_ymd_opt(1970, 1, 2),
            ..RosterRow::default()
        };
        let mut out = Vec::new();
        encode_row_body(&r, &mut out);
        // flags: consent 1 | minor known 4 | minor 8 | dob 16 = 29; mask: id (bit 0),
        // last_name (bit 2), state (bit 6) = 0x45; dob = day 1.
        assert_eq!(
            out,
            [29, 0x45, 0, 0, 0, 1, 1, b'7', 2, b'L', b'i', 2, b'N', b'Y']
        );
        assert_eq!(decode_row_body(&mut out.as_slice()).unwrap(), r);
    }

    #[test]
    fn rows_and_groups_round_trip_and_bind() {
        let mut payload = Vec::new();
        let mut body = Vec::new();
        encode_row_body(&sample(), &mut body);
        push_row(&mut payload, 0, 5, &body);
        let mut r2 = sample();
        r2.id = "MRN-2".into();
        r2.date_of_birth = NaiveDate::from_ymd_opt(1901, 1, 1);
        r2.minor = None;
        body.clear();
        encode_row_body(&r2, &mut body);
        push_row(&mut payload, 3, 2, &body);
        let rows = decode_payload(40, 2, &payload).unwrap();
        assert_eq!(
            (rows[0].ordinal, rows[0].line, rows[1].ordinal, rows[1].line),
            (40, 5, 43, 7)
        );
        assert_eq!(rows[0].row, sample());
        assert_eq!(rows[1].row, r2);
        assert!(decode_payload(40, 3, &payload).is_err());
        assert!(decode_payload(40, 1, &payload).is_err());

        let key = DataKey::generate().unwrap();
        let seal = RosterSeal::Sealed(key);
        let k = group_key("2026-0001", 1, 40);
        let mut v = Vec::new();
        seal_group(&seal, &k, 1, 2, "aa", &payload, &mut v).unwrap();
        assert_eq!(group_header(&v), Some((1, 2)));
        assert!(!group_is_plain(&v));
        let mut out = Vec::new();
        open_group(&seal, &k, "aa", &v, &mut out).unwrap();
        assert_eq!(out, payload);
        // Another file, key, origin or row count: refused.
        assert!(open_group(&seal, &k, "bb", &v, &mut out).is_err());
        let other = group_key("2026-0001", 2, 40);
        assert!(open_group(&seal, &other, "aa", &v, &mut out).is_err());
        let mut t = v.clone();
        t[4] = 9;
        assert!(open_group(&seal, &k, "aa", &t, &mut out).is_err());
        // A plain group is refused where groups are sealed, and the other way round.
        let mut p = Vec::new();
        seal_group(&RosterSeal::Plain, &k, 1, 2, "aa", &payload, &mut p).unwrap();
        assert!(group_is_plain(&p));
        assert!(open_group(&seal, &k, "aa", &p, &mut out).is_err());
        assert!(open_group(&RosterSeal::Plain, &k, "aa", &v, &mut out).is_err());
        open_group(&RosterSeal::Plain, &k, "aa", &p, &mut out).unwrap();
        assert_eq!(out, payload);
    }

    #[test]
    fn keys_parse_back() {
        assert_eq!(
            parse_group_key(&group_key("2026-0001", 3, 17)),
            Some((3, 17))
        );
        assert_eq!(
            parse_dead_key(&dead_key("2026-0001", 4, 2, 9)),
            Some((4, 2, 9))
        );
        assert_eq!(
            parse_issue_key(&issue_key("2026-0001", 4, 9, SLOT_WARNING)),
            Some((4, 9))
        );
        let mut b = Vec::new();
        for v in [0u64, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            b.clear();
            put_varint(&mut b, v);
            assert_eq!(get_varint(&mut b.as_slice()), Some(v));
        }
    }

    #[test]
    fn roster_keys_wrap_under_the_database_key() {
        let (vault, _) = Vault::create(b"pw").unwrap();
        let k = DataKey::generate().unwrap();
        let stored = encode_roster_key(&vault, "2026-0001", &k).unwrap();
        assert_eq!(
            roster_key_fingerprint(&stored),
            Some(crate::audit::entry::hex(&k.fingerprint()))
        );
        let back = decode_roster_key(&vault, "2026-0001", &stored).unwrap();
        assert_eq!(back.fingerprint(), k.fingerprint());
        assert!(decode_roster_key(&vault, "2026-0002", &stored).is_err());
        let (other, _) = Vault::create(b"pw").unwrap();
        assert!(decode_roster_key(&other, "2026-0001", &stored).is_err());
    }

    #[test]
    fn keyed_hashes_depend_on_the_roster_key() {
        let a = Keyer::new(&RosterSeal::Sealed(DataKey::generate().unwrap()));
        let b = Keyer::new(&RosterSeal::Sealed(DataKey::generate().unwrap()));
        let p = Keyer::new(&RosterSeal::Plain);
        assert_ne!(a.person("1"), b.person("1"));
        assert_ne!(a.person("1"), p.person("1"));
        assert_eq!(a.person("1"), a.clone().person("1"));
        assert_ne!(a.matching(1, "x"), a.matching(2, "x"));
    }
}
