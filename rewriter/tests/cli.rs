//! The command line: help, exit codes, colours, and one-line errors for bad input
//! that name the file and line, with nothing written.

mod common;

use std::path::Path;

use common::{copy_greeter, knit};

#[test]
fn no_arguments_print_help() {
    let run = knit(&[], Path::new("."));
    assert!(run.status.success());
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("Usage: knit [OPTIONS] <COMMAND>") && stdout.contains("merge"),
        "{stdout}"
    );
}

#[test]
fn diff_is_colored_on_request_only() {
    let plan = common::greeter_plan();
    let plain = knit(&["diff", plan.to_str().unwrap()], Path::new("."));
    assert!(plain.status.success());
    let plain = String::from_utf8_lossy(&plain.stdout);
    assert!(
        plain.starts_with("diff --git a/frontend/Cargo.toml"),
        "{plain}"
    );
    assert!(!plain.contains('\x1b'));
    let colored = knit(
        &["diff", "--color", "always", plan.to_str().unwrap()],
        Path::new("."),
    );
    assert!(String::from_utf8_lossy(&colored.stdout).contains("\x1b[32m+"));
}

/// A pass's error, or a loader's, names a service's file from the plan's
/// folder as given, also when the service lies outside that folder (not by its
/// absolute path).
#[test]
fn pass_errors_name_files_from_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let system = tmp.path().join("greeter");
    copy_greeter(&system);
    std::fs::create_dir(system.join("plans")).unwrap();
    let plan = std::fs::read_to_string(system.join("knit.toml")).unwrap();
    let plan = plan.replace("path = \"", "path = \"../");
    std::fs::write(system.join("plans/knit.toml"), plan).unwrap();
    for (service, allocator) in [("greeter", "std::alloc::System"), ("frontend", "Jemalloc")] {
        let main = system.join(service).join("src/main.rs");
        let text = std::fs::read_to_string(&main).unwrap();
        let text = format!("#[global_allocator]\nstatic A: {allocator} = {allocator};\n{text}");
        std::fs::write(main, text).unwrap();
    }
    let run = knit(
        &["merge", "greeter/plans/knit.toml", "--out", "out"],
        tmp.path(),
    );
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.starts_with("error: greeter/frontend/src/main.rs:1:1: `greeter` (greeter/src/main.rs:1) and `frontend`"),
        "{stderr}"
    );
    // So does an error of loading.
    std::fs::write(
        system.join("frontend/src/main.rs"),
        "fn main() {\n    let x = ;\n}\n",
    )
    .unwrap();
    let run = knit(
        &["merge", "greeter/plans/knit.toml", "--out", "out"],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.starts_with("error: greeter/frontend/src/main.rs:2:"),
        "{stderr}"
    );
}

/// A reader of standard output that goes away (`knit diff | head -1`) ends
/// knit as it ends a Unix tool, with no panic and no message; a write that
/// fails otherwise is an error.
#[test]
fn failed_writes_to_stdout_are_reported() {
    use std::process::{Command, Stdio};
    let plan = common::greeter_plan();
    let mut child = Command::new(env!("CARGO_BIN_EXE_knit"))
        .args(["diff", plan.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The pipe's read end closes before knit writes: its write fails (EPIPE).
    drop(child.stdout.take());
    let closed = child.wait_with_output().unwrap();
    assert_eq!(closed.status.code(), Some(141));
    assert_eq!(String::from_utf8_lossy(&closed.stderr), "");

    let full = Command::new(env!("CARGO_BIN_EXE_knit"))
        .args(["diff", plan.to_str().unwrap()])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&full.stderr),
        "error: cannot write to standard output: No space left on device (os error 28)\n"
    );
}

/// Runs `knit merge` on a copy of the greeter corpus changed by `spoil`; returns
/// stderr, after checking the exit code and that nothing was written.
fn merge_spoiled(spoil: impl FnOnce(&Path)) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let system = tmp.path().join("greeter");
    copy_greeter(&system);
    spoil(&system);
    let run = knit(&["merge", "greeter/knit.toml", "--out", "out"], tmp.path());
    assert_eq!(
        run.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    assert!(!tmp.path().join("out").exists(), "nothing is written");
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr.trim_end().to_string()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from));
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn plan_that_is_not_toml() {
    let err = merge_spoiled(|dir| {
        edit(
            &dir.join("knit.toml"),
            "name = \"greeter\"",
            "name = \"greeter",
        )
    });
    assert_eq!(
        err,
        "error: greeter/knit.toml:5:16: invalid basic string, expected `\"`"
    );
}

