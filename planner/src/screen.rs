//! The rules on one edge: the first one it fails, with the figures behind it.

use crate::figures::num;
use crate::graph::ServiceNode;
use crate::rules::Rules;
use crate::selection::{MergedEdge, Reason};

/// A rule on one service: what it finds wrong, if anything.
type ServiceRule = fn(&ServiceNode, &Rules) -> Option<String>;

/// The rules on one service, in the order they are checked.
const SERVICE_RULES: [(Reason, ServiceRule); 4] = [
    (Reason::MissingResourceData, missing_resource_data),
    (Reason::LowResourceUse, low_resource_use),
    (Reason::CacheHeavy, cache_heavy),
    (Reason::HighlyLoaded, highly_loaded),
];

/// The first rule an edge fails, with its figures; `Ok` for a candidate.
pub(crate) fn screen(
    e: &MergedEdge,
    caller: &ServiceNode,
    callee: &ServiceNode,
    rules: &Rules,
) -> Result<(), (Reason, String)> {
    if e.affinity < rules.min_affinity {
        let detail = format!(
            "affinity {} < min_affinity {}",
            num(e.affinity),
            num(rules.min_affinity)
        );
        return Err((Reason::LowAffinity, detail));
    }
    if e.serialization_cpu_share < rules.min_serialization_cpu_share {
        let assumed = if e.serialization_assumed {
            " (assumed)"
        } else {
            ""
        };
        let detail = format!(
            "serialization_cpu_share {}{assumed} < min_serialization_cpu_share {}",
            num(e.serialization_cpu_share),
            num(rules.min_serialization_cpu_share)
        );
        return Err((Reason::LowSerializationCost, detail));
    }
    for (reason, rule) in SERVICE_RULES {
        let found: Vec<String> = [caller, callee]
            .iter()
            .filter_map(|s| rule(s, rules))
            .collect();
        if !found.is_empty() {
            return Err((reason, found.join("; ")));
        }
    }
    let largest = if callee.memory_limit_mb > caller.memory_limit_mb {
        callee
    } else {
        caller
    };
    check_memory(
        caller.memory_used_mb + callee.memory_used_mb,
        largest.memory_limit_mb,
        &largest.name,
        rules,
    )
    .map_err(|why| (Reason::MemoryLimit, why))
}

fn missing_resource_data(s: &ServiceNode, _: &Rules) -> Option<String> {
    (!s.measured).then(|| format!("`{}` has no resource figures (read from traces)", s.name))
}

fn low_resource_use(s: &ServiceNode, rules: &Rules) -> Option<String> {
    (s.cpu_cores < rules.min_cpu_cores).then(|| {
        let (cores, min) = (num(s.cpu_cores), num(rules.min_cpu_cores));
        format!("`{}` uses {cores} cores < min_cpu_cores {min}", s.name)
    })
}

fn cache_heavy(s: &ServiceNode, rules: &Rules) -> Option<String> {
    if s.cache_heavy {
        return Some(format!(
            "`{}` is cache-heavy (`cache_heavy` is true)",
            s.name
        ));
    }
    (s.cache_memory_share >= rules.cache_heavy_memory_share).then(|| {
        let (share, max) = (
            num(s.cache_memory_share),
            num(rules.cache_heavy_memory_share),
        );
        format!(
            "`{}` is cache-heavy: cache_memory_share {share} >= cache_heavy_memory_share {max}",
            s.name
        )
    })
}

fn highly_loaded(s: &ServiceNode, rules: &Rules) -> Option<String> {
    (s.cpu_utilization >= rules.highly_loaded_utilization).then(|| {
        let (used, max) = (num(s.cpu_utilization), num(rules.highly_loaded_utilization));
        format!(
            "`{}` cpu_utilization {used} >= highly_loaded_utilization {max}",
            s.name
        )
    })
}

