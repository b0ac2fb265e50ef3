//! Every name that crosses files of a merged workspace: the folders knit's
//! crates live in, their package and crate names, the in-process modules of
//! the proto crates, the lifted entry and the standalone binary's file. The
//! passes (which write references to these) and the generated code (which
//! defines them) both take them from here.

/// The folder of knit's own crates in the output.
const KNIT_DIR: &str = "knit";

/// knit-runtime's folder in the output.
pub const RUNTIME_DIR: &str = "knit/runtime";

/// The merged binary's folder in the output.
pub const HOST_DIR: &str = "knit/merged";

/// knit-runtime's package name: the key of every dependency on it.
pub const RUNTIME_PACKAGE: &str = "knit-runtime";

/// The merged binary's package name.
pub const HOST_PACKAGE: &str = "merged";

/// knit-runtime's crate name: how the code of a merged workspace spells it.
pub const RUNTIME_CRATE: &str = "knit_runtime";

/// knit-runtime's items that the passes write into services' code, by the
/// paths they write (each under [`RUNTIME_CRATE`]).
pub mod runtime {
    /// The host of one service in the merged process (a type).
    pub const SERVICE_HOST: &str = "knit_runtime::ServiceHost";
    /// The host of the running entry, where no parameter carries it.
    pub const CURRENT_HOST: &str = "knit_runtime::ServiceHost::current()";
    /// The error a lifted entry that runs its own runtime returns.
    pub const FAILED: &str = "knit_runtime::Failed";
    /// Runs a closure on a thread of its own, in the service's host.
    pub const ON_OWN_THREAD: &str = "knit_runtime::on_own_thread";
    /// Whether the code runs in the merged binary.
    pub const IN_MERGED_HOST: &str = "knit_runtime::in_merged_host";
    /// The registry of in-process services (`connect`).
    pub const REGISTRY: &str = "knit_runtime::registry";
    /// Channels of clients that keep their own (`connect`, `client`, ...).
    pub const CHANNEL: &str = "knit_runtime::channel";
    /// The transport of bridged clients.
    pub const BRIDGE: &str = "knit_runtime::transport::Bridge";
    /// Each service's environment, arguments and working directory.
    pub const ENV: &str = "knit_runtime::env";
    /// Volo servers and clients.
    pub const VOLO: &str = "knit_runtime::volo";
}

/// The package name of the crate of proto package `package` before any
/// collision is resolved (`knit-proto-a-b` for `a.b` and `a_b`).
pub fn proto_package(package: &str) -> String {
    format!("knit-proto-{}", package.replace(['.', '_'], "-"))
}

/// The folder of the crate of proto package `package` (`knit/protos/helloworld`).
pub fn proto_dir(package: &str) -> String {
    format!("{KNIT_DIR}/protos/{package}")
}

/// The crate name sources use for package `package` (`knit_proto_helloworld`).
pub fn crate_name(package: &str) -> String {
    package.replace('-', "_")
}

/// The in-process module of gRPC service `service` in its proto crate
/// (`greeter_inline` for `Greeter`).
pub fn inline_module(service: &str) -> String {
    format!("{}_inline", snake_case(service))
}

/// The name of the entry knit lifts each service's `fn main` to.
pub const ENTRY: &str = "knit_entry";

/// The file of a service's standalone binary, beside its lifted `main`.
pub const STANDALONE_MAIN: &str = "knit_main.rs";

/// The module of a package's library that holds binary `bin`'s lifted items
/// and entry, when several binaries of one package are services
/// (`knit_bin_users`).
pub fn bin_module(bin: &str) -> String {
    let name: String = bin
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_lowercase(),
            false => '_',
        })
        .collect();
    format!("knit_bin_{name}")
}

/// `SayHello` -> `say_hello`, `HTTPRequest` -> `http_request`: how prost-build
/// names a service's modules and a message's fields and methods.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase()));
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `HTTP` -> `Http`, `greeter` -> `Greeter`: how prost-build names a service's
/// Rust types (`HttpClient`, `HttpServer`), after the words `snake_case` finds.
pub fn upper_camel(name: &str) -> String {
    snake_case(name)
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            first.unwrap_or_default() + chars.as_str()
        })
        .collect()
}

/// `dir/path` of `/`-separated paths, with `.` and `..` folded (a `..` above
/// `dir`'s start is dropped: the result stays inside the output).
pub fn join_path(dir: &str, path: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// The path from folder `from` to `to`, both relative to the output root.
pub fn relative_path(from: &str, to: &str) -> String {
    let from: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let to: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_paths_are_under_its_crate() {
        assert_eq!(RUNTIME_CRATE, crate_name(RUNTIME_PACKAGE));
        for path in [
            runtime::SERVICE_HOST,
            runtime::CURRENT_HOST,
            runtime::FAILED,
            runtime::ON_OWN_THREAD,
            runtime::IN_MERGED_HOST,
            runtime::REGISTRY,
            runtime::CHANNEL,
            runtime::BRIDGE,
            runtime::ENV,
            runtime::VOLO,
        ] {
            assert!(path.starts_with(&format!("{RUNTIME_CRATE}::")), "{path}");
        }
        assert!(runtime::CURRENT_HOST.starts_with(runtime::SERVICE_HOST));
    }

    #[test]
    fn paths_join_inside_the_output() {
        assert_eq!(
            join_path("svc/src", "../proto/./x.proto"),
            "svc/proto/x.proto"
        );
        assert_eq!(join_path("svc", "../../x"), "x");
    }

    #[test]
    fn names_of_generated_crates_and_modules() {
        assert_eq!(proto_package("shop.v1"), "knit-proto-shop-v1");
        assert_eq!(proto_package("a_b"), "knit-proto-a-b");
        assert_eq!(proto_dir("shop.v1"), "knit/protos/shop.v1");
        assert_eq!(crate_name("knit-proto-shop-v1"), "knit_proto_shop_v1");
        assert_eq!(inline_module("HTTPGateway"), "http_gateway_inline");
        assert_eq!(bin_module("orders-api"), "knit_bin_orders_api");
        assert_eq!(upper_camel("HTTP"), "Http");
        assert_eq!(snake_case("SayHello2U"), "say_hello2_u");
    }

    #[test]
    fn relative_paths() {
        assert_eq!(relative_path("greeter", RUNTIME_DIR), "../knit/runtime");
        assert_eq!(relative_path(HOST_DIR, "greeter"), "../../greeter");
        assert_eq!(relative_path("a/b", "a/b/c"), "c");
        assert_eq!(relative_path("a", "a"), ".");
    }
}