#[test]
fn plan_naming_a_missing_service() {
    let err = merge_spoiled(|dir| {
        edit(
            &dir.join("knit.toml"),
            "path = \"frontend\"",
            "path = \"frontdoor\"",
        )
    });
    assert_eq!(
        err,
        "error: greeter/knit.toml:14:8: service `frontend`: no Cargo.toml in `greeter/frontdoor`"
    );
}

#[test]
fn service_without_main() {
    let err = merge_spoiled(|dir| {
        edit(
            &dir.join("greeter/src/main.rs"),
            "async fn main()",
            "async fn start()",
        )
    });
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.ends_with(
            "greeter/src/main.rs:1:1: service `greeter`: no `fn main` in greeter/src/main.rs"
        ),
        "{err}"
    );
}

#[test]
fn file_with_a_syntax_error() {
    let err = merge_spoiled(|dir| {
        edit(
            &dir.join("frontend/src/main.rs"),
            "let visitor = request",
            "let visitor = = request",
        )
    });
    assert!(
        err.starts_with("error: greeter/frontend/src/main.rs:33:23: syntax error: "),
        "{err}"
    );
    assert!(err.contains(": syntax error: "), "{err}");
}

#[test]
fn select_ranks_and_emits_a_plan_knit_reads() {
    let graphs = common::root().join("corpus/graphs");
    let tmp = tempfile::tempdir().unwrap();
    let plan = tmp.path().join("knit.toml");
    let run = knit(
        &[
            "select",
            "example.json",
            "--format",
            "json",
            "--emit-plan",
            plan.to_str().unwrap(),
            "--group",
            "2",
        ],
        &graphs,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(json["groups"][0]["name"], "feed_feed_rank");
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(
        text.contains("services = [\"ad_ranker\", \"ads\"]"),
        "{text}"
    );
    // The emitted plan parses as a plan (its services' folders do not exist here).
    let err = knit_rewriter::plan::Plan::parse(&plan, text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no Cargo.toml in"), "{err}");

    let traces = knit(&["select", "--otlp", "trace.otlp.json"], &graphs);
    assert!(
        traces.status.success(),
        "{}",
        String::from_utf8_lossy(&traces.stderr)
    );
}

#[test]
fn select_names_the_file_of_a_bad_graph() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("g.json"),
        "{\"services\": [], \"edges\": [{\"caller\": \"a\"}]}",
    )
    .unwrap();
    let run = knit(&["select", "g.json"], tmp.path());
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.starts_with("error: g.json: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// A path holding a line break is quoted, so that the error stays one line.
#[test]
fn a_path_with_a_line_break_is_quoted() {
    let tmp = tempfile::tempdir().unwrap();
    let run = knit(&["merge", "we\nird/knit.toml", "--out", "out"], tmp.path());
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: \"we\\nird/knit.toml\": cannot read the plan: "),
        "{stderr}"
    );
}

/// A byte order mark (rustc accepts one) is kept byte for byte, in a file knit
/// edits too.
#[test]
fn a_byte_order_mark_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let system = tmp.path().join("greeter");
    copy_greeter(&system);
    for file in ["frontend/src/main.rs", "greeter/src/main.rs"] {
        let text = std::fs::read_to_string(system.join(file)).unwrap();
        std::fs::write(system.join(file), format!("\u{feff}{text}")).unwrap();
    }
    let run = knit(&["merge", "greeter/knit.toml", "--out", "out"], tmp.path());
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for file in ["frontend/src/main.rs", "greeter/src/main.rs"] {
        let merged = std::fs::read_to_string(tmp.path().join("out").join(file)).unwrap();
        assert!(merged.starts_with('\u{feff}'), "{file}: {merged}");
        assert_eq!(merged.matches('\u{feff}').count(), 1, "{file}");
    }
    let diff = std::fs::read_to_string(tmp.path().join("out/knit.diff")).unwrap();
    assert!(diff.contains("frontend/src/main.rs"), "{diff}");
}

