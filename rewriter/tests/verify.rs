//! `knit merge --verify`: compiler errors of the output mapped to the services'
//! own lines, exit 2, the workspace kept. A real `cargo check` of a knit output
//! compiles tonic and tokio (about 3 minutes cold on 2 cores), so the tests run
//! a stand-in cargo that replays messages rustc printed for the same sources
//! (`tests/data/verify/frontend.jsonl`); the real check is `#[ignore]`d.

mod common;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cargo_metadata::Message;
use cargo_metadata::diagnostic::{Diagnostic, DiagnosticLevel};
use knit_rewriter::load::Versions;
use knit_rewriter::verify::{self, SourceMap};

use common::{copy_greeter, root};

fn data(name: &str) -> PathBuf {
    root().join("rewriter/tests/data/verify").join(name)
}

/// The greeter system at `dir/greeter` with two errors in frontend's main.rs:
/// a call with one argument too many in a line knit edits (line 56), and a
/// mismatched type in a line it does not (line 62).
fn spoiled_greeter(dir: &Path) -> PathBuf {
    copy_greeter(&dir.join("greeter"));
    std::fs::copy(
        data("frontend.rs"),
        dir.join("greeter/frontend/src/main.rs"),
    )
    .unwrap();
    dir.join("greeter/knit.toml")
}

/// What the spoiled greeter's merge prints, `out` as the output folder.
const MAPPED: [&str; 2] = [
    "error: greeter/frontend/src/main.rs:56:19: in knit's edit (pass `calls`; out/frontend/src/main.rs:54:19 of the output): this function takes 1 argument but 2 arguments were supplied",
    "error: greeter/frontend/src/main.rs:62:26: mismatched types: expected `u32`, found `&str`",
];

const LAST: &str = "error: out: does not build: cargo check found 2 errors (above); the workspace stays there for inspection: cargo check --manifest-path out/Cargo.toml --workspace";

#[test]
fn recorded_compiler_errors_map_to_the_services_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = spoiled_greeter(tmp.path());
    let (loaded, merged) = knit_rewriter::prepare(&plan, Versions::Skip).unwrap();
    let map = SourceMap::new(&loaded, &merged);
    let messages = BufReader::new(File::open(data("frontend.jsonl")).unwrap());
    let errors: Vec<Diagnostic> = Message::parse_stream(messages)
        .filter_map(|m| match m.unwrap() {
            Message::CompilerMessage(m) if m.message.level == DiagnosticLevel::Error => {
                Some(m.message)
            }
            _ => None,
        })
        .collect();
    // The recording's workspace was at /knit-out; errors name it as given.
    let shown = verify::mapped(&errors, &map, Path::new("out"), Path::new("/knit-out"));
    let prefix = format!("{}/", tmp.path().display());
    let lines: Vec<String> = shown
        .iter()
        .map(|d| d.to_string().replace(&prefix, ""))
        .collect();
    assert_eq!(lines, MAPPED);
}

