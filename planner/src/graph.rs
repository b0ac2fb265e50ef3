//! The service graph: services with their resource figures, and the calls
//! between them. Read from the documented JSON schema (docs/select.md).

use std::collections::HashMap;

use serde::Deserialize;

/// Services and the calls between them.
#[derive(Debug, Clone)]
pub struct Graph {
    pub services: Vec<ServiceNode>,
    pub edges: Vec<Edge>,
}

/// One service with its resource figures.
#[derive(Debug, Clone)]
pub struct ServiceNode {
    pub name: String,
    /// Cores used, across all replicas.
    pub cpu_cores: f64,
    /// Memory limit of one replica.
    pub memory_limit_mb: f64,
    /// Memory used by one replica.
    pub memory_used_mb: f64,
    /// Share (0..1) of its containers' CPU in use.
    pub cpu_utilization: f64,
    pub replicas: u32,
    /// Declared cache-heavy.
    pub cache_heavy: bool,
    /// Share (0..1) of its memory that holds caches.
    pub cache_memory_share: f64,
    /// Folder of the service's `Cargo.toml`, for merge plans.
    pub path: Option<String>,
    /// Package name, when the folder is a workspace of several.
    pub package: Option<String>,
    /// False when the resource figures above are neutral defaults (a service
    /// read from traces): rules that need them report `missing_resource_data`.
    pub measured: bool,
}

/// Calls from one service to another.
#[derive(Debug, Clone)]
pub struct Edge {
    pub caller: String,
    pub callee: String,
    pub calls_per_sec: f64,
    /// Share (0..1) of the callee's traffic that comes from this caller.
    pub affinity: f64,
    /// Share (0..1) of the pair's CPU spent encoding and decoding RPC
    /// messages; `None` when unknown (traces), and the rules' assumed share applies.
    pub serialization_cpu_share: Option<f64>,
    /// Mean duration of one call, as the caller sees it.
    pub latency_ms: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGraph {
    services: Vec<RawService>,
    edges: Vec<RawEdge>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: String,
    cpu_cores: f64,
    memory_limit_mb: f64,
    memory_used_mb: f64,
    cpu_utilization: f64,
    replicas: u32,
    cache_heavy: Option<bool>,
    cache_memory_share: Option<f64>,
    path: Option<String>,
    package: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdge {
    caller: String,
    callee: String,
    calls_per_sec: f64,
    affinity: f64,
    serialization_cpu_share: f64,
    latency_ms: f64,
}

impl Graph {
    /// Reads a graph in the documented JSON schema and validates it. Errors name
    /// the line and column (malformed JSON, missing or unknown fields) or the
    /// JSON path of the item (invalid values), one error a line.
    pub fn from_json(text: &str) -> Result<Graph, String> {
        let raw: RawGraph = serde_json::from_str(text).map_err(json_error)?;
        let mut errors = Vec::new();
        let services = raw
            .services
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                if s.cache_heavy.is_none() && s.cache_memory_share.is_none() {
                    errors.push(format!(
                        "services[{i}] (`{}`): give `cache_heavy` or `cache_memory_share`",
                        s.name
                    ));
                }
                ServiceNode {
                    name: s.name,
                    cpu_cores: s.cpu_cores,
                    memory_limit_mb: s.memory_limit_mb,
                    memory_used_mb: s.memory_used_mb,
                    cpu_utilization: s.cpu_utilization,
                    replicas: s.replicas,
                    cache_heavy: s.cache_heavy.unwrap_or(false),
                    cache_memory_share: s.cache_memory_share.unwrap_or(0.0),
                    path: s.path,
                    package: s.package,
                    measured: true,
                }
            })
            .collect();
        let edges = raw
            .edges
            .into_iter()
            .map(|e| Edge {
                caller: e.caller,
                callee: e.callee,
                calls_per_sec: e.calls_per_sec,
                affinity: e.affinity,
                serialization_cpu_share: Some(e.serialization_cpu_share),
                latency_ms: e.latency_ms,
            })
            .collect();
        let graph = Graph { services, edges };
        errors.extend(graph.problems());
        if errors.is_empty() {
            Ok(graph)
        } else {
            Err(errors.join("\n"))
        }
    }

