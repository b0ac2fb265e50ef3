//! What a build script really compiles, from running it: the ground truth
//! where a literal reading of `build.rs` is not certain (paths assembled at
//! run time, or handed to a build-helper crate of the repository).
//!
//! The repository is copied to a scratch folder first (a build script may
//! write into its sources, and knit never modifies its inputs) and built there
//! with `cargo check` until the package's build script has run. What it
//! compiled shows in two places: the `rerun-if-changed` lines it printed
//! (tonic-build before 0.14 and most hand-written scripts print one per
//! `.proto` file or folder), and the files it wrote to `OUT_DIR`, one
//! `PACKAGE.rs` per proto package (tonic-prost-build 0.14 prints no
//! `rerun-if-changed`). Answers are cached by a hash of the files copied, so a
//! repeated merge runs no build.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use knit_model::hash::fnv64;

use crate::paths::normalize;

/// The most files a probe copies; a larger tree is not probed.
const MOST_FILES: usize = 20_000;
/// The longest a probe's build may take.
const LONGEST: Duration = Duration::from_secs(600);

/// A build script to run: the package it belongs to and the tree its build
/// needs.
pub struct Probe<'a> {
    /// The package's name.
    pub package: &'a str,
    /// The package's folder.
    pub package_dir: &'a Path,
    /// The manifest of the workspace to build it in.
    pub workspace_manifest: &'a Path,
    /// A folder holding the workspace and every package the build reaches.
    pub tree: &'a Path,
}

/// What a build script compiled.
#[derive(Debug, Default, PartialEq)]
pub struct Compiled {
    /// The files and folders its `rerun-if-changed` lines name, as paths of
    /// the input tree.
    pub read: Vec<PathBuf>,
    /// The proto packages it generated code for (`OUT_DIR/PACKAGE.rs`).
    pub packages: Vec<String>,
    /// The files it wrote into the repository (a `src/generated/` the code
    /// includes), as paths of the input tree.
    pub written: Vec<PathBuf>,
}

impl Compiled {
    /// The cached form: a line per path read or written (`read PATH`,
    /// `wrote PATH`, relative to the tree) and per package (`package NAME`).
    fn to_text(&self, tree: &Path) -> String {
        let relative = |word: &str, paths: &[PathBuf]| -> String {
            paths
                .iter()
                .filter_map(|p| p.strip_prefix(tree).ok())
                .map(|p| format!("{word} {}\n", p.display()))
                .collect()
        };
        let packages: String = self
            .packages
            .iter()
            .map(|p| format!("package {p}\n"))
            .collect();
        format!(
            "{}{packages}{}",
            relative("read", &self.read),
            relative("wrote", &self.written)
        )
    }

    fn of_text(text: &str, tree: &Path) -> Compiled {
        let mut compiled = Compiled::default();
        for line in text.lines() {
            if let Some(path) = line.strip_prefix("read ") {
                compiled.read.push(tree.join(path));
            } else if let Some(package) = line.strip_prefix("package ") {
                compiled.packages.push(package.to_string());
            } else if let Some(path) = line.strip_prefix("wrote ") {
                compiled.written.push(tree.join(path));
            }
        }
        compiled
    }
}

