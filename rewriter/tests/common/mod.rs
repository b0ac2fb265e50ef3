//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The root of knit's checkout.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The bundled greeter plan.
pub fn greeter_plan() -> PathBuf {
    root().join("corpus/greeter/knit.toml")
}

/// Runs the `knit` binary.
pub fn knit(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_knit"))
        .args(args)
        .current_dir(dir)
        // Build scripts knit runs to see what they read: one warm cache for
        // the tests, never the user's.
        .env("KNIT_CACHE_DIR", root().join("target/knit-cache"))
        .output()
        .expect("knit runs")
}

/// `knit merge` of the bundled greeter plan into `out` (relative to `dir`).
pub fn merge_greeter(dir: &Path, out: &str) -> Output {
    knit(
        &["merge", greeter_plan().to_str().unwrap(), "--out", out],
        dir,
    )
}

/// Copies the greeter corpus (without build output) into `to`.
pub fn copy_greeter(to: &Path) {
    copy_tree(&root().join("corpus/greeter"), to);
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Every file below `dir`, as (relative path, bytes), sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    files
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read(&path).unwrap()));
        }
    }
}
