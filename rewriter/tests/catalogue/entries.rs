// The entries of the catalogue (included by tests/catalogue.rs).

const PLANS: &[Case] = &[
    Case {
        input: "the plan is not TOML (an unclosed string)",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:5:16: invalid basic string, expected `\"`",
    },
    Case {
        input: "the plan is empty",
        setup: |d| plan(d, ""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:1:1: missing field `group`",
    },
    Case {
        input: "the plan has no `[group]`",
        setup: |d| plan(d, "[services.greeter]\npath = \"greeter\"\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:1:1: missing field `group`",
    },
    Case {
        input: "the group has no name",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", ""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:4:1: missing field `name`",
    },
    Case {
        input: "the group's name has capitals",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"Greeter\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:1:1: group name `Greeter`: use lowercase letters, digits and `_`",
    },
    Case {
        input: "`services` is a string, not a list",
        setup: |d| edit(d, "greeter/knit.toml", "services = [\"greeter\", \"frontend\"]", "services = \"greeter\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:7:12: invalid type: string \"greeter\", expected a sequence",
    },
    Case {
        input: "a misspelt key in `[group]`",
        setup: |d| edit(d, "greeter/knit.toml", "services = [", "servces = ["),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:7:1: unknown field `servces`, expected one of `name`, `worker_threads`, `shutdown_grace_secs`, `global_allocator`, `services`",
    },
    Case {
        input: "a misspelt key in a service's table",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"greeter\"", "paht = \"greeter\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:11:1: unknown field `paht`, expected one of `path`, `package`, `bin`, `rev`, `env`, `args`, `cwd`, `listen`",
    },
    Case {
        input: "a service of the group has no table",
        setup: |d| edit(d, "greeter/knit.toml", "[services.frontend]\npath = \"frontend\"", ""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:7:24: service `frontend` is in the group but has no `[services.frontend]` table",
    },
    Case {
        input: "a service listed twice in the group",
        setup: |d| edit(d, "greeter/knit.toml", "[\"greeter\", \"frontend\"]", "[\"greeter\", \"frontend\", \"greeter\"]"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:7:36: service `greeter` is listed twice",
    },
    Case {
        input: "a service name with capitals",
        setup: |d| plan(d, "[group]\nname = \"g\"\nservices = [\"Greeter\", \"frontend\"]\n[services.Greeter]\npath = \"greeter\"\n[services.frontend]\npath = \"frontend\"\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:3:13: service name `Greeter`: use lowercase letters, digits and `_`",
    },
    Case {
        input: "a service table without `path`",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"greeter\"", ""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:9:1: missing field `path`",
    },
    Case {
        input: "a service path to a missing folder",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"frontend\"", "path = \"frontdoor\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:14:8: service `frontend`: no Cargo.toml in `greeter/frontdoor`",
    },
    Case {
        input: "a service path to a file",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"frontend\"", "path = \"frontend/Cargo.toml\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:14:8: service `frontend`: no Cargo.toml in `greeter/frontend/Cargo.toml`",
    },
    Case {
        input: "an empty service path",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"frontend\"", "path = \"\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:14:8: service `frontend`: no Cargo.toml in `greeter/`",
    },
    Case {
        input: "`worker_threads = 0`",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter\"\nworker_threads = 0"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:1:1: `worker_threads` must be at least 1",
    },
    Case {
        input: "`worker_threads = -1`",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter\"\nworker_threads = -1"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:6:18: invalid value: integer `-1`, expected usize",
    },
    Case {
        input: "`worker_threads` beyond 64 bits",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter\"\nworker_threads = 99999999999999999999999"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:6:18: invalid type: integer `99999999999999999999999` as i128, expected usize",
    },
    Case {
        input: "`global_allocator` naming no service",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter\"\nglobal_allocator = \"nobody\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:6:20: `global_allocator = \"nobody\"` names no service of the group (services: greeter, frontend)",
    },
    Case {
        input: "an empty env key",
        setup: |d| plan_with(d, "env = { \"\" = \"x\" }"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:7:9: service `greeter`: an env key cannot be empty",
    },
    Case {
        input: "an env key holding `=`",
        setup: |d| plan_with(d, "env = { \"A=B\" = \"x\" }"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:7:9: service `greeter`: env key `A=B`: a variable name cannot contain `=` or NUL",
    },
    Case {
        input: "an env value with an unclosed `${`",
        setup: |d| plan_with(d, "env = { ADDR = \"${HOST:1\" }"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:7:16: service `greeter`: env `ADDR`: unclosed `${` in `${HOST:1` (write `${VAR}`)",
    },
    Case {
        input: "an env value with an empty `${}`",
        setup: |d| plan_with(d, "env = { ADDR = \"${}\" }"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:7:16: service `greeter`: env `ADDR`: `${}` names no variable (write `${VAR}`)",
    },
    Case {
        input: "`listen = \"yes\"` (not a boolean)",
        setup: |d| plan_with(d, "listen = \"yes\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:7:10: invalid type: string \"yes\", expected a boolean",
    },
    Case {
        input: "`bin` naming no binary of the package",
        setup: |d| plan_with(d, "bin = \"nope\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:5:1: service `greeter`: no binary `nope` in package `greeter` (binaries: greeter)",
    },
    Case {
        input: "`package` naming no package of the workspace",
        setup: |d| plan_with(d, "package = \"nope\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:5:1: service `greeter`: no package `nope` in `greeter/greeter`",
    },
    Case {
        input: "`rev` on a folder that is no git checkout",
        setup: |d| plan_with(d, "rev = \"main\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:5:1: service `greeter`: `rev` needs a git checkout",
    },
    Case {
        input: "a group of no service",
        setup: |d| edit(d, "greeter/knit.toml", "services = [\"greeter\", \"frontend\"]", "services = []"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:7:12: a group merges at least two services",
    },
    Case {
        input: "a key given twice",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter\"\nname = \"again\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:6:1: duplicate key",
    },
    Case {
        input: "two services with the same path",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"frontend\"", "path = \"greeter\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:13:1: services `greeter` and `frontend` are the same binary `greeter` of package `greeter` with the same arguments: a binary runs once in a merge, unless each service names its role with its own `args = [..]`",
    },
    Case {
        input: "the plan is not UTF-8",
        setup: |d| std::fs::write(d.join("greeter/knit.toml"), b"[group]\nname = \"\xff\"\n").unwrap(),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml: cannot read the plan: stream did not contain valid UTF-8",
    },
    Case {
        input: "the plan is missing",
        setup: nothing,
        args: &["merge", "greeter/nothere.toml", "--out", "out"],
        exit: 2,
        message: "error: greeter/nothere.toml: cannot read the plan: No such file or directory (os error 2)",
    },
    Case {
        input: "the plan is a folder",
        setup: nothing,
        args: &["merge", "greeter", "--out", "out"],
        exit: 2,
        message: "error: greeter: cannot read the plan: Is a directory (os error 21)",
    },
    Case {
        input: "a plan path with a line break",
        setup: nothing,
        args: &["merge", "we\nird/knit.toml", "--out", "out"],
        exit: 2,
        message: "error: \"we\\nird/knit.toml\": cannot read the plan: No such file or directory (os error 2)",
    },
    Case {
        input: "the plan starts with a byte order mark",
        setup: |d| {
            let text = std::fs::read_to_string(d.join("greeter/knit.toml")).unwrap();
            plan(d, &format!("\u{feff}{text}"));
        },
        args: &[],
        exit: 0,
        message: "call sites: 1 inline, 0 bridged, 0 left as RPC",
    },
];

const SOURCES: &[Case] = &[
    Case {
        input: "a syntax error in a service's file",
        setup: |d| edit(d, FRONTEND_MAIN, "let visitor = request", "let visitor = = request"),
        args: &[],
        exit: 2,
        message: "error: greeter/frontend/src/main.rs:33:23: syntax error: expected expression",
    },
    Case {
        input: "no `fn main` in the binary's root",
        setup: |d| edit(d, GREETER_MAIN, "async fn main()", "async fn start()"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:1:1: service `greeter`: no `fn main` in greeter/src/main.rs",
    },
    Case {
        input: "a second `fn main` in the binary's root",
        setup: |d| append(d, GREETER_MAIN, "\nfn main() {}\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:55:4: service `greeter`: a second `fn main` in the binary's root file",
    },
    Case {
        input: "an unterminated string literal",
        setup: |d| append(d, GREETER_MAIN, "\nconst S: &str = \"open;\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:56:1: syntax error: expected SEMICOLON",
    },
    Case {
        input: "an unterminated block comment",
        setup: |d| append(d, GREETER_MAIN, "\n/* open\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:55:1: syntax error: Missing trailing `*/` symbols to terminate the block comment",
    },
    Case {
        input: "a NUL byte in a file",
        setup: |d| append(d, GREETER_MAIN, "\nconst A: u8 = 1;\0\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:55:17: syntax error: expected an item",
    },
    Case {
        input: "a file that is not UTF-8",
        setup: |d| {
            let mut bytes = std::fs::read(d.join(GREETER_MAIN)).unwrap();
            bytes.extend_from_slice(b"\n// \xff\xfe\n");
            std::fs::write(d.join(GREETER_MAIN), bytes).unwrap();
        },
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs: cannot read: stream did not contain valid UTF-8",
    },
    Case {
        input: "3,000 nested parentheses",
        setup: |d| append(d, GREETER_MAIN, &format!("\nfn deep() -> i32 {{ {}1{} }}\n", "(".repeat(3000), ")".repeat(3000))),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:55:1043: syntax error: nested more than 1024 levels deep (brackets, or operators in a row): knit does not read code this deep",
    },
    Case {
        input: "1,100 nested blocks",
        setup: |d| append(d, GREETER_MAIN, &format!("\nfn deep() -> i32 {{ {}1{} }}\n", "{".repeat(1100), "}".repeat(1100))),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:55:1043: syntax error: nested more than 1024 levels deep (brackets, or operators in a row): knit does not read code this deep",
    },
    Case {
        input: "5,000 minus signs in a row",
        setup: |d| append(d, GREETER_MAIN, &format!("\nfn deep() -> i32 {{ {}1 }}\n", "- ".repeat(5000))),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:55:2066: syntax error: nested more than 1024 levels deep (brackets, or operators in a row): knit does not read code this deep",
    },
    Case {
        input: "a chain of 30,000 method calls",
        setup: |d| append(d, GREETER_MAIN, &format!("\nfn deep() {{ x{} }}\n", ".f()".repeat(30_000))),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:55:13: syntax error: nested more than 8192 levels deep (syntax tree levels): knit does not read code this deep",
    },
    Case {
        input: "`mod gone;` with no file",
        setup: |d| edit(d, GREETER_MAIN, "pub mod hello_world", "mod gone;\npub mod hello_world"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:10:1: module `gone`: none of `TMP/greeter/greeter/src/gone.rs`, `TMP/greeter/greeter/src/gone/mod.rs` exists",
    },
    Case {
        input: "`#[path]` to a missing file",
        setup: |d| edit(d, GREETER_MAIN, "pub mod hello_world", "#[path = \"nowhere/x.rs\"]\nmod x;\npub mod hello_world"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:10:1: module `x`: none of `TMP/greeter/greeter/src/nowhere/x.rs` exists",
    },
    Case {
        input: "`mod a;` with both `a.rs` and `a/mod.rs`",
        setup: |d| {
            edit(d, GREETER_MAIN, "pub mod hello_world", "mod a;\npub mod hello_world");
            write(d, "greeter/greeter/src/a.rs", "pub fn one() {}\n");
            write(d, "greeter/greeter/src/a/mod.rs", "pub fn two() {}\n");
        },
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:10:1: module `a`: both `TMP/greeter/greeter/src/a.rs` and `TMP/greeter/greeter/src/a/mod.rs` exist, and rustc refuses a module with two files (E0761); remove one of them",
    },
    Case {
        input: "a module that includes its own file again by `#[path]` (a cycle)",
        setup: |d| {
            edit(d, GREETER_MAIN, "pub mod hello_world", "mod a;\npub mod hello_world");
            write(d, "greeter/greeter/src/a.rs", "#[path = \"a.rs\"]\nmod again;\n");
        },
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/a.rs:1:1: module `again`: `TMP/greeter/greeter/src/a.rs` is a file of a module around it, and rustc refuses circular modules; point the `#[path]` at another file",
    },
    Case {
        input: "a module file that is a folder",
        setup: |d| {
            edit(d, GREETER_MAIN, "pub mod hello_world", "mod a;\npub mod hello_world");
            std::fs::create_dir_all(d.join("greeter/greeter/src/a.rs")).unwrap();
        },
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:10:1: module `a`: none of `TMP/greeter/greeter/src/a.rs`, `TMP/greeter/greeter/src/a/mod.rs` exists",
    },
    Case {
        input: "a module file that is a symlink loop",
        setup: |d| {
            edit(d, GREETER_MAIN, "pub mod hello_world", "mod a;\npub mod hello_world");
            symlink("a.rs", d.join("greeter/greeter/src/a.rs")).unwrap();
        },
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:10:1: module `a`: none of `TMP/greeter/greeter/src/a.rs`, `TMP/greeter/greeter/src/a/mod.rs` exists",
    },
    Case {
        input: "`include_str!` of a missing file beside a build script that, run, does not write it",
        setup: |d| append(d, GREETER_MAIN, "\nconst S: &str = include_str!(\"missing.txt\");\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:55:17: includes \"missing.txt\", and `TMP/greeter/greeter/src/missing.txt` does not exist, nor does package `greeter`'s build script write it when run, so rustc cannot build this file; add the file, or gate the item with a `cfg`",
    },
    Case {
        input: "`include!` of a missing file beside a build script that, run, does not write it",
        setup: |d| append(d, GREETER_MAIN, "\ninclude!(\"missing.rs\");\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:55:1: includes \"missing.rs\", and `TMP/greeter/greeter/src/missing.rs` does not exist, nor does package `greeter`'s build script write it when run, so rustc cannot build this file; add the file, or gate the item with a `cfg`",
    },
    Case {
        input: "`include!` of a file the build script writes into `src/` (by a path built at run time)",
        setup: |d| {
            append(d, GREETER_MAIN, "\ninclude!(\"made.rs\");\n");
            edit(
                d,
                "greeter/greeter/build.rs",
                "    Ok(())",
                "    let dir = std::path::PathBuf::from(std::env::var(\"CARGO_MANIFEST_DIR\")?);\n    std::fs::write(dir.join(\"src\").join(\"made.rs\"), \"const MADE: u8 = 1;\\n\")?;\n    Ok(())",
            );
        },
        args: &[],
        exit: 0,
        message: "call sites: 1 inline, 0 bridged, 0 left as RPC",
    },
    Case {
        input: "`include!` of a missing file in a crate with no build script",
        setup: |d| {
            edit(d, GREETER_TOML, "[dependencies]\n", "[dependencies]\nhelper = { path = \"helper\" }\n");
            edit(d, GREETER_TOML, "[workspace]\n", "[workspace]\nmembers = [\"helper\"]\n");
            write(d, "greeter/greeter/helper/Cargo.toml", "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
            write(d, "greeter/greeter/helper/src/lib.rs", "pub mod data {\n    include!(\"missing.rs\");\n}\n");
        },
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/helper/src/lib.rs:2:5: includes \"missing.rs\", and `TMP/greeter/greeter/helper/src/missing.rs` does not exist, so rustc cannot build this file; add the file, or gate the item with a `cfg`",
    },
    Case {
        input: "`include_bytes!` of a folder",
        setup: |d| append(d, GREETER_MAIN, "\nconst B: &[u8] = include_bytes!(\"../proto\");\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:55:18: includes \"../proto\", and `TMP/greeter/greeter/proto` is a folder, so rustc cannot build this file; add the file, or gate the item with a `cfg`",
    },
    Case {
        input: "a byte order mark and a syntax error after it",
        setup: |d| {
            let text = std::fs::read_to_string(d.join(GREETER_MAIN)).unwrap();
            write(d, GREETER_MAIN, &format!("\u{feff}fn = {text}"));
        },
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/main.rs:1:7: syntax error: expected a name",
    },
    Case {
        input: "glob re-exports in a cycle (`pub use a::*` / `use crate::*`)",
        setup: |d| {
            edit(d, GREETER_MAIN, "pub mod hello_world", "mod a;\nmod b;\npub use a::*;\npub use b::*;\npub mod hello_world");
            write(d, "greeter/greeter/src/a.rs", "pub use crate::*;\npub use super::b::*;\npub struct A;\n");
            write(d, "greeter/greeter/src/b.rs", "pub use super::*;\npub use crate::a::*;\npub struct B;\n");
        },
        args: &[],
        exit: 0,
        message: "call sites: 1 inline, 0 bridged, 0 left as RPC",
    },
    Case {
        input: "CRLF line breaks in every file of a service",
        setup: |d| {
            for file in [GREETER_MAIN, "greeter/greeter/build.rs", GREETER_TOML] {
                let text = std::fs::read_to_string(d.join(file)).unwrap();
                write(d, file, &text.replace('\n', "\r\n"));
            }
        },
        args: &[],
        exit: 0,
        message: "call sites: 1 inline, 0 bridged, 0 left as RPC",
    },
    Case {
        input: "a `mod` declared inside a function body (never a file)",
        setup: |d| append(d, GREETER_MAIN, "\nfn f() { mod inner { pub fn g() {} } inner::g() }\n"),
        args: &[],
        exit: 0,
        message: "call sites: 1 inline, 0 bridged, 0 left as RPC",
    },
    Case {
        input: "a service implementing its own generated message (`impl HelloReply`)",
        setup: |d| append(d, GREETER_MAIN, "\nimpl hello_world::HelloReply {\n    pub fn shout(&self) -> String {\n        self.message.to_uppercase()\n    }\n}\n"),
        args: &[],
        exit: 0,
        message: "call sites: 0 inline, 1 bridged, 0 left as RPC",
    },
    Case {
        input: "a service implementing a foreign trait on its generated message",
        setup: |d| append(d, GREETER_MAIN, "\nimpl std::fmt::Display for hello_world::HelloReply {\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\n        f.write_str(&self.message)\n    }\n}\n"),
        args: &[],
        exit: 0,
        message: "call sites: 0 inline, 1 bridged, 0 left as RPC",
    },
    Case {
        input: "`include!` of a checked-in file that names an import knit's edits leave unused",
        setup: |d| {
            edit(d, FRONTEND_MAIN, "#[tokio::main]", "include!(\"extra.rs\");\n\n#[tokio::main]");
            write(d, "greeter/frontend/src/extra.rs", "#[allow(dead_code)]\nfn dial() -> GreeterClient<Channel> {\n    unimplemented!()\n}\n");
        },
        args: &[],
        exit: 0,
        message: "call sites: 1 inline, 0 bridged, 0 left as RPC",
    },
    Case {
        input: "the binary's root file is missing",
        setup: |d| std::fs::remove_file(d.join(GREETER_MAIN)).unwrap(),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:9:1: service `greeter`: package `greeter` has no binary: a service needs a `fn main`",
    },
];

const MANIFESTS: &[Case] = &[
    Case {
        input: "a service's Cargo.toml is not TOML",
        setup: |d| append(d, GREETER_TOML, "x = \n"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:9:1: service `greeter`: greeter/greeter/Cargo.toml: cargo metadata: string values must be quoted, expected literal string (at greeter/greeter/Cargo.toml:19:5)",
    },
    Case {
        input: "a Cargo.toml without a package name",
        setup: |d| edit(d, GREETER_TOML, "name = \"greeter\"\n", ""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:9:1: service `greeter`: greeter/greeter/Cargo.toml: cargo metadata: failed to parse manifest at `TMP/greeter/greeter/Cargo.toml`; missing field `package.name`",
    },
    Case {
        input: "an unknown edition",
        setup: |d| edit(d, GREETER_TOML, "edition = \"2021\"", "edition = \"2099\""),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:9:1: service `greeter`: greeter/greeter/Cargo.toml: cargo metadata: failed to parse manifest at `TMP/greeter/greeter/Cargo.toml`; failed to parse the `edition` key; supported edition values are `2015`, `2018`, `2021`, or `2024`, but `2099` is unknown",
    },
    Case {
        input: "a `[[bin]]` path to a missing file",
        setup: |d| append(d, GREETER_TOML, "\n[[bin]]\nname = \"greeter\"\npath = \"src/gone.rs\"\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/src/gone.rs: cannot read: No such file or directory (os error 2)",
    },
    Case {
        input: "a path dependency to a missing folder",
        setup: |d| edit(d, GREETER_TOML, "[dependencies]\n", "[dependencies]\nhelper = { path = \"../helper\" }\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/Cargo.toml: path dependency `helper` at `TMP/greeter/helper` cannot be read: cargo metadata: manifest path `TMP/greeter/helper/Cargo.toml` does not exist",
    },
    Case {
        input: "path dependencies in a cycle",
        setup: |d| {
            edit(d, GREETER_TOML, "[dependencies]\n", "[dependencies]\nhelper = { path = \"helper\" }\n");
            edit(d, GREETER_TOML, "[workspace]\n", "[workspace]\nmembers = [\"helper\"]\n");
            write(d, "greeter/greeter/helper/Cargo.toml", "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ngreeter = { path = \"..\" }\n");
            write(d, "greeter/greeter/helper/src/lib.rs", "");
        },
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:9:1: service `greeter`: greeter/greeter/Cargo.toml: path dependencies in a cycle (greeter -> helper -> greeter): cargo cannot build this workspace",
    },
    Case {
        input: "`version.workspace = true` with no workspace version",
        setup: |d| edit(d, GREETER_TOML, "version = \"0.1.0\"", "version.workspace = true"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/Cargo.toml: `package.version` is inherited but the workspace does not set it",
    },
    Case {
        input: "a package with no binary",
        setup: |d| {
            std::fs::rename(d.join(GREETER_MAIN), d.join("greeter/greeter/src/lib.rs")).unwrap();
        },
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:9:1: service `greeter`: package `greeter` has no binary: a service needs a `fn main`",
    },
    Case {
        input: "a corrupt Cargo.lock",
        setup: |d| write(d, "greeter/greeter/Cargo.lock", "this is not a lockfile\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/Cargo.lock:1:6: service `greeter`: Cargo.lock is not valid TOML: key with no value, expected `=`",
    },
    Case {
        input: "a Cargo.lock locking tonic 0.12 (the other service on 0.14)",
        setup: |d| {
            let lock = std::fs::read_to_string(d.join("greeter/greeter/Cargo.lock")).unwrap();
            let at = lock.find("name = \"tonic\"\nversion = \"").unwrap() + "name = \"tonic\"\nversion = \"".len();
            let end = at + lock[at..].find('"').unwrap();
            write(d, "greeter/greeter/Cargo.lock", &format!("{}0.12.3{}", &lock[..at], &lock[end..]));
        },
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:13:1: services `greeter` on tonic 0.12.3 (Cargo.lock) and `frontend` on tonic 0.14.9 (Cargo.lock) build with different tonic lines: one merged binary holds one tonic; not supported yet (move both to one tonic line, or merge them in separate groups)",
    },
    Case {
        input: "a build script naming a missing proto",
        setup: |d| std::fs::remove_file(d.join("greeter/greeter/proto/helloworld.proto")).unwrap(),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/build.rs:7:39: service `greeter`: the build script compiles `proto/helloworld.proto`, which does not exist in package `greeter`",
    },
    Case {
        input: "a proto with a syntax error",
        setup: |d| append(d, "greeter/greeter/proto/helloworld.proto", "\nmessage {\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/greeter/proto/helloworld.proto:21:9: invalid proto: expected an identifier, but found '{'",
    },
    Case {
        input: "a proto importing a missing file",
        setup: |d| edit(d, "greeter/greeter/proto/helloworld.proto", "package helloworld;", "package helloworld;\nimport \"gone.proto\";"),
        args: &[],
        exit: 0,
        message: "call sites: 0 inline, 1 bridged, 0 left as RPC",
    },
    Case {
        input: "a proto that is not UTF-8",
        setup: |d| {
            let mut bytes = std::fs::read(d.join("greeter/greeter/proto/helloworld.proto")).unwrap();
            bytes.extend_from_slice(b"\n// \xff\n");
            std::fs::write(d.join("greeter/greeter/proto/helloworld.proto"), bytes).unwrap();
        },
        args: &[],
        exit: 0,
        message: "call sites: 0 inline, 0 bridged, 1 left as RPC",
    },
    Case {
        input: "a service folder holding knit's own output (`knit.lock`)",
        setup: |d| write(d, "greeter/greeter/knit.lock", "knit = \"0.1.0\"\n"),
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml: `TMP/greeter/greeter` is inside a workspace knit generated (TMP/greeter/greeter/knit.lock): merge the original services instead",
    },
    Case {
        input: "a merged output given as a service",
        setup: |d| {
            merged(d);
            append(d, "greeter/knit.toml", "");
            edit(d, "greeter/knit.toml", "path = \"greeter\"", "path = \"../out\"");
        },
        args: &["merge", "greeter/knit.toml", "--out", "out2"],
        exit: 2,
        message: "error: greeter/knit.toml: `TMP/out` is inside a workspace knit generated (TMP/out/knit.lock): merge the original services instead",
    },
    Case {
        input: "a Cargo.toml that is a symlink loop",
        setup: |d| {
            std::fs::remove_file(d.join(GREETER_TOML)).unwrap();
            symlink("Cargo.toml", d.join(GREETER_TOML)).unwrap();
        },
        args: &[],
        exit: 2,
        message: "error: greeter/knit.toml:11:8: service `greeter`: no Cargo.toml in `greeter/greeter`",
    },
];

const OUTPUTS: &[Case] = &[
    Case {
        input: "`--out` inside a service's folder",
        setup: nothing,
        args: &["merge", "greeter/knit.toml", "--out", "greeter/greeter/merged"],
        exit: 2,
        message: "error: greeter/greeter/merged: the output folder is inside the folder of service `greeter` (TMP/greeter/greeter): knit never writes into its inputs",
    },
    Case {
        input: "`--out` the folder of a service",
        setup: nothing,
        args: &["merge", "greeter/knit.toml", "--out", "greeter/frontend"],
        exit: 2,
        message: "error: greeter/frontend: the output folder is the folder of service `frontend` (TMP/greeter/frontend): knit never writes into its inputs",
    },
    Case {
        input: "`--out` the plan's folder (holding the services)",
        setup: nothing,
        args: &["merge", "greeter/knit.toml", "--out", "greeter"],
        exit: 2,
        message: "error: greeter: the output folder holds the folder of service `greeter` (TMP/greeter/greeter): knit never writes into its inputs",
    },
    Case {
        input: "`--out` a symlink to a service's folder",
        setup: |d| symlink("greeter/greeter", d.join("link")).unwrap(),
        args: &["merge", "greeter/knit.toml", "--out", "link"],
        exit: 2,
        message: "error: link: the output folder is the folder of service `greeter` (TMP/greeter/greeter): knit never writes into its inputs",
    },
    Case {
        input: "`--out` an existing file",
        setup: |d| write(d, "out", "a file\n"),
        args: &[],
        exit: 2,
        message: "error: out: cannot read the output folder: Not a directory (os error 20)",
    },
    Case {
        input: "`--out` a folder of the user's files",
        setup: |d| write(d, "out/notes.txt", "mine\n"),
        args: &[],
        exit: 2,
        message: "error: out: exists and was not created by knit (no knit.lock): refusing to write over it",
    },
    Case {
        input: "`--out` a folder with a file named knit.lock beside the user's files",
        setup: |d| {
            write(d, "out/knit.lock", "");
            write(d, "out/notes.txt", "mine\n");
        },
        args: &[],
        exit: 2,
        message: "error: out: knit.lock does not parse: missing field `version`: refusing to write over it",
    },
    Case {
        input: "`--out` a merged output with a user's file added",
        setup: |d| {
            merged(d);
            write(d, "out/notes.txt", "mine\n");
        },
        args: &[],
        exit: 2,
        message: "error: out: holds `notes.txt`, which knit did not write: refusing to write over it",
    },
    Case {
        input: "`--out` a merged output whose file was edited",
        setup: |d| {
            merged(d);
            append(d, "out/knit.diff", "edited\n");
        },
        args: &[],
        exit: 2,
        message: "error: out: `knit.diff` changed since knit wrote it: refusing to write over it",
    },
    Case {
        input: "`--out` a merged output whose knit.lock is corrupt",
        setup: |d| {
            merged(d);
            write(d, "out/knit.lock", "not a lock\n");
        },
        args: &[],
        exit: 2,
        message: "error: out: knit.lock does not parse: key with no value, expected `=`: refusing to write over it",
    },
    Case {
        input: "`--out` below an existing file",
        setup: |d| write(d, "file", "x\n"),
        args: &["merge", "greeter/knit.toml", "--out", "file/out"],
        exit: 2,
        message: "error: file/out: cannot resolve the output folder: Not a directory (os error 20)",
    },
    Case {
        input: "`--out` an empty folder (a mount point)",
        setup: |d| std::fs::create_dir(d.join("out")).unwrap(),
        args: &[],
        exit: 0,
        message: "call sites: 1 inline, 0 bridged, 0 left as RPC",
    },
    Case {
        input: "`--out` a merged output, merged again",
        setup: merged,
        args: &[],
        exit: 0,
        message: "call sites: 1 inline, 0 bridged, 0 left as RPC",
    },
];

const COMMANDS: &[Case] = &[
    Case {
        input: "`check` of an output edited by hand",
        setup: |d| {
            merged(d);
            append(d, "out/greeter/src/main.rs", "// edited\n");
        },
        args: CHECK,
        exit: 1,
        message: "knit check: out is out of date / greeter/src/main.rs differs from what knit generates",
    },
    Case {
        input: "`check` of an output whose Cargo.lock was edited by hand",
        setup: |d| {
            merged(d);
            let lock = std::fs::read_to_string(d.join("out/Cargo.lock")).unwrap();
            let at = lock.find("name = \"tonic\"\nversion = \"").unwrap() + "name = \"tonic\"\nversion = \"".len();
            write(d, "out/Cargo.lock", &format!("{}9{}", &lock[..at], &lock[at + 1..]));
        },
        args: CHECK,
        exit: 1,
        message: "knit check: out is out of date / Cargo.lock differs from what knit generates",
    },
    Case {
        input: "`check` of an output with a file removed",
        setup: |d| {
            merged(d);
            std::fs::remove_file(d.join("out/report.md")).unwrap();
        },
        args: CHECK,
        exit: 1,
        message: "knit check: out is out of date / report.md is missing",
    },
    Case {
        input: "`check` of an output holding a symlink loop",
        setup: |d| {
            merged(d);
            symlink("loop", d.join("out/loop")).unwrap();
        },
        args: CHECK,
        exit: 1,
        message: "knit check: out is out of date / loop was not written by knit (not a file)",
    },
    Case {
        input: "`check` of an output holding a symlink to `/`",
        setup: |d| {
            merged(d);
            symlink("/", d.join("out/root")).unwrap();
        },
        args: CHECK,
        exit: 1,
        message: "knit check: out is out of date / root was not written by knit (not a file)",
    },
    Case {
        input: "`check` after a service's file changed",
        setup: |d| {
            merged(d);
            append(d, GREETER_MAIN, "// changed\n");
        },
        args: CHECK,
        exit: 1,
        message: "knit check: out is out of date / service `greeter` changed: modified greeter/src/main.rs / greeter/src/main.rs differs from what knit generates",
    },
    Case {
        input: "`check` of an output moved with its plan to another folder",
        setup: |d| {
            merged(d);
            std::fs::rename(d.join("greeter"), d.join("moved")).unwrap();
        },
        args: &["check", "moved/knit.toml", "--against", "out"],
        exit: 0,
        message: "knit check: out is up to date",
    },
    Case {
        input: "`check` against a missing folder",
        setup: nothing,
        args: CHECK,
        exit: 2,
        message: "error: out/knit.lock: not a folder knit generated: No such file or directory (os error 2)",
    },
    Case {
        input: "`check` against a folder knit did not write",
        setup: |d| write(d, "out/notes.txt", "mine\n"),
        args: CHECK,
        exit: 2,
        message: "error: out/knit.lock: not a folder knit generated: No such file or directory (os error 2)",
    },
    Case {
        input: "`check` against a corrupt knit.lock",
        setup: |d| {
            merged(d);
            write(d, "out/knit.lock", "[[[\n");
        },
        args: CHECK,
        exit: 2,
        message: "error: out/knit.lock: unquoted keys cannot be empty, expected letters, numbers, `-`, `_`",
    },
    Case {
        input: "`check` with a plan that is not TOML",
        setup: |d| {
            merged(d);
            plan(d, "[group\n");
        },
        args: CHECK,
        exit: 2,
        message: "error: greeter/knit.toml:1:7: unclosed table, expected `]`",
    },
    Case {
        input: "`status` of a folder knit did not write",
        setup: |d| write(d, "out/notes.txt", "mine\n"),
        args: &["status", "out"],
        exit: 2,
        message: "error: out/knit.lock: not a folder knit generated: No such file or directory (os error 2)",
    },
    Case {
        input: "`status` after a service's file changed",
        setup: |d| {
            merged(d);
            append(d, GREETER_MAIN, "// changed\n");
        },
        args: &["status", "out"],
        exit: 1,
        message: "service recorded now / greeter not a git checkout, 5 files moved on: modified greeter/src/main.rs / frontend not a git checkout, 6 files current",
    },
    Case {
        input: "`diff` of a plan naming a missing folder",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"frontend\"", "path = \"frontdoor\""),
        args: &["diff", "greeter/knit.toml"],
        exit: 2,
        message: "error: greeter/knit.toml:14:8: service `frontend`: no Cargo.toml in `greeter/frontdoor`",
    },
    Case {
        input: "`report` of a plan that is not TOML",
        setup: |d| plan(d, "[group\n"),
        args: &["report", "greeter/knit.toml"],
        exit: 2,
        message: "error: greeter/knit.toml:1:7: unclosed table, expected `]`",
    },
    Case {
        input: "`select` of a missing graph",
        setup: nothing,
        args: &["select", "graph.json"],
        exit: 2,
        message: "error: graph.json: cannot read: No such file or directory (os error 2)",
    },
    Case {
        input: "`select` of a graph that is not JSON",
        setup: |d| write(d, "graph.json", "{ nope"),
        args: &["select", "graph.json"],
        exit: 2,
        message: "error: graph.json: line 1, column 3: key must be a string",
    },
    Case {
        input: "`select` of a graph whose call names no service",
        setup: |d| write(d, "graph.json", "{\"services\": [{\"name\": \"a\", \"cpu_cores\": 1, \"memory_limit_mb\": 1, \"memory_used_mb\": 1, \"cpu_utilization\": 0.5, \"replicas\": 1}], \"edges\": [{\"from\": \"a\", \"to\": \"b\", \"calls_per_sec\": 1}]}"),
        args: &["select", "graph.json"],
        exit: 2,
        message: "error: graph.json: line 1, column 145: unknown field `from`, expected one of `caller`, `callee`, `calls_per_sec`, `affinity`, `serialization_cpu_share`, `latency_ms`",
    },
    Case {
        input: "`select --otlp` of a file that is not OTLP",
        setup: |d| write(d, "traces.json", "[]"),
        args: &["select", "--otlp", "traces.json"],
        exit: 2,
        message: "error: traces.json: the trace data holds no spans",
    },
    Case {
        input: "`select --rules` that are not TOML",
        setup: |d| {
            std::fs::copy(common::root().join("corpus/graphs/example.json"), d.join("graph.json")).unwrap();
            write(d, "rules.toml", "[[nope");
        },
        args: &["select", "graph.json", "--rules", "rules.toml"],
        exit: 2,
        message: "error: rules.toml: line 1, column 7: unclosed array table, expected `]]`",
    },
    Case {
        input: "`select --group 0`",
        setup: |d| {
            std::fs::copy(common::root().join("corpus/graphs/example.json"), d.join("graph.json")).unwrap();
        },
        args: &["select", "graph.json", "--emit-plan", "p.toml", "--group", "0"],
        exit: 2,
        message: "error: --group counts from 1",
    },
    Case {
        input: "`select --group 99` (no such group)",
        setup: |d| {
            std::fs::copy(common::root().join("corpus/graphs/example.json"), d.join("graph.json")).unwrap();
        },
        args: &["select", "graph.json", "--emit-plan", "p.toml", "--group", "99"],
        exit: 2,
        message: "error: graph.json: there is no group 99: the selection has 2 group(s)",
    },
    Case {
        input: "an unknown command",
        setup: nothing,
        args: &["mrege", "greeter/knit.toml"],
        exit: 2,
        message: "error: unrecognized subcommand 'mrege'; a similar subcommand exists: 'merge'; Usage: knit [OPTIONS] <COMMAND>",
    },
    Case {
        input: "`merge` without `--out`",
        setup: nothing,
        args: &["merge", "greeter/knit.toml"],
        exit: 2,
        message: "error: the following required arguments were not provided: --out <OUT>; Usage: knit merge --out <OUT> <PLAN>",
    },
    Case {
        input: "an unknown option",
        setup: nothing,
        args: &["merge", "greeter/knit.toml", "--out", "out", "--fast"],
        exit: 2,
        message: "error: unexpected argument '--fast' found; to pass '--fast' as a value, use '-- --fast'; Usage: knit merge --out <OUT> <PLAN>",
    },
];
