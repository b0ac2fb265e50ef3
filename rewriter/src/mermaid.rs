//! The group as a Mermaid graph, for the top of report.md (GitHub draws it):
//! services as nodes, call sites as edges labelled with their count and tier,
//! gRPC services outside the group drawn apart.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::Report;

/// A fenced `mermaid` block of `report`'s group, or nothing for a report
/// without services.
pub fn group_graph(report: &Report) -> String {
    if report.services.is_empty() {
        return String::new();
    }
    let mut text = String::from("```mermaid\nflowchart LR\n");
    let _ = writeln!(text, "  subgraph group[\"group {}\"]", report.group);
    for s in &report.services {
        let _ = writeln!(text, "    {}[\"{}\"]", node(&s.name), s.name);
    }
    text.push_str("  end\n");
    // (caller, callee node, tier) -> call sites
    let mut edges: BTreeMap<(String, String, &str), usize> = BTreeMap::new();
    let mut outside: BTreeMap<String, String> = BTreeMap::new();
    for c in &report.calls {
        let target = match &c.provider {
            Some(provider) => node(provider),
            None => {
                let id = format!("outside_{}", node(&c.callee));
                let label = if c.callee.is_empty() { "?" } else { &c.callee };
                outside.insert(id.clone(), label.to_string());
                id
            }
        };
        *edges
            .entry((node(&c.service), target, c.tier.name()))
            .or_insert(0) += 1;
    }
    if !outside.is_empty() {
        text.push_str("  subgraph outside[\"outside the group\"]\n");
        for (id, label) in &outside {
            let _ = writeln!(text, "    {id}[[\"{label}\"]]");
        }
        text.push_str("  end\n");
    }
    for ((caller, target, tier), count) in &edges {
        let arrow = match *tier {
            "inline" => "-->",
            "bridged" => "==>",
            _ => "-.->",
        };
        let _ = writeln!(text, "  {caller} {arrow}|\"{count} {tier}\"| {target}");
    }
    text.push_str("```\n\n");
    text
}

/// A Mermaid node id for `name`: letters, digits and `_`.
fn node(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
