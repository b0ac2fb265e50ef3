//! A small stable hash for fingerprints and content hashes.

/// 64-bit FNV-1a: stable across runs, platforms and Rust versions.
pub fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
