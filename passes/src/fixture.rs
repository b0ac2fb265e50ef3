//! Test fixtures in the rust-analyzer style: several files in one string, each
//! after a `//- /path` line. The tree is written to a temporary folder and
//! loaded by knit's loader ([`knit_load::load::load`]), as `knit merge` loads a
//! plan: the first path component names a service, whose folder is that of
//! its first `Cargo.toml`. What the fixture leaves out takes a default:
//! - the plan (unless the fixture has a `/knit.toml`, read as a user's plan is)
//!   lists the services in the order they first appear;
//! - when a package has binaries in `src/bin/` beside `src/main.rs`, the
//!   service is the binary of `src/main.rs`.
//!
//! Build scripts are read, never run.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ra_ap_syntax::TextSize;

use crate::edit::{self, Level};
use crate::manifest;
use crate::model::{FileId, Group};
use crate::pass::PassId;
use knit_load::plan::{Plan, ServiceSpec};

/// Loads the tree of `fixture` with knit's loader.
pub fn group(fixture: &str) -> Group {
    let files = files(fixture);
    let tree = Tree::new();
    let mut services: Vec<(String, String, bool)> = Vec::new();
    for (path, text) in &files {
        let service = path.split('/').next().unwrap_or_default();
        if let Some(dir) = path.strip_suffix("/Cargo.toml")
            && !services.iter().any(|(s, ..)| s == service)
        {
            let bins = files
                .iter()
                .any(|(p, _)| p.starts_with(&format!("{dir}/src/bin/")));
            services.push((service.to_string(), dir.to_string(), bins));
        }
        tree.write(path, text);
    }
    let plan = match files.iter().any(|(p, _)| p == "knit.toml") {
        true => Plan::read(&tree.0.join("knit.toml"))
            .unwrap_or_else(|e| panic!("the fixture's plan: {e:?}")),
        false => default_plan(&tree, &files, &services),
    };
    knit_load::load::run_build_scripts(false);
    let group = match knit_load::load::load(plan, knit_load::load::Versions::Skip) {
        Ok(loaded) => loaded.group,
        Err(e) => panic!("the fixture does not load: {e:?}"),
    };
    // A Rust file no crate compiles (but a build script or an included file)
    // would be copied, never read: a mistake of the fixture.
    let included = |path: &str| {
        let name = path.rsplit('/').next().unwrap_or(path);
        fixture.contains(&format!("include!(\"{name}\")"))
    };
    let modules = files
        .iter()
        .filter(|(p, _)| p.ends_with(".rs") && !p.ends_with("/build.rs") && !included(p));
    for (path, _) in modules {
        let loaded = group
            .files
            .iter()
            .any(|f| f.path == *path && f.rust.is_some());
        assert!(
            loaded,
            "fixture file `{path}`: no crate compiles it (no `mod` declares it)"
        );
    }
    group
}

/// The plan of a fixture that has none: each service of `services` (name,
/// folder, whether its package has binaries in `src/bin/`), in order.
fn default_plan(
    tree: &Tree,
    files: &[(String, String)],
    services: &[(String, String, bool)],
) -> Plan {
    // Built as `Plan::read` would build it, without its rules for a plan a
    // user writes (a fixture may hold one service, named as a folder is).
    let manifest = |dir: &str| {
        &files
            .iter()
            .find(|(p, _)| *p == format!("{dir}/Cargo.toml"))
            .unwrap()
            .1
    };
    let specs = services
        .iter()
        .enumerate()
        .map(|(i, (name, dir, bins))| ServiceSpec {
            name: name.clone(),
            path: tree.0.join(dir),
            package: None,
            bin: bins.then(|| {
                let doc: toml_edit::DocumentMut = manifest(dir).parse().unwrap();
                doc["package"]["name"].as_str().unwrap().to_string()
            }),
            listen: true,
            rev: None,
            env: Vec::new(),
            args: None,
            cwd: None,
            line: i + 1,
        });
    Plan {
        file: tree.0.join("knit.toml"),
        dir: tree.0.clone(),
        text: String::new(),
        group: "fixture".into(),
        worker_threads: None,
        shutdown_grace_secs: None,
        global_allocator: None,
        services: specs.collect(),
    }
}

/// The files of `fixture`: (path, text).
fn files(fixture: &str) -> Vec<(String, String)> {
    fixture
        .split("//- /")
        .skip(1)
        .map(|chunk| {
            let (path, text) = chunk.split_once('\n').unwrap();
            (path.trim().to_string(), text.to_string())
        })
        .collect()
}

/// A temporary folder, removed when dropped.
struct Tree(PathBuf);

