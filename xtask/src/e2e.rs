//! `cargo xtask e2e [SYSTEM..]`: builds a corpus system split (each service on its
//! own) and merged (knit's output), runs both on loopback ports, replays the
//! system's scenario against each, and fails on any difference.
//!
//! Four deployments are compared: split; split again from knit's output (each
//! service's own binary, built from the rewritten sources: its clients take the
//! network); merged; merged with every listener but the entry's turned off
//! (calls between services cannot reach a socket). Services the scenario lists
//! as `outside` the group run as their own processes in all four.

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
    /// Its package in knit's workspace.
    merged_package: String,
}

#[derive(Deserialize)]
struct Report {
    services: Vec<ReportService>,
}

/// A corpus system built split (each service and each `outside` service on its
/// own) and merged (knit's output), ready to start.
pub(crate) struct Built {
    pub scenario: Scenario,
    /// `corpus/SYSTEM`.
    pub dir: PathBuf,
    /// The merge group, in the order of knit's report.
    pub services: Vec<String>,
    split_bins: BTreeMap<String, PathBuf>,
    /// Each service's command-line arguments (the plan's `args`), given to its
    /// binary when it runs on its own.
    args: BTreeMap<String, Vec<String>>,
    /// Each service's own binary built from knit's workspace.
    rewritten_bins: BTreeMap<String, PathBuf>,
    merged_bin: PathBuf,
}

/// Which binaries a split deployment runs.
#[derive(Clone, Copy)]
pub(crate) enum Sources {
    /// The services' own sources, as the corpus has them.
    Original,
    /// knit's workspace: each service's binary from its rewritten sources.
    Rewritten,
}

/// The system e2e merges with `knit merge --verify`. One only: in a cold target
/// folder the check costs nearly as much as the merged build (the build after it
/// reuses only build scripts and proc macros: 216 s against 234 s, after a 173 s
/// check); `e2e greeter` from cold took 440 s, 136 s of them the check, so about
/// a third more than without. In a warm target folder the check takes 2-5 s.
const VERIFIED: &str = "greeter";