/// Deep nesting never overflows a stack: a file nested as deep as knit reads
/// merges, and one nested deeper is refused with one line naming where.
#[test]
fn deep_nesting_merges_or_is_refused() {
    let parens = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
    let blocks = |n: usize| format!("{}1{}", "{".repeat(n), "}".repeat(n));
    let client = "crate::hello_world::greeter_client::GreeterClient::new(x)";
    let cases = [
        ("700 parentheses", parens(700), None),
        ("1,000 blocks", blocks(1000), None),
        (
            "a chain of 8,000 calls",
            format!("{client}{}", ".f()".repeat(8000)),
            None,
        ),
        ("3,000 parentheses", parens(3000), Some("1:1044")),
        ("100,000 parentheses", parens(100_000), Some("1:1044")),
        ("1,100 blocks", blocks(1100), Some("1:1044")),
        (
            "5,000 minus signs",
            format!("{}1", "- ".repeat(5000)),
            Some("1:2067"),
        ),
        (
            "a chain of 30,000 calls",
            format!("{client}{}", ".f()".repeat(30_000)),
            Some("1:21"),
        ),
    ];
    for (what, body, refused_at) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let system = tmp.path().join("greeter");
        copy_greeter(&system);
        edit(
            &system.join("greeter/src/main.rs"),
            "#[tokio::main]",
            "mod deep;\n#[tokio::main]",
        );
        std::fs::write(
            system.join("greeter/src/deep.rs"),
            format!("pub fn f() -> i32 {{ {body} }}\n"),
        )
        .unwrap();
        let run = knit(&["merge", "greeter/knit.toml", "--out", "out"], tmp.path());
        let stderr = String::from_utf8_lossy(&run.stderr);
        match refused_at {
            None => assert!(run.status.success(), "{what}: {stderr}"),
            Some(at) => {
                assert_eq!(run.status.code(), Some(2), "{what}: {stderr}");
                assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
                assert!(
                    stderr.starts_with(&format!(
                        "error: greeter/greeter/src/deep.rs:{at}: syntax error: nested more than "
                    )),
                    "{what}: {stderr}"
                );
            }
        }
    }
}

