//! Reading `.proto` files: their package, services and a fingerprint of their
//! definitions.

use knit_passes::model::{ProtoFile, ProtoMethod, ProtoService};
use prost::Message;

use crate::error::Diagnostic;
use crate::hash::fnv64;

/// Parses the proto file `path` (relative to the output root; `shown` is the
/// path to name in errors).
pub fn read(path: &str, shown: &std::path::Path, text: String) -> Result<ProtoFile, Diagnostic> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut file = protox_parse::parse(name, &text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        Diagnostic::at_offset(shown, &text, offset, format!("invalid proto: {e}"))
    })?;
    let package = file.package.clone().unwrap_or_default();
    let services = file
        .service
        .iter()
        .map(|s| ProtoService {
            name: s.name().to_string(),
            methods: s
                .method
                .iter()
                .map(|m| ProtoMethod {
                    name: m.name().to_string(),
                    input: qualify(&package, m.input_type()),
                    output: qualify(&package, m.output_type()),
                    client_streaming: m.client_streaming(),
                    server_streaming: m.server_streaming(),
                })
                .collect(),
        })
        .collect();
    let imports = file.dependency.clone();
    // The fingerprint sees definitions only: no comments, layout or file name.
    file.source_code_info = None;
    file.name = None;
    let fingerprint = fnv64(&file.encode_to_vec());
    Ok(ProtoFile {
        path: path.to_string(),
        text,
        package,
        services,
        fingerprint,
        imports,
    })
}

/// The fully qualified name of a message type as a method names it: relative
/// names resolve in the file's package (names of other packages other than
/// `google.protobuf` must be written fully qualified, with a leading dot).
fn qualify(package: &str, name: &str) -> String {
    if name.starts_with('.') {
        name.to_string()
    } else if package.is_empty() || name.starts_with("google.protobuf.") {
        format!(".{name}")
    } else {
        format!(".{package}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTO: &str = "syntax = \"proto3\";\npackage helloworld;\nservice Greeter {\n  rpc SayHello (HelloRequest) returns (HelloReply);\n}\nmessage HelloRequest { string name = 1; }\nmessage HelloReply { string message = 1; }\n";

    #[test]
    fn reads_services_and_methods() {
        let file = read("proto/helloworld.proto", "x".as_ref(), PROTO.into()).unwrap();
        assert_eq!(file.package, "helloworld");
        assert_eq!(file.services[0].name, "Greeter");
        let m = &file.services[0].methods[0];
        assert_eq!(
            (m.name.as_str(), m.input.as_str(), m.output.as_str()),
            (
                "SayHello",
                ".helloworld.HelloRequest",
                ".helloworld.HelloReply"
            )
        );
    }

    #[test]
    fn fingerprint_ignores_comments_but_not_fields() {
        let a = read("a/helloworld.proto", "x".as_ref(), PROTO.into()).unwrap();
        let commented = PROTO.replace("service", "// The greeter.\nservice");
        let b = read("b/helloworld.proto", "x".as_ref(), commented).unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
        let changed = PROTO.replace("string name = 1;", "string name = 2;");
        let c = read("c/helloworld.proto", "x".as_ref(), changed).unwrap();
        assert_ne!(a.fingerprint, c.fingerprint);
    }

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
