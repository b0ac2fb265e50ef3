//! The fuzzers' smoke test: every committed seed and every crash a fuzzer
//! found (`fuzz/seeds/TARGET/`, crashes as `crash-*`) through its target, as
//! the libFuzzer binaries run them. Runs with the workspace's tests in CI.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|e| e.unwrap().path())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds for {target}");
    for seed in seeds {
        eprintln!("{target}: {}", seed.display());
        run(&std::fs::read(&seed).unwrap());
    }
}

#[test]
fn plan() {
    replay("plan", knit_fuzz::plan::run);
}

#[test]
fn load() {
    replay("load", knit_fuzz::load::run);
}

#[test]
fn passes() {
    replay("passes", knit_fuzz::passes::run);
}

#[test]
fn check() {
    replay("check", knit_fuzz::check::run);
}
