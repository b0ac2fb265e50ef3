// auth's generated code, declared by both the library and the binary.
tonic::include_proto!("auth");
