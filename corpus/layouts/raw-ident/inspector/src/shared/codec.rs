//! How inspector writes a type's description.

use inspector::pb::TypeInfo;

pub fn render(info: &TypeInfo) -> String {
    let (min, max) = match (info.signed, info.bits) {
        (true, bits) => (format!("-2^{}", bits - 1), format!("2^{} - 1", bits - 1)),
        (false, bits) => ("0".to_string(), format!("2^{bits} - 1")),
    };
    format!("{}: {} bits, {min} ..= {max}", info.name, info.bits)
}