/// What the build script of `probe` compiled; or why it could not be run.
/// Both are cached in [`cache_dir`].
pub fn build_script_reads(probe: &Probe) -> Result<Compiled, String> {
    let files = tree_files(probe.tree)?;
    let mut key = Vec::new();
    for file in &files {
        key.extend_from_slice(file.to_string_lossy().as_bytes());
        key.extend_from_slice(&std::fs::read(probe.tree.join(file)).unwrap_or_default());
    }
    key.extend_from_slice(probe.package.as_bytes());
    let cache = cache_dir();
    let hash = fnv64(&key);
    let answer = cache.join(format!("{hash:016x}.txt"));
    if let Ok(text) = std::fs::read_to_string(&answer) {
        return match text.strip_prefix(FAILED) {
            Some(reason) => Err(reason.to_string()),
            None => Ok(Compiled::of_text(&text, probe.tree)),
        };
    }
    // One scratch copy and one target folder per tree, at fixed places: a
    // build-helper crate bakes its folder into the build scripts it serves
    // (`env!("CARGO_MANIFEST_DIR")`), and Cargo tells two copies of a package
    // apart only by their place in their workspace. Probes of one tree (the
    // services load on threads of their own, merges may run side by side)
    // take turns.
    let place = format!("{:016x}", fnv64(probe.tree.as_os_str().as_encoded_bytes()));
    let scratch = cache.join(format!("tree-{place}"));
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let turn = std::fs::File::create(cache.join(format!("tree-{place}.lock")))
        .and_then(|file| file.lock().map(|()| file))
        .map_err(|e| format!("{}: {e}", cache.display()))?;
    let _ = std::fs::remove_dir_all(&scratch);
    let result = copy_and_run(
        probe,
        &files,
        &scratch,
        &cache.join(format!("target-{place}")),
    );
    let _ = std::fs::remove_dir_all(&scratch);
    drop(turn);
    // In the input tree's terms: what the script read outside the copy (a
    // registry crate's include folder) is not the repository's.
    let in_tree = |paths: &[PathBuf]| -> Vec<PathBuf> {
        paths
            .iter()
            .filter_map(|p| p.strip_prefix(&scratch).ok())
            .map(|p| probe.tree.join(p))
            .collect()
    };
    let compiled = result.map(|compiled| Compiled {
        read: in_tree(&compiled.read),
        packages: compiled.packages,
        written: in_tree(&compiled.written),
    });
    // A cache that cannot be written costs a build next time, nothing more.
    let _ = match &compiled {
        Ok(compiled) => std::fs::write(&answer, compiled.to_text(probe.tree)),
        Err(reason) => std::fs::write(&answer, format!("{FAILED}{reason}")),
    };
    compiled
}

/// How a cached answer that is a failure starts.
const FAILED: &str = "failed: ";

/// knit's cache: `$KNIT_CACHE_DIR`, else `$XDG_CACHE_HOME/knit/build-scripts`,
/// else `~/.cache/knit/build-scripts`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KNIT_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("knit/build-scripts")
}

fn copy_and_run(
    probe: &Probe,
    files: &[PathBuf],
    scratch: &Path,
    target: &Path,
) -> Result<Compiled, String> {
    for file in files {
        let to = scratch.join(file);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::copy(probe.tree.join(file), &to).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    let inside = |p: &Path| {
        p.strip_prefix(probe.tree)
            .map(|r| scratch.join(r))
            .map_err(|_| format!("{} is outside the probed tree", p.display()))
    };
    let manifest = inside(probe.workspace_manifest)?;
    let package_dir = inside(probe.package_dir)?;
    let out_dir = run_until_built(probe.package, &manifest, target)?;
    let output = out_dir.with_file_name("output");
    let text = std::fs::read_to_string(&output)
        .map_err(|e| format!("the build script's output {}: {e}", output.display()))?;
    let mut packages: Vec<String> = std::fs::read_dir(&out_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.strip_suffix(".rs")?.to_string();
            is_package_name(&name).then_some(name)
        })
        .collect();
    packages.sort();
    // What the script wrote into the copy besides the build's own folders.
    let written = tree_files(scratch)?
        .into_iter()
        .filter(|file| files.binary_search(file).is_err())
        .map(|file| scratch.join(file))
        .collect();
    Ok(Compiled {
        read: rerun_if_changed(&text)
            .into_iter()
            .map(|p| normalize(&package_dir.join(p)))
            .collect(),
        packages,
        written,
    })
}

/// Whether a generated file's stem is a proto package name (`depot.v1`), not
/// a file of the script's own (`_includes`).
fn is_package_name(stem: &str) -> bool {
    !stem.starts_with('_')
        && stem
            .split('.')
            .all(|part| part.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Runs `cargo check` of `package` until its build script has run; its
/// `OUT_DIR`.
fn run_until_built(package: &str, manifest: &Path, target: &Path) -> Result<PathBuf, String> {
    let mut child = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .args([
            "check",
            "--quiet",
            "--message-format",
            "json",
            "-p",
            package,
        ])
        .arg("--manifest-path")
        .arg(manifest)
        .env("CARGO_TARGET_DIR", target)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo: {e}"))?;
    // stderr is drained while stdout is read: a build that fills the pipe
    // would otherwise wait on knit forever.
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
            text
        })
    });
    let started = Instant::now();
    let mut found = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(out_dir) = executed(&line, package) {
                found = Some(out_dir);
                break;
            }
            if started.elapsed() > LONGEST {
                break;
            }
        }
    }
    let _ = child.kill();
    child.wait().map_err(|e| format!("cargo: {e}"))?;
    let stderr = stderr
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    found.ok_or_else(|| {
        let first = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("its build script did not run");
        format!("`cargo check -p {package}`: {first}")
    })
}

