//! `cargo xtask bench rewrite [--services N] [--seed S] [--runs R]`: knit's
//! throughput on a large synthetic system ([`system`]) against parse-only
//! baselines (`bench/parse_only.rs`: ra_ap_syntax's tree builder, and knit's
//! parser) and ast-grep, on 1 and 2 threads. Everything
//! lives in `target/bench-rewrite`. Prints one Markdown table; each figure is the
//! lowest wall and CPU time of R runs (default 3) with the largest peak RSS.

mod system;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{cargo, root};

/// The ast-grep release the figures were measured with.
const AST_GREP: &str = "@ast-grep/cli@0.41.1";
const THREADS: &[usize] = &[1, 2];
/// ast-grep's nearest equivalent of knit's client rewrite: both constructors of
/// every `..Client`, prefixed with the module of an in-process client.
const AST_GREP_RULES: &str = "id: inline-connect
language: rust
rule: { pattern: '$C::connect($U)' }
constraints: { C: { regex: 'Client$' } }
fix: 'knit_inline::$C::connect($U)'
---
id: inline-new
language: rust
rule: { pattern: '$C::new($CH)' }
constraints: { C: { regex: 'Client$' } }
fix: 'knit_inline::$C::new($CH)'
";

struct Options {
    services: usize,
    seed: u64,
    runs: usize,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        services: 60,
        seed: 1,
        runs: 3,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag} {v}: not a number"))
        };
        match flag.as_str() {
            "--services" => options.services = number(value)? as usize,
            "--seed" => options.seed = number(value)?,
            "--runs" => options.runs = number(value)?.max(1) as usize,
            _ => {
                return Err(format!(
                    "unknown option {flag} (--services, --seed, --runs)"
                ));
            }
        }
    }
    Ok(options)
}

/// One measured run of a child process.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    /// User and system time of the child and of the children it waited for.
    cpu: Duration,
    /// Peak resident set of the child (or of a child it waited for), in KiB.
    max_rss_kib: u64,
}

/// Runs `command` to its end with stdout discarded, and fails unless it exits with
/// `expect`. Wall time and peak RSS are the child's own (`wait4`).
fn measure(command: &mut Command, expect: i32, stderr: &Path) -> Result<Sample, String> {
    let log = File::create(stderr).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let child = command
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 reaps our own child, which std
    // will not wait for again (the `Child` is dropped without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
        if pid >= 0 {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4: {error}"));
        }
    }
    let wall = start.elapsed();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    if code != expect {
        let log = std::fs::read_to_string(stderr).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(10).collect();
        return Err(format!(
            "{command:?} exited with {code}, expected {expect}:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Sample {
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss as u64,
    })
}

/// The lowest wall and CPU time of `runs` runs of `run`, with the largest peak RSS.
fn best(runs: usize, mut run: impl FnMut() -> Result<Sample, String>) -> Result<Sample, String> {
    let samples = (0..runs).map(|_| run()).collect::<Result<Vec<_>, _>>()?;
    Ok(lowest(samples))
}

/// The lowest wall and CPU time of `samples`, with the largest peak RSS.
fn lowest(samples: Vec<Sample>) -> Sample {
    samples
        .into_iter()
        .reduce(|b, s| Sample {
            wall: b.wall.min(s.wall),
            cpu: b.cpu.min(s.cpu),
            max_rss_kib: b.max_rss_kib.max(s.max_rss_kib),
        })
        .expect("at least one run")
}

fn status(command: &mut Command, what: &str) -> Result<(), String> {
    let ok = command
        .status()
        .map_err(|e| format!("{what}: {e}"))?
        .success();
    if ok {
        Ok(())
    } else {
        Err(format!("{what} failed"))
    }
}

/// `target/release/knit`, built.
fn build_knit() -> Result<PathBuf, String> {
    status(
        cargo(&root().join("target"))
            .args(["build", "--quiet", "--release", "-p", "knit-rewriter"])
            .current_dir(root()),
        "cargo build --release -p knit-rewriter",
    )?;
    Ok(root().join("target/release/knit"))
}

