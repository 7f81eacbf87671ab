//! The hash-chained audit trail: entry encoding, verification, signed checkpoints.

pub mod checkpoint;
pub mod entry;
pub mod subject;
pub mod verify;
