//! The thresholds `select` applies, with defaults from production experience
//! of merging Go services (the reasoning is in docs/select.md).

use serde::{Deserialize, Serialize};

/// Every threshold of the selection. `Rules::default()` holds the documented
/// defaults; `Rules::from_toml` overrides some of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// An edge is a candidate when the caller sends at least this share of the callee's traffic.
    pub min_affinity: f64,
    /// ... and the pair spends at least this share of its CPU on RPC encoding/decoding ...
    pub min_serialization_cpu_share: f64,
    /// ... and both services use at least this many cores.
    pub min_cpu_cores: f64,
    /// A service with at least this share of its memory in caches is cache-heavy: excluded.
    pub cache_heavy_memory_share: f64,
    /// A service whose containers' CPU utilization is at least this is highly loaded: excluded.
    pub highly_loaded_utilization: f64,
    /// Merged memory is the members' per-replica memory used times this factor.
    pub memory_headroom: f64,
    /// The merged memory may not exceed this; unset, the largest member's limit.
    pub max_merged_memory_mb: Option<f64>,
    /// The serialization share of edges whose share is unknown (graphs from traces).
    pub assumed_serialization_cpu_share: f64,
    /// The cost of one in-process call, subtracted from an edge's latency.
    pub in_process_call_ms: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_affinity: 0.8,
            min_serialization_cpu_share: 0.03,
            min_cpu_cores: 2.0,
            cache_heavy_memory_share: 0.5,
            highly_loaded_utilization: 0.8,
            memory_headroom: 1.2,
            max_merged_memory_mb: None,
            assumed_serialization_cpu_share: 0.05,
            in_process_call_ms: 0.0,
        }
    }
}

impl Rules {
    /// Reads overrides of the defaults from TOML: top-level keys named as the
    /// fields. Unknown keys and out-of-range values are errors naming the line
    /// and column or the key.
    pub fn from_toml(text: &str) -> Result<Rules, String> {
        let rules: Rules = toml::from_str(text).map_err(|e| {
            let reason = e.message().trim_end();
            match e.span() {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    format!("line {line}, column {column}: {reason}")
                }
                None => reason.to_string(),
            }
        })?;
        let mut errors = Vec::new();
        let shares = [
            ("min_affinity", rules.min_affinity),
            (
                "min_serialization_cpu_share",
                rules.min_serialization_cpu_share,
            ),
            ("cache_heavy_memory_share", rules.cache_heavy_memory_share),
            ("highly_loaded_utilization", rules.highly_loaded_utilization),
            (
                "assumed_serialization_cpu_share",
                rules.assumed_serialization_cpu_share,
            ),
        ];
        for (key, value) in shares {
            if !(0.0..=1.0).contains(&value) {
                errors.push(format!("`{key}` is {value}, outside 0..1"));
            }
        }
        for (key, value) in [
            ("min_cpu_cores", rules.min_cpu_cores),
            ("in_process_call_ms", rules.in_process_call_ms),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                errors.push(format!("`{key}` is {value}, must not be negative"));
            }
        }
        if !(rules.memory_headroom.is_finite() && rules.memory_headroom >= 1.0) {
            errors.push(format!(
                "`memory_headroom` is {}, must be at least 1",
                rules.memory_headroom
            ));
        }
        if let Some(mb) = rules
            .max_merged_memory_mb
            .filter(|mb| !(mb.is_finite() && *mb > 0.0))
        {
            errors.push(format!("`max_merged_memory_mb` is {mb}, must be positive"));
        }
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(errors.join("\n"))
        }
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_gives_the_defaults() {
        assert_eq!(Rules::from_toml("").unwrap(), Rules::default());
    }

    #[test]
    fn overrides_only_the_keys_given() {
        let rules = Rules::from_toml(
            "min_affinity = 0.9\nmin_cpu_cores = 4\nmax_merged_memory_mb = 16384\n",
        )
        .unwrap();
        assert_eq!(rules.min_affinity, 0.9);
        assert_eq!(rules.min_cpu_cores, 4.0);
        assert_eq!(rules.max_merged_memory_mb, Some(16384.0));
        assert_eq!(rules.memory_headroom, 1.2);
        assert_eq!(rules.min_serialization_cpu_share, 0.03);
    }

    #[test]
    fn unknown_keys_are_errors_with_line() {
        let err = Rules::from_toml("min_affinity = 0.9\nmin_afinity = 0.7\n").unwrap_err();
        assert!(
            err.starts_with("line 2, column 1: unknown field `min_afinity`, expected one of"),
            "{err}"
        );
    }

    #[test]
    fn out_of_range_values_are_errors() {
        let err =
            Rules::from_toml("min_affinity = 1.5\nmemory_headroom = 0.9\nmin_cpu_cores = -1\n")
                .unwrap_err();
        assert_eq!(
            err,
            "`min_affinity` is 1.5, outside 0..1\n\
             `min_cpu_cores` is -1, must not be negative\n\
             `memory_headroom` is 0.9, must be at least 1"
        );
        let err = Rules::from_toml("min_affinity = \"high\"\n").unwrap_err();
        assert!(
            err.starts_with("line 1, column 16: invalid type: string \"high\", expected f64"),
            "{err}"
        );
    }
}