impl Tree {
    fn new() -> Tree {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("knit-fixture-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Tree(dir)
    }

    fn write(&self, path: &str, text: &str) {
        let at: &Path = &self.0.join(path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(at, text).unwrap();
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the passes made of a fixture.
pub struct Checked {
    /// Changed and new files: (path, text after the edits).
    pub files: Vec<(String, String)>,
    /// Errors, call sites and the globals pass's notes, one line each:
    /// `Level path:line: message` (`Call(Tier)` for a call site; one in a file
    /// several services reach adds `by <caller>` to its place).
    pub findings: Vec<String>,
}

impl Checked {
    /// The files whose path starts with `prefix`, each after a `//- /path` line,
    /// then the findings.
    pub fn render(&self, prefix: &str) -> String {
        let mut out = String::new();
        for (path, text) in self.files.iter().filter(|(p, _)| p.starts_with(prefix)) {
            out.push_str(&format!("//- /{path}\n{text}"));
        }
        for f in &self.findings {
            out.push_str(f);
            out.push('\n');
        }
        out
    }
}

/// Runs the pass `pass` alone on `fixture`: the files, findings and call
/// sites of that pass (see [`check_group`]).
pub fn check(pass: PassId, fixture: &str) -> Checked {
    check_group(pass, group(fixture))
}

/// Runs the pass `pass` alone on `group`, as [`crate::run_all`] runs it: the
/// entry pass with the entries it lifts into libraries
/// ([`crate::entry::lib_entries`]), then the imports its own edits leave
/// unused pruned, so that a file shows what that pass would leave.
pub fn check_group(pass: PassId, group: Group) -> Checked {
    let sharing = crate::sharing::Sharing::of(&group);
    let run = crate::PASSES
        .iter()
        .find_map(|(id, run)| (*id == pass).then_some(run))
        .unwrap_or_else(|| panic!("`{pass}` is not a pass of `PASSES`"));
    let mut out = run(&group, &sharing);
    if pass == PassId::Entry {
        let entries = crate::entry::lib_entries(&group, &out);
        out.extend(entries);
    }
    let pruned = crate::imports::prune(&group, &sharing.index.proto_modules, &out.edits);
    out.extend(pruned);
    edit::drop_swallowed(&mut out.edits);
    checked(&group, &out)
}

/// Runs every pass on `fixture`, as a merge does ([`crate::run_all`]): for
/// the tests whose subject is what the passes do together.
pub fn check_all(fixture: &str) -> Checked {
    check_all_group(group(fixture))
}

/// Runs every pass on `group`, as a merge does.
pub fn check_all_group(group: Group) -> Checked {
    let sharing = crate::sharing::Sharing::of(&group);
    checked(&group, &crate::run_all(&group, &sharing))
}

/// The files, findings and call sites of `out`, shown.
fn checked(group: &Group, out: &crate::Output) -> Checked {
    let mut files = Vec::new();
    for (i, file) in group.files.iter().enumerate() {
        let id = FileId(i as u32);
        let edits: Vec<&edit::Edit> = out.edits.iter().filter(|e| e.file == id).collect();
        let ops: Vec<&manifest::ManifestOp> = out
            .manifest_ops
            .iter()
            .filter(|(f, _)| *f == id)
            .map(|(_, op)| op)
            .collect();
        if edits.is_empty() && ops.is_empty() {
            continue;
        }
        let text = edit::apply(&file.text, &edits).unwrap();
        let text = if ops.is_empty() {
            text
        } else {
            manifest::apply(&text, &ops).unwrap()
        };
        files.push((file.path.clone(), text));
    }
    for new in &out.new_files {
        files.push((format!("{} (new)", new.path), new.text.clone()));
    }
    let line = |(file, offset): (FileId, TextSize)| {
        let file = group.file(file);
        format!("{}:{}", file.path, file.line_col(offset).0)
    };
    // A call site in a file several services reach names its caller.
    let site = |c: &edit::CallSite| {
        let file = group.file(c.at.0);
        match file.also.is_empty() && c.caller == file.service {
            true => line(c.at),
            false => format!("{} by {}", line(c.at), group.services[c.caller].name),
        }
    };
    let shown = |f: &edit::Finding| {
        let at = f.at.map(line).unwrap_or_default();
        format!("{:?} {at}: {}", f.level, f.message)
    };
    // Errors, then call sites, then the globals pass's notes.
    let errors = out.findings.iter().filter(|f| f.level == Level::Error);
    let notes = out
        .findings
        .iter()
        .filter(|f| f.level == Level::Note && f.pass == PassId::Globals);
    let findings = errors
        .map(shown)
        .chain(
            out.calls
                .iter()
                .map(|c| format!("Call({:?}) {}: {}", c.tier, site(c), c.detail)),
        )
        .chain(notes.map(shown))
        .collect();
    Checked { files, findings }
}

/// The callee of most fixtures: `greeter` serves `helloworld.Greeter`.
pub const GREETER: &str = r#"
//- /greeter/Cargo.toml
[package]
name = "greeter"
edition = "2021"
//- /greeter/proto/helloworld.proto
package helloworld;
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply);
}
//- /greeter/src/main.rs
use hello_world::greeter_server::{Greeter, GreeterServer};
use tonic::transport::Server;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;
    Ok(())
}
"#;

/// The callee's proto, as a caller's copy.
pub const HELLO_PROTO: &str = "package helloworld;\nservice Greeter {\n  rpc SayHello (HelloRequest) returns (HelloReply);\n}\n";

/// `GREETER` plus a `frontend` whose package and main are given.
pub fn with_frontend(main_rs: &str) -> String {
    format!(
        "{GREETER}//- /frontend/Cargo.toml\n[package]\nname = \"frontend\"\nedition = \"2021\"\n//- /frontend/proto/helloworld.proto\n{HELLO_PROTO}//- /frontend/src/main.rs\n{main_rs}"
    )
}
