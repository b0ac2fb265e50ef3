//! The request-mix half of `cargo xtask bench calls`: corpus/shop's requests
//! (`corpus/shop/bench.toml`) against the shop split (every service its own
//! process, calls over loopback gRPC) and merged (knit's binary), both built in
//! release mode and running side by side on loopback. Requests go one at a
//! time from a client in this process; per request it reports latency (median,
//! p99) and the CPU time of the deployment's processes (the client's is not
//! counted), then the cost of the calls between merged services: CPU less each
//! call's baseline request (gateway's own RPC and handler work: the same request
//! and answer types answered by gateway alone) less the RPCs to services
//! outside the group. Figures from one run on one machine; nothing
//! here is a test.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tonic::client::Grpc;
use tonic::transport::Channel;

use crate::e2e::{self, Running};
use crate::grpc::{Api, Prepared};
use crate::root;

/// `corpus/SYSTEM/bench.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mix {
    /// The label of the request that calls nothing: its CPU is subtracted from
    /// the others' (once per call sent to the entry), where a call names no
    /// baseline of its own.
    baseline: String,
    /// The label of a request that makes one RPC outside the group and nothing
    /// else: its CPU less the baseline's, in each deployment, is the cost of one
    /// outside RPC there (both ends), taken out once per `outside` RPC of a request.
    outside_rpc: Option<String>,
    #[serde(rename = "request")]
    requests: Vec<Spec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    label: String,
    /// Calls between services of the merge group, per iteration.
    internal: u32,
    /// RPCs to services outside the group, per iteration.
    outside: u32,
    #[serde(default)]
    setup: Vec<CallSpec>,
    #[serde(rename = "call")]
    calls: Vec<CallSpec>,
    /// Also report this request less another one (CPU only).
    minus: Option<Minus>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Minus {
    label: String,
    request: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallSpec {
    method: String,
    request: toml::Value,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    /// The label of the request whose CPU stands for this call's own cost at
    /// the entry (the mix's `baseline` when absent).
    baseline: Option<String>,
}

/// How long to run: iterations measured per request and deployment, in
/// `rounds` that alternate between the deployments, after `warmup` iterations.
pub struct Options {
    pub iterations: u32,
    pub rounds: u32,
    pub warmup: u32,
    /// Iterations in flight at once on each deployment (1: one at a time). The
    /// mix's iterations keep no state another one reads (a fresh user each, or
    /// a cart only read), so they can overlap.
    pub concurrency: usize,
    /// Only these requests (and those the derived figures need); all when empty.
    pub only: Vec<String>,
}

/// A running deployment and a connection to its entry.
struct Deployment {
    name: &'static str,
    processes: Vec<Running>,
    grpc: Grpc<Channel>,
}

/// What one request cost on one deployment.
#[derive(Default)]
struct Measured {
    /// Each iteration's latency.
    latencies: Vec<Duration>,
    /// Each round's CPU ns of each process (in the deployment's order).
    rounds: Vec<Vec<u64>>,
    /// Context switches of the deployment's threads, over every round.
    switches: u64,
    /// Iterations per round.
    per_round: u64,
}

fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    quantile(values, 0.5)
}

