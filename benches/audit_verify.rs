//! Builds a 1,000,000-entry audit chain and times `breachdesk audit verify` against
//! `sha256sum` over a file of the same total entry bytes, in the same run.
//!
//! Run: `cargo bench --bench audit_verify`. Target: verify within 3x of the raw hash.

mod common;

use std::io::Write;
use std::process::Command;

use breachdesk::domain::IncidentId;
use breachdesk::store::{Action, Change, Subject, append_entry, subject_digest_write};
use redb::ReadableTable;

const ENTRIES: u64 = 1_000_000;
const INCIDENTS: u32 = 10_000;
const PER_TX: u64 = 100_000;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("chain.redb");
    let t = std::time::Instant::now();
    let store = common::new_db(&db);
    let actor = common::actor();
    // Incident records first, so every entry's digest is the subject's final state.
    let tx = store.db().begin_write().expect("tx");
    for i in 1..=INCIDENTS {
        let f = breachdesk::domain::Facts {
            title: format!("Bench incident {i}"),
            ..Default::default()
        };
        common::put(&tx, &common::incident(i, f));
    }
    let digests: Vec<[u8; 32]> = (1..=INCIDENTS)
        .map(|i| {
            subject_digest_write(&tx, &Subject::Incident(IncidentId::new(2026, i))).expect("digest")
        })
        .collect();
    tx.commit().expect("commit");
    let mut written = 1u64; // org.init
    while written < ENTRIES {
        let tx = store.db().begin_write().expect("tx");
        let n = PER_TX.min(ENTRIES - written);
        for k in 0..n {
            let i = ((written + k) % INCIDENTS as u64) as u32 + 1;
            let change = Change::incident(Action::IncidentNote, &IncidentId::new(2026, i))
                .detail(format!("note={}", written + k));
            append_entry(&tx, &actor, &change, digests[(i - 1) as usize]).expect("append");
        }
        tx.commit().expect("commit");
        written += n;
    }
    drop(store);
    println!(
        "built a {ENTRIES}-entry chain over {INCIDENTS} incidents in {:.1?}",
        t.elapsed()
    );

    // The peer's input: the same entry bytes, concatenated.
    let raw = dir.path().join("entries.bin");
    let mut total = 0u64;
    {
        let db = redb::Database::open(&db).expect("open");
        let rtx = redb::ReadableDatabase::begin_read(&db).expect("read");
        let t = rtx
            .open_table(breachdesk::store::tables::AUDIT)
            .expect("audit");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&raw).expect("create"));
        for row in t.iter().expect("iter") {
            let (_, v) = row.expect("row");
            f.write_all(v.value()).expect("write");
            total += v.value().len() as u64;
        }
        f.flush().expect("flush");
    }

    let verify = common::best(3, || {
        common::time(
            Command::new(common::bin())
                .args(["--db"])
                .arg(&db)
                .args(["audit", "verify"]),
        )
    });
    let have_sha = Command::new("sha256sum").arg("--version").output().is_ok();
    println!(
        "audit verify: {ENTRIES} entries, {:.1} MiB of entry bytes",
        total as f64 / 1048576.0
    );
    println!(
        "  breachdesk audit verify : {:>8.3} s",
        verify.as_secs_f64()
    );
    if have_sha {
        let sha = common::best(3, || common::time(Command::new("sha256sum").arg(&raw)));
        println!("  sha256sum (same bytes)  : {:>8.3} s", sha.as_secs_f64());
        println!(
            "  ratio verify / sha256sum: {:>8.2}x (target <= 3x)",
            common::ratio(verify, sha)
        );
    } else {
        println!("  sha256sum not found: peer not timed");
    }
}
