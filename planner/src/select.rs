//! Choosing merge groups: screen every edge against the rules, then grow
//! groups greedily along the candidate edges, best estimated saving first.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};

use crate::estimate::Estimate;
use crate::graph::{Graph, ServiceNode};
use crate::plan::plan_name;
use crate::rules::Rules;
use crate::screen::{check_memory, screen};
use crate::selection::{Exclusion, Group, MergedEdge, Reason, Selection};

/// Picks merge groups from `graph` under `rules`.
///
/// Each edge is screened against the rules in the order of [`Reason`]; the
/// edges that pass (candidates) are taken best estimated saving first: two
/// ungrouped services start a group, a grouped and an ungrouped one grow the
/// group if its merged memory stays within the limit, two services already in
/// different groups stay apart. Every edge between members of one group is
/// merged; every other edge gets one reason. O(E log E).
///
/// # Panics
/// If an edge names a service missing from `graph.services`: graphs from
/// `Graph::from_json`, `Graph::from_otlp_json` and `synthetic` never do; check
/// others with `Graph::validate`.
pub fn select(graph: &Graph, rules: &Rules) -> Selection {
    let services = &graph.services;
    let index: HashMap<&str, usize> = services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let find = |name: &str| {
        *index
            .get(name)
            .unwrap_or_else(|| panic!("edge names unknown service `{name}`"))
    };
    let ends: Vec<(usize, usize)> = graph
        .edges
        .iter()
        .map(|e| (find(&e.caller), find(&e.callee)))
        .collect();
    let merged: Vec<MergedEdge> = graph
        .edges
        .iter()
        .zip(&ends)
        .map(|(e, &(u, w))| {
            let share = e
                .serialization_cpu_share
                .unwrap_or(rules.assumed_serialization_cpu_share);
            MergedEdge {
                caller: e.caller.clone(),
                callee: e.callee.clone(),
                calls_per_sec: e.calls_per_sec,
                affinity: e.affinity,
                serialization_cpu_share: share,
                serialization_assumed: e.serialization_cpu_share.is_none(),
                latency_ms: e.latency_ms,
                estimate: Estimate::of_edge(
                    share,
                    services[u].cpu_cores,
                    services[w].cpu_cores,
                    e.affinity,
                    e.latency_ms,
                    rules.in_process_call_ms,
                ),
            }
        })
        .collect();
    let mut screened: Vec<Option<(Reason, String)>> = merged
        .iter()
        .zip(&ends)
        .map(|(e, &(u, w))| screen(e, &services[u], &services[w], rules).err())
        .collect();
    let mut candidates: Vec<usize> = (0..merged.len())
        .filter(|&i| screened[i].is_none())
        .collect();
    candidates.sort_by(|&a, &b| better(&merged[a], &merged[b]));

    let mut growth = Growth::new(services.len());
    for i in candidates {
        growth.take(i, ends[i], services, rules);
    }
    let mut groups = growth.groups(&ends, &merged, services, rules);

    let mut excluded = Vec::new();
    for (i, &(u, w)) in ends.iter().enumerate() {
        let (gu, gw) = (growth.group_of[u], growth.group_of[w]);
        if gu.is_some() && gu == gw {
            continue;
        }
        let (reason, detail) = if let Some(screened) = screened[i].take() {
            screened
        } else if let Some(detail) = growth.memory_rejected.remove(&i) {
            (Reason::MemoryLimit, detail)
        } else {
            let (Some(g), Some(h)) = (gu, gw) else {
                unreachable!("a candidate edge is grouped, refused for memory, or between groups")
            };
            let detail = format!(
                "`{}` is in group `{}` and `{}` in group `{}`; groups are not fused",
                services[u].name, groups[g].name, services[w].name, groups[h].name
            );
            (Reason::AlreadyGrouped, detail)
        };
        let e = &graph.edges[i];
        excluded.push(Exclusion {
            caller: e.caller.clone(),
            callee: e.callee.clone(),
            reason,
            detail,
        });
    }
    excluded.sort_by(|a, b| (&a.caller, &a.callee).cmp(&(&b.caller, &b.callee)));

    groups.sort_by(|a, b| {
        b.estimate
            .cores_saved
            .total_cmp(&a.estimate.cores_saved)
            .then_with(|| a.name.cmp(&b.name))
    });
    for (i, group) in groups.iter_mut().enumerate() {
        group.rank = i + 1;
    }
    Selection {
        groups,
        excluded,
        rules: rules.clone(),
    }
}

/// Larger estimated saving first; ties by caller, then callee.
fn better(a: &MergedEdge, b: &MergedEdge) -> Ordering {
    b.estimate
        .cores_saved
        .total_cmp(&a.estimate.cores_saved)
        .then_with(|| (&a.caller, &a.callee).cmp(&(&b.caller, &b.callee)))
}