/// The `q` quantile of `values` (nearest rank).
fn quantile(values: impl IntoIterator<Item = f64>, q: f64) -> f64 {
    let mut sorted: Vec<f64> = values.into_iter().collect();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

impl Measured {
    /// CPU µs per iteration of round `r`, all processes.
    fn round_us(&self, r: usize) -> f64 {
        self.rounds[r].iter().sum::<u64>() as f64 / 1e3 / self.per_round as f64
    }

    /// CPU µs per iteration of round `r`, process `p`.
    fn round_process_us(&self, r: usize, p: usize) -> f64 {
        self.rounds[r][p] as f64 / 1e3 / self.per_round as f64
    }

    /// CPU µs per iteration, all processes: the median of the rounds.
    fn cpu_us(&self) -> f64 {
        median((0..self.rounds.len()).map(|r| self.round_us(r)))
    }

    /// CPU µs per iteration of process `p`: the median of the rounds.
    fn process_us(&self, p: usize) -> f64 {
        median((0..self.rounds.len()).map(|r| self.round_process_us(r, p)))
    }

    /// Context switches per iteration, all threads of the deployment.
    fn switches_per_iteration(&self) -> f64 {
        self.switches as f64 / (self.per_round * self.rounds.len() as u64) as f64
    }

    /// The `q` quantile of the latencies, in µs.
    fn latency_us(&self, q: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted[index].as_secs_f64() * 1e6
    }
}

/// Context switches (voluntary and not) of every thread of process `pid` so far.
fn switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// CPU time of process `pid` so far (every thread, exited ones included), ns.
fn cpu_ns(pid: u32) -> Result<u64, String> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: both calls only fill the values they are given.
    let ts = unsafe {
        if libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) != 0 {
            return Err(format!("no CPU clock for process {pid}"));
        }
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        if libc::clock_gettime(clock, &mut ts) != 0 {
            return Err(format!("cannot read the CPU clock of process {pid}"));
        }
        ts
    };
    Ok(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

fn cpu_all(pids: &[u32]) -> Result<Vec<u64>, String> {
    pids.iter().map(|p| cpu_ns(*p)).collect()
}

/// `value` with `{i}` in its strings replaced by `i`.
fn substitute(value: &serde_json::Value, i: u64) -> serde_json::Value {
    match value {
        serde_json::Value::String(s) => serde_json::Value::String(s.replace("{i}", &i.to_string())),
        serde_json::Value::Array(a) => a.iter().map(|v| substitute(v, i)).collect(),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, v)| (k.clone(), substitute(v, i)))
            .collect(),
        other => other.clone(),
    }
}

/// A request's calls, ready to prepare for any iteration.
struct Calls {
    calls: Vec<Call>,
}

/// One call: its method, its request as JSON (with `{i}`), its metadata.
struct Call {
    method: prost_reflect::MethodDescriptor,
    request: serde_json::Value,
    metadata: Vec<(String, String)>,
}

impl Calls {
    fn new(api: &Api, specs: &[CallSpec]) -> Result<Calls, String> {
        let mut calls = Vec::new();
        for spec in specs {
            let method = api.method(&spec.method)?;
            let request = serde_json::to_value(&spec.request).map_err(|e| e.to_string())?;
            let metadata = spec.metadata.clone().into_iter().collect();
            calls.push(Call {
                method,
                request,
                metadata,
            });
        }
        Ok(Calls { calls })
    }

    /// The calls of iteration `i`.
    fn prepare(&self, i: u64) -> Result<Vec<Prepared>, String> {
        self.calls
            .iter()
            .map(|c| Prepared::new(&c.method, &substitute(&c.request, i), &c.metadata))
            .collect()
    }
}

