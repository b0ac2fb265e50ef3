//! knit's dev automation. `cargo xtask help` lists the tasks.

mod bench;
mod bench_mix;
mod bench_rewrite;
mod bench_volo;
#[cfg(test)]
mod build_hash;
mod e2e;
mod fuzz;
mod grpc;
mod scenario;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const HELP: &str = "cargo xtask TASK

Tasks:
  e2e [SYSTEM..]   build each corpus system split and merged, replay its scenario
                   against both, fail on any difference (default: every system)
  test             fmt and clippy checks, cargo test for the workspace and the runtime,
                   cargo check of the runtime on tonic 0.13 and 0.10, then e2e for every
                   system (corpus/ and corpus/layouts/)
  fuzz [--minutes N] [--nice N] [--target NAME]..
                   build the libFuzzer targets of fuzz/ (plan, load, passes, check)
                   with coverage flags on stable Rust and run them side by side N minutes
                   (default 1), at niceness N (default 19); `test` replays their committed
                   seeds (knit-fuzz's tests)
  regenerate       re-record the insta snapshots (review them with git diff)
  bench calls [--requests N] [--rounds R] [--concurrency C] [--request LABEL].. [--only mix|micro|volo]
                   corpus/shop's request mix (bench.toml) split against merged:
                   latency and CPU per request, the calls between merged services;
                   then CPU per unary call: direct handler, knit inline client,
                   tonic in process, tonic over loopback; a Volo call split (loopback)
                   against merged (knit's Unix socket) (release builds; tables)
  bench rewrite [--services N] [--seed S] [--runs R]
                   knit merge/diff/check on a generated system of N services against
                   a parse-only baseline and ast-grep, on 1 and 2 threads
";

/// The root of knit's checkout.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Cargo's `--quiet` when stderr is not a terminal: its progress bar on a
/// terminal, nothing in logs.
pub(crate) fn quiet_unless_terminal() -> &'static [&'static str] {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        &[]
    } else {
        &["--quiet"]
    }
}

/// `cargo` with the shared target folder of corpus builds.
fn cargo(target: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()));
    command.env("CARGO_TARGET_DIR", target);
    lean(&mut command);
    command
}

/// Corpus builds are built once and thrown away: no incremental state and no
/// debug info (panics still name file and line). Both would more than double
/// the disk the corpus takes in `target/e2e` (25 GB against about 10 GB).
pub(crate) fn lean(command: &mut Command) -> &mut Command {
    command
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
}

/// `cargo check` of knit-runtime on the tonic lines no corpus system builds it
/// on (the systems build it on 0.11, 0.12 and 0.14), as knit writes its
/// manifest for a group on each: 0.13, and 0.10 (feature `tonic-011`, with
/// hyper 0.14 and h2 0.3).
fn runtime_on_other_lines() -> bool {
    const HYPER_014: &str = "hyper_014 = { package = \"hyper\", version = \"0.14\", features = [\"http2\", \"server\"] }\nh2_03 = { package = \"h2\", version = \"0.3\" }\n";
    runtime_on("0.13", "", None) && runtime_on("0.10", HYPER_014, Some("tonic-011"))
}