/// Groups as they grow, one candidate edge at a time.
struct Growth {
    /// Per service, the index of its group.
    group_of: Vec<Option<usize>>,
    groups: Vec<Growing>,
    /// Candidate edges refused because the group would outgrow its memory, with why.
    memory_rejected: HashMap<usize, String>,
}

/// A group while it grows.
struct Growing {
    members: Vec<usize>,
    used_mb: f64,
    /// The largest member limit, and whose it is.
    limit: (f64, usize),
}

impl Growth {
    fn new(services: usize) -> Growth {
        Growth {
            group_of: vec![None; services],
            groups: Vec::new(),
            memory_rejected: HashMap::new(),
        }
    }

    /// Takes candidate edge `i` between services `u` and `w`.
    fn take(&mut self, i: usize, (u, w): (usize, usize), services: &[ServiceNode], rules: &Rules) {
        match (self.group_of[u], self.group_of[w]) {
            (None, None) => {
                let (lu, lw) = (services[u].memory_limit_mb, services[w].memory_limit_mb);
                self.group_of[u] = Some(self.groups.len());
                self.group_of[w] = Some(self.groups.len());
                self.groups.push(Growing {
                    members: vec![u, w],
                    used_mb: services[u].memory_used_mb + services[w].memory_used_mb,
                    limit: if lw > lu { (lw, w) } else { (lu, u) },
                });
            }
            (Some(g), None) | (None, Some(g)) => {
                let (member, newcomer) = if self.group_of[u] == Some(g) {
                    (u, w)
                } else {
                    (w, u)
                };
                let group = &mut self.groups[g];
                let new = &services[newcomer];
                let limit = if new.memory_limit_mb > group.limit.0 {
                    (new.memory_limit_mb, newcomer)
                } else {
                    group.limit
                };
                let used_mb = group.used_mb + new.memory_used_mb;
                match check_memory(used_mb, limit.0, &services[limit.1].name, rules) {
                    Ok(()) => {
                        group.members.push(newcomer);
                        group.used_mb = used_mb;
                        group.limit = limit;
                        self.group_of[newcomer] = Some(g);
                    }
                    Err(why) => {
                        let member = &services[member].name;
                        let detail =
                            format!("adding `{}` to the group of `{member}`: {why}", new.name);
                        self.memory_rejected.insert(i, detail);
                    }
                }
            }
            (Some(_), Some(_)) => {}
        }
    }

    /// The grown groups, unranked, each with every edge between its members.
    fn groups(
        &self,
        ends: &[(usize, usize)],
        merged: &[MergedEdge],
        services: &[ServiceNode],
        rules: &Rules,
    ) -> Vec<Group> {
        let mut internal: Vec<Vec<usize>> = vec![Vec::new(); self.groups.len()];
        for (i, &(u, w)) in ends.iter().enumerate() {
            if let (Some(g), Some(h)) = (self.group_of[u], self.group_of[w])
                && g == h
            {
                internal[g].push(i);
            }
        }
        self.groups
            .iter()
            .zip(&internal)
            .map(|(group, edges)| {
                let order = callees_first(&group.members, edges, ends, services);
                let names: Vec<String> = order
                    .iter()
                    .rev()
                    .map(|&s| plan_name(&services[s].name))
                    .collect();
                let mut edges: Vec<MergedEdge> = edges.iter().map(|&i| merged[i].clone()).collect();
                edges.sort_by(better);
                let mut estimate = Estimate::default();
                for e in &edges {
                    estimate += e.estimate;
                }
                Group {
                    rank: 0,
                    name: names.join("_"),
                    services: order.iter().map(|&s| services[s].name.clone()).collect(),
                    estimate,
                    merged_memory_mb: rules.memory_headroom * group.used_mb,
                    memory_limit_mb: rules.max_merged_memory_mb.unwrap_or(group.limit.0),
                    edges,
                }
            })
            .collect()
    }
}

