//! A corpus system's scenario (`corpus/SYSTEM/scenario.toml`): how to run each
//! service, and the requests to replay against the split and merged deployments.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The merge plan, relative to the system (default `knit.toml`): a plan may
    /// live in a folder of its own.
    #[serde(default)]
    pub plan: Option<String>,
    /// The service whose listener receives the requests.
    pub entry: String,
    /// Proto files (relative to the system) that define the entry's API.
    pub protos: Vec<String>,
    /// Environment of each service; `{NAME}` is the loopback port of service NAME
    /// (of the group or `outside`).
    pub env: BTreeMap<String, BTreeMap<String, String>>,
    /// Services the system calls that the plan does not merge, by name: each is
    /// built from its folder and runs as its own process in every deployment
    /// (split, merged, listeners off), started before the others, with its
    /// `[env.NAME]`. `outside = { payment = { path = "payment", bin = "payment" } }`.
    #[serde(default)]
    pub outside: BTreeMap<String, Outside>,
    /// Environment of the merged binary, when it is not the union of `env`
    /// (when services read the same variable with different meanings).
    #[serde(default)]
    pub merged_env: Option<BTreeMap<String, String>>,
    /// Response metadata keys whose values must match.
    #[serde(default)]
    pub compare_metadata: Vec<String>,
    /// Services of the group that bind and serve their listener in code of
    /// their own (a hand-written accept loop): `KNIT_LISTEN_<NAME>=0` cannot
    /// turn it off, so it listens in every deployment.
    #[serde(default)]
    pub own_listeners: Vec<String>,
    #[serde(rename = "call")]
    pub calls: Vec<CallSpec>,
}

/// A service outside the merge group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outside {
    /// Folder (relative to the system) with the service's `Cargo.toml`.
    pub path: String,
    /// The binary target to build and run.
    pub bin: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    /// `package.Service/Method`.
    pub method: String,
    pub request: toml::Value,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub timeout_ms: Option<u64>,
    /// How many copies of the call to send at once (default 1). The answers are
    /// compared as a sorted list, so a deployment may answer them in any order;
    /// each must have the `expect`ed code.
    #[serde(default = "one")]
    pub concurrent: usize,
    /// The status code both deployments must answer (`Ok`, `InvalidArgument`, ..).
    pub expect: String,
}

fn one() -> usize {
    1
}

impl Scenario {
    pub fn read(path: &Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let scenario: Scenario =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(i) = scenario.calls.iter().position(|c| c.concurrent == 0) {
            return Err(format!(
                "{}: call #{i}: `concurrent` must be at least 1",
                path.display()
            ));
        }
        Ok(scenario)
    }

    /// `template` with `{service}` replaced by that service's port.
    pub fn expand(template: &str, ports: &BTreeMap<String, u16>) -> String {
        ports.iter().fold(template.to_string(), |t, (name, port)| {
            t.replace(&format!("{{{name}}}"), &port.to_string())
        })
    }
}