/// Sends `iterations` on `lanes` connections' worth of concurrent streams: each
/// lane sends its share one call at a time (an iteration's calls in order), the
/// lanes at once over the deployment's one HTTP/2 connection. Each iteration's
/// latency.
async fn send(
    deployment: &mut Deployment,
    iterations: Vec<Vec<Prepared>>,
    label: &str,
    lanes: usize,
) -> Result<Vec<Duration>, String> {
    let lanes = lanes.clamp(1, iterations.len().max(1));
    let mut shares: Vec<Vec<Vec<Prepared>>> = (0..lanes).map(|_| Vec::new()).collect();
    for (i, calls) in iterations.into_iter().enumerate() {
        shares[i % lanes].push(calls);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for share in shares {
        let mut grpc = deployment.grpc.clone();
        let (label, name) = (label.to_string(), deployment.name);
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(share.len());
            for calls in share {
                let start = Instant::now();
                for call in &calls {
                    if let Err(status) = call.send(&mut grpc).await {
                        return Err(format!(
                            "{label} on {name}: {:?} {}",
                            status.code(),
                            status.message()
                        ));
                    }
                }
                latencies.push(start.elapsed());
            }
            Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(lane) = tasks.join_next().await {
        latencies.extend(lane.map_err(|e| e.to_string())??);
    }
    Ok(latencies)
}

/// Runs the mix of corpus/`system` split and merged; prints the tables.
pub fn run(system: &str, options: &Options) -> Result<(), String> {
    let built = e2e::build(system, true, "bench calls")?;
    let mix_path = built.dir.join("bench.toml");
    let text =
        std::fs::read_to_string(&mix_path).map_err(|e| format!("{}: {e}", mix_path.display()))?;
    let mix: Mix = toml::from_str(&text).map_err(|e| format!("{}: {e}", mix_path.display()))?;
    let protos: Vec<PathBuf> = built
        .scenario
        .protos
        .iter()
        .map(|p| built.dir.join(p))
        .collect();
    let api = Api::load(&protos)?;
    let labels: Vec<&str> = mix.requests.iter().map(|r| r.label.as_str()).collect();
    let call_baselines = || {
        mix.requests
            .iter()
            .flat_map(|r| &r.calls)
            .filter_map(|c| c.baseline.as_ref())
    };
    for wanted in [Some(&mix.baseline), mix.outside_rpc.as_ref()]
        .into_iter()
        .flatten()
        .chain(
            mix.requests
                .iter()
                .filter_map(|r| r.minus.as_ref().map(|m| &m.request)),
        )
        .chain(call_baselines())
    {
        if !labels.contains(&wanted.as_str()) {
            return Err(format!(
                "{}: no request labelled `{wanted}`",
                mix_path.display()
            ));
        }
    }

    let needed: Vec<String> = [Some(mix.baseline.clone())]
        .into_iter()
        .chain([mix.outside_rpc.clone()])
        .flatten()
        .collect();
    // The baselines of the requests asked for.
    let only_baselines: Vec<String> = mix
        .requests
        .iter()
        .filter(|r| options.only.contains(&r.label))
        .flat_map(|r| &r.calls)
        .filter_map(|c| c.baseline.clone())
        .collect();
    let mut mix = mix;
    if !options.only.is_empty() {
        let keep: Vec<String> = mix
            .requests
            .iter()
            .filter(|r| {
                options.only.contains(&r.label)
                    || needed.contains(&r.label)
                    || only_baselines.contains(&r.label)
                    || mix.requests.iter().any(|o| {
                        options.only.contains(&o.label)
                            && o.minus.as_ref().is_some_and(|m| m.request == r.label)
                    })
            })
            .map(|r| r.label.clone())
            .collect();
        mix.requests.retain(|r| keep.contains(&r.label));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let all = built.all();
    // Both deployments' ports from one call, so that they differ.
    let both: Vec<String> = ["split", "merged"]
        .iter()
        .flat_map(|d| all.iter().map(move |n| format!("{d}/{n}")))
        .collect();
    let ports = e2e::free_ports(&both)?;
    let [split_ports, merged_ports] = ["split/", "merged/"].map(|prefix| {
        ports
            .iter()
            .filter_map(|(k, p)| Some((k.strip_prefix(prefix)?.to_string(), *p)))
            .collect::<BTreeMap<String, u16>>()
    });
    let split = built.start_split(&split_ports, crate::e2e::Sources::Original)?;
    let merged = built.start_merged(&merged_ports, false)?;
    let mut deployments = runtime.block_on(async {
        let connect = |port: u16| async move {
            tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
                .map_err(|e| e.to_string())?
                .tcp_nodelay(true)
                .connect()
                .await
                .map(Grpc::new)
                .map_err(|e| format!("connect to the entry: {e}"))
        };
        Ok::<_, String>([
            Deployment {
                name: "split",
                processes: split,
                grpc: connect(built.entry_port(&split_ports)).await?,
            },
            Deployment {
                name: "merged",
                processes: merged,
                grpc: connect(built.entry_port(&merged_ports)).await?,
            },
        ])
    })?;

    let load_before = load_average();
    let per_round = options.iterations.div_ceil(options.rounds.max(1));
    println!(
        "bench calls: request mix of corpus/{system}: {} rounds; in each, every request \
         {per_round} times on each deployment (order alternating; {} in flight at once), \
         after {} warm-up iterations",
        options.rounds, options.concurrency, options.warmup
    );
    let specs: Vec<(&Spec, Calls, Calls)> = mix
        .requests
        .iter()
        .map(|spec| {
            Ok((
                spec,
                Calls::new(&api, &spec.setup)?,
                Calls::new(&api, &spec.calls)?,
            ))
        })
        .collect::<Result<_, String>>()?;
    // Per request: split, merged.
    let mut measured: Vec<[Measured; 2]> = specs
        .iter()
        .map(|_| [Measured::default(), Measured::default()])
        .collect();
    runtime.block_on(async {
        // The next iteration number of each request on each deployment.
        let mut next = vec![[0u64; 2]; specs.len()];
        let mut batch = |k: usize, d: usize, n: u32, calls: &Calls| {
            (0..n)
                .map(|_| {
                    next[k][d] += 1;
                    calls.prepare(next[k][d])
                })
                .collect::<Result<Vec<_>, _>>()
        };
        for (k, (spec, setup, calls)) in specs.iter().enumerate() {
            for (d, deployment) in deployments.iter_mut().enumerate() {
                send(deployment, vec![setup.prepare(0)?], &spec.label, 1).await?;
                let warmup = batch(k, d, options.warmup, calls)?;
                send(deployment, warmup, &spec.label, options.concurrency).await?;
            }
        }
        for round in 0..options.rounds as usize {
            for (k, (spec, _, calls)) in specs.iter().enumerate() {
                let order = if (round + k) % 2 == 0 { [0, 1] } else { [1, 0] };
                for d in order {
                    let deployment = &mut deployments[d];
                    let iterations = batch(k, d, per_round, calls)?;
                    let pids: Vec<u32> = deployment.processes.iter().map(Running::pid).collect();
                    let switched: u64 = pids.iter().map(|p| switches(*p)).sum();
                    let before = cpu_all(&pids)?;
                    let latencies =
                        send(deployment, iterations, &spec.label, options.concurrency).await?;
                    let after = cpu_all(&pids)?;
                    let switched = pids.iter().map(|p| switches(*p)).sum::<u64>() - switched;
                    let m = &mut measured[k][d];
                    m.rounds
                        .push(after.iter().zip(&before).map(|(a, b)| a - b).collect());
                    m.latencies.extend(latencies);
                    m.switches += switched;
                    m.per_round = u64::from(per_round);
                }
            }
            println!("  round {}/{} done", round + 1, options.rounds);
        }
        Ok::<_, String>(())
    })?;
    let load_after = load_average();
    let names: [Vec<String>; 2] = [0, 1].map(|d| {
        deployments[d]
            .processes
            .iter()
            .map(|p| p.name().to_string())
            .collect()
    });
    drop(deployments);

    println!();
    println!("{}", machine());
    println!("load average (1 min) before and after: {load_before} / {load_after}");
    let results: Vec<(&Spec, [Measured; 2])> = specs
        .iter()
        .map(|(spec, _, _)| *spec)
        .zip(measured)
        .collect();
    report(&mix, &results, &names, options.concurrency);
    Ok(())
}

fn report(
    mix: &Mix,
    results: &[(&Spec, [Measured; 2])],
    names: &[Vec<String>; 2],
    concurrency: usize,
) {
    let rounds = results[0].1[0].rounds.len();
    let sent = if concurrency == 1 {
        "sent one at a time".to_string()
    } else {
        format!("{concurrency} iterations in flight at once")
    };
    let find = |label: &str| {
        results
            .iter()
            .find(|(s, _)| s.label == label)
            .map(|(s, m)| (*s, m))
            .expect("labels checked")
    };
    println!();
    println!(
        "Per request, {sent}. CPU: the deployment's processes (the client's \
         is not counted), µs per request, median of {rounds} rounds; context switches: all \
         their threads, per request:"
    );
    println!();
    println!(
        "| request | internal calls | outside RPCs | latency median split / merged µs | p99 split / merged µs | CPU split µs | CPU merged µs | context switches split / merged |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (spec, [s, m]) in results {
        println!(
            "| {} | {} | {} | {:.0} / {:.0} | {:.0} / {:.0} | {:.1} | {:.1} | {:.1} / {:.1} |",
            spec.label,
            spec.internal,
            spec.outside,
            s.latency_us(0.5),
            m.latency_us(0.5),
            s.latency_us(0.99),
            m.latency_us(0.99),
            s.cpu_us(),
            m.cpu_us(),
            s.switches_per_iteration(),
            m.switches_per_iteration()
        );
    }

    let (_, base) = find(&mix.baseline);
    // One outside RPC in round `i` of deployment `d`, both ends: the outside
    // request's CPU less the baseline's, measured in the same round.
    let outside_rpc = mix.outside_rpc.as_ref().map(|label| find(label).1);
    let one_outside =
        |d: usize, i: usize| outside_rpc.map_or(0.0, |o| o[d].round_us(i) - base[d].round_us(i));
    // Internal CPU µs per iteration in round `i` of deployment `d`: CPU less each
    // request sent to the entry's baseline (an iteration of a pair sends two),
    // less its outside RPCs.
    let internal = |spec: &Spec, m: &[Measured; 2], d: usize, i: usize| {
        let own: f64 = spec
            .calls
            .iter()
            .map(|c| match &c.baseline {
                Some(label) => find(label).1[d].round_us(i),
                None => base[d].round_us(i),
            })
            .sum();
        m[d].round_us(i) - own - f64::from(spec.outside) * one_outside(d, i)
    };

    println!();
    println!(
        "Calls between merged services: CPU per request less, for each request sent to the \
         entry, its baseline's (the request its call names, {} where it names none){}, per \
         round; the median of the rounds:",
        mix.baseline,
        if mix.outside_rpc.is_some() {
            " and less the outside RPCs"
        } else {
            ""
        }
    );
    println!();
    println!(
        "| request | internal calls | internal CPU split µs | internal CPU merged µs (rounds' IQR) | split µs/call | merged µs/call | split ÷ merged |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let row = |label: &str, calls: u32, per_round: &dyn Fn(usize, usize) -> f64| {
        let [s, m] = [0, 1].map(|d| median((0..rounds).map(|i| per_round(d, i))));
        let [q1, q3] = [0.25, 0.75].map(|q| quantile((0..rounds).map(|i| per_round(1, i)), q));
        let per = |v: f64| v / f64::from(calls.max(1));
        println!(
            "| {label} | {calls} | {s:.1} | {m:.1} ({q1:.0} to {q3:.0}) | {:.1} | {:.2} | {:.0}× |",
            per(s),
            per(m),
            s / m
        );
    };
    let mut total_calls = 0;
    for (spec, m) in results {
        if spec.internal == 0 {
            continue;
        }
        row(&spec.label, spec.internal, &|d, i| internal(spec, m, d, i));
        total_calls += spec.internal;
        if let Some(minus) = &spec.minus {
            let (other, o) = find(&minus.request);
            row(&minus.label, spec.internal - other.internal, &|d, i| {
                internal(spec, m, d, i) - internal(other, o, d, i)
            });
        }
    }
    row("every request of the mix, once", total_calls, &|d, i| {
        results
            .iter()
            .filter(|(s, _)| s.internal > 0)
            .map(|(s, m)| internal(s, m, d, i))
            .sum()
    });
    if let Some(label) = &mix.outside_rpc {
        let [s, m] = [0, 1].map(|d| median((0..rounds).map(|i| one_outside(d, i))));
        println!();
        println!(
            "An outside RPC, taken out of each deployment's figures: {label}'s CPU less \
             {}'s in the same round, both ends: {s:.1} µs split, {m:.1} µs merged (medians).",
            mix.baseline
        );
    }

    println!();
    println!("CPU µs per request by process (median of the rounds):");
    println!();
    let header: Vec<String> = names[0]
        .iter()
        .map(|n| format!("{n} (split)"))
        .chain(names[1].iter().map(|n| format!("{n} (merged)")))
        .collect();
    println!("| request | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(header.len()));
    for (spec, m) in results {
        let cells: Vec<String> = (0..2)
            .flat_map(|d| (0..names[d].len()).map(move |p| (d, p)))
            .map(|(d, p)| format!("{:.1}", m[d].process_us(p)))
            .collect();
        println!("| {} | {} |", spec.label, cells.join(" | "));
    }
}

/// The 1-minute load average.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The machine and the date, one line.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or("?".to_string(), |kb| {
            format!("{:.0} GiB", kb as f64 / 1048576.0)
        });
    let command = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .current_dir(root())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "machine: {cores} cores ({model}), {memory}, Linux {}, {}; date {}",
        command("uname", &["-r"]),
        command("rustc", &["-V"]),
        command("date", &["-u", "+%F %R UTC"])
    )
}
