//! The text of the plan `knit init` proposes, with a comment on each line
//! saying why it is there.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::graph::Graph;
use super::{plan_path, toml_string};

/// The plan of `group` (indices into `graph.services`, in start order).
pub fn plan(graph: &Graph, group: &[usize], plan_dir: &Path, roots: &[PathBuf]) -> String {
    let mut text = String::new();
    let scanned: Vec<String> = roots
        .iter()
        .filter_map(|r| r.canonicalize().ok())
        .map(|r| format!("`{}`", plan_path(plan_dir, &r)))
        .collect();
    let _ = writeln!(
        text,
        "# Merge plan written by `knit init` from {}. Review it, then run\n# `knit merge <this file> --out DIR` (docs/plan.md explains each key).",
        scanned.join(", ")
    );
    let outside: Vec<&str> = graph
        .services
        .iter()
        .enumerate()
        .filter(|(i, _)| !group.contains(i))
        .map(|(_, s)| s.name.as_str())
        .collect();
    if !outside.is_empty() {
        let _ = writeln!(
            text,
            "# Services found but not in this group: {} (`knit init --group` picks others).",
            outside.join(", ")
        );
    }
    let names: Vec<String> = group
        .iter()
        .map(|&i| toml_string(&graph.services[i].name))
        .collect();
    // Named after the one folder scanned, or else the plan's folder.
    let named_after = match roots {
        [one] => one.canonicalize().ok(),
        _ => Some(plan_dir.to_path_buf()),
    };
    let group_name = named_after
        .as_deref()
        .and_then(Path::file_name)
        .map_or_else(
            || "merged".to_string(),
            |n| knit_planner::plan_name(&n.to_string_lossy()),
        );
    let _ = writeln!(
        text,
        "\n[group]\nname = {}\n# In start order: each service starts after the services it calls.\nservices = [{}]",
        toml_string(&group_name),
        names.join(", ")
    );
    let shared = shared_env(graph, group);
    for &i in group {
        let s = &graph.services[i];
        let c = &s.candidate;
        let _ = writeln!(text, "\n[services.{}]", s.name);
        let _ = writeln!(
            text,
            "# Package `{}`, binary `{}` ({}).",
            c.package,
            c.bin,
            plan_path(plan_dir, &c.root)
        );
        if !s.serves.is_empty() {
            let served: Vec<&str> = s.serves.iter().map(String::as_str).collect();
            let _ = writeln!(text, "# Serves {}.", served.join(", "));
        }
        for (callee, sites) in calls_of(graph, i, group) {
            let _ = writeln!(
                text,
                "# Calls {callee} ({sites} call site{}).",
                if sites == 1 { "" } else { "s" }
            );
        }
        for refusal in &s.refusals {
            let _ = writeln!(text, "# knit merge refuses this as it is: {refusal}");
        }
        let _ = writeln!(text, "path = {}", toml_string(&plan_path(plan_dir, &c.dir)));
        if c.one_of_several {
            let _ = writeln!(
                text,
                "# The package has several binaries: this one is the service.\nbin = {}",
                toml_string(&c.bin)
            );
        }
        let vars: Vec<(&String, &Vec<usize>)> = shared
            .iter()
            .filter(|(_, readers)| readers.contains(&i))
            .collect();
        if !vars.is_empty() {
            let _ = writeln!(text, "\n[services.{}.env]", s.name);
            for (var, readers) in vars {
                let others: Vec<&str> = readers
                    .iter()
                    .filter(|r| **r != i)
                    .map(|&r| graph.services[r].name.as_str())
                    .collect();
                let own = format!("{}_{var}", s.name.to_uppercase());
                let _ = writeln!(
                    text,
                    "# `{var}` is read by {} too: merged, one process holds one environment,\n# so `{}` reads its own value from `{own}`.\n{} = {}",
                    others.join(", "),
                    s.name,
                    toml_key(var),
                    toml_string(&format!("${{{own}}}"))
                );
            }
        }
    }
    text
}

/// The calls of service `caller` to others of `group`: `callee-service
/// (gRPC service)` and how many sites.
fn calls_of(graph: &Graph, caller: usize, group: &[usize]) -> BTreeMap<String, usize> {
    let mut calls = BTreeMap::new();
    for c in graph.calls.iter().filter(|c| c.caller == caller) {
        let Some(provider) = c.provider.filter(|p| group.contains(p)) else {
            continue;
        };
        let callee = format!(
            "`{}` ({})",
            graph.services[provider].name,
            c.callee.as_deref().unwrap_or("?")
        );
        *calls.entry(callee).or_insert(0) += 1;
    }
    calls
}

/// The variables two or more services of `group` read, with their readers.
fn shared_env(graph: &Graph, group: &[usize]) -> BTreeMap<String, Vec<usize>> {
    let mut readers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &i in group {
        for var in &graph.services[i].env {
            readers.entry(var.clone()).or_default().push(i);
        }
    }
    readers.retain(|_, r| r.len() > 1);
    readers
}

/// `key` as a TOML key: bare when it can be.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        toml_string(key)
    }
}
