//! The catalogue of bad and hostile inputs (docs/reliability.md): each entry a
//! change to a copy of corpus/greeter or a command line, the exit code knit
//! must give and the one line it must print. Every failing command leaves the
//! inputs and the output folder exactly as they were.
//!
//! `KNIT_CATALOGUE=print cargo test -p knit-rewriter --test catalogue` prints
//! what knit answers instead of asserting; `KNIT_CATALOGUE=docs` rewrites the
//! table in docs/reliability.md from the entries.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;

use common::{copy_greeter, knit};

/// One entry: what is done, the command (empty: `knit merge greeter/knit.toml
/// --out out`), and what knit answers. `TMP` stands for the test's folder.
struct Case {
    input: &'static str,
    setup: fn(&Path),
    args: &'static [&'static str],
    exit: i32,
    message: &'static str,
}

const MERGE: &[&str] = &["merge", "greeter/knit.toml", "--out", "out"];
const CHECK: &[&str] = &["check", "greeter/knit.toml", "--against", "out"];

// Changes to the copy at `dir` (the test's folder; the system is in `greeter/`).

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn append(dir: &Path, file: &str, text: &str) {
    let old = std::fs::read_to_string(dir.join(file)).unwrap();
    std::fs::write(dir.join(file), format!("{old}{text}")).unwrap();
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn plan(dir: &Path, text: &str) {
    write(dir, "greeter/knit.toml", text);
}

/// The greeter plan with `extra` lines after the `[services.greeter]` table's path.
fn plan_with(dir: &Path, extra: &str) {
    plan(
        dir,
        &format!(
            "[group]\nname = \"greeter\"\nservices = [\"greeter\", \"frontend\"]\n\n[services.greeter]\npath = \"greeter\"\n{extra}\n[services.frontend]\npath = \"frontend\"\n"
        ),
    );
}

const GREETER_MAIN: &str = "greeter/greeter/src/main.rs";
const GREETER_TOML: &str = "greeter/greeter/Cargo.toml";
const FRONTEND_MAIN: &str = "greeter/frontend/src/main.rs";

/// The copy merged into `out`, before the change.
fn merged(dir: &Path) {
    let run = knit(MERGE, dir);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

fn nothing(_: &Path) {}

include!("catalogue/entries.rs");

/// What a command printed, as the catalogue records it: stderr's line for an
/// error, stdout's lines joined with ` / ` for a verdict, the count of call
/// sites for a merge, the first line else.
fn answer(run: &std::process::Output, dir: &Path) -> String {
    let stderr = String::from_utf8_lossy(&run.stderr);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let text = match run.status.code() {
        Some(2) => stderr.trim_end().to_string(),
        Some(1) => stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(" / "),
        // A merge: how its calls went; else the first line.
        _ => stdout
            .lines()
            .find(|l| l.contains("call sites:"))
            .or_else(|| stdout.lines().chain(stderr.lines()).next())
            .unwrap_or("")
            .trim()
            .to_string(),
    };
    let canonical = dir.canonicalize().unwrap();
    text.replace(&*canonical.to_string_lossy(), "TMP")
        .replace(&*dir.to_string_lossy(), "TMP")
}

/// Every file below `dir` (symbolic links as their target's name), but the
/// lock knit keeps beside an output (`.out.knit-lock`).
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                files.push((rel, target.to_string_lossy().into_owned().into_bytes()));
            } else if meta.is_dir() {
                if !rel.ends_with("target") {
                    stack.push(path);
                }
            } else if !rel.ends_with(".knit-lock") {
                files.push((rel, std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    files.sort();
    files
}

fn run_cases(cases: &[Case]) {
    let mode = std::env::var("KNIT_CATALOGUE").unwrap_or_default();
    let mut wrong = Vec::new();
    for case in cases {
        let tmp = tempfile::tempdir().unwrap();
        copy_greeter(&tmp.path().join("greeter"));
        (case.setup)(tmp.path());
        let before = snapshot(tmp.path());
        let args = if case.args.is_empty() {
            MERGE
        } else {
            case.args
        };
        let run = knit(args, tmp.path());
        let code = run.status.code().unwrap_or(-1);
        let message = answer(&run, tmp.path());
        if mode == "print" {
            println!("{:?} => {code} {message:?}", case.input);
            continue;
        }
        if code != case.exit || message != case.message {
            wrong.push(format!(
                "{}: expected {} {:?}\n    got {code} {message:?}\n    stderr {:?}",
                case.input,
                case.exit,
                case.message,
                String::from_utf8_lossy(&run.stderr)
            ));
            continue;
        }
        if code == 2 {
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert!(
                stderr.lines().count() == 1 && stderr.starts_with("error: "),
                "{}: not one error line: {stderr:?}",
                case.input
            );
        }
        if code != 0 && snapshot(tmp.path()) != before {
            wrong.push(format!("{}: exit {code} but files changed", case.input));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn plans() {
    run_cases(PLANS);
}

#[test]
fn sources() {
    run_cases(SOURCES);
}

#[test]
fn manifests_and_protos() {
    run_cases(MANIFESTS);
}

#[test]
fn outputs() {
    run_cases(OUTPUTS);
}

#[test]
fn commands() {
    run_cases(COMMANDS);
}

/// The table of docs/reliability.md, between its markers, is the entries'.
#[test]
fn the_docs_list_every_entry() {
    let mut table = String::from("| # | input | exit | what knit prints |\n|---|---|---|---|\n");
    let mut n = 0;
    for (group, cases) in [
        ("plan", PLANS),
        ("source", SOURCES),
        ("manifest, proto", MANIFESTS),
        ("output", OUTPUTS),
        ("command", COMMANDS),
    ] {
        for case in cases {
            n += 1;
            let cell = |s: &str| s.replace('|', "\\|");
            table.push_str(&format!(
                "| {n} | {group}: {} | {} | {} |\n",
                cell(case.input),
                case.exit,
                cell(case.message)
            ));
        }
    }
    assert!(n >= 80, "{n} entries");
    let path = common::root().join("docs/reliability.md");
    let docs = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- catalogue: start -->\n", "<!-- catalogue: end -->");
    let (before, rest) = docs.split_once(start).expect("docs have the start marker");
    let (old, after) = rest.split_once(end).expect("docs have the end marker");
    if std::env::var("KNIT_CATALOGUE").as_deref() == Ok("docs") {
        std::fs::write(&path, format!("{before}{start}{table}{end}{after}")).unwrap();
    } else {
        assert!(
            old == table,
            "docs/reliability.md's catalogue is not the tests': run KNIT_CATALOGUE=docs"
        );
    }
}
