//! The cart team's shared helpers.

/// The most units of one item a cart holds.
pub const MAX_QUANTITY: u32 = 99;

/// Cents as the cart shows them: `$12.50`.
pub fn format_cents(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}
