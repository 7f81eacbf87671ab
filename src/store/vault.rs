//! Encryption at rest for PHI: a random 32-byte data key seals every protected value with
//! XChaCha20-Poly1305, and the data key itself is wrapped under a key derived from the
//! operator's passphrase with Argon2id.
//!
//! # Sealed values
//!
//! [`Vault::seal`] returns `0x01 || nonce (24 bytes, random) || ciphertext || tag (16 bytes)`.
//! Every value is bound to where it lives through its associated data
//! ([`associated_data`]: table, record key and field name), so a ciphertext copied to
//! another record or field fails to open.
//!
//! # Wrapped key file layout (`WrappedKey::to_bytes`, format version 1)
//!
//! All integers are unsigned big-endian.
//!
//! | offset | size | content                                                        |
//! |-------:|-----:|----------------------------------------------------------------|
//! |      0 |    4 | magic `BDKW` (`42 44 4B 57`)                                   |
//! |      4 |    1 | format version, `0x01`                                         |
//! |      5 |    4 | Argon2id memory cost in KiB (`m_cost_kib`)                     |
//! |      9 |    4 | Argon2id iterations (`t_cost`)                                 |
//! |     13 |    4 | Argon2id parallelism (`p_cost`)                                |
//! |     17 |   16 | Argon2id salt                                                  |
//! |     33 |   24 | XChaCha20-Poly1305 nonce                                       |
//! |     57 |    4 | length `n` of the wrapped key (48 in version 1)                |
//! |     61 |    n | wrapped data key: 32-byte ciphertext followed by 16-byte tag   |
//!
//! Nothing may follow the wrapped key. Argon2id is version 0x13 with a 32-byte output,
//! used as the key-encryption key; the data key is sealed under it with associated data
//! `breachdesk-data-key-v1`. A damaged file, a wrong passphrase and edited parameters all
//! fail to unlock; parameters below [`KdfParams::MIN_M_COST_KIB`], [`KdfParams::MIN_T_COST`]
//! or [`KdfParams::MIN_P_COST`] are refused before any work is done.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Version byte that starts every sealed value.
pub const SEAL_VERSION: u8 = 0x01;
/// Length of an XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of a Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// Length of the data key.
pub const KEY_LEN: usize = 32;
/// Magic bytes that start a wrapped key file.
pub const WRAPPED_KEY_MAGIC: &[u8; 4] = b"BDKW";
/// Format version of the wrapped key file.
pub const WRAPPED_KEY_VERSION: u8 = 0x01;
/// Associated data under which the data key is wrapped.
pub const DATA_KEY_AD: &[u8] = b"breachdesk-data-key-v1";

const WRAPPED_HEADER_LEN: usize = 4 + 1 + 4 * 3 + 16 + NONCE_LEN + 4;

/// What can go wrong creating, unlocking or using a vault. Messages never contain key
/// material or plaintext.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VaultError {
    #[error("the passphrase is empty; choose a non-empty passphrase")]
    EmptyPassphrase,
    #[error(
        "the passphrase does not unlock this database; check it and try again \
         (if it is right, the key file may be damaged: restore it from a backup)"
    )]
    WrongPassphrase,
    #[error(
        "key-derivation parameters are too weak (memory {m_cost_kib} KiB, iterations {t_cost}, \
         parallelism {p_cost}; minimum is memory {min_m} KiB, iterations {min_t}, parallelism {min_p}); \
         the key file may have been tampered with: restore it from a backup",
        min_m = KdfParams::MIN_M_COST_KIB,
        min_t = KdfParams::MIN_T_COST,
        min_p = KdfParams::MIN_P_COST
    )]
    WeakKdfParams {
        m_cost_kib: u32,
        t_cost: u32,
        p_cost: u32,
    },
    #[error(
        "key-derivation parameters are too large (memory {m_cost_kib} KiB, iterations {t_cost}, \
         parallelism {p_cost}; maximum is memory {max_m} KiB, iterations {max_t}, parallelism {max_p}); \
         the key file may be damaged: restore it from a backup",
        max_m = KdfParams::MAX_M_COST_KIB,
        max_t = KdfParams::MAX_T_COST,
        max_p = KdfParams::MAX_P_COST
    )]
    ExcessiveKdfParams {
        m_cost_kib: u32,
        t_cost: u32,
        p_cost: u32,
    },
    #[error("the key-derivation function failed ({0}); check the key-derivation parameters")]
    Kdf(String),
    #[error("the key file is not a valid breachdesk wrapped key ({0}); restore it from a backup")]
    KeyFormat(&'static str),
    #[error(
        "the key file has format version {0}, which this breachdesk does not support; \
         upgrade breachdesk"
    )]
    UnsupportedKeyVersion(u8),
    #[error(
        "an encrypted value could not be decrypted: it was altered, moved to another record \
         or field, or sealed under another key; restore the database from a backup"
    )]
    Decrypt,
    #[error(
        "an encrypted value has format version {0}, which this breachdesk does not support; \
         upgrade breachdesk"
    )]
    UnsupportedSealVersion(u8),
    #[error("encryption failed; the value may be too large to seal")]
    Encrypt,
    #[error(
        "the operating system's random number generator failed ({0}); check that the system \
         has a working entropy source and try again"
    )]
    Random(String),
}

