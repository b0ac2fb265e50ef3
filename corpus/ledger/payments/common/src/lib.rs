//! Helpers of the payments team (rand 0.9): same crate name, other contents.

use rand::{rngs::StdRng, Rng, SeedableRng};

/// A receipt number for a charge.
pub fn receipt(account: &str, cents: u64) -> String {
    let seed = account.bytes().fold(cents, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)));
    let mut rng = StdRng::seed_from_u64(seed);
    format!("RC-{:08x}", rng.random::<u32>())
}