/// A stand-in for cargo in `dir`: records its arguments and the folder it
/// runs in (the last folder's name) in `dir/args`, prints
/// `stdout` (a file) and `stderr`, exits with `code`.
#[cfg(unix)]
fn fake_cargo(dir: &Path, stdout: Option<&Path>, stderr: &str, code: i32) -> PathBuf {
    let script = dir.join("fake-cargo");
    let cat = stdout.map_or(String::new(), |p| format!("cat '{}'\n", p.display()));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" in \"$(basename \"$PWD\")\" > '{}'\n{cat}printf '%s' '{stderr}' >&2\nexit {code}\n",
            dir.join("args").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// `knit merge greeter/knit.toml --out out --verify` in `dir`, with `cargo` as cargo.
fn merge_verify(dir: &Path, cargo: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_knit"))
        .args(["merge", "greeter/knit.toml", "--out", "out", "--verify"])
        .current_dir(dir)
        .env("CARGO", cargo)
        .output()
        .unwrap()
}

/// knit's standard error, without the note that a fake cargo could not
/// complete the output's `Cargo.lock` (`resolve.rs` asks cargo too).
fn stderr_lines(run: &Output) -> Vec<String> {
    String::from_utf8_lossy(&run.stderr)
        .lines()
        .filter(|l| !l.starts_with("knit: Cargo.lock holds what the services locked"))
        .map(String::from)
        .collect()
}

#[cfg(unix)]
#[test]
fn errors_exit_2_at_the_services_lines_and_the_output_stays() {
    let tmp = tempfile::tempdir().unwrap();
    spoiled_greeter(tmp.path());
    let cargo = fake_cargo(
        tmp.path(),
        Some(&data("frontend.jsonl")),
        "error: could not compile `frontend-frontend` (lib) due to 2 previous errors\n",
        101,
    );
    let run = merge_verify(tmp.path(), &cargo);
    assert_eq!(run.status.code(), Some(2));
    let mut expected = MAPPED.to_vec();
    expected.push(LAST);
    assert_eq!(stderr_lines(&run), expected);
    assert!(String::from_utf8_lossy(&run.stdout).starts_with("knit: merged group `greeter`"));
    assert!(
        tmp.path().join("out/knit.lock").is_file(),
        "the output stays"
    );
    let args = std::fs::read_to_string(tmp.path().join("args")).unwrap();
    assert_eq!(
        args.trim_end(),
        "check --workspace --message-format=json --manifest-path Cargo.toml in out"
    );
}

#[cfg(unix)]
#[test]
fn cargos_own_error_is_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    copy_greeter(&tmp.path().join("greeter"));
    let stderr = "error: failed to get `tonic` as a dependency of package `x`\n\nCaused by:\n  network unreachable\n";
    let cargo = fake_cargo(tmp.path(), None, stderr, 101);
    let run = merge_verify(tmp.path(), &cargo);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        stderr_lines(&run),
        [
            "error: out: does not build: cargo check failed: failed to get `tonic` as a dependency of package `x`: network unreachable; the workspace stays there for inspection: cargo check --manifest-path out/Cargo.toml --workspace"
        ]
    );
}

#[cfg(unix)]
#[test]
fn a_passing_check_says_so_on_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    copy_greeter(&tmp.path().join("greeter"));
    let finished = tmp.path().join("finished.jsonl");
    std::fs::write(
        &finished,
        "{\"reason\":\"build-finished\",\"success\":true}\n",
    )
    .unwrap();
    let cargo = fake_cargo(tmp.path(), Some(&finished), "", 0);
    let run = merge_verify(tmp.path(), &cargo);
    assert_eq!(run.status.code(), Some(0));
    let lines = stderr_lines(&run);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("knit: verified: cargo check of out passed (0 crates, "),
        "{lines:?}"
    );
}

#[test]
fn a_missing_cargo_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    copy_greeter(&tmp.path().join("greeter"));
    let run = merge_verify(tmp.path(), &tmp.path().join("no-cargo"));
    assert_eq!(run.status.code(), Some(2));
    let all = String::from_utf8_lossy(&run.stderr);
    assert!(
        all.contains("cargo could not add what knit's crates need (cannot run cargo: "),
        "{all}"
    );
    let lines = stderr_lines(&run);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("error: out: written, but cannot run `")
            && lines[0].contains("no-cargo check` to verify it: "),
        "{lines:?}"
    );
}

/// The real thing: cargo checks the spoiled greeter's output. Its target folder
/// is kept between runs (in Cargo's test temp folder).
#[test]
#[ignore = "cargo check compiles tonic and tokio: about 3 minutes cold on 2 cores"]
fn real_cargo_check_of_a_broken_output_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    spoiled_greeter(tmp.path());
    let run = Command::new(env!("CARGO_BIN_EXE_knit"))
        .args(["merge", "greeter/knit.toml", "--out", "out", "--verify"])
        .current_dir(tmp.path())
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("verify"),
        )
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let mut expected = MAPPED.to_vec();
    expected.push(LAST);
    assert_eq!(stderr_lines(&run), expected);
}