    /// Checks names and values: unique non-empty service names, edges between
    /// known, distinct services, no duplicate edges, shares within 0..1, other
    /// figures not negative, callers' affinities to one callee summing to at
    /// most 1. Errors name the JSON path of the item, one a line.
    pub fn validate(&self) -> Result<(), String> {
        let errors = self.problems();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, s) in self.services.iter().enumerate() {
            let at = format!("services[{i}] (`{}`)", s.name);
            if s.name.is_empty() {
                errors.push(format!("services[{i}]: empty `name`"));
            } else if let Some(first) = index.insert(&s.name, i) {
                errors.push(format!(
                    "{at}: duplicate service (first at services[{first}])"
                ));
                index.insert(&s.name, first);
            }
            check_share(&mut errors, &at, "cpu_utilization", s.cpu_utilization);
            check_share(&mut errors, &at, "cache_memory_share", s.cache_memory_share);
            check_amount(&mut errors, &at, "cpu_cores", s.cpu_cores);
            check_amount(&mut errors, &at, "memory_limit_mb", s.memory_limit_mb);
            check_amount(&mut errors, &at, "memory_used_mb", s.memory_used_mb);
            if s.replicas == 0 {
                errors.push(format!("{at}: `replicas` must be at least 1"));
            }
        }
        let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
        let mut affinity_in: HashMap<&str, f64> = HashMap::new();
        for (i, e) in self.edges.iter().enumerate() {
            let at = format!("edges[{i}] (`{}` -> `{}`)", e.caller, e.callee);
            for (role, name) in [("caller", &e.caller), ("callee", &e.callee)] {
                if !index.contains_key(name.as_str()) {
                    errors.push(format!("{at}: unknown {role} `{name}`: not in `services`"));
                }
            }
            if e.caller == e.callee {
                errors.push(format!("{at}: a service calling itself is not an edge"));
            }
            if let Some(first) = pairs.insert((&e.caller, &e.callee), i) {
                errors.push(format!("{at}: duplicate edge (first at edges[{first}])"));
                pairs.insert((&e.caller, &e.callee), first);
            }
            check_share(&mut errors, &at, "affinity", e.affinity);
            if let Some(share) = e.serialization_cpu_share {
                check_share(&mut errors, &at, "serialization_cpu_share", share);
            }
            check_amount(&mut errors, &at, "calls_per_sec", e.calls_per_sec);
            check_amount(&mut errors, &at, "latency_ms", e.latency_ms);
            *affinity_in.entry(&e.callee).or_default() += e.affinity;
        }
        let mut over: Vec<_> = affinity_in
            .into_iter()
            .filter(|&(_, sum)| sum > 1.0 + 1e-9)
            .collect();
        over.sort_by(|a, b| a.0.cmp(b.0));
        for (callee, sum) in over {
            errors.push(format!(
                "edges to `{callee}`: affinities sum to {sum:.3}, above 1 (each is a share of `{callee}`'s traffic)"
            ));
        }
        errors
    }
}

/// A JSON syntax or schema error as `line L, column C: reason`.
pub(crate) fn json_error(e: serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let reason = message.strip_suffix(&suffix).unwrap_or(&message);
    format!("line {}, column {}: {reason}", e.line(), e.column())
}

fn check_share(errors: &mut Vec<String>, at: &str, field: &str, value: f64) {
    if !(0.0..=1.0).contains(&value) {
        errors.push(format!("{at}: `{field}` is {value}, outside 0..1"));
    }
}