/// Encodes (table, record, field) unambiguously as associated data: for each part, its
/// length as u32 big-endian followed by its bytes.
pub fn associated_data(table: &str, record: &[u8], field: &str) -> Vec<u8> {
    let mut ad = Vec::with_capacity(12 + table.len() + record.len() + field.len());
    for part in [table.as_bytes(), record, field.as_bytes()] {
        // Parts longer than u32::MAX cannot occur for in-memory table/field names and
        // record keys; saturate instead of panicking (the AD then simply never matches).
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        ad.extend_from_slice(&len.to_be_bytes());
        ad.extend_from_slice(part);
    }
    ad
}

/// Argon2id parameters and salt used to derive the key-encryption key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
    pub salt: [u8; 16],
}

impl KdfParams {
    /// OWASP minimum for Argon2id: 19 MiB.
    pub const MIN_M_COST_KIB: u32 = 19_456;
    pub const MIN_T_COST: u32 = 2;
    pub const MIN_P_COST: u32 = 1;
    /// Upper bounds so an edited file cannot make unlocking allocate or spin without end.
    pub const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
    pub const MAX_T_COST: u32 = 256;
    pub const MAX_P_COST: u32 = 64;

    /// Default parameters (the OWASP minimum) with a fresh random salt.
    pub fn generate() -> Result<KdfParams, VaultError> {
        let mut salt = [0u8; 16];
        fill_random(&mut salt)?;
        Ok(KdfParams {
            m_cost_kib: Self::MIN_M_COST_KIB,
            t_cost: Self::MIN_T_COST,
            p_cost: Self::MIN_P_COST,
            salt,
        })
    }

    /// Refuses parameters below the minimums or above the maximums.
    pub fn validate(&self) -> Result<(), VaultError> {
        let (m_cost_kib, t_cost, p_cost) = (self.m_cost_kib, self.t_cost, self.p_cost);
        if m_cost_kib < Self::MIN_M_COST_KIB
            || t_cost < Self::MIN_T_COST
            || p_cost < Self::MIN_P_COST
        {
            return Err(VaultError::WeakKdfParams {
                m_cost_kib,
                t_cost,
                p_cost,
            });
        }
        if m_cost_kib > Self::MAX_M_COST_KIB
            || t_cost > Self::MAX_T_COST
            || p_cost > Self::MAX_P_COST
        {
            return Err(VaultError::ExcessiveKdfParams {
                m_cost_kib,
                t_cost,
                p_cost,
            });
        }
        Ok(())
    }

    /// Derives the 32-byte key-encryption key from the passphrase.
    fn derive(&self, passphrase: &[u8]) -> Result<[u8; KEY_LEN], VaultError> {
        self.validate()?;
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(KEY_LEN))
            .map_err(|e| VaultError::Kdf(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut kek = [0u8; KEY_LEN];
        argon
            .hash_password_into(passphrase, &self.salt, &mut kek)
            .map_err(|e| VaultError::Kdf(e.to_string()))?;
        Ok(kek)
    }
}

/// The data key wrapped under a passphrase, as stored next to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub params: KdfParams,
    pub nonce: [u8; NONCE_LEN],
    pub wrapped: Vec<u8>,
}

