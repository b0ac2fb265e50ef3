// The entries of the catalogue (included by tests/catalogue.rs).

const PLANS: &[Case] = &[
    Case {
        input: "the plan is not TOML (an unclosed string)",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "the plan is empty",
        setup: |d| plan(d, ""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "the plan has no `[group]`",
        setup: |d| plan(d, "[services.greeter]\npath = \"greeter\"\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "the group has no name",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", ""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "the group's name has capitals",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"Greeter\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`services` is a string, not a list",
        setup: |d| edit(d, "greeter/knit.toml", "services = [\"greeter\", \"frontend\"]", "services = \"greeter\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a misspelt key in `[group]`",
        setup: |d| edit(d, "greeter/knit.toml", "services = [", "servces = ["),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a misspelt key in a service's table",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"greeter\"", "paht = \"greeter\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a service of the group has no table",
        setup: |d| edit(d, "greeter/knit.toml", "[services.frontend]\npath = \"frontend\"", ""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a service listed twice in the group",
        setup: |d| edit(d, "greeter/knit.toml", "[\"greeter\", \"frontend\"]", "[\"greeter\", \"frontend\", \"greeter\"]"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a service name with capitals",
        setup: |d| plan(d, "[group]\nname = \"g\"\nservices = [\"Greeter\", \"frontend\"]\n[services.Greeter]\npath = \"greeter\"\n[services.frontend]\npath = \"frontend\"\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a service table without `path`",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"greeter\"", ""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a service path to a missing folder",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"frontend\"", "path = \"frontdoor\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a service path to a file",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"frontend\"", "path = \"frontend/Cargo.toml\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "an empty service path",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"frontend\"", "path = \"\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`worker_threads = 0`",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter\"\nworker_threads = 0"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`worker_threads = -1`",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter\"\nworker_threads = -1"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`worker_threads` beyond 64 bits",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter\"\nworker_threads = 99999999999999999999999"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`global_allocator` naming no service",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter\"\nglobal_allocator = \"nobody\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "an empty env key",
        setup: |d| plan_with(d, "env = { \"\" = \"x\" }"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "an env key holding `=`",
        setup: |d| plan_with(d, "env = { \"A=B\" = \"x\" }"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "an env value with an unclosed `${`",
        setup: |d| plan_with(d, "env = { ADDR = \"${HOST:1\" }"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "an env value with an empty `${}`",
        setup: |d| plan_with(d, "env = { ADDR = \"${}\" }"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`listen = \"yes\"` (not a boolean)",
        setup: |d| plan_with(d, "listen = \"yes\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`bin` naming no binary of the package",
        setup: |d| plan_with(d, "bin = \"nope\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`package` naming no package of the workspace",
        setup: |d| plan_with(d, "package = \"nope\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`rev` on a folder that is no git checkout",
        setup: |d| plan_with(d, "rev = \"main\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a group of no service",
        setup: |d| edit(d, "greeter/knit.toml", "services = [\"greeter\", \"frontend\"]", "services = []"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a key given twice",
        setup: |d| edit(d, "greeter/knit.toml", "name = \"greeter\"", "name = \"greeter\"\nname = \"again\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "two services with the same path",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"frontend\"", "path = \"greeter\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "the plan is not UTF-8",
        setup: |d| std::fs::write(d.join("greeter/knit.toml"), b"[group]\nname = \"\xff\"\n").unwrap(),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "the plan is missing",
        setup: nothing,
        args: &["merge", "greeter/nothere.toml", "--out", "out"],
        exit: 2,
        message: "",
    },
    Case {
        input: "the plan is a folder",
        setup: nothing,
        args: &["merge", "greeter", "--out", "out"],
        exit: 2,
        message: "",
    },
    Case {
        input: "a plan path with a line break",
        setup: nothing,
        args: &["merge", "we\nird/knit.toml", "--out", "out"],
        exit: 2,
        message: "",
    },
    Case {
        input: "the plan starts with a byte order mark",
        setup: |d| {
            let text = std::fs::read_to_string(d.join("greeter/knit.toml")).unwrap();
            plan(d, &format!("\u{feff}{text}"));
        },
        args: &[],
        exit: 0,
        message: "",
    },
];

const SOURCES: &[Case] = &[
    Case {
        input: "a syntax error in a service's file",
        setup: |d| edit(d, FRONTEND_MAIN, "let visitor = request", "let visitor = = request"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "no `fn main` in the binary's root",
        setup: |d| edit(d, GREETER_MAIN, "async fn main()", "async fn start()"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a second `fn main` in the binary's root",
        setup: |d| append(d, GREETER_MAIN, "\nfn main() {}\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "an unterminated string literal",
        setup: |d| append(d, GREETER_MAIN, "\nconst S: &str = \"open;\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "an unterminated block comment",
        setup: |d| append(d, GREETER_MAIN, "\n/* open\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a NUL byte in a file",
        setup: |d| append(d, GREETER_MAIN, "\nconst A: u8 = 1;\0\n"),
        args: &[],
        exit: 2,
        message: "",
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
        message: "",
    },
    Case {
        input: "3,000 nested parentheses",
        setup: |d| append(d, GREETER_MAIN, &format!("\nfn deep() -> i32 {{ {}1{} }}\n", "(".repeat(3000), ")".repeat(3000))),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "1,100 nested blocks",
        setup: |d| append(d, GREETER_MAIN, &format!("\nfn deep() -> i32 {{ {}1{} }}\n", "{".repeat(1100), "}".repeat(1100))),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "5,000 minus signs in a row",
        setup: |d| append(d, GREETER_MAIN, &format!("\nfn deep() -> i32 {{ {}1 }}\n", "- ".repeat(5000))),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a chain of 30,000 method calls",
        setup: |d| append(d, GREETER_MAIN, &format!("\nfn deep() {{ x{} }}\n", ".f()".repeat(30_000))),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`mod gone;` with no file",
        setup: |d| edit(d, GREETER_MAIN, "pub mod hello_world", "mod gone;\npub mod hello_world"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`#[path]` to a missing file",
        setup: |d| edit(d, GREETER_MAIN, "pub mod hello_world", "#[path = \"nowhere/x.rs\"]\nmod x;\npub mod hello_world"),
        args: &[],
        exit: 2,
        message: "",
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
        message: "",
    },
    Case {
        input: "a module that includes its own file again by `#[path]` (a cycle)",
        setup: |d| {
            edit(d, GREETER_MAIN, "pub mod hello_world", "mod a;\npub mod hello_world");
            write(d, "greeter/greeter/src/a.rs", "#[path = \"a.rs\"]\nmod again;\n");
        },
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a module file that is a folder",
        setup: |d| {
            edit(d, GREETER_MAIN, "pub mod hello_world", "mod a;\npub mod hello_world");
            std::fs::create_dir_all(d.join("greeter/greeter/src/a.rs")).unwrap();
        },
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a module file that is a symlink loop",
        setup: |d| {
            edit(d, GREETER_MAIN, "pub mod hello_world", "mod a;\npub mod hello_world");
            symlink("a.rs", d.join("greeter/greeter/src/a.rs")).unwrap();
        },
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`include_str!` of a missing file",
        setup: |d| append(d, GREETER_MAIN, "\nconst S: &str = include_str!(\"missing.txt\");\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`include!` of a missing file",
        setup: |d| append(d, GREETER_MAIN, "\ninclude!(\"missing.rs\");\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`include_bytes!` of a folder",
        setup: |d| append(d, GREETER_MAIN, "\nconst B: &[u8] = include_bytes!(\"../proto\");\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a byte order mark and a syntax error after it",
        setup: |d| {
            let text = std::fs::read_to_string(d.join(GREETER_MAIN)).unwrap();
            write(d, GREETER_MAIN, &format!("\u{feff}fn = {text}"));
        },
        args: &[],
        exit: 2,
        message: "",
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
        message: "",
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
        message: "",
    },
    Case {
        input: "a `mod` declared inside a function body (never a file)",
        setup: |d| append(d, GREETER_MAIN, "\nfn f() { mod inner { pub fn g() {} } inner::g() }\n"),
        args: &[],
        exit: 0,
        message: "",
    },
    Case {
        input: "the binary's root file is missing",
        setup: |d| std::fs::remove_file(d.join(GREETER_MAIN)).unwrap(),
        args: &[],
        exit: 2,
        message: "",
    },
];

const MANIFESTS: &[Case] = &[
    Case {
        input: "a service's Cargo.toml is not TOML",
        setup: |d| append(d, GREETER_TOML, "x = \n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a Cargo.toml without a package name",
        setup: |d| edit(d, GREETER_TOML, "name = \"greeter\"\n", ""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "an unknown edition",
        setup: |d| edit(d, GREETER_TOML, "edition = \"2021\"", "edition = \"2099\""),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a `[[bin]]` path to a missing file",
        setup: |d| append(d, GREETER_TOML, "\n[[bin]]\nname = \"greeter\"\npath = \"src/gone.rs\"\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a path dependency to a missing folder",
        setup: |d| edit(d, GREETER_TOML, "[dependencies]\n", "[dependencies]\nhelper = { path = \"../helper\" }\n"),
        args: &[],
        exit: 2,
        message: "",
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
        message: "",
    },
    Case {
        input: "`version.workspace = true` with no workspace version",
        setup: |d| edit(d, GREETER_TOML, "version = \"0.1.0\"", "version.workspace = true"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a package with no binary",
        setup: |d| {
            std::fs::rename(d.join(GREETER_MAIN), d.join("greeter/greeter/src/lib.rs")).unwrap();
        },
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a corrupt Cargo.lock",
        setup: |d| write(d, "greeter/greeter/Cargo.lock", "this is not a lockfile\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a Cargo.lock locking tonic 0.12",
        setup: |d| {
            let lock = std::fs::read_to_string(d.join("greeter/greeter/Cargo.lock")).unwrap();
            let at = lock.find("name = \"tonic\"\nversion = \"").unwrap() + "name = \"tonic\"\nversion = \"".len();
            let end = at + lock[at..].find('"').unwrap();
            write(d, "greeter/greeter/Cargo.lock", &format!("{}0.12.3{}", &lock[..at], &lock[end..]));
        },
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a build script naming a missing proto",
        setup: |d| std::fs::remove_file(d.join("greeter/greeter/proto/helloworld.proto")).unwrap(),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a proto with a syntax error",
        setup: |d| append(d, "greeter/greeter/proto/helloworld.proto", "\nmessage {\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a proto importing a missing file",
        setup: |d| edit(d, "greeter/greeter/proto/helloworld.proto", "package helloworld;", "package helloworld;\nimport \"gone.proto\";"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a proto that is not UTF-8",
        setup: |d| {
            let mut bytes = std::fs::read(d.join("greeter/greeter/proto/helloworld.proto")).unwrap();
            bytes.extend_from_slice(b"\n// \xff\n");
            std::fs::write(d.join("greeter/greeter/proto/helloworld.proto"), bytes).unwrap();
        },
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "a service folder holding knit's own output (`knit.lock`)",
        setup: |d| write(d, "greeter/greeter/knit.lock", "knit = \"0.1.0\"\n"),
        args: &[],
        exit: 2,
        message: "",
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
        message: "",
    },
    Case {
        input: "a Cargo.toml that is a symlink loop",
        setup: |d| {
            std::fs::remove_file(d.join(GREETER_TOML)).unwrap();
            symlink("Cargo.toml", d.join(GREETER_TOML)).unwrap();
        },
        args: &[],
        exit: 2,
        message: "",
    },
];

const OUTPUTS: &[Case] = &[
    Case {
        input: "`--out` inside a service's folder",
        setup: nothing,
        args: &["merge", "greeter/knit.toml", "--out", "greeter/greeter/merged"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` the folder of a service",
        setup: nothing,
        args: &["merge", "greeter/knit.toml", "--out", "greeter/frontend"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` the plan's folder (holding the services)",
        setup: nothing,
        args: &["merge", "greeter/knit.toml", "--out", "greeter"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` a symlink to a service's folder",
        setup: |d| symlink("greeter/greeter", d.join("link")).unwrap(),
        args: &["merge", "greeter/knit.toml", "--out", "link"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` an existing file",
        setup: |d| write(d, "out", "a file\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` a folder of the user's files",
        setup: |d| write(d, "out/notes.txt", "mine\n"),
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` a folder with a file named knit.lock beside the user's files",
        setup: |d| {
            write(d, "out/knit.lock", "");
            write(d, "out/notes.txt", "mine\n");
        },
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` a merged output with a user's file added",
        setup: |d| {
            merged(d);
            write(d, "out/notes.txt", "mine\n");
        },
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` a merged output whose file was edited",
        setup: |d| {
            merged(d);
            append(d, "out/knit.diff", "edited\n");
        },
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` a merged output whose knit.lock is corrupt",
        setup: |d| {
            merged(d);
            write(d, "out/knit.lock", "not a lock\n");
        },
        args: &[],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` below an existing file",
        setup: |d| write(d, "file", "x\n"),
        args: &["merge", "greeter/knit.toml", "--out", "file/out"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`--out` an empty folder (a mount point)",
        setup: |d| std::fs::create_dir(d.join("out")).unwrap(),
        args: &[],
        exit: 0,
        message: "",
    },
    Case {
        input: "`--out` a merged output, merged again",
        setup: merged,
        args: &[],
        exit: 0,
        message: "",
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
        message: "",
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
        message: "",
    },
    Case {
        input: "`check` of an output with a file removed",
        setup: |d| {
            merged(d);
            std::fs::remove_file(d.join("out/report.md")).unwrap();
        },
        args: CHECK,
        exit: 1,
        message: "",
    },
    Case {
        input: "`check` of an output holding a symlink loop",
        setup: |d| {
            merged(d);
            symlink("loop", d.join("out/loop")).unwrap();
        },
        args: CHECK,
        exit: 1,
        message: "",
    },
    Case {
        input: "`check` of an output holding a symlink to `/`",
        setup: |d| {
            merged(d);
            symlink("/", d.join("out/root")).unwrap();
        },
        args: CHECK,
        exit: 1,
        message: "",
    },
    Case {
        input: "`check` after a service's file changed",
        setup: |d| {
            merged(d);
            append(d, GREETER_MAIN, "// changed\n");
        },
        args: CHECK,
        exit: 1,
        message: "",
    },
    Case {
        input: "`check` of an output moved with its plan to another folder",
        setup: |d| {
            merged(d);
            std::fs::rename(d.join("greeter"), d.join("moved")).unwrap();
        },
        args: &["check", "moved/knit.toml", "--against", "out"],
        exit: 0,
        message: "",
    },
    Case {
        input: "`check` against a missing folder",
        setup: nothing,
        args: CHECK,
        exit: 2,
        message: "",
    },
    Case {
        input: "`check` against a folder knit did not write",
        setup: |d| write(d, "out/notes.txt", "mine\n"),
        args: CHECK,
        exit: 2,
        message: "",
    },
    Case {
        input: "`check` against a corrupt knit.lock",
        setup: |d| {
            merged(d);
            write(d, "out/knit.lock", "[[[\n");
        },
        args: CHECK,
        exit: 2,
        message: "",
    },
    Case {
        input: "`check` with a plan that is not TOML",
        setup: |d| {
            merged(d);
            plan(d, "[group\n");
        },
        args: CHECK,
        exit: 2,
        message: "",
    },
    Case {
        input: "`status` of a folder knit did not write",
        setup: |d| write(d, "out/notes.txt", "mine\n"),
        args: &["status", "out"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`status` after a service's file changed",
        setup: |d| {
            merged(d);
            append(d, GREETER_MAIN, "// changed\n");
        },
        args: &["status", "out"],
        exit: 1,
        message: "",
    },
    Case {
        input: "`diff` of a plan naming a missing folder",
        setup: |d| edit(d, "greeter/knit.toml", "path = \"frontend\"", "path = \"frontdoor\""),
        args: &["diff", "greeter/knit.toml"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`report` of a plan that is not TOML",
        setup: |d| plan(d, "[group\n"),
        args: &["report", "greeter/knit.toml"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`select` of a missing graph",
        setup: nothing,
        args: &["select", "graph.json"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`select` of a graph that is not JSON",
        setup: |d| write(d, "graph.json", "{ nope"),
        args: &["select", "graph.json"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`select` of a graph with NaN weights",
        setup: |d| write(d, "graph.json", "{\"services\": [\"a\"], \"calls\": [{\"from\": \"a\", \"to\": \"a\", \"rate\": NaN}]}"),
        args: &["select", "graph.json"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`select --otlp` of a file that is not OTLP",
        setup: |d| write(d, "traces.json", "[]"),
        args: &["select", "--otlp", "traces.json"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`select --rules` that are not TOML",
        setup: |d| {
            std::fs::copy(common::root().join("corpus/graphs/example.json"), d.join("graph.json")).unwrap();
            write(d, "rules.toml", "[[nope");
        },
        args: &["select", "graph.json", "--rules", "rules.toml"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`select --group 0`",
        setup: |d| {
            std::fs::copy(common::root().join("corpus/graphs/example.json"), d.join("graph.json")).unwrap();
        },
        args: &["select", "graph.json", "--emit-plan", "p.toml", "--group", "0"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`select --group 99` (no such group)",
        setup: |d| {
            std::fs::copy(common::root().join("corpus/graphs/example.json"), d.join("graph.json")).unwrap();
        },
        args: &["select", "graph.json", "--emit-plan", "p.toml", "--group", "99"],
        exit: 2,
        message: "",
    },
    Case {
        input: "an unknown command",
        setup: nothing,
        args: &["mrege", "greeter/knit.toml"],
        exit: 2,
        message: "",
    },
    Case {
        input: "`merge` without `--out`",
        setup: nothing,
        args: &["merge", "greeter/knit.toml"],
        exit: 2,
        message: "",
    },
    Case {
        input: "an unknown option",
        setup: nothing,
        args: &["merge", "greeter/knit.toml", "--out", "out", "--fast"],
        exit: 2,
        message: "",
    },
];
