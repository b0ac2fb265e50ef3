//! Fleet-sized synthetic graphs, for scale tests and benchmarks.

use std::collections::HashSet;

use crate::graph::{Edge, Graph, ServiceNode};

/// xorshift64*: small, deterministic, good enough to spread test data.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        // The state must not be 0; mix the seed so nearby seeds diverge at once.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
}

/// A valid random graph of `services` services (`svc0000`, …) and
/// `edges` distinct edges (at most `services × (services − 1)`), the same for
/// the same arguments. Call weights are heavy-tailed, so some callees get most
/// of their traffic from one caller and some edges pass the default rules.
pub fn synthetic(services: usize, edges: usize, seed: u64) -> Graph {
    let mut rng = XorShift::new(seed);
    let width = services.saturating_sub(1).to_string().len();
    let nodes: Vec<ServiceNode> = (0..services)
        .map(|i| {
            let memory_limit_mb = [1024.0, 2048.0, 4096.0, 8192.0, 16384.0][rng.below(5)];
            ServiceNode {
                name: format!("svc{i:0width$}"),
                cpu_cores: 0.25 + 63.75 * rng.unit().powi(2),
                memory_limit_mb,
                memory_used_mb: memory_limit_mb * (0.05 + 0.45 * rng.unit()),
                cpu_utilization: 0.2 + 0.75 * rng.unit(),
                replicas: 1 + rng.below(20) as u32,
                cache_heavy: false,
                cache_memory_share: rng.unit().powi(3),
                path: None,
                package: None,
                measured: true,
            }
        })
        .collect();

    let edges = edges.min(services * services.saturating_sub(1));
    let mut pairs: HashSet<(usize, usize)> = HashSet::with_capacity(edges);
    let mut raw: Vec<(usize, usize, f64)> = Vec::with_capacity(edges);
    while raw.len() < edges {
        let (u, w) = (rng.below(services), rng.below(services));
        if u != w && pairs.insert((u, w)) {
            // Pareto-like weight: a few callers dominate their callee.
            let weight = 1.0 / (1.0 - rng.unit()).powi(2);
            raw.push((u, w, weight));
        }
    }
    // A callee's traffic: its callers' weights plus some from outside the graph.
    let mut inbound = vec![0.0; services];
    for &(_, w, weight) in &raw {
        inbound[w] += weight;
    }
    let inbound: Vec<f64> = inbound
        .into_iter()
        .map(|sum| sum * (1.0 + 0.1 * rng.unit()))
        .collect();
    let edges = raw
        .into_iter()
        .map(|(u, w, weight)| Edge {
            caller: nodes[u].name.clone(),
            callee: nodes[w].name.clone(),
            calls_per_sec: 10.0 * weight,
            affinity: weight / inbound[w],
            serialization_cpu_share: Some(0.005 + 0.145 * rng.unit()),
            latency_ms: 0.5 + 20.0 * rng.unit(),
        })
        .collect();
    Graph {
        services: nodes,
        edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_graph_and_valid() {
        let (a, b) = (synthetic(50, 400, 7), synthetic(50, 400, 7));
        assert_eq!(a.edges.len(), 400);
        assert!(
            a.edges
                .iter()
                .zip(&b.edges)
                .all(|(x, y)| x.caller == y.caller && x.affinity == y.affinity)
        );
        let other = synthetic(50, 400, 8);
        assert!(
            other
                .edges
                .iter()
                .zip(&a.edges)
                .any(|(x, y)| (&x.caller, &x.callee) != (&y.caller, &y.callee))
        );
        a.validate().unwrap();
    }

    #[test]
    fn edges_are_capped_by_distinct_pairs() {
        assert_eq!(synthetic(3, 100, 1).edges.len(), 6);
        assert_eq!(synthetic(1, 10, 1).edges.len(), 0);
    }
}
