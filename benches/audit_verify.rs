//! Builds a 1,000,000-entry audit chain and times `breachdesk audit verify` against
//! `sha256sum` over a file of the same total entry bytes, in the same run.
//!
//! Run: `cargo bench --bench audit_verify`. Target: verify within 3x of the raw hash.

mod common;

use std::io::Write;
use std::process::Command;

use breachdesk::store::bulk;

const ENTRIES: u64 = 1_000_000;
const INCIDENTS: u32 = 10_000;
const PER_TX: u64 = 100_000;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("chain.redb");
    let t = std::time::Instant::now();
    let store = common::new_db(&db);
    let actor = common::actor();
    let incidents: Vec<_> = (1..=INCIDENTS)
        .map(|i| {
            let f = breachdesk::domain::Facts {
                title: format!("Bench incident {i}"),
                ..Default::default()
            };
            common::incident(i, f)
        })
        .collect();
    bulk::load_incidents(&store, &actor, &incidents).expect("load");
    // org.init and one incident.new per incident so far.
    let written = 1 + INCIDENTS as u64;
    bulk::append_notes(&store, &actor, 2026, INCIDENTS, ENTRIES - written, PER_TX).expect("append");
    drop(store);
    println!(
        "built a {ENTRIES}-entry chain over {INCIDENTS} incidents in {:.1?}",
        t.elapsed()
    );

    // The peer's input: the same entry bytes, concatenated.
    let raw = dir.path().join("entries.bin");
    let total = {
        let store = breachdesk::store::Store::open(&db).expect("open");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&raw).expect("create"));
        let n = bulk::audit_bytes(&store, &mut f).expect("entries");
        f.flush().expect("flush");
        n
    };

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