/// `cargo check` of knit-runtime against tonic `tonic`, with the dependencies
/// `extra` and `feature` on: a crate in `target/e2e/runtime-tonic-VERSION`
/// over the runtime's own sources.
fn runtime_on(tonic: &str, extra: &str, feature: Option<&str>) -> bool {
    let dir = root().join(format!(
        "target/e2e/runtime-tonic-{}",
        tonic.replace('.', "")
    ));
    let requirement = format!("\ntonic = \"{tonic}\"\n{extra}");
    // On tonic 0.10 and 0.11 knit writes no dependency of the hyper 1 family.
    let hyper_1 = [
        "h2 = ",
        "http-body = ",
        "http-body-util = ",
        "hyper = ",
        "hyper-util = ",
    ];
    let on_hyper_014 = feature == Some("tonic-011");
    let manifest = std::fs::read_to_string(root().join("runtime/Cargo.toml")).map(|m| {
        m.lines()
            .filter(|line| !(on_hyper_014 && hyper_1.iter().any(|dep| line.starts_with(dep))))
            .map(|line| format!("{line}\n"))
            .collect::<String>()
            .replace("\ntonic = \"0.14\"\n", &requirement)
    });
    let Ok(manifest) = manifest.map(|m| {
        let lib = root().join("runtime/src/lib.rs");
        format!(
            "{m}\n[lib]\npath = {:?}\n\n[workspace]\n",
            lib.display().to_string()
        )
    }) else {
        eprintln!("runtime on tonic {tonic}: cannot read runtime/Cargo.toml");
        return false;
    };
    if !manifest.contains(&requirement)
        || std::fs::create_dir_all(&dir).is_err()
        || std::fs::write(dir.join("Cargo.toml"), manifest).is_err()
    {
        eprintln!("runtime on tonic {tonic}: cannot write {}", dir.display());
        return false;
    }
    cargo(&root().join("target/e2e"))
        .args(["check", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .args(feature.map(|f| format!("--features={f}")))
        .status()
        .is_ok_and(|s| s.success())
}

/// The corpus systems: each folder of `corpus/` or `corpus/layouts/` with a
/// `scenario.toml`, by its path below `corpus/`.
fn systems() -> Vec<String> {
    let mut systems = Vec::new();
    for folder in ["", "layouts/"] {
        let entries = std::fs::read_dir(root().join("corpus").join(folder));
        systems.extend(
            entries
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().join("scenario.toml").is_file())
                .map(|e| format!("{folder}{}", e.file_name().to_string_lossy())),
        );
    }
    systems.sort();
    systems
}

fn e2e(systems: Vec<String>) -> ExitCode {
    let (mut passed, mut failed) = (0, 0);
    for system in &systems {
        match e2e::run(system) {
            Ok(true) => passed += 1,
            Ok(false) => failed += 1,
            Err(e) => {
                eprintln!("e2e {system}: error: {e}");
                failed += 1;
            }
        }
    }
    println!("e2e: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cargo_root = || {
        let mut c = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()));
        c.current_dir(root());
        c
    };
    match args.first().map(String::as_str) {
        Some("e2e") => {
            let named: Vec<String> = args[1..].to_vec();
            e2e(if named.is_empty() { systems() } else { named })
        }
        Some("test") => {
            // Formatting and lints first: they fail in seconds.
            for lint in [
                &["fmt", "--all", "--", "--check"][..],
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
            ] {
                if !cargo_root().args(lint).status().is_ok_and(|s| s.success()) {
                    return ExitCode::FAILURE;
                }
            }
            let status = cargo_root().args(["test", "--workspace"]).status();
            if !status.is_ok_and(|s| s.success()) {
                return ExitCode::FAILURE;
            }
            // The runtime is built only inside generated workspaces; its own tests
            // (its `volo` module's too) share the corpus builds' target folder.
            let runtime = cargo(&root().join("target/e2e"))
                .args([
                    "test",
                    "--manifest-path",
                    "runtime/Cargo.toml",
                    "--features=volo",
                ])
                .current_dir(root())
                .status();
            if !runtime.is_ok_and(|s| s.success()) || !runtime_on_other_lines() {
                return ExitCode::FAILURE;
            }
            e2e(systems())
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("calls") => {
            match bench::calls(&args[2..]) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bench calls: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("rewrite") => {
            match bench_rewrite::rewrite(&args[2..]) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bench rewrite: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("fuzz") => match fuzz::fuzz(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fuzz: {e}");
                ExitCode::FAILURE
            }
        },
        Some("regenerate") => {
            let status = cargo_root()
                .args(["test", "--workspace"])
                .env("INSTA_UPDATE", "always")
                .status();
            let _ = Command::new("git")
                .args(["status", "--short", "snapshots"])
                .current_dir(root())
                .status();
            if status.is_ok_and(|s| s.success()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => {
            print!("{HELP}");
            if args.is_empty() || args[0] == "help" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }
    }
}
