//! What `select` decides: ranked merge groups, and why every other edge
//! was left alone.

use serde::Serialize;

use crate::estimate::Estimate;
use crate::figures::rounded;
use crate::rules::Rules;

/// The outcome of `select`: ranked groups and, for every other edge, why.
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    /// Ranked by estimated cores saved, descending; ties by name.
    pub groups: Vec<Group>,
    /// Every edge not merged, ordered by caller then callee.
    pub excluded: Vec<Exclusion>,
    /// The rules applied.
    pub rules: Rules,
}

/// Services to merge into one binary.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// 1-based rank (`groups[i].rank == i + 1`).
    pub rank: usize,
    /// The plan's group name: members' plan names, callers first, joined by `_`.
    pub name: String,
    /// Members as named in the graph, callees before their callers.
    pub services: Vec<String>,
    /// Sum of the edges' estimates.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// `memory_headroom` × the members' memory used per replica.
    #[serde(serialize_with = "rounded")]
    pub merged_memory_mb: f64,
    /// The limit that merged memory was checked against.
    #[serde(serialize_with = "rounded")]
    pub memory_limit_mb: f64,
    /// Every edge between members (their calls become in-process), best first.
    pub edges: Vec<MergedEdge>,
}

/// An edge whose calls become in-process calls: its figures from the graph,
/// and what merging it saves.
#[derive(Debug, Clone, Serialize)]
pub struct MergedEdge {
    pub caller: String,
    pub callee: String,
    #[serde(serialize_with = "rounded")]
    pub calls_per_sec: f64,
    #[serde(serialize_with = "rounded")]
    pub affinity: f64,
    /// The edge's share, or the rules' assumed share when the graph has none.
    #[serde(serialize_with = "rounded")]
    pub serialization_cpu_share: f64,
    /// Whether `serialization_cpu_share` is the rules' assumption (graphs from traces).
    pub serialization_assumed: bool,
    #[serde(serialize_with = "rounded")]
    pub latency_ms: f64,
    #[serde(flatten)]
    pub estimate: Estimate,
}

/// An edge not merged, with the first rule it failed.
#[derive(Debug, Clone, Serialize)]
pub struct Exclusion {
    pub caller: String,
    pub callee: String,
    pub reason: Reason,
    /// The figures behind the reason, for people.
    pub detail: String,
}

/// Why an edge was not merged, in the order the rules are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// affinity < `min_affinity`.
    LowAffinity,
    /// serialization share < `min_serialization_cpu_share`.
    LowSerializationCost,
    /// A service has no resource figures (read from traces).
    MissingResourceData,
    /// A service uses fewer than `min_cpu_cores`.
    LowResourceUse,
    /// A service is cache-heavy.
    CacheHeavy,
    /// A service's CPU utilization is at least `highly_loaded_utilization`.
    HighlyLoaded,
    /// The merged memory would exceed the limit.
    MemoryLimit,
    /// Both services are already in different groups.
    AlreadyGrouped,
}

impl Reason {
    /// The name used in the table and the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::LowAffinity => "low_affinity",
            Reason::LowSerializationCost => "low_serialization_cost",
            Reason::MissingResourceData => "missing_resource_data",
            Reason::LowResourceUse => "low_resource_use",
            Reason::CacheHeavy => "cache_heavy",
            Reason::HighlyLoaded => "highly_loaded",
            Reason::MemoryLimit => "memory_limit",
            Reason::AlreadyGrouped => "already_grouped",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_named_alike_in_json_and_table() {
        let all = [
            Reason::LowAffinity,
            Reason::LowSerializationCost,
            Reason::MissingResourceData,
            Reason::LowResourceUse,
            Reason::CacheHeavy,
            Reason::HighlyLoaded,
            Reason::MemoryLimit,
            Reason::AlreadyGrouped,
        ];
        for reason in all {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
    }
}