fn check_amount(errors: &mut Vec<String>, at: &str, field: &str, value: f64) {
    if !(value.is_finite() && value >= 0.0) {
        errors.push(format!("{at}: `{field}` is {value}, must not be negative"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = r#""cpu_cores": 4, "memory_limit_mb": 4096, "memory_used_mb": 1024,
        "cpu_utilization": 0.5, "replicas": 2, "cache_heavy": false"#;

    fn graph(services: &[&str], edges: &[&str]) -> String {
        let services: Vec<String> = services
            .iter()
            .map(|s| format!("{{\"name\": \"{s}\", {SERVICE}}}"))
            .collect();
        format!(
            "{{\"services\": [{}],\n\"edges\": [{}]}}",
            services.join(",\n"),
            edges.join(",\n")
        )
    }

    fn edge(caller: &str, callee: &str, affinity: f64, share: f64) -> String {
        format!(
            r#"{{"caller": "{caller}", "callee": "{callee}", "calls_per_sec": 10, "affinity": {affinity},
                "serialization_cpu_share": {share}, "latency_ms": 2}}"#
        )
    }

    #[test]
    fn reads_a_valid_graph() {
        let g = Graph::from_json(&graph(&["a", "b"], &[&edge("a", "b", 0.9, 0.05)])).unwrap();
        assert_eq!(g.services.len(), 2);
        assert_eq!(g.services[1].name, "b");
        assert!(g.services[0].measured);
        assert_eq!(g.edges[0].serialization_cpu_share, Some(0.05));
        assert_eq!(g.edges[0].calls_per_sec, 10.0);
    }

    #[test]
    fn unknown_service_in_edge_is_named() {
        let err = Graph::from_json(&graph(&["a", "b"], &[&edge("a", "c", 0.9, 0.05)])).unwrap_err();
        assert_eq!(
            err,
            "edges[0] (`a` -> `c`): unknown callee `c`: not in `services`"
        );
    }

    #[test]
    fn shares_outside_0_1_are_named() {
        let err = Graph::from_json(&graph(&["a", "b"], &[&edge("a", "b", 1.5, -0.1)])).unwrap_err();
        assert_eq!(
            err,
            "edges[0] (`a` -> `b`): `affinity` is 1.5, outside 0..1\n\
             edges[0] (`a` -> `b`): `serialization_cpu_share` is -0.1, outside 0..1\n\
             edges to `b`: affinities sum to 1.500, above 1 (each is a share of `b`'s traffic)"
        );
    }

    #[test]
    fn duplicates_are_named() {
        let text = graph(
            &["a", "b", "a"],
            &[&edge("a", "b", 0.4, 0.05), &edge("a", "b", 0.4, 0.05)],
        );
        let err = Graph::from_json(&text).unwrap_err();
        assert_eq!(
            err,
            "services[2] (`a`): duplicate service (first at services[0])\n\
             edges[1] (`a` -> `b`): duplicate edge (first at edges[0])"
        );
    }

    #[test]
    fn affinities_into_one_callee_cannot_exceed_1() {
        let text = graph(
            &["a", "b", "c"],
            &[&edge("a", "c", 0.6, 0.05), &edge("b", "c", 0.6, 0.05)],
        );
        let err = Graph::from_json(&text).unwrap_err();
        assert!(
            err.starts_with("edges to `c`: affinities sum to 1.200"),
            "{err}"
        );
    }

    #[test]
    fn self_calls_and_zero_replicas_are_errors() {
        let text = graph(&["a"], &[&edge("a", "a", 0.5, 0.05)])
            .replace("\"replicas\": 2", "\"replicas\": 0");
        let err = Graph::from_json(&text).unwrap_err();
        assert_eq!(
            err,
            "services[0] (`a`): `replicas` must be at least 1\n\
             edges[0] (`a` -> `a`): a service calling itself is not an edge"
        );
    }

    #[test]
    fn missing_cache_figure_is_an_error() {
        let text = graph(&["a"], &[]).replace(", \"cache_heavy\": false", "");
        let err = Graph::from_json(&text).unwrap_err();
        assert_eq!(
            err,
            "services[0] (`a`): give `cache_heavy` or `cache_memory_share`"
        );
    }

    #[test]
    fn syntax_and_schema_errors_name_the_line() {
        let err = Graph::from_json("{\"services\": [],\n \"edges\": [,]}").unwrap_err();
        assert_eq!(err, "line 2, column 12: expected value");
        let text = graph(
            &["a", "b"],
            &[&edge("a", "b", 0.9, 0.05).replace("affinity", "afinity")],
        );
        let err = Graph::from_json(&text).unwrap_err();
        assert!(
            err.starts_with("line 5, column 71: unknown field `afinity`, expected one of"),
            "{err}"
        );
        let err = Graph::from_json("{\"services\": []}").unwrap_err();
        assert_eq!(err, "line 1, column 16: missing field `edges`");
    }
}
