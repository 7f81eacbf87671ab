//! How PHI values are written: sealed with the data key (the default), or plain in a
//! database initialised with `--no-encryption` (exercises, demos).
//!
//! Stored value: `0x00 ‖ plaintext` for a plain database, or the vault's sealed form
//! (`0x01 ‖ nonce ‖ ciphertext`) with associated data binding it to table, key and field.
//! An encrypted database never accepts a `0x00` value: it fails authentication, and
//! `audit verify` names it.

use crate::error::{Error, Result};

/// Placeholder text shown in place of PHI when the database is encrypted and locked.
pub const LOCKED_TEXT: &str = "[encrypted: passphrase required]";

pub enum PhiCodec {
    /// Unencrypted database.
    Plain,
    /// Encrypted database, unlocked.
    Sealed(super::vault::Vault),
    /// Encrypted database, no passphrase given: PHI can be neither read nor written.
    Locked,
}

impl PhiCodec {
    fn ad(key: &str) -> Vec<u8> {
        super::vault::associated_data("phi_v1", key.as_bytes(), "value")
    }

    pub fn seal(&self, key: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        match self {
            PhiCodec::Plain => {
                let mut v = Vec::with_capacity(plaintext.len() + 1);
                v.push(0);
                v.extend_from_slice(plaintext);
                Ok(v)
            }
            PhiCodec::Sealed(vault) => vault
                .seal(&Self::ad(key), plaintext)
                .map_err(|e| Error::Key(format!("cannot seal a protected value: {e}"))),
            PhiCodec::Locked => Err(locked_error()),
        }
    }

    /// Opens a PHI value as text; a locked codec yields [`LOCKED_TEXT`].
    pub fn open_text(&self, key: &str, stored: &[u8]) -> Result<String> {
        match (self, stored.first()) {
            // A clear value only in an unencrypted database. In an encrypted one it was put
            // there from outside: opening it fails authentication like any altered value.
            (PhiCodec::Plain, Some(0)) => Ok(String::from_utf8_lossy(&stored[1..]).into_owned()),
            (PhiCodec::Sealed(vault), _) => {
                let pt = vault.open(&Self::ad(key), stored).map_err(|_| {
                    Error::Key(
                        "a protected value failed authentication: it was altered or moved; run `breachdesk audit verify`"
                            .into(),
                    )
                })?;
                Ok(String::from_utf8_lossy(&pt).into_owned())
            }
            _ => Ok(LOCKED_TEXT.to_string()),
        }
    }

    pub fn is_locked(&self) -> bool {
        matches!(self, PhiCodec::Locked)
    }
}

pub fn locked_error() -> Error {
    Error::Key(
        "this database is encrypted and the command reads or writes protected health information: \
         give the passphrase with BREACHDESK_PASSPHRASE, --key-file FILE, or at the prompt on a terminal"
            .into(),
    )
}
