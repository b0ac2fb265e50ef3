//! `cargo xtask e2e [SYSTEM..]`: builds a corpus system split (each service on its
//! own) and merged (knit's output), runs both on loopback ports, replays the
//! system's scenario against each, and fails on any difference.
//!
//! Three deployments are compared: split; merged; merged with every listener
//! but the entry's turned off (calls between services cannot reach a socket).
//! Services the scenario lists as `outside` the group run as their own
//! processes in all three.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::grpc::{self, Answer, Api};
use crate::scenario::Scenario;
use crate::{cargo, root};

/// A service as knit's report names it.
#[derive(Deserialize)]
struct ReportService {
    name: String,
    bin: String,
}

#[derive(Deserialize)]
struct Report {
    services: Vec<ReportService>,
}

/// Runs the harness for `system`; `Ok(false)` when the deployments differ.
pub fn run(system: &str) -> Result<bool, String> {
    let dir = root().join("corpus").join(system);
    let plan = dir.join("knit.toml");
    let scenario = Scenario::read(&dir.join("scenario.toml"))?;
    let target = root().join("target/e2e");
    let work = target.join(system);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;

    println!("e2e {system}: knit merge");
    let merged_dir = work.join("workspace");
    let knit = knit_binary()?;
    run_ok(
        Command::new(&knit)
            .arg("merge")
            .arg(&plan)
            .arg("--out")
            .arg(&merged_dir),
    )?;
    let report: Report = {
        let text =
            std::fs::read_to_string(merged_dir.join("report.json")).map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| e.to_string())?
    };

    println!(
        "e2e {system}: build split services and the merged binary (CARGO_TARGET_DIR={})",
        target.display()
    );
    let plan_text = std::fs::read_to_string(&plan).map_err(|e| e.to_string())?;
    let plan_toml: toml::Table = plan_text
        .parse()
        .map_err(|e| format!("{}: {e}", plan.display()))?;
    let services: Vec<String> = report.services.iter().map(|s| s.name.clone()).collect();
    if let Some(name) = scenario.outside.keys().find(|n| services.contains(n)) {
        return Err(format!(
            "`{name}` is in the merge group: `outside` lists services the plan does not merge"
        ));
    }
    let mut builds = Vec::new();
    for service in &report.services {
        let path = plan_toml["services"][&service.name]["path"]
            .as_str()
            .ok_or("service path")?;
        builds.push((&service.name, path, &service.bin));
    }
    for (name, outside) in &scenario.outside {
        builds.push((name, &outside.path, &outside.bin));
    }
    let mut split_bins = BTreeMap::new();
    for (name, path, bin) in builds {
        let manifest = dir.join(path).join("Cargo.toml");
        run_ok(
            cargo(&target)
                .args(["build", "--quiet", "--bin", bin, "--manifest-path"])
                .arg(&manifest),
        )?;
        let copy = work.join(format!("split-{name}"));
        std::fs::copy(target.join("debug").join(bin), &copy)
            .map_err(|e| format!("copy {bin}: {e}"))?;
        split_bins.insert(name.clone(), copy);
    }
    run_ok(
        cargo(&target)
            .args(["build", "--quiet", "-p", "merged", "--manifest-path"])
            .arg(merged_dir.join("Cargo.toml")),
    )?;
    let merged_bin = work.join("merged");
    std::fs::copy(target.join("debug/merged"), &merged_bin)
        .map_err(|e| format!("copy merged: {e}"))?;

    let protos: Vec<PathBuf> = scenario.protos.iter().map(|p| dir.join(p)).collect();
    let api = Api::load(&protos)?;
    let all: Vec<String> = services
        .iter()
        .chain(scenario.outside.keys())
        .cloned()
        .collect();
    // Starts the services outside the group, each on its own, as every deployment needs them.
    let start_outside = |ports: &BTreeMap<String, u16>| -> Result<Vec<Running>, String> {
        let mut children = Vec::new();
        for name in scenario.outside.keys() {
            let env = env_of(&scenario, ports, std::slice::from_ref(name));
            children.push(Running::start(&split_bins[name], &env, name)?);
            wait_listening(ports[name], &mut children)?;
        }
        Ok(children)
    };

    let split = {
        let ports = free_ports(&all)?;
        let mut children = start_outside(&ports)?;
        for name in &services {
            children.push(Running::start(
                &split_bins[name],
                &env_of(&scenario, &ports, std::slice::from_ref(name)),
                name,
            )?);
            wait_listening(ports[name], &mut children)?;
        }
        let answers = replay(&scenario, &api, ports[&scenario.entry])?;
        stop_all(children);
        answers
    };
    let merged = {
        let ports = free_ports(&all)?;
        let mut children = start_outside(&ports)?;
        let env = merged_env(&scenario, &ports, &services);
        children.push(Running::start(&merged_bin, &env, "merged")?);
        for name in &services {
            wait_listening(ports[name], &mut children)?;
        }
        let answers = replay(&scenario, &api, ports[&scenario.entry])?;
        let clean = stop_gracefully(children.pop().expect("the merged binary"))?;
        stop_all(children);
        if !clean {
            return Err("merged binary did not shut down cleanly on SIGTERM".into());
        }
        answers
    };
    let sealed = {
        let ports = free_ports(&all)?;
        let mut children = start_outside(&ports)?;
        let mut env = merged_env(&scenario, &ports, &services);
        for name in services.iter().filter(|n| **n != scenario.entry) {
            env.push((format!("KNIT_LISTEN_{}", name.to_uppercase()), "0".into()));
        }
        children.push(Running::start(&merged_bin, &env, "merged, listeners off")?);
        wait_listening(ports[&scenario.entry], &mut children)?;
        for name in services.iter().filter(|n| **n != scenario.entry) {
            if TcpStream::connect_timeout(&loopback(ports[name]), Duration::from_millis(200))
                .is_ok()
            {
                return Err(format!(
                    "listener of `{name}` is on although the run turned it off"
                ));
            }
        }
        let answers = replay(&scenario, &api, ports[&scenario.entry])?;
        stop_all(children);
        answers
    };
    Ok(compare(
        system,
        &scenario,
        &[
            ("split", &split),
            ("merged", &merged),
            ("merged, listeners off", &sealed),
        ],
    ))
}