impl WrappedKey {
    /// Encodes the key in the fixed layout documented at the top of this module.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(WRAPPED_HEADER_LEN + self.wrapped.len());
        out.extend_from_slice(WRAPPED_KEY_MAGIC);
        out.push(WRAPPED_KEY_VERSION);
        out.extend_from_slice(&self.params.m_cost_kib.to_be_bytes());
        out.extend_from_slice(&self.params.t_cost.to_be_bytes());
        out.extend_from_slice(&self.params.p_cost.to_be_bytes());
        out.extend_from_slice(&self.params.salt);
        out.extend_from_slice(&self.nonce);
        let len = u32::try_from(self.wrapped.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.wrapped);
        out
    }

    /// Decodes the fixed layout; never panics on short or garbage input. Parameters are not
    /// checked here but by [`Vault::unlock`].
    pub fn from_bytes(bytes: &[u8]) -> Result<WrappedKey, VaultError> {
        let mut r = Cursor { buf: bytes };
        if r.take(4)? != WRAPPED_KEY_MAGIC {
            return Err(VaultError::KeyFormat("it does not start with BDKW"));
        }
        let version = r.take(1)?[0];
        if version != WRAPPED_KEY_VERSION {
            return Err(VaultError::UnsupportedKeyVersion(version));
        }
        let m_cost_kib = r.u32()?;
        let t_cost = r.u32()?;
        let p_cost = r.u32()?;
        let salt = r.array::<16>()?;
        let nonce = r.array::<NONCE_LEN>()?;
        let len = r.u32()? as usize;
        if len != KEY_LEN + TAG_LEN {
            return Err(VaultError::KeyFormat(
                "the wrapped key has the wrong length",
            ));
        }
        let wrapped = r.take(len)?.to_vec();
        if !r.buf.is_empty() {
            return Err(VaultError::KeyFormat(
                "unexpected bytes after the wrapped key",
            ));
        }
        Ok(WrappedKey {
            params: KdfParams {
                m_cost_kib,
                t_cost,
                p_cost,
                salt,
            },
            nonce,
            wrapped,
        })
    }
}

struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], VaultError> {
        if self.buf.len() < n {
            return Err(VaultError::KeyFormat("it is truncated"));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], VaultError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, VaultError> {
        Ok(u32::from_be_bytes(self.array::<4>()?))
    }
}

fn fill_random(buf: &mut [u8]) -> Result<(), VaultError> {
    getrandom::getrandom(buf).map_err(|e| VaultError::Random(e.to_string()))
}

/// Best-effort wipe of secret bytes (no `unsafe`, no extra crates: `black_box` keeps the
/// writes from being optimised away in practice, not by guarantee).
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    std::hint::black_box(buf);
}

fn aead_seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    ad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let cipher = XChaCha20Poly1305::new(Key::from_slice(key));
    cipher
        .encrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad: ad,
            },
        )
        .map_err(|_| VaultError::Encrypt)
}

fn aead_open(key: &[u8; KEY_LEN], nonce: &[u8], ad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
    let cipher = XChaCha20Poly1305::new(Key::from_slice(key));
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: ad,
            },
        )
        .ok()
}

/// The unlocked data key. Its bytes are wiped (best effort) on drop and never printed.
pub struct Vault {
    key: [u8; KEY_LEN],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault { key: <redacted> }")
    }
}

impl Drop for Vault {
    fn drop(&mut self) {
        wipe(&mut self.key);
    }
}

impl Vault {
    /// Creates a new random data key and wraps it under `passphrase` with default
    /// parameters.
    pub fn create(passphrase: &[u8]) -> Result<(Vault, WrappedKey), VaultError> {
        Self::create_with_params(passphrase, KdfParams::generate()?)
    }

    /// Like [`Vault::create`] with explicit parameters (validated against the minimums).
    pub fn create_with_params(
        passphrase: &[u8],
        params: KdfParams,
    ) -> Result<(Vault, WrappedKey), VaultError> {
        if passphrase.is_empty() {
            return Err(VaultError::EmptyPassphrase);
        }
        params.validate()?;
        let mut vault = Vault {
            key: [0u8; KEY_LEN],
        };
        fill_random(&mut vault.key)?;
        let wrapped = vault.wrap(passphrase, params)?;
        Ok((vault, wrapped))
    }