/// Merges `system` with knit into `target/e2e/SYSTEM/workspace` (the
/// [`VERIFIED`] system's debug build with `--verify`: cargo checks it in the same
/// target folder, so the builds after reuse its build scripts and proc macros)
/// and builds its split services and the merged binary (release or debug profile, with
/// `CARGO_TARGET_DIR=target/e2e`); the binaries are copied to
/// `target/e2e/SYSTEM` (`target/e2e/SYSTEM/release` for release builds).
pub(crate) fn build(system: &str, release: bool, task: &str) -> Result<Built, String> {
    let dir = root().join("corpus").join(system);
    let scenario = Scenario::read(&dir.join("scenario.toml"))?;
    let plan = dir.join(scenario.plan.as_deref().unwrap_or("knit.toml"));
    let plan_dir = plan.parent().ok_or("the plan's folder")?;
    let target = root().join("target/e2e");
    let work = target.join(system);
    let quiet = crate::quiet_unless_terminal();
    let (profile, bins) = if release {
        ("release", work.join("release"))
    } else {
        ("debug", work.clone())
    };
    let release_flag: &[&str] = if release { &["--release"] } else { &[] };
    let flags: Vec<&str> = quiet.iter().chain(release_flag).copied().collect();
    std::fs::create_dir_all(&bins).map_err(|e| e.to_string())?;

    let merged_dir = work.join("workspace");
    // A build may have written into the last merge's sources (a build script
    // that generates code into `src/`); knit rightly refuses to write over
    // files it did not write, so the harness starts from an empty folder.
    if merged_dir.exists() {
        std::fs::remove_dir_all(&merged_dir)
            .map_err(|e| format!("clear {}: {e}", merged_dir.display()))?;
    }
    let knit = knit_binary()?;
    forget_stale_runtime(&target)?;
    let mut merge = Command::new(&knit);
    merge.arg("merge").arg(&plan).arg("--out").arg(&merged_dir);
    // Build scripts knit runs to see what they read: their builds and answers
    // stay in the e2e target folder, lean as the corpus builds.
    crate::lean(merge.env("KNIT_CACHE_DIR", target.join("knit-cache")));
    // A check is a debug build: a release build after it would reuse nothing.
    if system == VERIFIED && !release {
        println!("{task} {system}: knit merge --verify");
        crate::lean(merge.arg("--verify").env("CARGO_TARGET_DIR", &target));
    } else {
        println!("{task} {system}: knit merge");
    }
    run_ok(&mut merge)?;
    let report: Report = {
        let text =
            std::fs::read_to_string(merged_dir.join("report.json")).map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| e.to_string())?
    };

    println!(
        "{task} {system}: build split services and the merged binary ({profile}, CARGO_TARGET_DIR={})",
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
    let mut args = BTreeMap::new();
    for service in &report.services {
        let given = plan_toml["services"][&service.name].get("args");
        let given = given.and_then(|a| a.as_array()).into_iter().flatten();
        let given: Vec<String> = given.filter_map(|a| a.as_str().map(String::from)).collect();
        args.insert(service.name.clone(), given);
    }
    let mut builds = Vec::new();
    for service in &report.services {
        let path = plan_toml["services"][&service.name]["path"]
            .as_str()
            .ok_or("service path")?;
        builds.push((&service.name, plan_dir.join(path), &service.bin));
    }
    for (name, outside) in &scenario.outside {
        builds.push((name, dir.join(&outside.path), &outside.bin));
    }
    let mut split_bins = BTreeMap::new();
    for (name, path, bin) in builds {
        let manifest = path.join("Cargo.toml");
        // A binary gated by `required-features` is built with them, as its
        // team builds it.
        let features = binaries(&manifest)?
            .into_iter()
            .find(|b| b.name == *bin)
            .map(|b| b.feature_flags())
            .unwrap_or_default();
        // From the service's folder, as its team builds it: Cargo reads the
        // repository's configuration (`.cargo/config.toml`) from there.
        run_ok(
            cargo(&target)
                .current_dir(&path)
                .arg("build")
                .args(&flags)
                .args(["--bin", bin])
                .args(&features)
                .arg("--manifest-path")
                .arg(&manifest),
        )?;
        let copy = bins.join(format!("split-{name}"));
        std::fs::copy(target.join(profile).join(bin), &copy)
            .map_err(|e| format!("copy {bin}: {e}"))?;
        split_bins.insert(name.clone(), copy);
    }
    // Built in knit's workspace, where Cargo reads the services' configuration;
    // `--locked`: the lockfile knit writes holds every package the build needs.
    run_ok(
        cargo(&target)
            .current_dir(&merged_dir)
            .arg("build")
            .args(&flags)
            .args(["--locked", "-p", "merged", "--manifest-path"])
            .arg(merged_dir.join("Cargo.toml")),
    )?;
    let merged_bin = bins.join("merged");
    std::fs::copy(target.join(profile).join("merged"), &merged_bin)
        .map_err(|e| format!("copy merged: {e}"))?;
    // One at a time: two services' binaries may share a name.
    let mut rewritten_bins = BTreeMap::new();
    for service in &report.services {
        let bin = rewritten_bin(&merged_dir, service)?;
        run_ok(
            cargo(&target)
                .current_dir(&merged_dir)
                .arg("build")
                .args(&flags)
                .args([
                    "--locked",
                    "-p",
                    &service.merged_package,
                    "--bin",
                    &bin.name,
                ])
                .args(bin.feature_flags())
                .arg("--manifest-path")
                .arg(merged_dir.join("Cargo.toml")),
        )?;
        let copy = bins.join(format!("rewritten-{}", service.name));
        std::fs::copy(target.join(profile).join(&bin.name), &copy)
            .map_err(|e| format!("copy {}: {e}", bin.name))?;
        rewritten_bins.insert(service.name.clone(), copy);
    }
    Ok(Built {
        scenario,
        dir,
        services,
        split_bins,
        args,
        rewritten_bins,
        merged_bin,
    })
}

