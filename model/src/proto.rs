//! Reading `.proto` files: their package, services and a fingerprint of their
//! definitions.

use prost::Message;

use crate::hash::fnv64;
use crate::model::{ProtoFile, ProtoMethod, ProtoService};

/// Why a `.proto` file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoError {
    /// The byte offset in the file's text the error points at.
    pub offset: usize,
    /// What is wrong, as the parser says it.
    pub message: String,
}

/// Parses the proto file at `path` (relative to the output root) whose text is
/// `text`.
pub fn parse(path: &str, text: &str) -> Result<ProtoFile, ProtoError> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut file = protox_parse::parse(name, text).map_err(|e| ProtoError {
        offset: e.span().map_or(0, |s| s.start),
        message: e.to_string(),
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
        text: text.to_string(),
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
        let file = parse("proto/helloworld.proto", PROTO).unwrap();
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
        let a = parse("a/helloworld.proto", PROTO).unwrap();
        let commented = PROTO.replace("service", "// The greeter.\nservice");
        let b = parse("b/helloworld.proto", &commented).unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
        let changed = PROTO.replace("string name = 1;", "string name = 2;");
        let c = parse("c/helloworld.proto", &changed).unwrap();
        assert_ne!(a.fingerprint, c.fingerprint);
    }

    #[test]
    fn syntax_errors_point_at_their_offset() {
        let text = "syntax = \"proto3\";\nmessage {\n";
        let err = parse("p.proto", text).unwrap_err();
        assert_eq!(&text[err.offset..err.offset + 1], "{", "{err:?}");
    }
}
