//! Helpers both services use.

/// `cents` as an amount of money: `12.50`.
pub fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

