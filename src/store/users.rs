//! The people who sign in (`users_v1`, keyed by user name) and the count of sign-ins under
//! unknown names (`meta_v1.access`). JSON values, no PHI: names of staff and password hashes.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::records::{AccessRecord, UserRecord};
use super::tables::{META, META_ACCESS, USERS};
use crate::error::{Error, Result};

fn decode(bytes: &[u8]) -> Result<UserRecord> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Database(format!("a stored user record cannot be decoded ({e})")))
}

fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Storage(e.to_string()))
}

pub fn get_read(tx: &ReadTransaction, name: &str) -> Result<Option<UserRecord>> {
    let t = tx.open_table(USERS)?;
    t.get(name)?.map(|v| decode(v.value())).transpose()
}

pub fn get_write(tx: &WriteTransaction, name: &str) -> Result<Option<UserRecord>> {
    let t = tx.open_table(USERS)?;
    t.get(name)?.map(|v| decode(v.value())).transpose()
}

pub fn list(tx: &ReadTransaction) -> Result<Vec<UserRecord>> {
    let t = tx.open_table(USERS)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        let (_, v) = row?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

pub fn list_write(tx: &WriteTransaction) -> Result<Vec<UserRecord>> {
    let t = tx.open_table(USERS)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        let (_, v) = row?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

pub fn put(tx: &WriteTransaction, u: &UserRecord) -> Result<()> {
    tx.open_table(USERS)?
        .insert(u.name.as_str(), encode(u)?.as_slice())?;
    Ok(())
}

pub fn access(tx: &WriteTransaction) -> Result<AccessRecord> {
    let t = tx.open_table(META)?;
    let v = match t.get(META_ACCESS)? {
        Some(v) => serde_json::from_slice(v.value())
            .map_err(|e| Error::Database(format!("the access record cannot be decoded ({e})")))?,
        None => AccessRecord::default(),
    };
    Ok(v)
}

pub fn put_access(tx: &WriteTransaction, a: &AccessRecord) -> Result<()> {
    tx.open_table(META)?
        .insert(META_ACCESS, encode(a)?.as_slice())?;
    Ok(())
}