/// Every system's workspace holds a copy of knit-runtime at the same relative
/// path, and Cargo gives the copies one identity in the shared target folder: a
/// build may then take an artifact made from an older copy for fresh. So when
/// the runtime knit writes (its sources in `runtime/`, embedded in knit) changes,
/// Cargo's fingerprints of it are removed, for every profile and for checks
/// alike, before knit merges and checks (the runtime's text is kept in
/// `target/e2e/knit-runtime.txt` to compare).
fn forget_stale_runtime(target: &Path) -> Result<(), String> {
    let dir = root().join("runtime");
    let mut files: Vec<PathBuf> = walk(&dir.join("src"));
    files.push(dir.join("Cargo.toml"));
    files.sort();
    let mut text = String::new();
    for file in files {
        text.push_str(
            &file
                .strip_prefix(&dir)
                .unwrap_or(&file)
                .display()
                .to_string(),
        );
        text.push('\n');
        text.push_str(&std::fs::read_to_string(&file).map_err(|e| e.to_string())?);
    }
    let stamp = target.join("knit-runtime.txt");
    if std::fs::read_to_string(&stamp).is_ok_and(|seen| seen == text) {
        return Ok(());
    }
    for profile in ["debug", "release"] {
        let fingerprints = target.join(profile).join(".fingerprint");
        for entry in std::fs::read_dir(&fingerprints)
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("knit-runtime-")
            {
                std::fs::remove_dir_all(entry.path())
                    .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            }
        }
    }
    std::fs::create_dir_all(target).map_err(|e| e.to_string())?;
    std::fs::write(&stamp, text).map_err(|e| e.to_string())
}

/// The files under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// A binary target of a Cargo package, as `cargo metadata` tells it.
struct Binary {
    /// The package that holds it.
    package: String,
    name: String,
    /// Its `required-features`.
    required: Vec<String>,
}

impl Binary {
    /// The `--features` a build of this binary needs (none when ungated).
    fn feature_flags(&self) -> Vec<String> {
        if self.required.is_empty() {
            return Vec::new();
        }
        let qualified: Vec<String> = self
            .required
            .iter()
            .map(|f| format!("{}/{f}", self.package))
            .collect();
        vec!["--features".into(), qualified.join(",")]
    }
}

/// The binaries of the workspace or package of `manifest` (its members').
fn binaries(manifest: &Path) -> Result<Vec<Binary>, String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(manifest)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata of {} failed: {}",
            manifest.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let strings = |value: &serde_json::Value| -> Vec<String> {
        let items = value.as_array().into_iter().flatten();
        items.filter_map(|s| s.as_str().map(String::from)).collect()
    };
    let mut bins = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        for target in package["targets"].as_array().into_iter().flatten() {
            if !strings(&target["kind"]).iter().any(|k| k == "bin") {
                continue;
            }
            bins.push(Binary {
                package: package["name"].as_str().unwrap_or_default().to_string(),
                name: target["name"].as_str().unwrap_or_default().to_string(),
                required: strings(&target["required-features"]),
            });
        }
    }
    Ok(bins)
}

/// `service`'s binary in knit's workspace: its package is renamed there, and
/// so is a binary named after the package.
fn rewritten_bin(workspace: &Path, service: &ReportService) -> Result<Binary, String> {
    let mut bins: Vec<Binary> = binaries(&workspace.join("Cargo.toml"))?
        .into_iter()
        .filter(|b| b.package == service.merged_package)
        .collect();
    if bins.len() == 1 {
        return Ok(bins.remove(0));
    }
    bins.into_iter()
        .find(|b| b.name == service.bin || b.name == service.merged_package)
        .ok_or_else(|| format!("no binary of `{}` in knit's workspace", service.name))
}

impl Built {
    /// The merge group and the services outside it.
    pub(crate) fn all(&self) -> Vec<String> {
        self.services
            .iter()
            .chain(self.scenario.outside.keys())
            .cloned()
            .collect()
    }

    /// The loopback port of the entry.
    pub(crate) fn entry_port(&self, ports: &BTreeMap<String, u16>) -> u16 {
        ports[&self.scenario.entry]
    }

    /// Starts the services outside the group, each on its own, as every
    /// deployment needs them.
    fn start_outside(&self, ports: &BTreeMap<String, u16>) -> Result<Vec<Running>, String> {
        let mut children = Vec::new();
        for name in self.scenario.outside.keys() {
            let env = env_of(&self.scenario, ports, std::slice::from_ref(name));
            children.push(Running::start(&self.split_bins[name], &env, name, &[])?);
            wait_listening(ports[name], &mut children)?;
        }
        Ok(children)
    }

