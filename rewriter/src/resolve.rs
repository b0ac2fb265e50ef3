//! The merged `Cargo.lock`, completed by Cargo. knit merges what the services
//! locked; Cargo adds what the output's own crates need beside it (the
//! workspace's packages, knit-runtime's and the proto crates' dependencies that
//! no service locked), keeping every version knit locked, so that `cargo build
//! --locked` (knit's Dockerfile, a CI job) builds the output as it is written.
//!
//! Cargo resolves in a scratch folder that holds the output's manifests,
//! lockfile and Cargo configuration, with an empty file for each Rust source
//! (what target discovery looks for): `cargo metadata --offline` first, from
//! the registry index Cargo keeps, then with the network.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::merge::Content;

/// The output's `Cargo.lock` as Cargo completes it (as Cargo makes it, when
/// no service has one), or why it could not.
pub fn complete(files: &mut Vec<(String, Content)>) -> Result<(), String> {
    let scratch = scratch().map_err(|e| format!("cannot make a scratch folder: {e}"))?;
    let resolved = stage(&scratch, files)
        .map_err(|e| format!("cannot write {}: {e}", scratch.display()))
        .and_then(|()| resolve(&scratch));
    let _ = std::fs::remove_dir_all(&scratch);
    let resolved = Content::Text(resolved?);
    match files.iter().position(|(path, _)| path == "Cargo.lock") {
        Some(at) => files[at].1 = resolved,
        None => files.push(("Cargo.lock".to_string(), resolved)),
    }
    Ok(())
}

/// A new folder of knit's own in the system's temporary folder.
fn scratch() -> std::io::Result<std::path::PathBuf> {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    loop {
        let made = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "knit-resolve-{}-{made}-{nanos}",
            std::process::id()
        ));
        match std::fs::create_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            made => return made.map(|()| dir),
        }
    }
}

/// Writes into `scratch` what Cargo reads to resolve the workspace of `files`.
fn stage(scratch: &Path, files: &[(String, Content)]) -> std::io::Result<()> {
    for (path, content) in files {
        let read_by_cargo = path == "Cargo.toml"
            || path.ends_with("/Cargo.toml")
            || path == "Cargo.lock"
            || path.starts_with(".cargo/")
            || path.contains("/.cargo/");
        let target = scratch.join(path);
        if !read_by_cargo && !path.ends_with(".rs") {
            continue;
        }
        std::fs::create_dir_all(target.parent().unwrap_or(scratch))?;
        match (read_by_cargo, content) {
            (true, Content::Text(text)) => std::fs::write(&target, text)?,
            (true, Content::Copy(from)) => std::fs::copy(from, &target).map(drop)?,
            (false, _) => std::fs::write(&target, "")?,
        }
    }
    Ok(())
}

/// Runs `cargo metadata` in `scratch` (offline, then online) and reads the
/// lockfile it leaves.
fn resolve(scratch: &Path) -> Result<String, String> {
    let run = |offline: bool| {
        let mut cargo = Command::new(knit_load::workspace::cargo());
        cargo
            .args(["metadata", "--format-version", "1", "--quiet"])
            .current_dir(scratch)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if offline {
            cargo.arg("--offline");
        }
        cargo.output()
    };
    let output = match run(true) {
        Ok(output) if output.status.success() => output,
        _ => run(false).map_err(|e| format!("cannot run cargo: {e}"))?,
    };
    if !output.status.success() {
        // Cargo's first reason, with the output's folder for the scratch one.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = knit_load::workspace::cargo_reason(&stderr);
        let first = reason.split("; ").next().unwrap_or_default();
        return Err(first.replace(&*scratch.to_string_lossy(), "the output"));
    }
    std::fs::read_to_string(scratch.join("Cargo.lock")).map_err(|e| e.to_string())
}
