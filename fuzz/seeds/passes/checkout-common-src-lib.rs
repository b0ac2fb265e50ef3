//! The checkout team's shared helpers.

/// Cents as receipts show them: `12.50 USD`.
pub fn format_cents(cents: u64) -> String {
    format!("{}.{:02} USD", cents / 100, cents % 100)
}

/// An order's id, from the user and the payment's receipt.
pub fn order_id(user: &str, receipt: &str) -> String {
    format!("ord-{user}-{receipt}")
}
