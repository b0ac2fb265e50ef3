//! `cargo xtask bench calls`: first corpus/shop's request mix split against
//! merged (bench_mix.rs), then the per-call micro-benchmark (bench/calls.rs),
//! built against the crates knit generates for the greeter corpus, then its
//! Volo rows (bench_volo.rs, against corpus/volo's), in release mode. Ratios
//! come from one run on one machine; nothing here is a test.

use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, root};

/// `[--requests N] [--rounds R] [--concurrency C] [--request LABEL].. [--only mix|micro|volo]`.
pub fn calls(args: &[String]) -> Result<(), String> {
    let mut options = crate::bench_mix::Options {
        iterations: 4000,
        rounds: 80,
        warmup: 200,
        concurrency: 1,
        only: Vec::new(),
    };
    let (mut mix, mut micro, mut volo) = (true, true, true);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        let number = |v: &String| v.parse::<u32>().map_err(|e| format!("{arg} {v}: {e}"));
        match arg.as_str() {
            "--requests" => options.iterations = number(value()?)?,
            "--rounds" => options.rounds = number(value()?)?.max(1),
            "--concurrency" => options.concurrency = number(value()?)?.max(1) as usize,
            "--request" => options.only.push(value()?.clone()),
            "--only" => match value()?.as_str() {
                "mix" => (micro, volo) = (false, false),
                "micro" => mix = false,
                "volo" => (mix, micro) = (false, false),
                other => return Err(format!("--only {other}: expected mix, micro or volo")),
            },
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if mix {
        crate::bench_mix::run("shop", &options)?;
    }
    if micro {
        println!();
        println!("bench calls: per-call micro-benchmark (corpus/greeter's generated crates)");
        println!("{}", crate::bench_mix::machine());
        println!();
        micro_benchmark()?;
    }
    if volo {
        println!();
        println!(
            "bench calls: a Volo unary call, split (loopback TCP) against merged (knit's inline client; knit's Unix socket), corpus/volo's generated crates"
        );
        println!("{}", crate::bench_mix::machine());
        crate::bench_volo::run()?;
    }
    Ok(())
}

/// Merges corpus system `system` into `target/e2e/bench-calls/OUT`, for a
/// benchmark built against its generated crates; the output folder.
pub(crate) fn merge_for_bench(system: &str, out: &str) -> Result<PathBuf, String> {
    let merged = root().join("target/e2e/bench-calls").join(out);
    let plan = format!("corpus/{system}/knit.toml");
    let status = Command::new(crate::e2e::knit_binary()?)
        .args(["merge", &plan, "--out"])
        .arg(&merged)
        .args(["--format", "json"])
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("knit merge {plan} failed"));
    }
    Ok(merged)
}

/// The per-call micro-benchmark: one unary call through each path.
fn micro_benchmark() -> Result<(), String> {
    let target = root().join("target/e2e");
    let work = target.join("bench-calls");
    let merged = merge_for_bench("greeter", "greeter-merged")?;
    let bench = work.join("bench");
    std::fs::create_dir_all(bench.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"knit-bench-calls\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n\
         [dependencies]\nknit-proto-helloworld = {{ path = \"{m}/knit/protos/helloworld\" }}\nknit-runtime = {{ path = \"{m}/knit/runtime\" }}\n\
         libc = \"0.2\"\ntokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"net\"] }}\ntonic = \"0.14\"\n",
        m = merged.display()
    );
    std::fs::write(bench.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(bench.join("src/main.rs"), include_str!("../bench/calls.rs"))
        .map_err(|e| e.to_string())?;
    let _ = std::fs::copy(merged.join("Cargo.lock"), bench.join("Cargo.lock"));
    let status = cargo(&target)
        .arg("run")
        .args(crate::quiet_unless_terminal())
        .args(["--release", "--manifest-path"])
        .arg(bench.join("Cargo.toml"))
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("the benchmark failed".into());
    }
    let bench = target.join("release/knit-bench-calls");
    fresh_processes(&bench)?;
    instruction_counts(&bench)
}

