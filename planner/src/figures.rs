//! Figures as knit select shows them: rounded in JSON, short for people. Below
//! every other module (the estimate, the selection and its renderings use it).

use serde::Serializer;

/// Serializes a figure rounded to 6 decimals, so that JSON shows `11.52`
/// rather than binary noise such as `11.520000000000001`.
pub(crate) fn rounded<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((value * 1e6).round() / 1e6)
}

/// A figure for people: at most 4 decimals, without trailing zeros (`0.6667`, `0.45`, `2`).
pub(crate) fn num(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}
