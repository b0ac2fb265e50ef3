//! What merging saves: CPU from calls that no longer encode, decode and cross
//! the network, and the latency of each such call. The formulas are explained
//! in docs/select.md.

use serde::Serialize;

use crate::figures::rounded;

/// Estimated savings of a merged edge, or the sum over a group's edges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Estimate {
    /// Cores no longer spent on the RPCs.
    #[serde(serialize_with = "rounded")]
    pub cores_saved: f64,
    /// Milliseconds saved per call (for a group: per request crossing every edge once).
    #[serde(serialize_with = "rounded")]
    pub latency_saved_ms_per_call: f64,
}

impl Estimate {
    /// The savings of merging one edge:
    /// `cores_saved = serialization_cpu_share × (caller cores + callee cores) × affinity`,
    /// `latency_saved_ms_per_call = max(latency_ms − in_process_call_ms, 0)`.
    pub(crate) fn of_edge(
        serialization_cpu_share: f64,
        caller_cores: f64,
        callee_cores: f64,
        affinity: f64,
        latency_ms: f64,
        in_process_call_ms: f64,
    ) -> Estimate {
        Estimate {
            cores_saved: serialization_cpu_share * (caller_cores + callee_cores) * affinity,
            latency_saved_ms_per_call: (latency_ms - in_process_call_ms).max(0.0),
        }
    }
}

impl std::ops::AddAssign for Estimate {
    fn add_assign(&mut self, other: Estimate) {
        self.cores_saved += other.cores_saved;
        self.latency_saved_ms_per_call += other.latency_saved_ms_per_call;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_saved_is_share_times_pair_cores_times_affinity() {
        // 0.10 × (48 + 72) × 0.96 = 11.52
        let e = Estimate::of_edge(0.10, 48.0, 72.0, 0.96, 4.0, 0.0);
        assert!((e.cores_saved - 11.52).abs() < 1e-9, "{e:?}");
        assert_eq!(e.latency_saved_ms_per_call, 4.0);
        // 0.05 × (3 + 5) × 0.5 = 0.2
        let e = Estimate::of_edge(0.05, 3.0, 5.0, 0.5, 4.0, 0.0);
        assert!((e.cores_saved - 0.2).abs() < 1e-12, "{e:?}");
    }

    #[test]
    fn latency_saved_subtracts_the_in_process_call_and_stops_at_zero() {
        assert_eq!(
            Estimate::of_edge(0.1, 1.0, 1.0, 1.0, 4.0, 0.25).latency_saved_ms_per_call,
            3.75
        );
        assert_eq!(
            Estimate::of_edge(0.1, 1.0, 1.0, 1.0, 0.1, 0.25).latency_saved_ms_per_call,
            0.0
        );
    }

    #[test]
    fn estimates_add_up() {
        let mut total = Estimate::of_edge(0.1, 10.0, 10.0, 1.0, 2.0, 0.0);
        total += Estimate::of_edge(0.05, 10.0, 30.0, 0.5, 3.5, 0.0);
        assert_eq!(
            total,
            Estimate {
                cores_saved: 3.0,
                latency_saved_ms_per_call: 5.5
            }
        );
    }
}
