//! The fleet graph with the chosen groups, for people who would rather look:
//! Mermaid (GitHub draws it in Markdown) and Graphviz dot. Each group is a box
//! of its services; edge width grows with traffic; edges merged inside a group
//! are solid and labelled with the cores they save, the others dashed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::figures::num;
use crate::graph::Graph;
use crate::selection::Selection;

/// Stroke width of an edge carrying `calls` per second, against the busiest
/// edge's `max`: 1 to 6.
fn width(calls: f64, max: f64) -> f64 {
    if max <= 0.0 || !calls.is_finite() {
        return 1.0;
    }
    1.0 + 5.0 * (calls / max).clamp(0.0, 1.0).sqrt()
}

/// A node id: letters, digits and `_`, prefixed so it never starts with a digit.
fn id(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("s_{cleaned}")
}

/// A label inside double quotes.
fn label(text: &str) -> String {
    text.replace('"', "'")
}

impl Selection {
    /// Which group (by index) each service is in.
    fn group_of(&self) -> BTreeMap<&str, usize> {
        let mut of = BTreeMap::new();
        for (i, g) in self.groups.iter().enumerate() {
            for s in &g.services {
                of.insert(s.as_str(), i);
            }
        }
        of
    }

    /// The cores a merged edge saves, when `caller -> callee` is merged.
    fn saved(&self, caller: &str, callee: &str) -> Option<f64> {
        self.groups
            .iter()
            .flat_map(|g| &g.edges)
            .find(|e| e.caller == caller && e.callee == callee)
            .map(|e| e.estimate.cores_saved)
    }

    /// The fleet graph as a Mermaid flowchart.
    pub fn to_mermaid(&self, graph: &Graph) -> String {
        let of = self.group_of();
        let mut out = String::from("flowchart LR\n");
        for (i, g) in self.groups.iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph g{}[\"group {}: {}, {:.2} cores saved\"]",
                i + 1,
                g.rank,
                label(&g.name),
                g.estimate.cores_saved
            );
            for s in &g.services {
                let _ = writeln!(out, "    {}[\"{}\"]", id(s), label(s));
            }
            out.push_str("  end\n");
        }
        for s in graph
            .services
            .iter()
            .filter(|s| !of.contains_key(s.name.as_str()))
        {
            let _ = writeln!(out, "  {}[\"{}\"]", id(&s.name), label(&s.name));
        }
        let max = graph
            .edges
            .iter()
            .map(|e| e.calls_per_sec)
            .fold(0.0, f64::max);
        let mut styles = String::new();
        for (n, e) in graph.edges.iter().enumerate() {
            let text = match self.saved(&e.caller, &e.callee) {
                Some(saved) => format!("{} calls/s, {saved:.2} cores saved", num(e.calls_per_sec)),
                None => format!("{} calls/s", num(e.calls_per_sec)),
            };
            let arrow = if self.saved(&e.caller, &e.callee).is_some() {
                "-->"
            } else {
                "-.->"
            };
            let _ = writeln!(
                out,
                "  {} {arrow}|\"{text}\"| {}",
                id(&e.caller),
                id(&e.callee)
            );
            let _ = writeln!(
                styles,
                "  linkStyle {n} stroke-width:{:.1}px",
                width(e.calls_per_sec, max)
            );
        }
        out + &styles
    }

    /// The fleet graph in Graphviz dot.
    pub fn to_dot(&self, graph: &Graph) -> String {
        let of = self.group_of();
        let mut out = String::from("digraph fleet {\n  rankdir=LR;\n  node [shape=box];\n");
        for (i, g) in self.groups.iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph cluster_{} {{\n    label=\"group {}: {}, {:.2} cores saved\";",
                i + 1,
                g.rank,
                label(&g.name),
                g.estimate.cores_saved
            );
            for s in &g.services {
                let _ = writeln!(out, "    {} [label=\"{}\"];", id(s), label(s));
            }
            out.push_str("  }\n");
        }
        for s in graph
            .services
            .iter()
            .filter(|s| !of.contains_key(s.name.as_str()))
        {
            let _ = writeln!(out, "  {} [label=\"{}\"];", id(&s.name), label(&s.name));
        }
        let max = graph
            .edges
            .iter()
            .map(|e| e.calls_per_sec)
            .fold(0.0, f64::max);
        for e in &graph.edges {
            let (style, text) = match self.saved(&e.caller, &e.callee) {
                Some(saved) => (
                    "solid",
                    format!("{} calls/s, {saved:.2} cores saved", num(e.calls_per_sec)),
                ),
                None => ("dashed", format!("{} calls/s", num(e.calls_per_sec))),
            };
            let _ = writeln!(
                out,
                "  {} -> {} [label=\"{text}\", style={style}, penwidth={:.1}];",
                id(&e.caller),
                id(&e.callee),
                width(e.calls_per_sec, max)
            );
        }
        out + "}\n"
    }
}

#[cfg(test)]
mod tests {
    use crate::fixtures::{edge, svc};
    use crate::graph::Graph;
    use crate::{Rules, select};

    /// `web` calls `api` (merged) and `billing` (not: low affinity).
    fn fleet() -> Graph {
        let mut busy = edge("web", "api", 0.9, 0.2);
        busy.calls_per_sec = 400.0;
        Graph {
            services: vec![svc("web", 10.0), svc("api", 10.0), svc("billing", 10.0)],
            edges: vec![busy, edge("web", "billing", 0.1, 0.2)],
        }
    }

    #[test]
    fn draws_groups_and_edges_by_traffic() {
        let graph = fleet();
        let selection = select(&graph, &Rules::default());
        assert_eq!(selection.groups.len(), 1);
        let saved = selection.groups[0].estimate.cores_saved;
        let edge = selection.groups[0].edges[0].estimate.cores_saved;
        let expected = format!(
            "flowchart LR\n  subgraph g1[\"group 1: {name}, {saved:.2} cores saved\"]\n    s_{a}[\"{a}\"]\n    s_{b}[\"{b}\"]\n  end\n  s_billing[\"billing\"]\n  s_web -->|\"400 calls/s, {edge:.2} cores saved\"| s_api\n  s_web -.->|\"100 calls/s\"| s_billing\n  linkStyle 0 stroke-width:6.0px\n  linkStyle 1 stroke-width:3.5px\n",
            name = selection.groups[0].name,
            a = selection.groups[0].services[0],
            b = selection.groups[0].services[1],
        );
        assert_eq!(selection.to_mermaid(&graph), expected);
        let dot = selection.to_dot(&graph);
        assert!(dot.starts_with("digraph fleet {\n  rankdir=LR;\n"), "{dot}");
        assert!(dot.contains("subgraph cluster_1 {"), "{dot}");
        assert!(
            dot.contains("s_web -> s_api [label=\"400 calls/s, "),
            "{dot}"
        );
        assert!(dot.contains("style=solid, penwidth=6.0];"), "{dot}");
        assert!(
            dot.contains("s_web -> s_billing [label=\"100 calls/s\", style=dashed, penwidth=3.5];"),
            "{dot}"
        );
    }
}