/// Members ordered callees before their callers, ties by name. A cycle has no
/// such order: when only members waiting on a callee are left, one on a cycle
/// goes next.
fn callees_first(
    members: &[usize],
    edges: &[usize],
    ends: &[(usize, usize)],
    services: &[ServiceNode],
) -> Vec<usize> {
    let mut pending: HashMap<usize, usize> = members.iter().map(|&m| (m, 0)).collect();
    let mut callees_of: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut callers_of: HashMap<usize, Vec<usize>> = HashMap::new();
    for &i in edges {
        let (u, w) = ends[i];
        *pending.get_mut(&u).expect("edges are between members") += 1;
        callees_of.entry(u).or_default().push(w);
        callers_of.entry(w).or_default().push(u);
    }
    let key = |s: usize| (services[s].name.as_str(), s);
    let mut ready: BTreeSet<_> = pending
        .iter()
        .filter(|&(_, &n)| n == 0)
        .map(|(&s, _)| key(s))
        .collect();
    let mut waiting: BTreeSet<_> = pending
        .iter()
        .filter(|&(_, &n)| n > 0)
        .map(|(&s, _)| key(s))
        .collect();
    let mut done: HashSet<usize> = HashSet::new();
    let mut order = Vec::with_capacity(members.len());
    loop {
        let next = match ready.pop_first() {
            Some((_, s)) => s,
            None => {
                let Some(&(_, mut s)) = waiting.first() else {
                    break;
                };
                // Follow callees not yet ordered until one repeats: it is on a cycle.
                let mut seen = HashSet::new();
                while seen.insert(s) {
                    s = callees_of[&s]
                        .iter()
                        .copied()
                        .find(|c| !done.contains(c))
                        .expect("waiting");
                }
                waiting.remove(&key(s));
                s
            }
        };
        done.insert(next);
        order.push(next);
        for &caller in callers_of.get(&next).map_or(&[][..], Vec::as_slice) {
            let n = pending.get_mut(&caller).expect("callers are members");
            *n -= 1;
            if *n == 0 && waiting.remove(&key(caller)) {
                ready.insert(key(caller));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{edge, svc};

    /// a → b → c → d with the given serialization shares (cores 10 each, affinity 1).
    fn chain(shares: [f64; 3]) -> Graph {
        Graph {
            services: ["a", "b", "c", "d"].iter().map(|n| svc(n, 10.0)).collect(),
            edges: vec![
                edge("a", "b", 1.0, shares[0]),
                edge("b", "c", 1.0, shares[1]),
                edge("c", "d", 1.0, shares[2]),
            ],
        }
    }

    #[test]
    fn a_chain_merges_as_one_group() {
        let mut g = chain([0.1, 0.05, 0.1]);
        g.services.pop();
        g.edges.pop();
        let selection = select(&g, &Rules::default());
        assert!(selection.excluded.is_empty(), "{selection:?}");
        let [group] = &selection.groups[..] else {
            panic!("{selection:?}")
        };
        assert_eq!(group.name, "a_b_c");
        assert_eq!(group.services, ["c", "b", "a"]);
        // 0.1 × 20 × 1 + 0.05 × 20 × 1 = 3 cores; 2 + 2 ms.
        assert!((group.estimate.cores_saved - 3.0).abs() < 1e-9);
        assert_eq!(group.estimate.latency_saved_ms_per_call, 4.0);
        let edges: Vec<_> = group
            .edges
            .iter()
            .map(|e| (e.caller.as_str(), e.callee.as_str()))
            .collect();
        assert_eq!(edges, [("a", "b"), ("b", "c")]);
        assert_eq!(group.merged_memory_mb, 3600.0);
    }

    #[test]
    fn a_chain_of_four_merges_when_memory_allows() {
        // Each service uses 1000 MB: four need 1.2 × 4000 = 4800 MB.
        let g = chain([0.1, 0.08, 0.04]);
        let all = select(
            &g,
            &Rules {
                max_merged_memory_mb: Some(4800.0),
                ..Rules::default()
            },
        );
        assert!(all.excluded.is_empty(), "{all:?}");
        assert_eq!(all.groups[0].services, ["d", "c", "b", "a"]);
        let at_4000 = select(&g, &Rules::default());
        assert_eq!(at_4000.groups[0].services, ["c", "b", "a"]);
        assert_eq!(at_4000.excluded[0].reason, Reason::MemoryLimit);
    }

    #[test]
    fn a_memory_limit_splits_a_chain() {
        // Two services fit in 2400 MB, three do not. a → b goes first (2 cores),
        // b → c (1.6) cannot add c, so c → d (0.8) starts a second group.
        let g = chain([0.1, 0.08, 0.04]);
        let split = select(
            &g,
            &Rules {
                max_merged_memory_mb: Some(2400.0),
                ..Rules::default()
            },
        );
        let groups: Vec<_> = split
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.services.clone()))
            .collect();
        assert_eq!(
            groups,
            [
                ("a_b", vec!["b".to_string(), "a".into()]),
                ("c_d", vec!["d".into(), "c".into()])
            ]
        );
        let [x] = &split.excluded[..] else {
            panic!("{split:?}")
        };
        assert_eq!(
            (x.caller.as_str(), x.callee.as_str(), x.reason),
            ("b", "c", Reason::MemoryLimit)
        );
        assert_eq!(
            x.detail,
            "adding `c` to the group of `b`: merged memory 1.2 × 3000 MB = 3600 MB exceeds 2400 MB (max_merged_memory_mb)"
        );
    }

    #[test]
    fn an_edge_between_two_groups_is_already_grouped() {
        // a → b (2 cores) and c → d (1.6) form groups before b → c (0.8) comes up.
        let selection = select(&chain([0.1, 0.04, 0.08]), &Rules::default());
        let names: Vec<_> = selection.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["a_b", "c_d"]);
        let [x] = &selection.excluded[..] else {
            panic!("{selection:?}")
        };
        assert_eq!(x.reason, Reason::AlreadyGrouped);
        assert_eq!(
            x.detail,
            "`b` is in group `a_b` and `c` in group `c_d`; groups are not fused"
        );
    }

    #[test]
    fn a_star_merges_around_its_hub() {
        let g = Graph {
            services: ["hub", "x", "y", "z"]
                .iter()
                .map(|n| svc(n, 10.0))
                .collect(),
            edges: vec![
                edge("hub", "y", 1.0, 0.1),
                edge("hub", "x", 1.0, 0.1),
                edge("z", "hub", 0.9, 0.1),
            ],
        };
        let selection = select(
            &g,
            &Rules {
                max_merged_memory_mb: Some(4800.0),
                ..Rules::default()
            },
        );
        assert!(selection.excluded.is_empty(), "{selection:?}");
        assert_eq!(selection.groups[0].services, ["x", "y", "hub", "z"]);
        assert_eq!(selection.groups[0].name, "z_hub_y_x");
    }

    #[test]
    fn every_edge_between_members_is_merged_and_counted() {
        // a → b and b → c are candidates (min_affinity 0.7); a → c is not, yet
        // its calls become in-process too once a and c share a binary.
        let g = Graph {
            services: ["a", "b", "c"].iter().map(|n| svc(n, 10.0)).collect(),
            edges: vec![
                edge("a", "b", 1.0, 0.1),
                edge("b", "c", 0.7, 0.1),
                edge("a", "c", 0.3, 0.1),
            ],
        };
        let selection = select(
            &g,
            &Rules {
                min_affinity: 0.7,
                ..Rules::default()
            },
        );
        assert!(selection.excluded.is_empty(), "{selection:?}");
        let group = &selection.groups[0];
        let edges: Vec<_> = group
            .edges
            .iter()
            .map(|e| (e.caller.as_str(), e.callee.as_str()))
            .collect();
        assert_eq!(edges, [("a", "b"), ("b", "c"), ("a", "c")]);
        // 0.1 × 20 × (1 + 0.7 + 0.3) = 4 cores; 3 × 2 ms.
        assert!((group.estimate.cores_saved - 4.0).abs() < 1e-9, "{group:?}");
        assert_eq!(group.estimate.latency_saved_ms_per_call, 6.0);
    }

    #[test]
    fn groups_rank_by_cores_saved_then_name() {
        let g = Graph {
            services: ["p", "q", "a", "b", "m", "n"]
                .iter()
                .map(|n| svc(n, 10.0))
                .collect(),
            edges: vec![
                edge("p", "q", 1.0, 0.1),
                edge("a", "b", 1.0, 0.1),
                edge("m", "n", 1.0, 0.2),
            ],
        };
        let selection = select(&g, &Rules::default());
        let ranked: Vec<_> = selection
            .groups
            .iter()
            .map(|g| (g.rank, g.name.as_str()))
            .collect();
        assert_eq!(ranked, [(1, "m_n"), (2, "a_b"), (3, "p_q")]);
    }

    #[test]
    fn mutual_callers_form_one_group() {
        let g = Graph {
            services: vec![svc("b", 10.0), svc("a", 10.0)],
            edges: vec![edge("a", "b", 0.9, 0.1), edge("b", "a", 0.9, 0.1)],
        };
        let selection = select(&g, &Rules::default());
        assert_eq!(selection.groups[0].services, ["a", "b"]);
        assert_eq!(selection.groups[0].edges.len(), 2);
    }

    #[test]
    fn a_cycle_is_broken_on_the_cycle() {
        // a → b → c → b: b and c wait on each other; a only on b, so a does not go first.
        let g = Graph {
            services: ["a", "b", "c"].iter().map(|n| svc(n, 10.0)).collect(),
            edges: vec![
                edge("a", "b", 0.5, 0.1),
                edge("b", "c", 0.9, 0.1),
                edge("c", "b", 0.5, 0.1),
            ],
        };
        let selection = select(
            &g,
            &Rules {
                min_affinity: 0.5,
                ..Rules::default()
            },
        );
        assert_eq!(selection.groups[0].services, ["b", "a", "c"]);
    }
}