/// Whether `memory_headroom × used_mb` fits under `max_merged_memory_mb`, or
/// else under the largest member limit (`largest_mb`, of service `owner`).
pub(crate) fn check_memory(
    used_mb: f64,
    largest_mb: f64,
    owner: &str,
    rules: &Rules,
) -> Result<(), String> {
    let merged = rules.memory_headroom * used_mb;
    let (limit_mb, source) = match rules.max_merged_memory_mb {
        Some(max) => (max, "max_merged_memory_mb".to_string()),
        None => (largest_mb, format!("the largest member limit, `{owner}`'s")),
    };
    if merged <= limit_mb {
        Ok(())
    } else {
        Err(format!(
            "merged memory {} × {used_mb:.0} MB = {merged:.0} MB exceeds {limit_mb:.0} MB ({source})",
            num(rules.memory_headroom)
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::fixtures::{edge, svc};
    use crate::{Graph, Rules, select};

    fn pair() -> Graph {
        Graph {
            services: vec![svc("a", 10.0), svc("b", 20.0)],
            edges: vec![edge("a", "b", 0.9, 0.1)],
        }
    }

    /// The reason and detail of the pair's edge, or "merged".
    fn verdict(graph: &Graph, rules: &Rules) -> (String, String) {
        let selection = select(graph, rules);
        match selection.excluded.first() {
            Some(x) => (x.reason.as_str().to_string(), x.detail.clone()),
            None => ("merged".into(), selection.groups[0].name.clone()),
        }
    }

    fn reason_of(graph: &Graph) -> String {
        verdict(graph, &Rules::default()).0
    }

    #[test]
    fn a_candidate_pair_is_merged_with_its_estimate() {
        let selection = select(&pair(), &Rules::default());
        assert!(selection.excluded.is_empty());
        let [group] = &selection.groups[..] else {
            panic!("{selection:?}")
        };
        assert_eq!((group.rank, group.name.as_str()), (1, "a_b"));
        assert_eq!(group.services, ["b", "a"]);
        // 0.1 × (10 + 20) × 0.9 = 2.7 cores; 2 ms per call; 1.2 × (1000 + 1000) MB of 4000 MB.
        assert!((group.estimate.cores_saved - 2.7).abs() < 1e-9, "{group:?}");
        assert_eq!(group.estimate.latency_saved_ms_per_call, 2.0);
        assert_eq!(
            (group.merged_memory_mb, group.memory_limit_mb),
            (2400.0, 4000.0)
        );
    }

    #[test]
    fn affinity_rule() {
        let mut g = pair();
        g.edges[0].affinity = 0.8;
        assert_eq!(reason_of(&g), "merged");
        g.edges[0].affinity = 0.79;
        assert_eq!(
            verdict(&g, &Rules::default()),
            (
                "low_affinity".into(),
                "affinity 0.79 < min_affinity 0.8".into()
            )
        );
        let rules = Rules {
            min_affinity: 0.7,
            ..Rules::default()
        };
        assert_eq!(verdict(&g, &rules).0, "merged");
    }

    #[test]
    fn serialization_rule() {
        let mut g = pair();
        g.edges[0].serialization_cpu_share = Some(0.03);
        assert_eq!(reason_of(&g), "merged");
        g.edges[0].serialization_cpu_share = Some(0.029);
        assert_eq!(
            verdict(&g, &Rules::default()),
            (
                "low_serialization_cost".into(),
                "serialization_cpu_share 0.029 < min_serialization_cpu_share 0.03".into()
            )
        );
        g.edges[0].serialization_cpu_share = None;
        let rules = Rules {
            assumed_serialization_cpu_share: 0.02,
            ..Rules::default()
        };
        assert_eq!(
            verdict(&g, &rules).1,
            "serialization_cpu_share 0.02 (assumed) < min_serialization_cpu_share 0.03"
        );
    }

    #[test]
    fn resource_use_rule_needs_both_services() {
        let mut g = pair();
        g.services[1].cpu_cores = 2.0;
        assert_eq!(reason_of(&g), "merged");
        g.services[1].cpu_cores = 1.5;
        assert_eq!(
            verdict(&g, &Rules::default()),
            (
                "low_resource_use".into(),
                "`b` uses 1.5 cores < min_cpu_cores 2".into()
            )
        );
        g.services[0].cpu_cores = 0.5;
        assert_eq!(
            verdict(&g, &Rules::default()).1,
            "`a` uses 0.5 cores < min_cpu_cores 2; `b` uses 1.5 cores < min_cpu_cores 2"
        );
    }

    #[test]
    fn cache_heavy_rule_by_flag_or_share() {
        let mut g = pair();
        g.services[0].cache_memory_share = 0.49;
        assert_eq!(reason_of(&g), "merged");
        g.services[0].cache_memory_share = 0.5;
        assert_eq!(
            verdict(&g, &Rules::default()),
            (
                "cache_heavy".into(),
                "`a` is cache-heavy: cache_memory_share 0.5 >= cache_heavy_memory_share 0.5".into()
            )
        );
        let mut g = pair();
        g.services[1].cache_heavy = true;
        assert_eq!(
            verdict(&g, &Rules::default()),
            (
                "cache_heavy".into(),
                "`b` is cache-heavy (`cache_heavy` is true)".into()
            )
        );
    }

    #[test]
    fn highly_loaded_rule() {
        let mut g = pair();
        g.services[1].cpu_utilization = 0.79;
        assert_eq!(reason_of(&g), "merged");
        g.services[1].cpu_utilization = 0.8;
        assert_eq!(
            verdict(&g, &Rules::default()),
            (
                "highly_loaded".into(),
                "`b` cpu_utilization 0.8 >= highly_loaded_utilization 0.8".into()
            )
        );
    }

    #[test]
    fn memory_rule_uses_headroom_and_the_largest_limit() {
        let mut g = pair();
        // 1.2 × (1500 + 1500) = 3600 ≤ 4000; 1.2 × (1500 + 1900) = 4080 > 4000.
        g.services[0].memory_used_mb = 1500.0;
        g.services[1].memory_used_mb = 1500.0;
        assert_eq!(reason_of(&g), "merged");
        g.services[1].memory_used_mb = 1900.0;
        assert_eq!(
            verdict(&g, &Rules::default()),
            (
                "memory_limit".into(),
                "merged memory 1.2 × 3400 MB = 4080 MB exceeds 4000 MB (the largest member limit, `a`'s)".into()
            )
        );
        g.services[1].memory_limit_mb = 4096.0;
        assert_eq!(reason_of(&g), "merged");
        let rules = Rules {
            max_merged_memory_mb: Some(4000.0),
            ..Rules::default()
        };
        assert_eq!(
            verdict(&g, &rules).1,
            "merged memory 1.2 × 3400 MB = 4080 MB exceeds 4000 MB (max_merged_memory_mb)"
        );
        let rules = Rules {
            memory_headroom: 1.0,
            ..rules
        };
        assert_eq!(verdict(&g, &rules).0, "merged");
    }

    #[test]
    fn services_from_traces_lack_resource_data() {
        let mut g = pair();
        g.services[0].measured = false;
        assert_eq!(
            verdict(&g, &Rules::default()),
            (
                "missing_resource_data".into(),
                "`a` has no resource figures (read from traces)".into()
            )
        );
        g.edges[0].affinity = 0.5;
        assert_eq!(reason_of(&g), "low_affinity");
    }

    #[test]
    fn the_first_failing_rule_is_the_reason() {
        let mut g = pair();
        g.services[0].cache_heavy = true;
        g.services[1].cpu_utilization = 0.95;
        assert_eq!(reason_of(&g), "cache_heavy");
        g.services[1].cpu_cores = 1.0;
        assert_eq!(reason_of(&g), "low_resource_use");
        g.edges[0].serialization_cpu_share = Some(0.0);
        assert_eq!(reason_of(&g), "low_serialization_cost");
        g.edges[0].affinity = 0.0;
        assert_eq!(reason_of(&g), "low_affinity");
    }
}
