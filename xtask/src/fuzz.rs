//! `cargo xtask fuzz`: builds knit's libFuzzer targets (`fuzz/`) with coverage
//! instrumentation on stable Rust and runs them side by side for a while,
//! niced, reporting each one's runs, coverage and CPU time.
//!
//! Stable rustc instruments for libFuzzer without `-Z` flags: LLVM's
//! `sancov-module` pass with inline 8-bit counters, a PC table and comparison
//! tracing (what cargo-fuzz asks for with `--sanitizer none`). `--target` keeps
//! the flags off build scripts and proc macros, and the build in a folder of
//! its own (`target/TRIPLE/release`). Each target starts from its committed
//! seeds (`fuzz/seeds/`) and the corpus of the repository (the `seeds`
//! binary); what it finds is kept in `target/fuzz/corpus/TARGET`, and a crash
//! in `target/fuzz/artifacts/TARGET/`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::root;

/// The fuzz targets, with the longest input each takes.
const TARGETS: &[(&str, usize)] = &[
    ("plan", 8 << 10),
    ("load", 128 << 10),
    ("passes", 64 << 10),
    ("check", 8 << 10),
];

/// The coverage flags of a libFuzzer build on stable rustc.
const RUSTFLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing -Cdebug-assertions -Coverflow-checks -Cdebuginfo=1";

/// `cargo xtask fuzz [--minutes N] [--nice N] [--target NAME]..`: the named
/// targets (default: all) side by side for N minutes (default 1), at niceness
/// `--nice` (default 19: they yield to everything else on the machine).
pub fn fuzz(args: &[String]) -> Result<(), String> {
    let mut minutes = 1.0f64;
    let mut nice = 19u8;
    let mut chosen: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--minutes" => minutes = value()?.parse().map_err(|e| format!("--minutes: {e}"))?,
            "--nice" => {
                nice = value()?
                    .parse()
                    .ok()
                    .filter(|n| *n <= 19)
                    .ok_or("--nice takes a niceness from 0 to 19")?
            }
            "--target" => chosen.push(value()?.clone()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let targets: Vec<(&str, usize)> = TARGETS
        .iter()
        .copied()
        .filter(|(t, _)| chosen.is_empty() || chosen.iter().any(|c| c == t))
        .collect();
    if targets.is_empty() {
        return Err(format!("no such target; the targets: {TARGETS:?}"));
    }
    let root = root();
    let triple = host()?;
    let cargo = std::env::var("CARGO").unwrap_or("cargo".into());
    let mut build = Command::new(&cargo);
    build
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "-p",
            "knit-fuzz",
            "--features",
            "libfuzzer",
        ])
        .args(["--target", &triple])
        .env("RUSTFLAGS", RUSTFLAGS);
    for (t, _) in &targets {
        build.args(["--bin", t]);
    }
    run(&mut build, "the instrumented build")?;
    let start = root.join("target/fuzz/start");
    run(
        Command::new(&cargo)
            .current_dir(&root)
            .args(["run", "-q", "-p", "knit-fuzz", "--bin", "seeds", "--"])
            .arg(&start),
        "the seeds",
    )?;
    // All targets at once, each for N minutes of wall time.
    let mut running = Vec::new();
    for (target, max_len) in targets {
        let corpus = root.join("target/fuzz/corpus").join(target);
        let artifacts = root.join("target/fuzz/artifacts").join(target);
        for dir in [&corpus, &artifacts] {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let binary = root
            .join("target")
            .join(&triple)
            .join("release")
            .join(target);
        let log = root.join("target/fuzz").join(format!("{target}.log"));
        let child = Command::new("nice")
            .args(["-n", &nice.to_string()])
            .arg(&binary)
            .arg(&corpus)
            .arg(root.join("fuzz/seeds").join(target))
            .arg(start.join(target))
            .arg(format!(
                "-max_total_time={}",
                (minutes * 60.0).round() as u64
            ))
            .arg(format!("-max_len={max_len}"))
            .arg("-timeout=60")
            .arg("-rss_limit_mb=6144")
            .arg("-print_final_stats=1")
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .stderr(std::fs::File::create(&log).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        running.push((target, child, corpus, artifacts, log));
    }
    // Ctrl-C reaches the fuzzers (libFuzzer stops with its final stats); this
    // process stays to report them.
    // SAFETY: ignoring a signal has no preconditions; the children installed
    // their own handlers already, or keep the default they were started with.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    let began = Instant::now();
    let mut failed = Vec::new();
    let mut interrupted = false;
    // In the order they end.
    while !running.is_empty() {
        let (pid, end, cpu) = wait_any()?;
        let Some(i) = running.iter().position(|r| r.1.id() as libc::pid_t == pid) else {
            continue;
        };
        let (target, _, corpus, artifacts, log) = running.swap_remove(i);
        println!(
            "fuzz {target}: {:.1} min, {:.1} CPU-min, {}, corpus {} inputs, log {}",
            began.elapsed().as_secs_f64() / 60.0,
            cpu / 60.0,
            final_stats(&log),
            count(&corpus),
            log.display()
        );
        match end {
            End::Finished => {}
            End::Interrupted => {
                println!("fuzz {target}: interrupted");
                interrupted = true;
            }
            End::Failed => {
                println!(
                    "fuzz {target}: FAILED; the input is in {}",
                    artifacts.display()
                );
                failed.push(target);
            }
        }
    }
    if failed.is_empty() && interrupted {
        Err("interrupted: no crash in the time it ran".into())
    } else if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "crashes in {failed:?}: add each input to fuzz/seeds/TARGET/ as crash-NAME"
        ))
    }
}