    /// Unwraps the data key with `passphrase`. Weak or excessive parameters are refused
    /// before deriving anything.
    pub fn unlock(wrapped: &WrappedKey, passphrase: &[u8]) -> Result<Vault, VaultError> {
        wrapped.params.validate()?;
        if wrapped.wrapped.len() != KEY_LEN + TAG_LEN {
            return Err(VaultError::KeyFormat(
                "the wrapped key has the wrong length",
            ));
        }
        let mut kek = wrapped.params.derive(passphrase)?;
        let opened = aead_open(&kek, &wrapped.nonce, DATA_KEY_AD, &wrapped.wrapped);
        wipe(&mut kek);
        let mut plain = opened.ok_or(VaultError::WrongPassphrase)?;
        let mut vault = Vault {
            key: [0u8; KEY_LEN],
        };
        if plain.len() != KEY_LEN {
            wipe(&mut plain);
            return Err(VaultError::KeyFormat("the data key has the wrong length"));
        }
        vault.key.copy_from_slice(&plain);
        wipe(&mut plain);
        Ok(vault)
    }

    /// Wraps the same data key under a new passphrase with a fresh salt and nonce; data
    /// sealed before stays readable. The old wrapped key should be replaced atomically.
    pub fn rewrap(&self, new_passphrase: &[u8]) -> Result<WrappedKey, VaultError> {
        if new_passphrase.is_empty() {
            return Err(VaultError::EmptyPassphrase);
        }
        self.wrap(new_passphrase, KdfParams::generate()?)
    }

    fn wrap(&self, passphrase: &[u8], params: KdfParams) -> Result<WrappedKey, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let mut kek = params.derive(passphrase)?;
        let sealed = aead_seal(&kek, &nonce, DATA_KEY_AD, &self.key);
        wipe(&mut kek);
        Ok(WrappedKey {
            params,
            nonce,
            wrapped: sealed?,
        })
    }

    /// Seals `plaintext` bound to `ad` (see [`associated_data`]):
    /// `0x01 || nonce(24) || ciphertext || tag(16)`.
    ///
    /// Fails only if the system random number generator fails.
    pub fn seal(&self, ad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let ct = aead_seal(&self.key, &nonce, ad, plaintext)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a value produced by [`Vault::seal`] with the same associated data.
    pub fn open(&self, ad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        let Some((&version, rest)) = sealed.split_first() else {
            return Err(VaultError::Decrypt);
        };
        if version != SEAL_VERSION {
            return Err(VaultError::UnsupportedSealVersion(version));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(VaultError::Decrypt);
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        aead_open(&self.key, nonce, ad, ct).ok_or(VaultError::Decrypt)
    }

    /// A 32-byte key derived from the data key for one purpose, named by `label`:
    /// `SHA-256("breachdesk-subkey-v1" || 0x00 || label || 0x00 || data key)`. Used where a
    /// keyed hash is needed (roster person keys) without ever exposing the data key.
    pub fn derive_subkey(&self, label: &str) -> [u8; 32] {
        subkey(&self.key, label)
    }

    /// A fingerprint of the data key, `SHA-256("breachdesk-key-check-v1" || key)`: lets a
    /// database record which key it was written under without revealing the key.
    pub fn key_check(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"breachdesk-key-check-v1");
        h.update(self.key);
        h.finalize().into()
    }
}

/// A random 32-byte key for one body of data (a roster today; an incident's PHI next), so
/// that body can be destroyed by destroying its key (crypto-shredding) and re-sealed on its
/// own (rotation). It seals like the [`Vault`] (XChaCha20-Poly1305, `0x01 ‖ nonce ‖
/// ciphertext ‖ tag`) and is stored only *wrapped*: sealed under the database's data key
/// with [`Vault::wrap_key`] (or under another `DataKey`, for deeper hierarchies, with
/// [`DataKey::wrap_key`]). Its bytes are wiped on drop and never printed.
pub struct DataKey {
    key: [u8; KEY_LEN],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DataKey {{ fingerprint: {} }}",
            crate::audit::entry::hex(&self.fingerprint()[..8])
        )
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        wipe(&mut self.key);
    }
}

/// Length of a wrapped [`DataKey`]: version, nonce, key, tag.
pub const WRAPPED_DATA_KEY_LEN: usize = 1 + NONCE_LEN + KEY_LEN + TAG_LEN;

