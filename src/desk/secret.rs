//! Passphrases: held in memory that is wiped when dropped, never in a plain `String`, and
//! judged for strength before a database is created or rekeyed.

use crate::error::{Error, Result};

/// A passphrase (or other secret text): zeroed when dropped (the `zeroize` crate), so it does
/// not linger in freed memory. Read from a key file, the environment or a prompt straight into
/// one of these.
pub type Secret = zeroize::Zeroizing<String>;

/// The lowest zxcvbn score accepted (3: "safely unguessable", about 10^10 guesses, which
/// Argon2id at its cost per guess puts out of reach of an offline attack on a stolen file).
pub const MIN_SCORE: u8 = 3;

/// A passphrase judged too weak: the estimator's reason, never the passphrase.
pub fn weakness(passphrase: &str, context: &[&str]) -> Option<String> {
    let e = zxcvbn::zxcvbn(passphrase, context);
    let score = e.score() as u8;
    if score >= MIN_SCORE {
        return None;
    }
    let mut why = format!(
        "it would be guessed in about 10^{:.0} tries (strength {score} of 4; at least {MIN_SCORE} is required)",
        e.guesses_log10().max(0.0)
    );
    if let Some(f) = e.feedback() {
        if let Some(w) = f.warning() {
            why.push_str(&format!("; {w}"));
        }
        for s in f.suggestions() {
            why.push_str(&format!("; {s}"));
        }
    }
    Some(why)
}

/// Refuses a weak passphrase unless the caller allows it (demos and tests), naming the reason.
/// Returns whether a weak one was accepted (recorded in the organization record).
pub fn check_strength(passphrase: &str, context: &[&str], allow_weak: bool) -> Result<bool> {
    match weakness(passphrase, context) {
        None => Ok(false),
        Some(_) if allow_weak => Ok(true),
        Some(why) => Err(Error::invalid(format!(
            "the passphrase is too weak: {why}. Choose a longer one (four or more unrelated words work well), \
             or pass --allow-weak-passphrase for a demo or a test database (it is recorded in the organization record)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passphrases_are_refused_with_a_reason_and_never_echoed() {
        for weak in ["a", "x", "password1", "Lakeside2026", "qwertyuiop"] {
            let e = check_strength(weak, &["Lakeside Community Hospital"], false)
                .expect_err(weak)
                .to_string();
            assert!(e.contains("too weak"), "{e}");
            assert!(!e.contains(&format!("\"{weak}\"")), "{e}");
        }
        assert!(check_strength("a", &[], true).expect("allowed"));
        for strong in [
            "correct horse battery staple",
            "demo passphrase: not for real data",
            "plum ferry atlas nineteen gravel",
        ] {
            assert!(!check_strength(strong, &[], false).expect(strong));
        }
    }
}