/// The `OUT_DIR` of `package`'s build script, if the JSON message `line`
/// says it ran.
fn executed(line: &str, package: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "build-script-executed" {
        return None;
    }
    let id = message["package_id"].as_str()?;
    (id_name(id) == package).then(|| PathBuf::from(message["out_dir"].as_str().unwrap_or("")))
}

/// The package name in a Cargo package id: `path+file:///a/b#name@1.0.0`,
/// or `path+file:///a/name#1.0.0` when the folder bears the name.
fn id_name(id: &str) -> &str {
    let Some((url, fragment)) = id.rsplit_once('#') else {
        return id.split(' ').next().unwrap_or(id);
    };
    match fragment.split_once('@') {
        Some((name, _)) => name,
        None => url.rsplit('/').next().unwrap_or(url),
    }
}

/// The paths a build script's printed `text` names in `rerun-if-changed`
/// lines (both `cargo:` and `cargo::` forms), as written.
fn rerun_if_changed(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|l| {
            l.strip_prefix("cargo::rerun-if-changed=")
                .or_else(|| l.strip_prefix("cargo:rerun-if-changed="))
        })
        .map(PathBuf::from)
        .collect()
}

/// The files under `tree` a build may need, relative to it: all but `target`
/// folders, version-control folders and symbolic links.
fn tree_files(tree: &Path) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(tree.join(&folder))
            .map_err(|e| format!("{}: {e}", folder.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = folder.join(&name);
            if kind.is_dir() && !matches!(name.to_str(), Some("target" | ".git" | ".hg")) {
                pending.push(path);
            } else if kind.is_file() {
                found.push(path);
                if found.len() > MOST_FILES {
                    return Err(format!(
                        "{} holds more than {MOST_FILES} files",
                        tree.display()
                    ));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_of_rerun_if_changed_are_read() {
        let text = "cargo:rerun-if-changed=../../proto/a.proto\n\
                    cargo:rustc-env=X=1\n\
                    cargo::rerun-if-changed=../../proto\n\
                    warning: cargo:rerun-if-changed=no\n";
        assert_eq!(
            rerun_if_changed(text),
            [
                PathBuf::from("../../proto/a.proto"),
                PathBuf::from("../../proto")
            ]
        );
    }

    #[test]
    fn generated_files_name_proto_packages() {
        assert!(is_package_name("depot.v1"));
        assert!(is_package_name("helloworld"));
        assert!(is_package_name("google.api"));
        assert!(!is_package_name("_includes"));
        assert!(!is_package_name("1.v2"));
        assert!(!is_package_name("a-b"));
    }

    #[test]
    fn a_cached_answer_reads_back_as_it_was() {
        let tree = Path::new("/repo");
        let compiled = Compiled {
            read: vec![tree.join("apis/depot/v1/depot.proto"), tree.join("apis")],
            packages: vec!["depot.v1".into()],
            written: vec![tree.join("rust/depot/src/generated/depot.v1.rs")],
        };
        let text = compiled.to_text(tree);
        assert_eq!(
            text,
            "read apis/depot/v1/depot.proto\nread apis\npackage depot.v1\n\
             wrote rust/depot/src/generated/depot.v1.rs\n"
        );
        assert_eq!(Compiled::of_text(&text, tree), compiled);
    }

    #[test]
    fn package_ids_name_their_package() {
        assert_eq!(
            id_name("path+file:///w/services/api#gateway@0.1.0"),
            "gateway"
        );
        assert_eq!(id_name("path+file:///w/gateway#0.1.0"), "gateway");
        assert_eq!(id_name("gateway 0.1.0 (path+file:///w/gateway)"), "gateway");
    }

    #[test]
    fn only_the_packages_own_script_counts() {
        let line = |id: &str| {
            format!(
                r#"{{"reason":"build-script-executed","package_id":"{id}","out_dir":"/t/build/x-1/out"}}"#
            )
        };
        assert_eq!(
            executed(&line("path+file:///w/a#api@0.1.0"), "api"),
            Some(PathBuf::from("/t/build/x-1/out"))
        );
        assert_eq!(
            executed(&line("registry+https://x#prost@0.14.1"), "api"),
            None
        );
        assert_eq!(executed(r#"{"reason":"compiler-artifact"}"#, "api"), None);
    }
}
