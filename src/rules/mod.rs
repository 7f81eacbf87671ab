//! The pure rules engine (45 CFR 164.400–414). No I/O; `today` is passed in.
