//! A fleet-sized synthetic graph: `select` completes and its selection is
//! consistent. No timing assertions (CI machines vary); see docs/select.md.

use std::collections::HashMap;

use knit_planner::{Reason, Rules, select, synthetic};

#[test]
fn fleet_sized_graph_gives_a_consistent_selection() {
    let graph = synthetic(2_000, 40_000, 42);
    graph.validate().unwrap();
    let rules = Rules::default();
    let selection = select(&graph, &rules);
    let services: HashMap<&str, _> = graph
        .services
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();

    // No service in two groups; groups ranked by cores saved; memory within the limit.
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for (i, group) in selection.groups.iter().enumerate() {
        assert_eq!(group.rank, i + 1);
        assert!(group.services.len() >= 2);
        for name in &group.services {
            assert!(
                group_of.insert(name, i).is_none(),
                "`{name}` is in two groups"
            );
        }
        let used: f64 = group
            .services
            .iter()
            .map(|s| services[s.as_str()].memory_used_mb)
            .sum();
        assert!((group.merged_memory_mb - rules.memory_headroom * used).abs() < 1e-6);
        assert!(group.merged_memory_mb <= group.memory_limit_mb);
        let sum: f64 = group.edges.iter().map(|e| e.estimate.cores_saved).sum();
        assert!((group.estimate.cores_saved - sum).abs() < 1e-9);
    }
    for pair in selection.groups.windows(2) {
        assert!(pair[0].estimate.cores_saved >= pair[1].estimate.cores_saved);
    }

    // Every edge is merged (both ends in one group) or excluded, exactly once, with one reason.
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for group in &selection.groups {
        for e in &group.edges {
            *seen.entry((&e.caller, &e.callee)).or_default() += 1;
            assert_eq!(group_of.get(e.caller.as_str()), Some(&(group.rank - 1)));
            assert_eq!(group_of.get(e.callee.as_str()), Some(&(group.rank - 1)));
        }
    }
    let mut reasons: HashMap<Reason, usize> = HashMap::new();
    for x in &selection.excluded {
        *seen.entry((&x.caller, &x.callee)).or_default() += 1;
        *reasons.entry(x.reason).or_default() += 1;
        assert!(!x.detail.is_empty());
        let (gu, gw) = (
            group_of.get(x.caller.as_str()),
            group_of.get(x.callee.as_str()),
        );
        assert!(gu.is_none() || gu != gw, "{x:?} joins members of one group");
        if x.reason == Reason::AlreadyGrouped {
            assert!(gu.is_some() && gw.is_some());
        }
    }
    assert_eq!(seen.len(), graph.edges.len());
    assert!(seen.values().all(|&n| n == 1));

    // The graph exercises grouping and most rules, not just one path.
    assert!(
        selection.groups.len() >= 10,
        "{} groups",
        selection.groups.len()
    );
    assert!(
        selection.groups.iter().any(|g| g.services.len() > 2),
        "no group larger than a pair"
    );
    let every = [
        Reason::LowAffinity,
        Reason::LowSerializationCost,
        Reason::LowResourceUse,
        Reason::CacheHeavy,
        Reason::HighlyLoaded,
        Reason::MemoryLimit,
        Reason::AlreadyGrouped,
    ];
    for reason in every {
        assert!(
            reasons.contains_key(&reason),
            "no {reason:?} in {reasons:?}"
        );
    }
}
