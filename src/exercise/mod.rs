//! Tabletop exercises seeded from real, public breach records.

pub mod ocr;