/// The parse-only baselines, built in release mode as their own package in
/// `work`, with knit's `Cargo.lock` and target folder (so they link the very
/// ra_ap_syntax knit does, built once) and knit's own parsing function.
fn build_parse_only(work: &Path) -> Result<PathBuf, String> {
    let dir = work.join("parse-only");
    let manifest = "[package]\nname = \"knit-bench-parse-only\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                    [workspace]\n\n[dependencies]\nra_ap_parser = \"=0.0.348\"\nra_ap_syntax = \"=0.0.348\"\nrayon = \"1\"\nrowan = \"=0.17.0\"\n";
    std::fs::create_dir_all(dir.join("src"))
        .and_then(|()| std::fs::write(dir.join("Cargo.toml"), manifest))
        .and_then(|()| {
            std::fs::write(
                dir.join("src/main.rs"),
                include_str!("../../bench/parse_only.rs"),
            )
        })
        .and_then(|()| {
            std::fs::write(
                dir.join("src/parse.rs"),
                include_str!("../../../load/src/parse.rs"),
            )
        })
        .and_then(|()| {
            std::fs::write(
                dir.join("src/nesting.rs"),
                include_str!("../../../load/src/nesting.rs"),
            )
        })
        .and_then(|()| std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).map(|_| ()))
        .map_err(|e| format!("cannot write the parse-only crate: {e}"))?;
    let target = root().join("target");
    status(
        cargo(&target)
            .args(["build", "--quiet", "--release", "--manifest-path"])
            .arg(dir.join("Cargo.toml")),
        "building the parse-only baseline",
    )?;
    Ok(target.join("release/knit-bench-parse-only"))
}

/// ast-grep's native binary, installed with npm into `work/node` once.
fn install_ast_grep(work: &Path) -> Result<PathBuf, String> {
    let prefix = work.join("node");
    let binary = prefix.join("node_modules/.bin/ast-grep");
    if !binary.exists() {
        status(
            Command::new("npm")
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    "--prefix",
                ])
                .arg(&prefix)
                .arg(AST_GREP),
            &format!("npm install {AST_GREP}"),
        )?;
    }
    Ok(binary)
}

/// Makes `dir` a git repository with one commit (fixed dates: the same commit
/// every time), as the services' monorepo.
fn commit(dir: &Path) -> Result<(), String> {
    let git = |args: &[&str]| {
        status(
            Command::new("git")
                .args([
                    "-c",
                    "user.name=bench",
                    "-c",
                    "user.email=bench@knit.invalid",
                ])
                .args(args)
                .current_dir(dir)
                .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
                .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
                .stdout(Stdio::null()),
            &format!("git {}", args.join(" ")),
        )
    };
    git(&["init", "-q", "-b", "main"])?;
    git(&["add", "."])?;
    git(&["commit", "-q", "-m", "the synthetic system"])
}

/// A copy of `from` at `to` (replacing it), `.git` aside.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    remove(to)?;
    fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let (source, target) = (entry.path(), to.join(entry.file_name()));
            if entry.file_type()?.is_dir() {
                if entry.file_name() != ".git" {
                    copy(&source, &target)?;
                }
            } else {
                std::fs::copy(&source, &target)?;
            }
        }
        Ok(())
    }
    copy(from, to).map_err(|e| format!("cannot copy {}: {e}", from.display()))
}

fn remove(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// How many times `needle` occurs in the `.rs` files under `dir`.
fn count_in_rust_files(dir: &Path, needle: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| e.path())
        .map(|p| {
            if p.is_dir() {
                count_in_rust_files(&p, needle)
            } else if p.extension().is_some_and(|e| e == "rs") {
                std::fs::read_to_string(&p).map_or(0, |t| t.matches(needle).count())
            } else {
                0
            }
        })
        .sum()
}

