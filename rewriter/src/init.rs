//! `knit init`: finds the gRPC services (tonic and Volo) under some folders and who calls
//! whom, prints that graph and writes a plan (`knit.toml`) proposing a group.

mod discover;
mod graph;
mod write;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use graph::Graph;

use crate::error::{Diagnostic, Result};

/// What `knit init` was asked.
#[derive(Debug)]
pub struct Request {
    /// The folders to scan.
    pub roots: Vec<PathBuf>,
    /// The plan to write.
    pub plan: PathBuf,
    /// The services of the group, by plan name, instead of the busiest group.
    pub group: Option<Vec<String>>,
    /// Overwrite an existing plan.
    pub force: bool,
}

/// What `knit init` did: the graph it printed and the plan it wrote.
#[derive(Debug)]
pub struct Outcome {
    pub graph: Graph,
    /// The group proposed, in start order (indices into `graph.services`).
    pub group: Vec<usize>,
    /// The plan's text, as written.
    pub plan: String,
}

/// Scans, analyses and writes the plan of `request`.
pub fn run(request: &Request) -> Result<Outcome> {
    if request.plan.exists() && !request.force {
        return Err(Diagnostic::in_file(
            &request.plan,
            "a plan is already there: pass --force to overwrite it, or --plan to write another",
        )
        .into());
    }
    let plan_dir = plan_dir(&request.plan)?;
    let candidates = discover::candidates(&request.roots)?;
    if candidates.len() < 2 {
        let found = if candidates.is_empty() {
            "no binary"
        } else {
            "one binary"
        };
        return Err(Diagnostic::new(format!(
            "found {found} of a package that depends on tonic or volo-grpc under {}: a merge needs two services (a binary that plays several roles chosen by its arguments is listed once per role, each with its `args`: docs/plan.md)",
            shown_roots(&request.roots)
        ))
        .into());
    }
    let graph = graph::analyse(&request.plan, &plan_dir, candidates)?;
    let group = match &request.group {
        Some(names) => chosen(&graph, names)?,
        None => graph
            .busiest_group()
            .ok_or_else(|| no_group(&graph, &request.roots))?,
    };
    let group = graph.start_order(&group);
    let plan = write::plan(&graph, &group, &plan_dir, &request.roots);
    write_atomically(&request.plan, plan.as_bytes())?;
    Ok(Outcome { graph, group, plan })
}

/// Writes `bytes` to `path` through a file beside it, renamed into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let staging = path.with_file_name(format!(".{name}.knit-tmp-{}", std::process::id()));
    let written = std::fs::write(&staging, bytes).and_then(|()| std::fs::rename(&staging, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&staging);
        Diagnostic::in_file(path, format!("cannot write the plan: {e}")).into()
    })
}

/// Why no group can be proposed: the services found without a call between
/// two of them, and each binary set aside with its reason.
fn no_group(graph: &Graph, roots: &[PathBuf]) -> crate::error::Error {
    let names: Vec<&str> = graph.services.iter().map(|s| s.name.as_str()).collect();
    let mut diagnostics = vec![Diagnostic::new(format!(
        "no two services to merge under {}: found {} that serve or call gRPC ({}), with no call from one to another, and set aside {} binaries",
        shown_roots(roots),
        names.len(),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        },
        graph.set_aside.len()
    ))];
    let here = std::env::current_dir().unwrap_or_default();
    diagnostics.extend(graph.set_aside.iter().map(|a| {
        Diagnostic::in_file(
            plan_path(&here, &a.candidate.root),
            format!("binary `{}` set aside: {}", a.candidate.bin, a.reason),
        )
    }));
    crate::error::Error(diagnostics)
}

/// The folder of `plan`, resolved.
fn plan_dir(plan: &Path) -> Result<PathBuf> {
    let parent = match plan.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    parent
        .canonicalize()
        .map_err(|e| Diagnostic::in_file(parent, format!("cannot write the plan here: {e}")).into())
}

/// The services `names` name, or an error listing the names found.
fn chosen(graph: &Graph, names: &[String]) -> Result<BTreeSet<usize>> {
    let mut group = BTreeSet::new();
    for name in names {
        let Some(i) = graph.services.iter().position(|s| &s.name == name) else {
            let found: Vec<&str> = graph.services.iter().map(|s| s.name.as_str()).collect();
            return Err(Diagnostic::new(format!(
                "--group: no service `{name}` found (services: {})",
                found.join(", ")
            ))
            .into());
        };
        group.insert(i);
    }
    if group.len() < 2 {
        return Err(Diagnostic::new("--group: a group merges at least two services").into());
    }
    Ok(group)
}

