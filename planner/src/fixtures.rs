//! Graphs for tests.

use crate::graph::{Edge, ServiceNode};

/// A measured service: `cores` cores, 1000 MB used of 4000 MB, 50% utilized, no cache.
pub(crate) fn svc(name: &str, cores: f64) -> ServiceNode {
    ServiceNode {
        name: name.into(),
        cpu_cores: cores,
        memory_limit_mb: 4000.0,
        memory_used_mb: 1000.0,
        cpu_utilization: 0.5,
        replicas: 2,
        cache_heavy: false,
        cache_memory_share: 0.1,
        path: None,
        package: None,
        measured: true,
    }
}

pub(crate) fn edge(caller: &str, callee: &str, affinity: f64, share: f64) -> Edge {
    Edge {
        caller: caller.into(),
        callee: callee.into(),
        calls_per_sec: 100.0,
        affinity,
        serialization_cpu_share: Some(share),
        latency_ms: 2.0,
    }
}