/// Fresh processes that repeat the interleaved rounds, and rounds in each.
const PROCESSES: usize = 5;
const PROCESS_ROUNDS: usize = 7;

/// The inline ÷ direct ratio again in fresh processes: within one process the
/// rounds agree closely, but the ratio moves from process to process (each
/// lays out its stacks and heap anew), so one process is one sample.
fn fresh_processes(bench: &std::path::Path) -> Result<(), String> {
    // Each payload's ratios, in the order the benchmark prints them.
    let mut samples: Vec<(String, Vec<f64>)> = Vec::new();
    for _ in 0..PROCESSES {
        let output = Command::new(bench)
            .args(["ratios", &PROCESS_ROUNDS.to_string()])
            .output()
            .map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let ratios: Vec<(&str, f64)> = stdout
            .lines()
            .filter_map(|l| {
                let mut fields = l.strip_prefix("ratio\t")?.split('\t');
                Some((fields.next()?, fields.next()?.parse().ok()?))
            })
            .collect();
        if !output.status.success() || ratios.is_empty() {
            return Err(format!(
                "the benchmark's ratios run failed:\n{stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        for (label, ratio) in ratios {
            match samples.iter_mut().find(|(l, _)| l == label) {
                Some((_, sample)) => sample.push(ratio),
                None => samples.push((label.to_string(), vec![ratio])),
            }
        }
    }
    println!();
    println!(
        "inline ÷ direct in {PROCESSES} fresh processes ({PROCESS_ROUNDS} rounds each, the median of its rounds):"
    );
    for (label, sample) in &mut samples {
        let listed: Vec<String> = sample.iter().map(|r| format!("{r:.2}")).collect();
        sample.sort_by(f64::total_cmp);
        println!(
            "{label}: {} (median {:.2})",
            listed.join(", "),
            sample[sample.len() / 2]
        );
    }
    Ok(())
}

/// Calls counted per run under callgrind; the difference of two runs is the
/// cost of `COUNTED` calls, without the process's start-up.
const COUNTED: [u32; 2] = [20_000, 60_000];

/// The direct and inline paths' instructions per call, counted by callgrind:
/// deterministic where CPU time varies from run to run on a shared machine.
/// Skipped, with a line saying so, when valgrind is not installed.
fn instruction_counts(bench: &std::path::Path) -> Result<(), String> {
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!();
        println!("instructions per call: skipped (valgrind is not installed)");
        return Ok(());
    }
    println!();
    println!("| payload | direct: instructions/call | inline | inline ÷ direct |");
    println!("|---|---:|---:|---:|");
    for (label, bytes) in [("small", 5), ("1 KiB", 1024)] {
        let mut per_call = Vec::new();
        for path in ["direct", "inline"] {
            let mut totals = Vec::new();
            for n in COUNTED {
                totals.push(callgrind_total(bench, path, bytes, n)?);
            }
            per_call.push((totals[1] - totals[0]) as f64 / f64::from(COUNTED[1] - COUNTED[0]));
        }
        println!(
            "| {label} | {:.0} | {:.0} | {:.2} |",
            per_call[0],
            per_call[1],
            per_call[1] / per_call[0]
        );
    }
    println!();
    println!(
        "instructions: callgrind's count of the whole process, {} calls minus {} calls",
        COUNTED[1], COUNTED[0]
    );
    Ok(())
}

/// The instructions callgrind counts for `n` calls of `path` (and start-up).
fn callgrind_total(
    bench: &std::path::Path,
    path: &str,
    bytes: usize,
    n: u32,
) -> Result<u64, String> {
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(bench)
        .args(["count", path, &bytes.to_string(), &n.to_string()])
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("callgrind printed no count:\n{stderr}"))
}