fn shown_roots(roots: &[PathBuf]) -> String {
    let shown: Vec<String> = roots
        .iter()
        .map(|r| format!("`{}`", crate::error::shown(r)))
        .collect();
    shown.join(", ")
}

/// `dir` as a plan in `plan_dir` names it: relative, with `/`.
fn plan_path(plan_dir: &Path, dir: &Path) -> String {
    let rel = crate::paths::relative(plan_dir, dir);
    let text = rel.to_string_lossy().replace('\\', "/");
    if text.is_empty() { ".".into() } else { text }
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml_edit::Value::from(text).to_string().trim().to_string()
}

/// The group names of a plan that `knit select --emit-plan` wrote.
pub fn selected_group(plan_text: &str, file: &Path) -> Result<Vec<String>> {
    let doc: toml::Table = plan_text
        .parse()
        .map_err(|e: toml::de::Error| Diagnostic::in_file(file, e.message().to_string()))?;
    let services = doc
        .get("group")
        .and_then(|g| g.get("services"))
        .and_then(|s| s.as_array())
        .ok_or_else(|| Diagnostic::in_file(file, "no `group.services` list: not a knit plan"))?;
    Ok(services
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect())
}

impl Outcome {
    /// The plan names of the group, in start order.
    pub fn group_names(&self) -> Vec<&str> {
        self.group
            .iter()
            .map(|&i| self.graph.services[i].name.as_str())
            .collect()
    }

    /// The graph as `knit init` prints it: services, calls between them,
    /// calls to services not found, and what was set aside.
    pub fn graph_text(&self) -> String {
        let g = &self.graph;
        let here = std::env::current_dir().unwrap_or_default();
        let shown = |p: &Path| plan_path(&here, p);
        let width = g.services.iter().map(|s| s.name.len()).max().unwrap_or(0);
        let roots: Vec<String> = g
            .services
            .iter()
            .map(|s| shown(&s.candidate.root))
            .collect();
        let root_width = roots.iter().map(String::len).max().unwrap_or(0);
        let mut text = String::from("services:\n");
        for (i, s) in g.services.iter().enumerate() {
            let role = if s.serves.is_empty() {
                "calls only".to_string()
            } else {
                let served: Vec<&str> = s.serves.iter().map(String::as_str).collect();
                format!("serves {}", served.join(", "))
            };
            let mark = if self.group.contains(&i) { '*' } else { ' ' };
            text += &format!(
                "{mark} {:width$}  {:root_width$}  {role}\n",
                s.name, roots[i]
            );
        }
        let (inside, outside): (Vec<_>, Vec<_>) =
            g.calls.iter().partition(|c| c.provider.is_some());
        if !inside.is_empty() {
            text += "calls:\n";
            for c in inside {
                text += &format!(
                    "  {} -> {}  {} via {}  {}  {}\n",
                    g.services[c.caller].name,
                    g.services[c.provider.unwrap_or_default()].name,
                    c.callee.as_deref().unwrap_or("?"),
                    c.client
                        .clone()
                        .unwrap_or_else(|| client_type(c.callee.as_deref().unwrap_or("?"))),
                    c.site,
                    c.tier.name()
                );
            }
        }
        if !outside.is_empty() {
            text += "calls to services not found:\n";
            for c in outside {
                text += &format!(
                    "  {} -> {}  {}  ({})\n",
                    g.services[c.caller].name,
                    c.callee.as_deref().unwrap_or("?"),
                    c.site,
                    c.detail
                );
            }
        }
        let refused: Vec<(&str, &String)> = g
            .services
            .iter()
            .flat_map(|s| s.refusals.iter().map(move |r| (s.name.as_str(), r)))
            .collect();
        if !refused.is_empty() {
            text += "knit merge refuses, as they are:\n";
            for (name, why) in refused {
                text += &format!("  {name}: {why}\n");
            }
        }
        if !g.set_aside.is_empty() {
            text += "set aside:\n";
            for a in &g.set_aside {
                text += &format!(
                    "  {} (package `{}`, binary `{}`): {}\n",
                    shown(&a.candidate.root),
                    a.candidate.package,
                    a.candidate.bin,
                    a.reason
                );
            }
        }
        text += "(* the group proposed)\n";
        text
    }
}

/// The generated client type of gRPC service `callee` (`helloworld.Greeter`
/// -> `GreeterClient`), named as tonic names it.
fn client_type(callee: &str) -> String {
    let service = callee.rsplit('.').next().unwrap_or(callee);
    format!("{}Client", knit_passes::names::upper_camel(service))
}
