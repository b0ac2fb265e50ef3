//! A selection for people (a table) and for tools (JSON).

use crate::figures::num;
use crate::selection::Selection;

impl Selection {
    /// The groups, ranked, each followed by its merged edges; then every edge
    /// not merged with the rule that excluded it.
    pub fn to_table(&self) -> String {
        let total = self
            .groups
            .iter()
            .fold(0.0, |sum, g| sum + g.estimate.cores_saved);
        let mut out = format!(
            "{}, {total:.2} cores saved in all; {} not merged.\n",
            count(self.groups.len(), "merge group"),
            count(self.excluded.len(), "edge")
        );
        if !self.groups.is_empty() {
            let mut rows = vec![cells([
                "#",
                "group",
                "services (callees first)",
                "cores saved",
                "latency saved",
                "memory (merged/limit)",
            ])];
            rows.extend(self.groups.iter().map(|g| {
                cells([
                    &g.rank.to_string(),
                    &g.name,
                    &g.services.join(", "),
                    &format!("{:.2}", g.estimate.cores_saved),
                    &format!("{:.2} ms/call", g.estimate.latency_saved_ms_per_call),
                    &format!("{:.0}/{:.0} MB", g.merged_memory_mb, g.memory_limit_mb),
                ])
            }));
            let rows = aligned(&rows, &[false, false, false, true, true, true]);
            out += "\n";
            out += &rows[0];
            for (row, g) in rows[1..].iter().zip(&self.groups) {
                out += row;
                for e in &g.edges {
                    let assumed = if e.serialization_assumed {
                        " (assumed)"
                    } else {
                        ""
                    };
                    out += &format!(
                        "     {} -> {}: {:.2} cores, {:.2} ms/call (affinity {}, serialization {}{assumed}, {} calls/s)\n",
                        e.caller,
                        e.callee,
                        e.estimate.cores_saved,
                        e.estimate.latency_saved_ms_per_call,
                        num(e.affinity),
                        num(e.serialization_cpu_share),
                        num(e.calls_per_sec)
                    );
                }
            }
        }
        if !self.excluded.is_empty() {
            let mut rows = vec![cells(["edge", "reason", "detail"])];
            rows.extend(self.excluded.iter().map(|x| {
                cells([
                    &format!("{} -> {}", x.caller, x.callee),
                    x.reason.as_str(),
                    &x.detail,
                ])
            }));
            out += "\nNot merged:\n";
            out += &aligned(&rows, &[false, false, false]).concat();
        }
        out
    }

    /// The selection as pretty JSON with a trailing newline: `groups`,
    /// `excluded` and the `rules` applied; figures rounded to 6 decimals.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a selection serializes") + "\n"
    }
}

/// `1 edge`, `2 edges`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn cells<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// Rows padded into columns two spaces apart (`right[i]`: right-aligned), each
/// ending in a newline.
fn aligned(rows: &[Vec<String>], right: &[bool]) -> Vec<String> {
    let mut widths = vec![0; right.len()];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let padded: Vec<String> = row
                .iter()
                .zip(widths.iter().zip(right))
                .map(|(cell, (&w, &right))| {
                    if right {
                        format!("{cell:>w$}")
                    } else {
                        format!("{cell:<w$}")
                    }
                })
                .collect();
            padded.join("  ").trim_end().to_string() + "\n"
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Graph, Rules, select};

    #[test]
    fn figures_for_people_have_at_most_4_decimals() {
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.45), "0.45");
        assert_eq!(num(2.0 / 3.0), "0.6667");
        assert_eq!(num(12000.0), "12000");
        assert_eq!(num(-0.0), "0");
    }

    fn example() -> Selection {
        let g = Graph::from_json(include_str!("../../corpus/graphs/example.json")).unwrap();
        select(&g, &Rules::default())
    }

    #[test]
    fn table_lists_groups_with_edges_then_exclusions() {
        let table = example().to_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "2 merge groups, 14.44 cores saved in all; 7 edges not merged."
        );
        assert_eq!(
            lines[3],
            "1  feed_feed_rank  feed-rank, feed                 11.52   4.00 ms/call           7200/8192 MB"
        );
        assert_eq!(
            lines[4],
            "     feed -> feed-rank: 11.52 cores, 4.00 ms/call (affinity 0.96, serialization 0.1, 12000 calls/s)"
        );
        assert_eq!(lines[8], "Not merged:");
        assert_eq!(
            lines[14],
            "search -> catalog       low_affinity            affinity 0.45 < min_affinity 0.8"
        );
    }

    #[test]
    fn an_empty_selection_says_so() {
        let empty = select(
            &Graph {
                services: vec![],
                edges: vec![],
            },
            &Rules::default(),
        );
        assert_eq!(
            empty.to_table(),
            "0 merge groups, 0.00 cores saved in all; 0 edges not merged.\n"
        );
    }

    #[test]
    fn json_holds_groups_exclusions_and_rules() {
        let json = example().to_json();
        assert!(json.ends_with("}\n"));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let group = &value["groups"][1];
        assert_eq!(group["name"], "ads_ad_ranker");
        // 0.06 × (24 + 30) × 0.9 = 2.916, rounded to 6 decimals.
        assert_eq!(group["cores_saved"], 2.916);
        assert_eq!(group["edges"][0]["serialization_assumed"], false);
        assert_eq!(value["excluded"][0]["reason"], "already_grouped");
        assert_eq!(value["excluded"].as_array().unwrap().len(), 7);
        assert_eq!(value["rules"]["min_affinity"], 0.8);
        assert_eq!(
            value["rules"]["max_merged_memory_mb"],
            serde_json::Value::Null
        );
    }
}