fn unwrap_into(plain: Vec<u8>) -> Result<DataKey, VaultError> {
    let mut plain = plain;
    if plain.len() != KEY_LEN {
        wipe(&mut plain);
        return Err(VaultError::KeyFormat(
            "a wrapped data key has the wrong length",
        ));
    }
    let mut k = DataKey {
        key: [0u8; KEY_LEN],
    };
    k.key.copy_from_slice(&plain);
    wipe(&mut plain);
    Ok(k)
}

impl DataKey {
    /// A new random key.
    pub fn generate() -> Result<DataKey, VaultError> {
        let mut k = DataKey {
            key: [0u8; KEY_LEN],
        };
        fill_random(&mut k.key)?;
        Ok(k)
    }

    /// `SHA-256("breachdesk-data-key-fingerprint-v1" ‖ key)`: names the key in the audit
    /// trail (e.g. the key a purge destroyed) without revealing it.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"breachdesk-data-key-fingerprint-v1");
        h.update(self.key);
        h.finalize().into()
    }

    /// Seals `plaintext` bound to `ad`, like [`Vault::seal`].
    pub fn seal(&self, ad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
        self.seal_append(ad, plaintext, &mut out)?;
        Ok(out)
    }

    /// Seals `plaintext` and appends `0x01 ‖ nonce ‖ ciphertext ‖ tag` to `out` (no
    /// allocation when `out` has room: bulk sealing reuses one buffer).
    pub fn seal_append(
        &self,
        ad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), VaultError> {
        use chacha20poly1305::aead::AeadInPlace;
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.key));
        let tag = cipher
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), ad, &mut out[start..])
            .map_err(|_| VaultError::Encrypt)?;
        out.extend_from_slice(&tag);
        Ok(())
    }

    /// Opens a value sealed by this key with the same associated data.
    pub fn open(&self, ad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut out = Vec::new();
        self.open_into(ad, sealed, &mut out)?;
        Ok(out)
    }

    /// Opens a sealed value into `out` (cleared first; reused between calls).
    pub fn open_into(&self, ad: &[u8], sealed: &[u8], out: &mut Vec<u8>) -> Result<(), VaultError> {
        use chacha20poly1305::aead::AeadInPlace;
        let Some((&version, rest)) = sealed.split_first() else {
            return Err(VaultError::Decrypt);
        };
        if version != SEAL_VERSION {
            return Err(VaultError::UnsupportedSealVersion(version));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(VaultError::Decrypt);
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        let (ct, tag) = ct.split_at(ct.len() - TAG_LEN);
        out.clear();
        out.extend_from_slice(ct);
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.key));
        cipher
            .decrypt_in_place_detached(
                XNonce::from_slice(nonce),
                ad,
                out,
                chacha20poly1305::Tag::from_slice(tag),
            )
            .map_err(|_| {
                out.clear();
                VaultError::Decrypt
            })
    }

    /// A 32-byte key derived from this key for one purpose (e.g. keyed hashes of
    /// identifiers): `SHA-256("breachdesk-subkey-v1" ‖ 0x00 ‖ label ‖ 0x00 ‖ key)`.
    pub fn derive_subkey(&self, label: &str) -> [u8; 32] {
        subkey(&self.key, label)
    }

    /// Wraps `key` under this key (a key hierarchy below a data key).
    pub fn wrap_key(&self, key: &DataKey, ad: &[u8]) -> Result<Vec<u8>, VaultError> {
        self.seal(ad, &key.key)
    }

    /// Unwraps a key wrapped by [`DataKey::wrap_key`] with the same associated data.
    pub fn unwrap_key(&self, ad: &[u8], wrapped: &[u8]) -> Result<DataKey, VaultError> {
        unwrap_into(self.open(ad, wrapped)?)
    }
}

fn subkey(key: &[u8; KEY_LEN], label: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"breachdesk-subkey-v1");
    h.update([0u8]);
    h.update(label.as_bytes());
    h.update([0u8]);
    h.update(key);
    h.finalize().into()
}

impl Vault {
    /// Wraps a [`DataKey`] under the database's data key, bound to `ad` (where the wrapped
    /// key is stored): `0x01 ‖ nonce ‖ sealed key ‖ tag`, [`WRAPPED_DATA_KEY_LEN`] bytes.
    pub fn wrap_key(&self, key: &DataKey, ad: &[u8]) -> Result<Vec<u8>, VaultError> {
        self.seal(ad, &key.key)
    }

