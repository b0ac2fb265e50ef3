//! The checked-in graphs (corpus/graphs/) end to end, and the docs that show
//! their output (docs/select.md).

use knit_planner::{Graph, Reason, Rules, Selection, select};

const EXAMPLE: &str = include_str!("../../corpus/graphs/example.json");
const TRACE: &str = include_str!("../../corpus/graphs/trace.otlp.json");
const DOCS: &str = include_str!("../../docs/select.md");

fn example() -> (Graph, Selection) {
    let graph = Graph::from_json(EXAMPLE).unwrap();
    let selection = select(&graph, &Rules::default());
    (graph, selection)
}

/// What docs/select.md shows after the line `$ {command}`, up to the code fence.
fn documented(command: &str) -> String {
    let start = DOCS
        .find(&format!("$ {command}\n"))
        .unwrap_or_else(|| panic!("docs lack `$ {command}`"));
    let output = &DOCS[start + command.len() + 3..];
    output[..output.find("```").unwrap()].to_string()
}

#[test]
fn the_worked_example_pair_is_group_1() {
    let (_, selection) = example();
    let group = &selection.groups[0];
    assert_eq!(group.name, "feed_feed_rank");
    assert_eq!(group.services, ["feed-rank", "feed"]);
    // 0.10 × (48 + 72) × 0.96 = 11.52 cores; 4.0 ms per call; 1.2 × (2500 + 3500) MB.
    assert!(
        (group.estimate.cores_saved - 11.52).abs() < 1e-9,
        "{group:?}"
    );
    assert_eq!(group.estimate.latency_saved_ms_per_call, 4.0);
    assert_eq!(
        (group.merged_memory_mb, group.memory_limit_mb),
        (7200.0, 8192.0)
    );
    let second = &selection.groups[1];
    assert_eq!(second.name, "ads_ad_ranker");
    assert!((second.estimate.cores_saved - 2.916).abs() < 1e-9);
}

#[test]
fn the_example_shows_every_rule_once() {
    let (_, selection) = example();
    let reasons: Vec<(&str, Reason)> = selection
        .excluded
        .iter()
        .map(|x| (x.callee.as_str(), x.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("ads", Reason::AlreadyGrouped),
            ("profile", Reason::LowSerializationCost),
            ("auth", Reason::HighlyLoaded),
            ("notify", Reason::LowResourceUse),
            ("catalog", Reason::LowAffinity),
            ("search-cache", Reason::CacheHeavy),
            ("transcoder", Reason::MemoryLimit),
        ]
    );
}

#[test]
fn docs_show_the_current_output() {
    let (graph, selection) = example();
    assert_eq!(
        documented("knit select corpus/graphs/example.json"),
        selection.to_table()
    );
    assert_eq!(
        documented(
            "knit select corpus/graphs/example.json --emit-plan knit.toml --group 1\n$ cat knit.toml"
        ),
        selection.emit_plan(0, &graph).unwrap()
    );
    let traced = select(&Graph::from_otlp_json(TRACE).unwrap(), &Rules::default());
    assert_eq!(
        documented("knit select --otlp corpus/graphs/trace.otlp.json"),
        traced.to_table()
    );
}

#[test]
fn docs_rules_example_parses() {
    let start = DOCS.find("# rules.toml\n").unwrap();
    let text = &DOCS[start..start + DOCS[start..].find("```").unwrap()];
    let rules = Rules::from_toml(text).unwrap();
    assert_eq!(
        (
            rules.min_affinity,
            rules.min_cpu_cores,
            rules.max_merged_memory_mb
        ),
        (0.9, 4.0, Some(16384.0))
    );
}