/// Builds the `knit` binary; its path.
pub fn knit_binary() -> Result<PathBuf, String> {
    run_ok(
        Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
            .args(["build", "--quiet", "-p", "knit-rewriter"])
            .current_dir(root()),
    )?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    Ok(target.join("debug/knit"))
}

fn run_ok(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {status}"))
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn free_ports(services: &[String]) -> Result<BTreeMap<String, u16>, String> {
    let listeners: Vec<TcpListener> = services
        .iter()
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    Ok(services
        .iter()
        .zip(&listeners)
        .map(|(s, l)| (s.clone(), l.local_addr().unwrap().port()))
        .collect())
}

/// The environment of the merged binary, with ports filled in.
fn merged_env(
    scenario: &Scenario,
    ports: &BTreeMap<String, u16>,
    services: &[String],
) -> Vec<(String, String)> {
    match &scenario.merged_env {
        Some(env) => env
            .iter()
            .map(|(k, v)| (k.clone(), Scenario::expand(v, ports)))
            .collect(),
        None => env_of(scenario, ports, services),
    }
}

/// The environment of `services`, with ports filled in.
fn env_of(
    scenario: &Scenario,
    ports: &BTreeMap<String, u16>,
    services: &[String],
) -> Vec<(String, String)> {
    services
        .iter()
        .flat_map(|s| scenario.env.get(s).into_iter().flatten())
        .map(|(k, v)| (k.clone(), Scenario::expand(v, ports)))
        .collect()
}

/// A started process, ended when dropped.
struct Running {
    child: Child,
    name: String,
}

impl Running {
    fn start(bin: &Path, env: &[(String, String)], name: &str) -> Result<Running, String> {
        let child = Command::new(bin)
            .envs(env.iter().cloned())
            .env("RUST_BACKTRACE", "0")
            .stdout(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("start {}: {e}", bin.display()))?;
        Ok(Running {
            child,
            name: name.to_string(),
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_listening(port: u16, children: &mut [Running]) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if TcpStream::connect_timeout(&loopback(port), Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        for r in children.iter_mut() {
            if let Ok(Some(status)) = r.child.try_wait() {
                return Err(format!("`{}` exited before listening: {status}", r.name));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("nothing listens on port {port} after 30 s"))
}

fn stop_all(children: Vec<Running>) {
    drop(children);
}

/// Sends SIGTERM and waits; whether the process exited successfully.
fn stop_gracefully(mut running: Running) -> Result<bool, String> {
    let pid = running.child.id().to_string();
    run_ok(Command::new("kill").args(["-TERM", &pid]))?;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Some(status) = running.child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status.success());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(false)
}

/// Each call's answers, in scenario order; a concurrent call's copies sorted.
fn replay(scenario: &Scenario, api: &Api, port: u16) -> Result<Vec<Vec<Answer>>, String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|e| format!("connect to the entry: {e}"))?;
        let mut answers = Vec::new();
        for spec in &scenario.calls {
            let method = api.method(&spec.method)?;
            let request = serde_json::to_value(&spec.request).map_err(|e| e.to_string())?;
            let metadata: Vec<(String, String)> = spec.metadata.clone().into_iter().collect();
            let copies: Vec<_> = (0..spec.concurrent)
                .map(|_| {
                    let (channel, method, request, metadata) = (
                        channel.clone(),
                        method.clone(),
                        request.clone(),
                        metadata.clone(),
                    );
                    let compare_metadata = scenario.compare_metadata.clone();
                    let timeout = spec.timeout_ms.map(Duration::from_millis);
                    tokio::spawn(async move {
                        let call = grpc::Call {
                            method: &method,
                            request: &request,
                            metadata: &metadata,
                            timeout,
                            compare_metadata: &compare_metadata,
                        };
                        grpc::unary(channel, call).await
                    })
                })
                .collect();
            let mut batch = Vec::new();
            for copy in copies {
                batch.push(copy.await.map_err(|e| e.to_string())??);
            }
            batch.sort();
            answers.push(batch);
        }
        Ok(answers)
    })
}

/// One line per distinct answer of a batch, with its count when the call was concurrent.
fn describe(answers: &[Answer]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = answers;
    while let Some(a) = rest.first() {
        let n = rest.iter().take_while(|b| *b == a).count();
        let count = if answers.len() > 1 {
            format!(" (x{n})")
        } else {
            String::new()
        };
        lines.push(format!(
            "{} {:?} {} {:?}{count}",
            a.code, a.message, a.body, a.metadata
        ));
        rest = &rest[n..];
    }
    lines
}

/// Prints each call's answers side by side; whether every deployment answered
/// every call the same way, with the expected code.
fn compare(system: &str, scenario: &Scenario, runs: &[(&str, &Vec<Vec<Answer>>)]) -> bool {
    let mut ok = true;
    for (i, spec) in scenario.calls.iter().enumerate() {
        let reference = &runs[0].1[i];
        let same = runs.iter().all(|(_, answers)| answers[i] == *reference);
        let expected = reference.iter().all(|a| a.code == spec.expect);
        ok &= same && expected;
        let mark = if same && expected { "ok  " } else { "FAIL" };
        let times = if spec.concurrent > 1 {
            format!(" x{} at once", spec.concurrent)
        } else {
            String::new()
        };
        println!(
            "{mark} {system} #{i} {} {}{times}",
            spec.method,
            serde_json::to_string(&spec.request).unwrap_or_default()
        );
        if same && expected {
            for line in describe(reference) {
                println!("     {line}");
            }
            continue;
        }
        if !expected {
            println!("     expected code {}", spec.expect);
        }
        for (name, answers) in runs {
            for line in describe(&answers[i]) {
                println!("     {name:<22} {line}");
            }
        }
    }
    ok
}