/// How a fuzzer ended.
#[derive(Debug, PartialEq)]
enum End {
    /// Its time ran out with no crash.
    Finished,
    /// Stopped by SIGINT or SIGTERM, with no crash.
    Interrupted,
    /// A crash, a leak, a timeout or an out-of-memory: an input in its artifacts.
    Failed,
}

/// libFuzzer's exit code when a signal stops it (`-interrupted_exitcode`).
const INTERRUPTED_EXIT_CODE: i32 = 72;

impl End {
    fn of(status: libc::c_int) -> End {
        if libc::WIFEXITED(status) {
            match libc::WEXITSTATUS(status) {
                0 => End::Finished,
                INTERRUPTED_EXIT_CODE => End::Interrupted,
                _ => End::Failed,
            }
        } else if libc::WIFSIGNALED(status)
            && matches!(libc::WTERMSIG(status), libc::SIGINT | libc::SIGTERM)
        {
            End::Interrupted
        } else {
            End::Failed
        }
    }
}

/// Waits for the next child to end: its pid, how it ended, and the CPU
/// seconds it and its children used (user and system).
fn wait_any() -> Result<(libc::pid_t, End, f64), String> {
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for a child of ours.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for any child of this process, none waited for elsewhere.
    let pid = unsafe { libc::wait4(-1, &mut status, 0, &mut usage) };
    if pid <= 0 {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    Ok((pid, End::of(status), cpu))
}

/// rustc's host triple.
fn host() -> Result<String, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "rustc -vV names no host".into())
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// libFuzzer's closing figures in `log`: runs, runs a second, coverage.
fn final_stats(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let stat = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
            .map(|v| v.trim().to_string())
            .unwrap_or("?".into())
    };
    let cov = text
        .lines()
        .rev()
        .find_map(|l| l.split_once(" cov: "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("?");
    format!(
        "{} runs ({} a second), coverage {cov} edges",
        stat("number_of_executed_units"),
        stat("average_exec_per_sec")
    )
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

#[cfg(test)]
mod tests {
    use super::End;

    /// A wait status as Linux encodes it: an exit code, or the signal that ended
    /// the process.
    fn exited(code: i32) -> libc::c_int {
        code << 8
    }

    #[test]
    fn an_interrupt_is_not_a_crash() {
        assert_eq!(End::of(exited(0)), End::Finished);
        assert_eq!(End::of(exited(72)), End::Interrupted);
        assert_eq!(End::of(libc::SIGINT), End::Interrupted);
        assert_eq!(End::of(libc::SIGTERM), End::Interrupted);
        // libFuzzer's crash, timeout and out-of-memory codes, and a signal it
        // did not catch.
        for code in [1, 70, 71, 77] {
            assert_eq!(End::of(exited(code)), End::Failed, "exit {code}");
        }
        assert_eq!(End::of(libc::SIGSEGV), End::Failed);
        assert_eq!(End::of(libc::SIGABRT), End::Failed);
    }
}