    /// The split deployment: every service its own process, built from
    /// `sources`; returns once all listen.
    pub(crate) fn start_split(
        &self,
        ports: &BTreeMap<String, u16>,
        sources: Sources,
    ) -> Result<Vec<Running>, String> {
        let bins = match sources {
            Sources::Original => &self.split_bins,
            Sources::Rewritten => &self.rewritten_bins,
        };
        let mut children = self.start_outside(ports)?;
        for name in &self.services {
            children.push(Running::start(
                &bins[name],
                &env_of(&self.scenario, ports, std::slice::from_ref(name)),
                name,
                &self.args[name],
            )?);
            wait_listening(ports[name], &mut children)?;
        }
        Ok(children)
    }

    /// The merged deployment: the services outside the group, then the merged
    /// binary (last); with `listeners_off`, every listener but the entry's is
    /// turned off. Returns once the listeners that are on listen.
    pub(crate) fn start_merged(
        &self,
        ports: &BTreeMap<String, u16>,
        listeners_off: bool,
    ) -> Result<Vec<Running>, String> {
        let mut children = self.start_outside(ports)?;
        let mut env = merged_env(&self.scenario, ports, &self.services);
        let entry = &self.scenario.entry;
        let name = if listeners_off {
            for name in self.services.iter().filter(|n| *n != entry) {
                env.push((format!("KNIT_LISTEN_{}", name.to_uppercase()), "0".into()));
            }
            "merged, listeners off"
        } else {
            "merged"
        };
        children.push(Running::start(&self.merged_bin, &env, name, &[])?);
        for service in &self.services {
            if !listeners_off || service == entry || self.scenario.own_listeners.contains(service) {
                wait_listening(ports[service], &mut children)?;
            }
        }
        Ok(children)
    }
}

/// Runs the harness for `system`; `Ok(false)` when the deployments differ.
pub fn run(system: &str) -> Result<bool, String> {
    let built = build(system, false, "e2e")?;
    let scenario = &built.scenario;
    let protos: Vec<PathBuf> = scenario.protos.iter().map(|p| built.dir.join(p)).collect();
    let api = Api::load(&protos)?;
    let all = built.all();

    let split = |sources| -> Result<_, String> {
        let ports = free_ports(&all)?;
        let children = built.start_split(&ports, sources)?;
        let answers = replay(scenario, &api, built.entry_port(&ports))?;
        stop_all(children);
        Ok(answers)
    };
    let (split, rewritten) = (split(Sources::Original)?, split(Sources::Rewritten)?);
    let merged = {
        let ports = free_ports(&all)?;
        let mut children = built.start_merged(&ports, false)?;
        let answers = replay(scenario, &api, built.entry_port(&ports))?;
        let clean = stop_gracefully(children.pop().expect("the merged binary"))?;
        stop_all(children);
        if !clean {
            return Err("merged binary did not shut down cleanly on SIGTERM".into());
        }
        answers
    };
    let sealed = {
        let ports = free_ports(&all)?;
        let children = built.start_merged(&ports, true)?;
        let off = |n: &&String| **n != scenario.entry && !scenario.own_listeners.contains(n);
        for name in built.services.iter().filter(off) {
            if TcpStream::connect_timeout(&loopback(ports[name]), Duration::from_millis(200))
                .is_ok()
            {
                return Err(format!(
                    "listener of `{name}` is on although the run turned it off"
                ));
            }
        }
        let answers = replay(scenario, &api, built.entry_port(&ports))?;
        stop_all(children);
        answers
    };
    Ok(compare(
        system,
        scenario,
        &[
            ("split", &split),
            ("split, knit's sources", &rewritten),
            ("merged", &merged),
            ("merged, listeners off", &sealed),
        ],
    ))
}

/// Builds the `knit` binary; its path.
pub fn knit_binary() -> Result<PathBuf, String> {
    run_ok(
        Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
            .arg("build")
            .args(crate::quiet_unless_terminal())
            .args(["-p", "knit-rewriter"])
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

pub(crate) fn free_ports(services: &[String]) -> Result<BTreeMap<String, u16>, String> {
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
pub(crate) struct Running {
    child: Child,
    name: String,
}

impl Running {
    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The name it was started under (a service, `merged`).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    fn start(
        bin: &Path,
        env: &[(String, String)],
        name: &str,
        args: &[String],
    ) -> Result<Running, String> {
        let child = Command::new(bin)
            .args(args)
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
        let details = if a.details.is_empty() {
            String::new()
        } else {
            format!(" details \"{}\"", a.details)
        };
        lines.push(format!(
            "{} {:?}{details} {} {:?}{count}",
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
