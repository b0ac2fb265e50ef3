//! Merge plans: the `knit.toml` that `knit merge` reads, for one chosen group.

use std::collections::HashMap;

use crate::graph::Graph;
use crate::selection::Selection;

/// Whether `name` is a name knit plans accept for a group or a service:
/// `[a-z][a-z0-9_]*` (it names packages, modules and environment variables).
pub fn is_plan_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `name` made a name knit plans accept ([`is_plan_name`]): ASCII letters
/// lowercased, every other character but digits and `_` replaced by `_`, and
/// `s_` put before a name that does not start with a letter.
pub fn plan_name(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name
    } else {
        format!("s_{name}")
    }
}

/// A TOML basic string (JSON string escapes are valid TOML escapes).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

impl Selection {
    /// The merge plan (`knit.toml`) of `groups[group_index]` (0-based: the
    /// group ranked `group_index + 1`). Paths come from `graph` as written
    /// there (the service's name when it has none); names are made valid
    /// plan names, with a comment where that changed one.
    pub fn emit_plan(&self, group_index: usize, graph: &Graph) -> Result<String, String> {
        let group = self.groups.get(group_index).ok_or_else(|| {
            format!(
                "there is no group {}: the selection has {} group(s)",
                group_index + 1,
                self.groups.len()
            )
        })?;
        let mut seen: HashMap<String, &str> = HashMap::new();
        let mut members = Vec::with_capacity(group.services.len());
        for name in &group.services {
            let service = graph
                .services
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| {
                    format!(
                        "service `{name}` of group {} is not in the graph",
                        group.rank
                    )
                })?;
            let plan = plan_name(name);
            if let Some(other) = seen.insert(plan.clone(), name) {
                return Err(format!(
                    "group {}: services `{other}` and `{name}` both become `{plan}` in a plan; rename one in the graph",
                    group.rank
                ));
            }
            members.push((plan, service));
        }
        let edges: Vec<String> = group
            .edges
            .iter()
            .map(|e| format!("{} -> {}", e.caller, e.callee))
            .collect();
        let mut out = format!(
            "# Merge plan emitted by `knit select` for group {}: {} (est. {:.2} cores saved).\n",
            group.rank,
            edges.join(", "),
            group.estimate.cores_saved
        );
        let names: Vec<String> = members.iter().map(|(plan, _)| quoted(plan)).collect();
        out += &format!(
            "[group]\nname = {}\nservices = [{}]\n",
            quoted(&group.name),
            names.join(", ")
        );
        for (plan, service) in members {
            out += &format!("\n[services.{plan}]\n");
            if plan != service.name {
                out += &format!(
                    "# `{}` in the graph; plan names must match [a-z][a-z0-9_]*.\n",
                    service.name
                );
            }
            out += &format!(
                "path = {}\n",
                quoted(service.path.as_deref().unwrap_or(&service.name))
            );
            if let Some(package) = &service.package {
                out += &format!("package = {}\n", quoted(package));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rules, select};

    fn graph(caller: &str, callee: &str, extra: &str) -> Graph {
        let service = |name: &str| {
            format!(
                r#"{{"name": "{name}", "cpu_cores": 10, "memory_limit_mb": 4096, "memory_used_mb": 1000,
                    "cpu_utilization": 0.5, "replicas": 2, "cache_heavy": false{extra}}}"#
            )
        };
        let text = format!(
            r#"{{"services": [{}, {}], "edges": [{{"caller": "{caller}", "callee": "{callee}", "calls_per_sec": 100,
                "affinity": 0.9, "serialization_cpu_share": 0.1, "latency_ms": 3}}]}}"#,
            service(caller),
            service(callee)
        );
        Graph::from_json(&text).unwrap()
    }

    #[test]
    fn emits_the_plan_of_a_pair() {
        let g = graph("a", "b", "");
        let plan = select(&g, &Rules::default()).emit_plan(0, &g).unwrap();
        assert_eq!(
            plan,
            "# Merge plan emitted by `knit select` for group 1: a -> b (est. 1.80 cores saved).\n\
             [group]\n\
             name = \"a_b\"\n\
             services = [\"b\", \"a\"]\n\
             \n\
             [services.b]\n\
             path = \"b\"\n\
             \n\
             [services.a]\n\
             path = \"a\"\n"
        );
    }

    #[test]
    fn emitted_names_are_sanitised_with_a_comment() {
        let g = graph("Web-Front", "cart.v2", r#", "path": "svc/x""#);
        let plan = select(&g, &Rules::default()).emit_plan(0, &g).unwrap();
        assert_eq!(
            plan,
            "# Merge plan emitted by `knit select` for group 1: Web-Front -> cart.v2 (est. 1.80 cores saved).\n\
             [group]\n\
             name = \"web_front_cart_v2\"\n\
             services = [\"cart_v2\", \"web_front\"]\n\
             \n\
             [services.cart_v2]\n\
             # `cart.v2` in the graph; plan names must match [a-z][a-z0-9_]*.\n\
             path = \"svc/x\"\n\
             \n\
             [services.web_front]\n\
             # `Web-Front` in the graph; plan names must match [a-z][a-z0-9_]*.\n\
             path = \"svc/x\"\n"
        );
    }

    #[test]
    fn emit_errors() {
        let g = graph("a-b", "a_b", "");
        let selection = select(&g, &Rules::default());
        assert_eq!(
            selection.emit_plan(0, &g).unwrap_err(),
            "group 1: services `a_b` and `a-b` both become `a_b` in a plan; rename one in the graph"
        );
        assert_eq!(
            selection.emit_plan(1, &g).unwrap_err(),
            "there is no group 2: the selection has 1 group(s)"
        );
        let other = graph("x", "y", "");
        assert_eq!(
            selection.emit_plan(0, &other).unwrap_err(),
            "service `a_b` of group 1 is not in the graph"
        );
    }

    #[test]
    fn plan_names_are_lowercase_letters_digits_and_underscores() {
        assert_eq!(plan_name("cart"), "cart");
        assert_eq!(plan_name("Feed-Rank"), "feed_rank");
        assert_eq!(plan_name("auth.v2"), "auth_v2");
        assert_eq!(plan_name("2fa"), "s_2fa");
        assert_eq!(plan_name("_x"), "s__x");
        assert_eq!(plan_name("café"), "caf_");
        for name in ["cart", "Feed-Rank", "2fa", "_x", "café", "", "ünï"] {
            assert!(is_plan_name(&plan_name(name)), "{name}");
        }
        assert!(!is_plan_name("Cart") && !is_plan_name("2fa") && !is_plan_name(""));
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(quoted(r#"a "b" \c"#), r#""a \"b\" \\c""#);
    }
}
