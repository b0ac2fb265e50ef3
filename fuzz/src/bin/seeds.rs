//! Writes the starting corpus of every target below DIR (`DIR/TARGET/`): the
//! plans of corpus/, each corpus system as a `load` fixture, each Rust file of
//! the `passes` system, and a change of each file for `check`.
//! `cargo xtask fuzz` runs it before the fuzzers.

use std::path::{Path, PathBuf};

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: seeds DIR");
        std::process::exit(2);
    };
    let systems = systems();
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder).expect("the seed folder can be made");
        std::fs::write(folder.join(name), bytes).expect("a seed can be written");
    };
    for system in &systems {
        let name = system
            .strip_prefix(knit_fuzz::root().join("corpus"))
            .unwrap_or(system)
            .to_string_lossy()
            .replace('/', "-");
        if let Ok(plan) = std::fs::read(system.join("knit.toml")) {
            write("plan", &name, &plan);
        }
        write("load", &name, fixture(system).as_bytes());
    }
    for (i, path, text) in knit_fuzz::passes::files() {
        let mut seed = vec![i];
        seed.extend_from_slice(text.as_bytes());
        write("passes", &path.replace('/', "-"), &seed);
    }
    for how in 0..3u8 {
        for which in 0..16u8 {
            write(
                "check",
                &format!("{how}-{which}"),
                &[how, which, b'x', b'\n'],
            );
        }
    }
}

/// Every corpus system: a folder of corpus/ or corpus/layouts/ with a plan.
fn systems() -> Vec<PathBuf> {
    let corpus = knit_fuzz::root().join("corpus");
    let mut found = Vec::new();
    for folder in [corpus.clone(), corpus.join("layouts")] {
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            if entry.path().join("knit.toml").is_file() {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

/// `system` as a `load` fixture: its plan, manifests, Rust and proto files.
fn fixture(system: &Path) -> String {
    let mut files = Vec::new();
    collect(system, system, &mut files);
    files.sort();
    let mut text = String::new();
    for (path, body) in files {
        text.push_str(&format!("//- {path}\n{body}"));
        if !body.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                collect(root, &path, out);
            }
            continue;
        }
        let wanted = name == "knit.toml"
            || name == "Cargo.toml"
            || name.ends_with(".rs")
            || name.ends_with(".proto");
        if let (true, Ok(body)) = (wanted, std::fs::read_to_string(&path)) {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push((rel.to_string_lossy().into_owned(), body));
        }
    }
}
