//! Test fixtures in the rust-analyzer style: several files in one string, each
//! after a `//- /path` line. The first path component names the service; a
//! service's package is the folder of its `Cargo.toml`, its binary root is
//! `src/main.rs`. `.proto` files are read by the loader's parser
//! ([`crate::proto::parse`]), fingerprints included.

use ra_ap_syntax::{Edition, SourceFile as Ast, TextSize};

use crate::edit::{self, Level};
use crate::manifest;
use crate::model::{
    FileId, Group, LocalDep, Package, PackageId, RustFile, Service, ServiceId, SourceFile, Target,
};
use crate::pass::PassId;

/// Builds a group from `fixture`.
pub fn group(fixture: &str) -> Group {
    let mut files: Vec<(String, String)> = Vec::new();
    for chunk in fixture.split("//- /").skip(1) {
        let (path, text) = chunk.split_once('\n').unwrap();
        files.push((path.trim().to_string(), text.to_string()));
    }
    let mut group = Group {
        services: Vec::new(),
        files: Vec::new(),
        global_allocator: None,
    };
    for (i, (path, text)) in files.iter().enumerate() {
        let service_name = path.split('/').next().unwrap().to_string();
        let service = match group.services.iter().position(|s| s.name == service_name) {
            Some(i) => i,
            None => {
                group.services.push(Service {
                    name: service_name.clone(),
                    listen: true,
                    env: Vec::new(),
                    args: None,
                    cwd: None,
                    packages: Vec::new(),
                    bin: Target {
                        name: service_name.clone(),
                        root: FileId(u32::MAX),
                    },
                    protos: Vec::new(),
                });
                group.services.len() - 1
            }
        };
        let id = FileId(group.files.len() as u32);
        if let Some(dir) = path.strip_suffix("/Cargo.toml") {
            let doc: toml_edit::DocumentMut = text.parse().unwrap();
            let local_deps = doc
                .get("dependencies")
                .and_then(|d| d.as_table_like())
                .map(|t| {
                    t.iter()
                        .filter(|(_, v)| v.get("path").is_some())
                        .map(|(k, v)| LocalDep {
                            key: k.to_string(),
                            package: v
                                .get("package")
                                .and_then(|p| p.as_str())
                                .unwrap_or(k)
                                .to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            group.services[service].packages.push(Package {
                name: doc["package"]["name"].as_str().unwrap().to_string(),
                dir: dir.to_string(),
                manifest: id,
                lib: files
                    .iter()
                    .position(|(p, _)| *p == format!("{dir}/src/lib.rs"))
                    .map(|i| Target {
                        name: doc["package"]["name"].as_str().unwrap().replace('-', "_"),
                        root: FileId(i as u32),
                    }),
                local_deps,
                build_script: files
                    .iter()
                    .find(|(p, _)| *p == format!("{dir}/build.rs"))
                    .map(|(_, t)| t.clone()),
                bins: vec![(service_name.clone(), "src/main.rs".into())],
                dropped_dev_deps: Vec::new(),
                workspace: None,
            });
        }
        let package = group.services[service].packages.len().saturating_sub(1);
        let rust = path.ends_with(".rs").then(|| {
            if path.ends_with("/src/main.rs") && group.services[service].bin.root.0 == u32::MAX {
                group.services[service].bin.root = id;
            }
            // Files of `src/bin/` and `src/main.rs` belong to the binary, others to the library.
            let dir = path.split("/src/").next().unwrap_or_default();
            let root = |name: &str| {
                files
                    .iter()
                    .position(|(p, _)| *p == format!("{dir}/src/{name}"))
            };
            let in_bin = path.ends_with("/src/main.rs") || path.contains("/src/bin/");
            let krate = if in_bin {
                root("main.rs")
            } else {
                root("lib.rs").or(root("main.rs"))
            };
            RustFile {
                krate: FileId(krate.unwrap_or(i) as u32),
                // A file of `src/bin/` is a module of `main.rs` here, declared
                // with `#[path = "bin/x.rs"] mod x;`.
                module: module_of(&path.replacen("/src/bin/", "/src/", 1)),
                edition: Edition::Edition2021,
                green: Ast::parse(text, Edition::Edition2021)
                    .syntax_node()
                    .green()
                    .to_owned(),
                built_modules: Vec::new(),
                also_in: Vec::new(),
                test_only: false,
            }
        });
        if path.ends_with(".proto") {
            let proto = crate::proto::parse(path, text).unwrap_or_else(|e| {
                let at = &text[e.offset..];
                panic!("{path}: invalid proto at `{at:.20}`: {}", e.message)
            });
            group.services[service].protos.push(proto);
        }
        group.files.push(SourceFile {
            path: path.clone(),
            text: text.clone(),
            service: ServiceId(service),
            package: PackageId(package),
            also: Vec::new(),
            rust,
        });
    }
    declared_twice(&mut group);
    declared_for_tests(&mut group);
    group
}

/// A file whose `mod` another file of its package declares under
/// `#[cfg(test)]` is compiled for tests only, as the loader finds it.
fn declared_for_tests(group: &mut Group) {
    let texts: Vec<(String, String)> = group
        .files
        .iter()
        .map(|f| {
            (
                f.path.split("/src/").next().unwrap_or_default().to_string(),
                f.text.clone(),
            )
        })
        .collect();
    for file in &mut group.files {
        let dir = file
            .path
            .split("/src/")
            .next()
            .unwrap_or_default()
            .to_string();
        let Some(rust) = file.rust.as_mut() else {
            continue;
        };
        let Some(last) = rust.module.last() else {
            continue;
        };
        let declaration = format!("#[cfg(test)]\nmod {last};");
        rust.test_only = texts
            .iter()
            .any(|(d, text)| *d == dir && text.contains(&declaration));
    }
}

/// A library file that `src/main.rs` beside it declares too (`mod proto;` in
/// both roots) is a module of both crates, as the loader finds it.
fn declared_twice(group: &mut Group) {
    let mains: Vec<(String, FileId, String)> = group
        .files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let dir = f.path.strip_suffix("/src/main.rs")?;
            Some((dir.to_string(), FileId(i as u32), f.text.clone()))
        })
        .collect();
    for file in &mut group.files {
        let dir = file
            .path
            .split("/src/")
            .next()
            .unwrap_or_default()
            .to_string();
        let Some(rust) = file.rust.as_mut() else {
            continue;
        };
        let Some((_, main, text)) = mains.iter().find(|(d, ..)| *d == dir) else {
            continue;
        };
        let declared = rust
            .module
            .first()
            .is_some_and(|first| text.contains(&format!("mod {first};")));
        if rust.krate != *main && declared {
            rust.also_in.push((*main, rust.module.clone()));
        }
    }
}

fn module_of(path: &str) -> Vec<String> {
    let rel = path.split_once("/src/").map_or("", |(_, r)| r);
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let rel = rel.strip_suffix("/mod").unwrap_or(rel);
    match rel {
        "main" | "lib" | "" => Vec::new(),
        _ => rel.split('/').map(String::from).collect(),
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
        "{GREETER}//- /frontend/Cargo.toml\n[package]\nname = \"frontend\"\n//- /frontend/proto/helloworld.proto\n{HELLO_PROTO}//- /frontend/src/main.rs\n{main_rs}"
    )
}
