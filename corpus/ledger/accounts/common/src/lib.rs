//! Helpers of the accounts team (rand 0.8).

use rand::{rngs::StdRng, Rng, SeedableRng};

/// A stable account number for `owner`.
pub fn account_number(owner: &str) -> String {
    let seed = owner.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut rng = StdRng::seed_from_u64(seed);
    format!("AC-{:06}", rng.gen_range(0..1_000_000))
}