    /// Unwraps a key wrapped by [`Vault::wrap_key`]; a wrong key, a moved or altered value
    /// fail with [`VaultError::Decrypt`].
    pub fn unwrap_key(&self, ad: &[u8], wrapped: &[u8]) -> Result<DataKey, VaultError> {
        unwrap_into(self.open(ad, wrapped)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn default_params() -> KdfParams {
        KdfParams::generate().unwrap()
    }

    fn ad(table: &str, record: &[u8], field: &str) -> Vec<u8> {
        associated_data(table, record, field)
    }

    #[test]
    fn data_keys_wrap_seal_and_shred() {
        let (vault, _) = Vault::create(b"pw").unwrap();
        let k = DataKey::generate().unwrap();
        let a = ad("roster_keys_v2", b"2026-0001", "roster-key");
        let wrapped = vault.wrap_key(&k, &a).unwrap();
        assert_eq!(wrapped.len(), WRAPPED_DATA_KEY_LEN);
        let back = vault.unwrap_key(&a, &wrapped).unwrap();
        assert_eq!(back.fingerprint(), k.fingerprint());
        assert!(
            vault
                .unwrap_key(&ad("roster_keys_v2", b"2026-0002", "roster-key"), &wrapped)
                .is_err()
        );
        let (other, _) = Vault::create(b"pw").unwrap();
        assert!(other.unwrap_key(&a, &wrapped).is_err());
        let g = ad("roster_groups_v2", b"k", "group");
        let mut sealed = Vec::new();
        k.seal_append(&g, b"Zebulon Quxworthy", &mut sealed)
            .unwrap();
        assert_eq!(back.open(&g, &sealed).unwrap(), b"Zebulon Quxworthy");
        // Another key (a new roster's) cannot open it, and a tampered byte fails.
        assert!(DataKey::generate().unwrap().open(&g, &sealed).is_err());
        let mut t = sealed.clone();
        t[30] ^= 1;
        assert!(k.open(&g, &t).is_err());
        // Nested wrapping (a key under a data key).
        let inner = DataKey::generate().unwrap();
        let w = k.wrap_key(&inner, b"x").unwrap();
        assert_eq!(
            k.unwrap_key(b"x", &w).unwrap().fingerprint(),
            inner.fingerprint()
        );
        assert!(!format!("{k:?}").contains(&format!("{:?}", k.key)));
        assert_ne!(k.derive_subkey("a"), k.derive_subkey("b"));
    }

    #[test]
    fn round_trip() {
        let (vault, _) = Vault::create(b"correct horse").unwrap();
        let a = ad("people", b"p-1", "last_name");
        let sealed = vault.seal(&a, b"Smith").unwrap();
        assert_eq!(sealed[0], SEAL_VERSION);
        assert_eq!(sealed.len(), 1 + NONCE_LEN + 5 + TAG_LEN);
        assert_eq!(vault.open(&a, &sealed).unwrap(), b"Smith");
        // Empty plaintext too.
        let sealed = vault.seal(&a, b"").unwrap();
        assert_eq!(vault.open(&a, &sealed).unwrap(), b"");
    }

    #[test]
    fn nonces_differ_per_seal() {
        let (vault, _) = Vault::create(b"pw").unwrap();
        let a = ad("t", b"r", "f");
        assert_ne!(vault.seal(&a, b"x").unwrap(), vault.seal(&a, b"x").unwrap());
    }

    #[test]
    fn ad_mismatch_fails_for_table_record_and_field() {
        let (vault, _) = Vault::create(b"pw").unwrap();
        let sealed = vault.seal(&ad("people", b"p-1", "zip"), b"02139").unwrap();
        for other in [
            ad("notices", b"p-1", "zip"),
            ad("people", b"p-2", "zip"),
            ad("people", b"p-1", "city"),
        ] {
            assert_eq!(vault.open(&other, &sealed), Err(VaultError::Decrypt));
        }
    }

    #[test]
    fn associated_data_is_unambiguous() {
        assert_ne!(ad("ab", b"c", "d"), ad("a", b"bc", "d"));
        assert_ne!(ad("a", b"", "bc"), ad("a", b"b", "c"));
        assert_eq!(
            ad("t", b"r", "f"),
            [0, 0, 0, 1, b't', 0, 0, 0, 1, b'r', 0, 0, 0, 1, b'f']
        );
    }

    #[test]
    fn every_tampered_byte_fails() {
        let (vault, _) = Vault::create(b"pw").unwrap();
        let a = ad("t", b"r", "f");
        let sealed = vault.seal(&a, b"Jane Doe").unwrap();
        for i in 1..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            assert_eq!(vault.open(&a, &t), Err(VaultError::Decrypt), "byte {i}");
        }
        let mut t = sealed.clone();
        t[0] = 0x02;
        assert_eq!(
            vault.open(&a, &t),
            Err(VaultError::UnsupportedSealVersion(2))
        );
        assert_eq!(
            vault.open(&a, &sealed[..sealed.len() - 1]),
            Err(VaultError::Decrypt)
        );
        assert_eq!(vault.open(&a, &[]), Err(VaultError::Decrypt));
        assert_eq!(vault.open(&a, &sealed[..20]), Err(VaultError::Decrypt));
    }

    #[test]
    fn another_key_cannot_open() {
        let (v1, _) = Vault::create(b"pw").unwrap();
        let (v2, _) = Vault::create(b"pw").unwrap();
        let a = ad("t", b"r", "f");
        let sealed = v1.seal(&a, b"x").unwrap();
        assert_eq!(v2.open(&a, &sealed), Err(VaultError::Decrypt));
        assert_ne!(v1.key_check(), v2.key_check());
    }

    #[test]
    fn sealed_bytes_do_not_contain_plaintext() {
        let (vault, wrapped) = Vault::create(b"pw").unwrap();
        let canary = b"CANARY-Zebulon-Quackenbush-123 Elm Street";
        let sealed = vault.seal(&ad("t", b"r", "f"), canary).unwrap();
        assert!(!sealed.windows(8).any(|w| canary.windows(8).any(|c| c == w)));
        let bytes = wrapped.to_bytes();
        assert!(!bytes.windows(KEY_LEN).any(|w| w == vault.key));
        assert!(!format!("{vault:?}").contains(&format!("{:?}", vault.key)));
    }

    #[test]
    fn unlock_with_right_and_wrong_passphrase() {
        let (vault, wrapped) = Vault::create(b"right").unwrap();
        let a = ad("t", b"r", "f");
        let sealed = vault.seal(&a, b"x").unwrap();
        let again = Vault::unlock(&wrapped, b"right").unwrap();
        assert_eq!(again.open(&a, &sealed).unwrap(), b"x");
        assert_eq!(again.key_check(), vault.key_check());
        let err = Vault::unlock(&wrapped, b"wrong").unwrap_err();
        assert_eq!(err, VaultError::WrongPassphrase);
        assert!(
            err.to_string()
                .starts_with("the passphrase does not unlock this database; ")
        );
    }

    #[test]
    fn empty_passphrase_refused() {
        assert_eq!(Vault::create(b"").unwrap_err(), VaultError::EmptyPassphrase);
        let (vault, _) = Vault::create(b"pw").unwrap();
        assert_eq!(vault.rewrap(b"").unwrap_err(), VaultError::EmptyPassphrase);
    }

    #[test]
    fn rewrap_keeps_data_key_and_retires_old_passphrase() {
        let (vault, old) = Vault::create(b"old").unwrap();
        let a = ad("people", b"p-9", "email");
        let sealed = vault.seal(&a, b"someone@example.org").unwrap();
        let new = vault.rewrap(b"new").unwrap();
        assert_ne!(new.params.salt, old.params.salt);
        let decoded = WrappedKey::from_bytes(&new.to_bytes()).unwrap();
        let unlocked = Vault::unlock(&decoded, b"new").unwrap();
        assert_eq!(unlocked.open(&a, &sealed).unwrap(), b"someone@example.org");
        assert_eq!(
            Vault::unlock(&new, b"old").unwrap_err(),
            VaultError::WrongPassphrase
        );
    }

    #[test]
    fn weak_params_refused_on_create_and_unlock() {
        let mut weak = default_params();
        weak.m_cost_kib = 8;
        assert!(matches!(
            Vault::create_with_params(b"pw", weak),
            Err(VaultError::WeakKdfParams { .. })
        ));
        let (_, wrapped) = Vault::create(b"pw").unwrap();
        for edit in [
            |p: &mut KdfParams| p.m_cost_kib = 19_455,
            |p: &mut KdfParams| p.t_cost = 1,
            |p: &mut KdfParams| p.p_cost = 0,
        ] {
            let mut bytes = wrapped.to_bytes();
            let mut params = wrapped.params;
            edit(&mut params);
            bytes[5..9].copy_from_slice(&params.m_cost_kib.to_be_bytes());
            bytes[9..13].copy_from_slice(&params.t_cost.to_be_bytes());
            bytes[13..17].copy_from_slice(&params.p_cost.to_be_bytes());
            let edited = WrappedKey::from_bytes(&bytes).unwrap();
            let err = Vault::unlock(&edited, b"pw").unwrap_err();
            assert!(matches!(err, VaultError::WeakKdfParams { .. }), "{err}");
            assert!(err.to_string().contains("too weak"));
        }
        let mut huge = wrapped.clone();
        huge.params.m_cost_kib = u32::MAX;
        assert!(matches!(
            Vault::unlock(&huge, b"pw"),
            Err(VaultError::ExcessiveKdfParams { .. })
        ));
    }

    #[test]
    fn stronger_params_are_accepted_and_round_trip() {
        let mut p = default_params();
        p.t_cost = 3;
        let (vault, wrapped) = Vault::create_with_params(b"pw", p).unwrap();
        let back = WrappedKey::from_bytes(&wrapped.to_bytes()).unwrap();
        assert_eq!(back, wrapped);
        assert_eq!(back.params.t_cost, 3);
        let again = Vault::unlock(&back, b"pw").unwrap();
        assert_eq!(again.key_check(), vault.key_check());
    }

    #[test]
    fn wrapped_key_layout_is_as_documented() {
        let (_, w) = Vault::create(b"pw").unwrap();
        let b = w.to_bytes();
        assert_eq!(b.len(), 61 + 48);
        assert_eq!(&b[0..4], b"BDKW");
        assert_eq!(b[4], 1);
        assert_eq!(&b[5..9], &19_456u32.to_be_bytes());
        assert_eq!(&b[9..13], &2u32.to_be_bytes());
        assert_eq!(&b[13..17], &1u32.to_be_bytes());
        assert_eq!(&b[17..33], &w.params.salt);
        assert_eq!(&b[33..57], &w.nonce);
        assert_eq!(&b[57..61], &48u32.to_be_bytes());
        assert_eq!(&b[61..], &w.wrapped[..]);
    }

    #[test]
    fn from_bytes_rejects_truncated_and_garbage() {
        let (_, w) = Vault::create(b"pw").unwrap();
        let b = w.to_bytes();
        for n in 0..b.len() {
            assert!(WrappedKey::from_bytes(&b[..n]).is_err(), "prefix {n}");
        }
        let mut long = b.clone();
        long.push(0);
        assert!(WrappedKey::from_bytes(&long).is_err());
        let mut bad_magic = b.clone();
        bad_magic[0] = b'X';
        assert!(matches!(
            WrappedKey::from_bytes(&bad_magic),
            Err(VaultError::KeyFormat(_))
        ));
        let mut bad_version = b.clone();
        bad_version[4] = 9;
        assert_eq!(
            WrappedKey::from_bytes(&bad_version),
            Err(VaultError::UnsupportedKeyVersion(9))
        );
        let mut bad_len = b.clone();
        bad_len[57..61].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(WrappedKey::from_bytes(&bad_len).is_err());
        // Tampered wrapped key bytes: indistinguishable from a wrong passphrase.
        let mut t = w.clone();
        t.wrapped[0] ^= 1;
        assert_eq!(
            Vault::unlock(&t, b"pw").unwrap_err(),
            VaultError::WrongPassphrase
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn from_bytes_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = WrappedKey::from_bytes(&data);
        }

        #[test]
        fn open_never_panics_on_garbage(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100)) {
            let vault = Vault { key: [7u8; KEY_LEN] };
            let _ = vault.open(b"ad", &data);
        }
    }

    #[test]
    fn error_messages_are_lowercase() {
        let errors = [
            VaultError::EmptyPassphrase,
            VaultError::WrongPassphrase,
            VaultError::WeakKdfParams {
                m_cost_kib: 1,
                t_cost: 1,
                p_cost: 1,
            },
            VaultError::Decrypt,
            VaultError::KeyFormat("it is truncated"),
        ];
        for e in errors {
            let s = e.to_string();
            assert!(s.starts_with(|c: char| c.is_ascii_lowercase()), "{s}");
        }
    }
}
