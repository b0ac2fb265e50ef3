//! Graphs from traces: an OpenTelemetry OTLP/JSON trace export
//! (`resourceSpans` / `scopeSpans` / `spans`), one or several documents.

use std::collections::HashMap;

use serde::Deserialize;

use crate::graph::{Edge, Graph, ServiceNode, json_error};

const SPAN_KIND_SERVER: i64 = 2;
const SPAN_KIND_CLIENT: i64 = 3;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Export {
    #[serde(default)]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    #[serde(default)]
    resource: Resource,
    #[serde(default)]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize, Default)]
struct Resource {
    #[serde(default)]
    attributes: Vec<Attribute>,
}

#[derive(Deserialize)]
struct Attribute {
    key: String,
    #[serde(default)]
    value: AnyValue,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AnyValue {
    string_value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeSpans {
    #[serde(default)]
    spans: Vec<Span>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Span {
    trace_id: String,
    span_id: String,
    #[serde(default)]
    parent_span_id: String,
    #[serde(default)]
    kind: Kind,
    start_time_unix_nano: Nanos,
    end_time_unix_nano: Nanos,
}

/// A span kind: the enum's number, or its name (`SPAN_KIND_CLIENT`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Kind {
    Number(i64),
    Name(String),
}

impl Default for Kind {
    fn default() -> Self {
        Kind::Number(0)
    }
}

impl Kind {
    fn number(&self) -> i64 {
        match self {
            Kind::Number(n) => *n,
            Kind::Name(name) if name == "SPAN_KIND_SERVER" => SPAN_KIND_SERVER,
            Kind::Name(name) if name == "SPAN_KIND_CLIENT" => SPAN_KIND_CLIENT,
            Kind::Name(_) => 0,
        }
    }
}

/// A uint64 timestamp: OTLP/JSON writes it as a decimal string, some exporters as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Nanos {
    Number(u64),
    Text(String),
}

/// What edge derivation needs of a span.
struct SpanFacts {
    service: usize,
    kind: i64,
    trace_id: String,
    parent_span_id: String,
    start: u64,
    end: u64,
}

impl Graph {
    /// Reads an OTLP/JSON trace export (or several, concatenated or one a
    /// line). A SERVER span (kind 2) whose parent is a CLIENT span (kind 3)
    /// of another service is one call caller → callee. Per edge:
    /// `calls_per_sec` = calls / the data's time window (max end − min start,
    /// at least 1 s); `affinity` = calls / all SERVER spans of the callee;
    /// `latency_ms` = mean duration of the CLIENT spans. Traces carry no
    /// resource figures nor serialization shares: services get neutral
    /// figures with `measured: false`, edges `serialization_cpu_share: None`.
    pub fn from_otlp_json(text: &str) -> Result<Graph, String> {
        let mut names: Vec<String> = Vec::new();
        let mut spans: Vec<SpanFacts> = Vec::new();
        let mut by_id: HashMap<(String, String), usize> = HashMap::new();
        for (d, export) in serde_json::Deserializer::from_str(text)
            .into_iter::<Export>()
            .enumerate()
        {
            let export = export.map_err(json_error)?;
            let doc = if d == 0 {
                String::new()
            } else {
                format!("document {}: ", d + 1)
            };
            for (r, rs) in export.resource_spans.into_iter().enumerate() {
                let at = format!("{doc}resourceSpans[{r}]");
                let name = rs
                    .resource
                    .attributes
                    .into_iter()
                    .find(|a| a.key == "service.name")
                    .and_then(|a| a.value.string_value)
                    .ok_or_else(|| {
                        format!("{at}: the resource has no `service.name` string attribute")
                    })?;
                let service = names.iter().position(|n| *n == name).unwrap_or_else(|| {
                    names.push(name);
                    names.len() - 1
                });
                for (s, scope) in rs.scope_spans.into_iter().enumerate() {
                    for (k, span) in scope.spans.into_iter().enumerate() {
                        let at = format!("{at}.scopeSpans[{s}].spans[{k}]");
                        let start = nanos(&span.start_time_unix_nano, &at, "startTimeUnixNano")?;
                        let end = nanos(&span.end_time_unix_nano, &at, "endTimeUnixNano")?;
                        if end < start {
                            return Err(format!(
                                "{at}: `endTimeUnixNano` is before `startTimeUnixNano`"
                            ));
                        }
                        by_id.insert((span.trace_id.clone(), span.span_id), spans.len());
                        spans.push(SpanFacts {
                            service,
                            kind: span.kind.number(),
                            trace_id: span.trace_id,
                            parent_span_id: span.parent_span_id,
                            start,
                            end,
                        });
                    }
                }
            }
        }
        if spans.is_empty() {
            return Err("the trace data holds no spans".into());
        }

        let min_start = spans.iter().map(|s| s.start).min().unwrap_or(0);
        let max_end = spans.iter().map(|s| s.end).max().unwrap_or(0);
        let window_s = ((max_end - min_start) as f64 / 1e9).max(1.0);
        let mut received = vec![0u64; names.len()];
        // (caller, callee) → (calls, summed CLIENT span durations in ns)
        let mut calls: HashMap<(usize, usize), (u64, u64)> = HashMap::new();
        for server in spans.iter().filter(|s| s.kind == SPAN_KIND_SERVER) {
            received[server.service] += 1;
            let parent = by_id
                .get(&(server.trace_id.clone(), server.parent_span_id.clone()))
                .map(|&i| &spans[i]);
            if let Some(client) =
                parent.filter(|p| p.kind == SPAN_KIND_CLIENT && p.service != server.service)
            {
                let entry = calls.entry((client.service, server.service)).or_default();
                entry.0 += 1;
                entry.1 += client.end - client.start;
            }
        }

        let mut edges: Vec<Edge> = calls
            .into_iter()
            .map(|((caller, callee), (count, nanos))| Edge {
                caller: names[caller].clone(),
                callee: names[callee].clone(),
                calls_per_sec: count as f64 / window_s,
                affinity: count as f64 / received[callee] as f64,
                serialization_cpu_share: None,
                latency_ms: nanos as f64 / count as f64 / 1e6,
            })
            .collect();
        edges.sort_by(|a, b| (&a.caller, &a.callee).cmp(&(&b.caller, &b.callee)));
        let mut services: Vec<ServiceNode> = names.into_iter().map(unmeasured).collect();
        services.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Graph { services, edges })
    }
}

/// A service known only from traces: neutral figures, `measured: false`.
fn unmeasured(name: String) -> ServiceNode {
    ServiceNode {
        name,
        cpu_cores: 0.0,
        memory_limit_mb: 0.0,
        memory_used_mb: 0.0,
        cpu_utilization: 0.0,
        replicas: 1,
        cache_heavy: false,
        cache_memory_share: 0.0,
        path: None,
        package: None,
        measured: false,
    }
}

fn nanos(value: &Nanos, at: &str, field: &str) -> Result<u64, String> {
    match value {
        Nanos::Number(n) => Ok(*n),
        Nanos::Text(text) => text
            .parse()
            .map_err(|_| format!("{at}: `{field}` is \"{text}\", not a count of nanoseconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = include_str!("../../corpus/graphs/trace.otlp.json");

    #[test]
    fn derives_edges_from_the_checked_in_trace() {
        let g = Graph::from_otlp_json(TRACE).unwrap();
        let names: Vec<_> = g.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["catalog", "gateway", "inventory", "pricing"]);
        assert!(
            g.services
                .iter()
                .all(|s| !s.measured && s.cpu_cores == 0.0 && s.replicas == 1)
        );
        // Window: 4 s. pricing serves 9 calls (6 from catalog, 3 from gateway);
        // inventory 4 (2 from catalog, 2 without a caller in the data).
        let edges: Vec<_> = g
            .edges
            .iter()
            .map(|e| {
                (
                    e.caller.as_str(),
                    e.callee.as_str(),
                    e.calls_per_sec,
                    e.affinity,
                    e.latency_ms,
                )
            })
            .collect();
        assert_eq!(
            edges,
            [
                ("catalog", "inventory", 0.5, 0.5, 8.0),
                ("catalog", "pricing", 1.5, 6.0 / 9.0, 6.0),
                ("gateway", "catalog", 1.5, 1.0, 20.0),
                ("gateway", "pricing", 0.75, 3.0 / 9.0, 10.0),
            ]
        );
        assert!(g.edges.iter().all(|e| e.serialization_cpu_share.is_none()));
        g.validate().unwrap();
    }

    #[test]
    fn rules_needing_resource_figures_say_so() {
        let g = Graph::from_otlp_json(TRACE).unwrap();
        let selection = crate::select(&g, &crate::Rules::default());
        assert!(selection.groups.is_empty());
        let reasons: Vec<_> = selection
            .excluded
            .iter()
            .map(|x| (x.callee.as_str(), x.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("inventory", "low_affinity"),
                ("pricing", "low_affinity"),
                ("catalog", "missing_resource_data"),
                ("pricing", "low_affinity"),
            ]
        );
        assert_eq!(
            selection.excluded[2].detail,
            "`gateway` has no resource figures (read from traces); `catalog` has no resource figures (read from traces)"
        );
    }

    fn span(kind: &str, parent: &str, id: &str, start: &str, end: &str) -> String {
        format!(
            r#"{{"traceId": "t", "spanId": "{id}", "parentSpanId": "{parent}", "kind": {kind},
                "startTimeUnixNano": {start}, "endTimeUnixNano": {end}}}"#
        )
    }

    fn export(service: &str, spans: &[String]) -> String {
        format!(
            r#"{{"resourceSpans": [{{"resource": {{"attributes": [{{"key": "service.name", "value": {{"stringValue": "{service}"}}}}]}},
                "scopeSpans": [{{"spans": [{}]}}]}}]}}"#,
            spans.join(",")
        )
    }

    #[test]
    fn reads_kind_names_numeric_times_and_several_documents() {
        let client = export(
            "a",
            &[span("\"SPAN_KIND_CLIENT\"", "", "c", "0", "2000000")],
        );
        let server = export(
            "b",
            &[span("\"SPAN_KIND_SERVER\"", "c", "s", "500000", "1500000")],
        );
        let g = Graph::from_otlp_json(&format!("{client}\n{server}\n")).unwrap();
        let e = &g.edges[0];
        assert_eq!(
            (
                e.caller.as_str(),
                e.callee.as_str(),
                e.calls_per_sec,
                e.affinity,
                e.latency_ms
            ),
            ("a", "b", 1.0, 1.0, 2.0)
        );
    }

    #[test]
    fn a_server_span_under_a_client_span_of_its_own_service_is_no_edge() {
        let spans = [span("3", "", "c", "0", "10"), span("2", "c", "s", "1", "9")];
        let g = Graph::from_otlp_json(&export("a", &spans)).unwrap();
        assert!(g.edges.is_empty());
        assert_eq!(g.services.len(), 1);
    }

    #[test]
    fn errors_name_the_span_or_the_line() {
        let bad_time = export("a", &[span("2", "", "s", "\"soon\"", "\"10\"")]);
        assert_eq!(
            Graph::from_otlp_json(&bad_time).unwrap_err(),
            "resourceSpans[0].scopeSpans[0].spans[0]: `startTimeUnixNano` is \"soon\", not a count of nanoseconds"
        );
        let backwards = export("a", &[span("2", "", "s", "\"10\"", "\"9\"")]);
        assert_eq!(
            Graph::from_otlp_json(&backwards).unwrap_err(),
            "resourceSpans[0].scopeSpans[0].spans[0]: `endTimeUnixNano` is before `startTimeUnixNano`"
        );
        let nameless = export("a", &[]).replace("service.name", "host.name");
        assert_eq!(
            Graph::from_otlp_json(&nameless).unwrap_err(),
            "resourceSpans[0]: the resource has no `service.name` string attribute"
        );
        assert_eq!(
            Graph::from_otlp_json(&export("a", &[])).unwrap_err(),
            "the trace data holds no spans"
        );
        assert_eq!(
            Graph::from_otlp_json("{\"resourceSpans\": [}").unwrap_err(),
            "line 1, column 20: expected value"
        );
    }
}
