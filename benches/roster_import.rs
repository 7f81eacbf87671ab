//! Roster import benchmark: `cargo bench --bench roster_import`.
//!
//! Generates a synthetic 1,000,000-row roster CSV (fixed seed, realistic columns, identifiers
//! unique but in random order, as in an export sorted by name or State) in a temporary
//! directory, then times, on the same file:
//!
//! * `breachdesk roster import` (release binary, encrypted database, audit on), with its
//!   peak resident memory (VmHWM, polled from /proc/<pid>/status while it runs);
//! * `sqlite3` importing the same CSV into an on-disk table with a PRIMARY KEY
//!   (`.mode csv`, `.import --skip 1`), if `sqlite3` is installed.
//!
//! It also times `breachdesk audit verify` over the imported roster. Set ROSTER_BENCH_ROWS to
//! change the row count, ROSTER_BENCH_DIR to keep the files in a directory.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASS: &str = "bench passphrase";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Maria",
    "Wei",
    "Aisha",
    "Dmitri",
    "Priya",
    "Kwame",
    "Yuki",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Nguyen",
    "Okafor",
    "Kowalski",
];
const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Elm St",
    "Washington Blvd",
    "Lake Rd",
    "Hill St",
    "Park Ave",
    "Pine Ct",
    "Sunset Blvd",
    "River Rd",
    "2nd St",
    "Church St",
];
const PLACES: &[(&str, &str, &str)] = &[
    ("Austin", "TX", "787"),
    ("Houston", "TX", "770"),
    ("Los Angeles", "CA", "900"),
    ("San Diego", "CA", "921"),
    ("New York", "NY", "100"),
    ("Buffalo", "NY", "142"),
    ("Miami", "FL", "331"),
    ("Chicago", "IL", "606"),
    ("Phoenix", "AZ", "850"),
    ("Nashville", "TN", "372"),
    ("Denver", "CO", "802"),
    ("Washington", "DC", "200"),
    ("San Juan", "PR", "009"),
    ("Hagatna", "GU", "969"),
    ("Seattle", "WA", "981"),
    ("Boston", "MA", "021"),
];

fn generate(path: &Path, rows: u64) -> std::io::Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        w,
        "MRN,First Name,Last Name,Address,Address 2,City,State,Zip,Email,Email Consent,Phone,Deceased,NOK Name,NOK Address,NOK City,NOK State,NOK Zip"
    )?;
    let mut r = Rng(0x5eed_1234_abcd_0001);
    for i in 0..rows {
        // A bijection of 0..2^32: unique identifiers in random order.
        let id = (i.wrapping_mul(2_654_435_761)) & 0xffff_ffff;
        let first = r.pick(FIRST);
        let last = r.pick(LAST);
        let (city, st, zip3) = PLACES[r.below(PLACES.len() as u64) as usize];
        let kind = r.below(100);
        let (addr, city, st_out, zip) = if kind < 4 {
            (String::new(), "", "", String::new())
        } else {
            (
                format!("{} {}", 1 + r.below(9999), r.pick(STREETS)),
                city,
                st,
                format!("{zip3}{:02}", r.below(100)),
            )
        };
        let addr2 = if r.below(5) == 0 {
            format!("Apt {}", 1 + r.below(400))
        } else {
            String::new()
        };
        let (email, consent) = if r.below(3) == 0 {
            (
                format!(
                    "{}.{}{}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    r.below(1000)
                ),
                "Y",
            )
        } else {
            (String::new(), "N")
        };
        let phone = format!("({}) 555-{:04}", 200 + r.below(799), r.below(10000));
        let deceased = r.below(100) < 2;
        let (dec, nok) = if deceased {
            if r.below(2) == 0 {
                (
                    "2025-03-14",
                    format!(
                        "{} {},{} {},{},{},{zip3}{:02}",
                        r.pick(FIRST),
                        last,
                        1 + r.below(9999),
                        r.pick(STREETS),
                        city,
                        st,
                        r.below(100)
                    ),
                )
            } else {
                ("Y", ",,,,".to_string())
            }
        } else {
            ("N", ",,,,".to_string())
        };
        writeln!(
            w,
            "MRN{id:010},{first},{last},{addr},{addr2},{city},{st_out},{zip},{email},{consent},{phone},{dec},{nok}"
        )?;
    }
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn breachdesk(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_breachdesk"));
    c.env_clear()
        .env("BREACHDESK_DB", dir.join("bench.redb"))
        .env("BREACHDESK_PASSPHRASE", PASS)
        .env("BREACHDESK_ACTOR", "bench")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    c
}