/// Call sites of knit's report by tier (`inline`, `in-process`, `rpc`).
fn call_tiers(report: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(report).map_err(|e| format!("{}: {e}", report.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let mut tiers = std::collections::BTreeMap::<String, usize>::new();
    for call in json["calls"].as_array().into_iter().flatten() {
        *tiers
            .entry(call["tier"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    Ok(tiers
        .iter()
        .map(|(tier, n)| format!("{n} {tier}"))
        .collect::<Vec<_>>()
        .join(", "))
}

struct Row {
    what: &'static str,
    threads: usize,
    sample: Sample,
}

pub fn rewrite(args: &[String]) -> Result<(), String> {
    let options = options(args)?;
    let work = root().join("target/bench-rewrite");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let knit = build_knit()?;
    let parse_only = build_parse_only(&work)?;
    let ast_grep = install_ast_grep(&work)?;

    let dir = work.join("system");
    remove(&dir)?;
    let system = system::generate(&dir, options.services, options.seed)?;
    commit(&dir)?;
    let megabytes = system.rust_bytes as f64 / 1e6;
    println!(
        "system (seed {}): {} services, {} packages, {} .rs files, {} lines, {:.1} MB of Rust, {} client constructor calls",
        options.seed,
        system.services,
        system.packages,
        system.rust_files,
        system.rust_lines,
        megabytes,
        system.call_sites
    );

    let merged = work.join("merged");
    let changed_input = &system.handler;
    let original = std::fs::read_to_string(changed_input).map_err(|e| e.to_string())?;
    let ast_grep_tree = work.join("ast-grep-tree");
    let log = work.join("stderr.log");
    let knit_cmd = |threads: usize, args: &[&str]| {
        let mut c = Command::new(&knit);
        c.args(args).env("RAYON_NUM_THREADS", threads.to_string());
        c
    };
    let plan = system.plan.to_string_lossy().to_string();
    let out = merged.to_string_lossy().to_string();
    let mut rows = Vec::new();
    for &threads in THREADS {
        let mut row = |what, sample| {
            rows.push(Row {
                what,
                threads,
                sample,
            })
        };
        let runs = options.runs;
        // The parse-only baselines and `knit diff` take turns, run by run: the
        // ratio the issue sets compares figures taken side by side, not minutes
        // apart.
        let (mut plain, mut knits, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            for (mode, samples) in [("plain", &mut plain), ("knit", &mut knits)] {
                let mut c = Command::new(&parse_only);
                c.arg(mode)
                    .arg(&dir)
                    .env("RAYON_NUM_THREADS", threads.to_string());
                samples.push(measure(&mut c, 0, &log)?);
            }
            let diff = ["diff", &plan, "--color", "never"];
            diffs.push(measure(&mut knit_cmd(threads, &diff), 0, &log)?);
        }
        row("parse-only (ra_ap_syntax)", lowest(plain));
        row("parse-only, knit's parser", lowest(knits));
        row("knit diff", lowest(diffs));
        row(
            "knit merge",
            best(runs, || {
                measure(
                    &mut knit_cmd(threads, &["merge", &plan, "--out", &out]),
                    0,
                    &log,
                )
            })?,
        );
        let check = ["check", &plan, "--against", &out];
        row(
            "knit check, first after merge",
            measure(&mut knit_cmd(threads, &check), 0, &log)?,
        );
        row(
            "knit check, repeated",
            best(runs, || measure(&mut knit_cmd(threads, &check), 0, &log))?,
        );
        row(
            "knit check, one input changed",
            best(runs, || {
                let edit = format!("{original}// changed\n");
                std::fs::write(changed_input, edit).map_err(|e| e.to_string())?;
                let sample = measure(&mut knit_cmd(threads, &check), 1, &log);
                std::fs::write(changed_input, &original).map_err(|e| e.to_string())?;
                sample
            })?,
        );
        row(
            "ast-grep scan --update-all",
            best(runs, || {
                copy_tree(&dir, &ast_grep_tree)?;
                let mut c = Command::new(&ast_grep);
                c.args([
                    "scan",
                    "--inline-rules",
                    AST_GREP_RULES,
                    "--update-all",
                    "--threads",
                ])
                .arg(threads.to_string())
                .arg(&ast_grep_tree);
                measure(&mut c, 0, &log)
            })?,
        );
    }

    println!(
        "\n| command | threads | wall s | MB/s | CPU s | peak RSS MiB | × parse-only |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for row in &rows {
        let parse = rows
            .iter()
            .find(|r| r.threads == row.threads)
            .expect("parse-only runs first");
        let secs = row.sample.wall.as_secs_f64();
        println!(
            "| {} | {} | {:.3} | {:.1} | {:.2} | {:.0} | {:.2} |",
            row.what,
            row.threads,
            secs,
            megabytes / secs,
            row.sample.cpu.as_secs_f64(),
            row.sample.max_rss_kib as f64 / 1024.0,
            parse.sample.wall.as_secs_f64() / secs
        );
    }
    println!(
        "\nknit's call sites: {}; ast-grep rewrote {} constructor calls.",
        call_tiers(&merged.join("report.json"))?,
        count_in_rust_files(&ast_grep_tree, "knit_inline::")
    );
    Ok(())
}
