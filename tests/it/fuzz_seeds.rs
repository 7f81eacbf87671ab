//! Replays every seed and regression input of the fuzz targets (`fuzz/corpus/<target>/`)
//! through the same code the libFuzzer targets run (`fuzz/fuzz_targets/bodies.rs`), on
//! every `cargo test`: inputs that once crashed stay fixed without a fuzzer installed. The
//! bounded fuzz runs themselves are in `.ci/run` (see `fuzz/README.md`).

#[path = "../../fuzz/fuzz_targets/bodies.rs"]
mod bodies;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        // A panic names the input that caused it.
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        n += 1;
    }
    assert!(n >= 3, "{target}: only {n} seed inputs");
}

#[test]
fn roster_csv_seeds() {
    replay("roster_csv", bodies::roster_csv);
}

#[test]
fn facts_toml_seeds() {
    replay("facts_toml", bodies::facts_toml);
}

#[test]
fn set_path_seeds() {
    replay("set_path", bodies::set_path);
}

#[test]
fn scenario_toml_seeds() {
    replay("scenario_toml", bodies::scenario_toml);
}

#[test]
fn ocr_csv_seeds() {
    replay("ocr_csv", bodies::ocr_csv);
}

#[test]
fn checkpoint_seeds() {
    replay("checkpoint", bodies::checkpoint);
}

#[test]
fn templates_seeds() {
    replay("templates", bodies::templates);
}