fn run_ok(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

struct Dir(std::path::PathBuf);

impl Dir {
    fn path(&self) -> &Path {
        &self.0
    }
}

fn main() {
    let rows: u64 = std::env::var("ROSTER_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().expect("temporary directory");
    // ROSTER_BENCH_DIR keeps the files (for profiling); it must not hold a bench.redb yet.
    let keep = std::env::var_os("ROSTER_BENCH_DIR").map(std::path::PathBuf::from);
    let dir_path = keep.unwrap_or_else(|| tmp.path().to_path_buf());
    let dir = Dir(dir_path);
    let csv = dir.path().join("roster.csv");
    let t = Instant::now();
    let bytes = generate(&csv, rows).expect("generate the roster CSV");
    println!(
        "roster_import: {rows} rows, {:.1} MiB CSV generated in {:.2?} (seeded; ids in random order)",
        bytes as f64 / 1048576.0,
        t.elapsed()
    );

    let mut c = breachdesk(dir.path());
    c.args([
        "init",
        "--org",
        "Bench Hospital",
        "--role",
        "covered-entity",
    ]);
    run_ok(c, "init");
    let mut c = breachdesk(dir.path());
    c.args([
        "incident",
        "new",
        "--no-interview",
        "--title",
        "Bench",
        "--discovered",
        "2026-10-01",
    ]);
    run_ok(c, "incident new");

    // breachdesk roster import, polling peak memory.
    let mut c = breachdesk(dir.path());
    c.args(["roster", "import", "2026-0001"])
        .arg(&csv)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let t = Instant::now();
    let mut child = c.spawn().expect("spawn breachdesk");
    let pid = child.id();
    let mut hwm = 0u64;
    loop {
        if let Some(k) = vm_hwm_kib(pid) {
            hwm = hwm.max(k);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let bd_time = t.elapsed();
    let out = child.wait_with_output().expect("breachdesk output");
    assert!(
        out.status.success(),
        "roster import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("import JSON");
    assert_eq!(v["accepted"].as_u64(), Some(rows), "every row accepted");
    let db_size = std::fs::metadata(dir.path().join("bench.redb"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "breachdesk roster import: {:.2?} ({:.0} rows/s), peak memory (VmHWM) {:.1} MiB, database {:.1} MiB",
        bd_time,
        rows as f64 / bd_time.as_secs_f64(),
        mib(hwm),
        db_size as f64 / 1048576.0
    );

    let mut c = breachdesk(dir.path());
    c.args(["audit", "verify"]);
    let t = Instant::now();
    run_ok(c, "audit verify");
    println!("breachdesk audit verify: {:.2?}", t.elapsed());

    let has_sqlite = Command::new("sqlite3")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !has_sqlite {
        println!("sqlite3: not installed; install it (e.g. apt-get install sqlite3) to compare");
        return;
    }
    let sdb = dir.path().join("bench.sqlite");
    let schema = "CREATE TABLE roster(mrn TEXT PRIMARY KEY, first TEXT, last TEXT, address TEXT, \
        address2 TEXT, city TEXT, state TEXT, zip TEXT, email TEXT, email_consent TEXT, phone TEXT, \
        deceased TEXT, nok_name TEXT, nok_address TEXT, nok_city TEXT, nok_state TEXT, nok_zip TEXT);";
    let mut c = Command::new("sqlite3");
    c.arg(&sdb).arg(schema);
    run_ok(c, "sqlite3 create table");
    let mut c = Command::new("sqlite3");
    c.arg(&sdb)
        .arg("-cmd")
        .arg(".mode csv")
        .arg(format!(".import --skip 1 {} roster", csv.display()));
    let t = Instant::now();
    run_ok(c, "sqlite3 .import");
    let sq_time = t.elapsed();
    let sq_size = std::fs::metadata(&sdb).map(|m| m.len()).unwrap_or(0);
    println!(
        "sqlite3 .import (on disk, PRIMARY KEY): {:.2?} ({:.0} rows/s), database {:.1} MiB",
        sq_time,
        rows as f64 / sq_time.as_secs_f64(),
        sq_size as f64 / 1048576.0
    );
    println!(
        "ratio breachdesk/sqlite3: {:.2} (target <= 1.00); peak memory {:.1} MiB (target <= 100 MiB)",
        bd_time.as_secs_f64() / sq_time.as_secs_f64(),
        mib(hwm)
    );
}
