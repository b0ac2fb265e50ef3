//! Reading `.proto` files, with errors as diagnostics (the parsing and the
//! fingerprint are [`knit_model::proto::parse`]'s).

use knit_model::model::ProtoFile;

use crate::error::Diagnostic;

/// Parses the proto file `path` (relative to the output root; `shown` is the
/// path to name in errors).
pub fn read(path: &str, shown: &std::path::Path, text: String) -> Result<ProtoFile, Diagnostic> {
    knit_model::proto::parse(path, &text).map_err(|e| {
        Diagnostic::at_offset(
            shown,
            &text,
            e.offset,
            format!("invalid proto: {}", e.message),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_the_line() {
        let err = read(
            "p.proto",
            "p.proto".as_ref(),
            "syntax = \"proto3\";\nmessage {\n".into(),
        )
        .unwrap_err();
        assert_eq!(err.line.map(|l| l.0), Some(2), "{err}");
    }
}