/// Cargo's own error is shown whole, on one line, at the plan's line of the
/// service whose manifest cargo refused.
#[test]
fn cargos_error_is_shown_whole_at_the_service() {
    let err = merge_spoiled(|dir| {
        let manifest = dir.join("greeter/Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, format!("{text}x = \n")).unwrap();
    });
    let line = common::root().join("corpus/greeter/greeter/Cargo.toml");
    let line = std::fs::read_to_string(line).unwrap().lines().count() + 1;
    assert_eq!(
        err,
        format!(
            "error: greeter/knit.toml:9:1: service `greeter`: greeter/greeter/Cargo.toml: cargo metadata: \
             string values must be quoted, expected literal string (at greeter/greeter/Cargo.toml:{line}:5)"
        )
    );

    let err = merge_spoiled(|dir| {
        let manifest = dir.join("frontend/Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let text = text.replace("[workspace]", "[workspace]\nmembers = [\"gone\"]");
        assert!(text.contains("gone"), "{text}");
        std::fs::write(&manifest, text).unwrap();
    });
    assert!(
        err.starts_with("error: greeter/knit.toml:13:1: service `frontend`: greeter/frontend/Cargo.toml: cargo metadata: failed to load manifest for workspace member `"),
        "{err}"
    );
    assert!(
        err.ends_with("; No such file or directory (os error 2)"),
        "{err}"
    );
    assert!(!err.contains('^') && !err.contains("Caused by"), "{err}");
}

/// A `bin` naming no binary of the package says so and lists the binaries; a
/// package without one says that, with no empty list.
#[test]
fn bin_naming_no_binary() {
    let err = merge_spoiled(|dir| {
        edit(
            &dir.join("knit.toml"),
            "path = \"greeter\"",
            "path = \"greeter\"\nbin = \"nope\"",
        )
    });
    assert_eq!(
        err,
        "error: greeter/knit.toml:9:1: service `greeter`: no binary `nope` in package `greeter` (binaries: greeter)"
    );
    let err = merge_spoiled(|dir| {
        edit(
            &dir.join("knit.toml"),
            "path = \"greeter\"",
            "path = \"greeter\"\nbin = \"nope\"",
        );
        std::fs::rename(
            dir.join("greeter/src/main.rs"),
            dir.join("greeter/src/lib.rs"),
        )
        .unwrap();
    });
    assert_eq!(
        err,
        "error: greeter/knit.toml:9:1: service `greeter`: package `greeter` has no binary: a service needs a `fn main`"
    );
}

/// Two services of the plan that are one binary: said in the plan's words, at
/// the second service's table.
#[test]
fn two_services_of_one_binary() {
    let err = merge_spoiled(|dir| {
        edit(
            &dir.join("knit.toml"),
            "path = \"frontend\"",
            "path = \"greeter\"",
        )
    });
    assert_eq!(
        err,
        "error: greeter/knit.toml:13:1: services `greeter` and `frontend` are the same binary `greeter` of package `greeter` with the same arguments: a binary runs once in a merge, unless each service names its role with its own `args = [..]`"
    );
}

/// A service's `Cargo.lock` that is not TOML is named, with its line.
#[test]
fn corrupt_cargo_lock() {
    let err = merge_spoiled(|dir| {
        std::fs::write(
            dir.join("frontend/Cargo.lock"),
            "version = 4\n[[package]\nname = \"x\"\n",
        )
        .unwrap()
    });
    assert_eq!(
        err,
        "error: greeter/frontend/Cargo.lock:2:11: service `frontend`: Cargo.lock is not valid TOML: unclosed array table, expected `]`"
    );
}

/// Two `fn main` at the root of a service's binary: an error at the second.
#[test]
fn a_second_main() {
    let err = merge_spoiled(|dir| {
        let main = dir.join("greeter/src/main.rs");
        let text = std::fs::read_to_string(&main).unwrap();
        std::fs::write(&main, format!("{text}\nfn main() {{}}\n")).unwrap();
    });
    let line = common::root().join("corpus/greeter/greeter/src/main.rs");
    let line = std::fs::read_to_string(line).unwrap().lines().count() + 2;
    assert_eq!(
        err,
        format!(
            "error: greeter/greeter/src/main.rs:{line}:4: service `greeter`: a second `fn main` in the binary's root file"
        )
    );
}

/// A `.proto` the build script names by a literal path in its package that is
/// not there: an error at the literal. One named under an include folder
/// another literal names is found there.
#[test]
fn a_build_script_naming_a_missing_proto() {
    let err = merge_spoiled(|dir| {
        edit(
            &dir.join("greeter/build.rs"),
            "proto/helloworld.proto",
            "proto/missing.proto",
        )
    });
    assert_eq!(
        err,
        "error: greeter/greeter/build.rs:7:39: service `greeter`: the build script compiles `proto/missing.proto`, which does not exist in package `greeter`"
    );

    let tmp = tempfile::tempdir().unwrap();
    let system = tmp.path().join("greeter");
    copy_greeter(&system);
    edit(
        &system.join("greeter/build.rs"),
        "compile_protos(\"proto/helloworld.proto\")",
        "compile_protos(\"proto/helloworld.proto\")?;\n    \
         let _ = Ok::<_, std::io::Error>((&[\"helloworld.proto\"], &[\"proto\"], \"cargo:rerun-if-changed=x.proto\"))",
    );
    let run = knit(&["merge", "greeter/knit.toml", "--out", "out"], tmp.path());
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// `cargo knit ..` runs `cargo-knit knit ..`: the same program, the same answer.
#[test]
fn cargo_knit_is_knit_as_a_cargo_subcommand() {
    let plan = common::greeter_plan();
    let report = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .args([
                "report".as_ref(),
                plan.as_os_str(),
                "--format".as_ref(),
                "json".as_ref(),
            ])
            .output()
            .unwrap()
    };
    let knit = report(env!("CARGO_BIN_EXE_knit"), &[]);
    let cargo_knit = report(env!("CARGO_BIN_EXE_cargo-knit"), &["knit"]);
    assert!(knit.status.success() && cargo_knit.status.success());
    assert_eq!(knit.stdout, cargo_knit.stdout);
}

#[test]
fn errors_show_their_source_on_request_and_one_line_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("knit.toml"),
        "[group]\nname = \"g\"\nservices = [\"a\", \"b\"]\n\n[services.a]\npath = \"nope\"\n\n[services.b]\npath = \"nope\"\n",
    )
    .unwrap();
    let short = knit(&["merge", "knit.toml", "--out", "out"], dir.path());
    assert_eq!(short.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&short.stderr),
        "error: knit.toml:6:8: service `a`: no Cargo.toml in `./nope`\n\
         error: knit.toml:9:8: service `b`: no Cargo.toml in `./nope`\n"
    );
    let human = knit(
        &[
            "merge",
            "knit.toml",
            "--out",
            "out",
            "--error-format",
            "human",
        ],
        dir.path(),
    );
    assert_eq!(human.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&human.stderr),
        "error: service `a`: no Cargo.toml in `./nope`\n \
         --> knit.toml:6:8\n  \
         |\n\
         6 | path = \"nope\"\n  \
         |        ^^^^^^ service `a`\n  \
         |\n\n\
         error: service `b`: no Cargo.toml in `./nope`\n \
         --> knit.toml:9:8\n  \
         |\n\
         9 | path = \"nope\"\n  \
         |        ^^^^^^ service `b`\n  \
         |\n\n"
    );
    let colored = knit(
        &[
            "merge",
            "knit.toml",
            "--out",
            "out",
            "--error-format",
            "human",
            "--color",
            "always",
        ],
        dir.path(),
    );
    let colored = String::from_utf8_lossy(&colored.stderr);
    let first = colored.split("\n\n").next().unwrap();
    assert_eq!(
        first,
        "\x1b[1m\x1b[91merror\x1b[0m: \x1b[1mservice `a`: no Cargo.toml in `./nope`\x1b[0m\n \
         \x1b[1m\x1b[94m-->\x1b[0m knit.toml:6:8\n  \
         \x1b[1m\x1b[94m|\x1b[0m\n\
         \x1b[1m\x1b[94m6 |\x1b[0m path = \"nope\"\n  \
         \x1b[1m\x1b[94m|\x1b[0m        \x1b[1m\x1b[91m^^^^^^\x1b[0m \x1b[1m\x1b[91mservice `a`\x1b[0m\n  \
         \x1b[1m\x1b[94m|\x1b[0m"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn completions_and_the_man_page_come_from_the_cli() {
    let bash = knit(&["completions", "bash"], Path::new("."));
    assert!(bash.status.success());
    let bash = String::from_utf8_lossy(&bash.stdout);
    assert!(
        bash.contains("_knit()") && bash.contains("init") && bash.contains("--error-format"),
        "{bash}"
    );
    let man = knit(&["man"], Path::new("."));
    assert!(man.status.success());
    let man = String::from_utf8_lossy(&man.stdout);
    assert!(
        man.starts_with(".ie") && man.contains(".TH knit 1") && man.contains("merge"),
        "{man}"
    );
}

/// `frontend`'s lockfile with tonic at `version` instead of its own.
fn frontend_on_tonic(dir: &Path, version: &str) {
    let lock = dir.join("frontend/Cargo.lock");
    let text = std::fs::read_to_string(&lock).unwrap();
    let before = "name = \"tonic\"\nversion = \"";
    let at = text.find(before).unwrap() + before.len();
    let end = at + text[at..].find('"').unwrap();
    std::fs::write(&lock, format!("{}{version}{}", &text[..at], &text[end..])).unwrap();
}

/// Services on two tonic lines: one merged binary holds one tonic.
#[test]
fn services_on_two_tonic_lines() {
    let err = merge_spoiled(|dir| frontend_on_tonic(dir, "0.13.1"));
    assert_eq!(
        err,
        "error: greeter/knit.toml:13:1: services `greeter` on tonic 0.14.9 (Cargo.lock) and `frontend` on tonic 0.13.1 (Cargo.lock) build with different tonic lines: one merged binary holds one tonic; not supported yet (move both to one tonic line, or merge them in separate groups)"
    );
}

/// A service on tonic before 0.10 is refused at its plan line.
#[test]
fn a_service_on_an_older_tonic() {
    let err = merge_spoiled(|dir| frontend_on_tonic(dir, "0.9.2"));
    assert_eq!(
        err,
        "error: greeter/knit.toml:13:1: service `frontend` uses tonic 0.9.2 (Cargo.lock): knit supports tonic 0.10 to 0.14; not supported yet (update the service to tonic 0.10 or later, or leave it out of the group)"
    );
}

/// A build script that names its protos relative to a folder only its
/// build-helper crate knows (corpus/layouts/apis-outside): knit runs it, finds
/// the protos beside the workspace, copies them where they were, and says so.
#[test]
fn a_build_script_reading_cannot_follow_is_run() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = common::root().join("corpus/layouts/apis-outside/knit.toml");
    let run = knit(
        &[
            "merge",
            plan.to_str().unwrap(),
            "--out",
            "out",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let out = tmp.path().join("out");
    for proto in ["apis/depot/v1/depot.proto", "apis/courier/v1/courier.proto"] {
        assert!(out.join(proto).is_file(), "{proto} is in the output");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let tiers: Vec<&str> = report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["tier"].as_str())
        .collect();
    assert_eq!(tiers, ["inline"]);
    let notes: Vec<String> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["pass"] == "load")
        .map(|n| {
            format!(
                "{}: {}",
                n["site"].as_str().unwrap(),
                n["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        notes,
        [
            "rust/depot/build.rs: package `depot`: reading its build script does not tell which protos it compiles; knit ran it (cargo check, in a copy of the repository; cached) and found 1 proto file(s) outside the package",
            "rust/courier/build.rs: package `courier`: reading its build script does not tell which protos it compiles; knit ran it (cargo check, in a copy of the repository; cached) and found 2 proto file(s) outside the package",
        ]
    );
}
