//! `knit merge --verify`: `cargo check` of the workspace knit wrote, and its
//! first compiler errors mapped back to the services' own files and lines.
//!
//! Cargo runs as `cargo check --workspace --message-format=json` in OUT, where
//! it reads the services' Cargo configuration (`OUT/.cargo/config.toml`), so
//! its target folder is the one a `cargo build -p merged` run there uses
//! (`CARGO_TARGET_DIR` when set, taken from knit's folder when relative, else
//! `OUT/target`) and that build reuses the check's build scripts and proc
//! macros. `CARGO` names the cargo to run.

mod map;
mod progress;

use std::ffi::OsString;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use cargo_metadata::diagnostic::{Diagnostic as Rustc, DiagnosticLevel, DiagnosticSpan};
use cargo_metadata::{Artifact, Message};

pub use map::{At, Place, SourceMap};
use progress::Progress;

use crate::error::{Diagnostic, Error, Result};

/// How many compiler errors a failed check shows.
pub const SHOWN: usize = 5;

/// What a finished check reports.
#[derive(Debug)]
pub struct Passed {
    /// How long `cargo check` took.
    pub elapsed: Duration,
    /// The crates cargo checked or found fresh.
    pub crates: usize,
}

/// Runs `cargo check` on the workspace at `out` (mapped by `map`), with a status
/// line on stderr when `progress`. An error when it does not build: the first
/// [`SHOWN`] compiler errors at the services' own lines, then one line saying
/// how many there were and that the workspace stays for inspection.
pub fn verify(out: &Path, map: &SourceMap, progress: bool) -> Result<Passed> {
    let started = Instant::now();
    let checked = run(out, progress)?;
    if checked.success {
        return Ok(Passed {
            elapsed: started.elapsed(),
            crates: checked.crates,
        });
    }
    let root = out.canonicalize().unwrap_or_else(|_| out.to_path_buf());
    let mut shown = mapped(&checked.errors, map, out, &root);
    let total = shown.len();
    shown.truncate(SHOWN);
    let inspect = format!(
        "the workspace stays there for inspection: cargo check --manifest-path {} --workspace",
        out.join("Cargo.toml").display()
    );
    let last = if total > 0 {
        let which = if total > SHOWN {
            format!("the first {SHOWN} above")
        } else {
            "above".to_string()
        };
        format!(
            "does not build: cargo check found {total} error{} ({which}); {inspect}",
            if total == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "does not build: cargo check failed: {}; {inspect}",
            cargo_error(&checked.stderr)
        )
    };
    shown.push(Diagnostic::in_file(out, last));
    Err(Error(shown))
}

/// What `cargo check` printed, read as it ran.
struct Checked {
    success: bool,
    crates: usize,
    /// The compiler's errors, in the order cargo printed them.
    errors: Vec<Rustc>,
    /// Cargo's own output (its errors, when no compiler message explains a failure).
    stderr: String,
}

/// `CARGO_TARGET_DIR` made absolute against knit's folder, when it is set
/// relative: cargo runs in another folder.
fn absolute_target_dir() -> Option<(&'static str, PathBuf)> {
    let dir = PathBuf::from(std::env::var_os("CARGO_TARGET_DIR")?);
    let absolute = std::path::absolute(&dir).ok()?;
    (dir.is_relative()).then_some(("CARGO_TARGET_DIR", absolute))
}

fn run(out: &Path, progress: bool) -> Result<Checked> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut child = Command::new(&cargo)
        .args([
            "check",
            "--workspace",
            "--message-format=json",
            "--manifest-path",
        ])
        .arg("Cargo.toml")
        // Cargo reads its configuration from the folder it runs in: the
        // services' (`.cargo/config.toml` of the output) applies from there.
        .current_dir(out)
        .envs(absolute_target_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Diagnostic::in_file(
                out,
                format!(
                    "written, but cannot run `{} check` to verify it: {e}",
                    PathBuf::from(&cargo).display()
                ),
            )
        })?;
    let (stdout, mut stderr) = (
        child.stdout.take().expect("piped"),
        child.stderr.take().expect("piped"),
    );
    let (send, messages) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for message in Message::parse_stream(BufReader::new(stdout)).map_while(|m| m.ok()) {
            if send.send(message).is_err() {
                break;
            }
        }
    });
    let errput = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut status = Progress::new(progress);
    let mut checked = Checked {
        success: false,
        crates: 0,
        errors: Vec::new(),
        stderr: String::new(),
    };
    loop {
        match messages.recv_timeout(Duration::from_millis(120)) {
            Ok(Message::CompilerArtifact(artifact)) => {
                checked.crates += 1;
                status.done(&crate_name(&artifact));
            }
            Ok(Message::CompilerMessage(m)) if is_error(&m.message) => {
                checked.errors.push(m.message)
            }
            Ok(Message::BuildFinished(f)) => checked.success = f.success,
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => status.tick(),
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    status.clear();
    let _ = reader.join();
    checked.stderr = errput.join().unwrap_or_default();
    let exit = child
        .wait()
        .map_err(|e| Diagnostic::in_file(out, format!("cargo check did not finish: {e}")))?;
    checked.success &= exit.success();
    Ok(checked)
}

/// The name the status line shows for a finished crate.
fn crate_name(artifact: &Artifact) -> String {
    if artifact.target.is_custom_build() {
        let package = artifact.manifest_path.parent().and_then(|p| p.file_name());
        format!("{} (build script)", package.unwrap_or("?"))
    } else {
        artifact.target.name.clone()
    }
}

fn is_error(message: &Rustc) -> bool {
    matches!(message.level, DiagnosticLevel::Error | DiagnosticLevel::Ice)
}

/// The compiler errors `errors` as knit's diagnostics, at the services' own
/// lines where `map` knows them, each once (a module two targets compile gives
/// the same error twice). `out` is the output folder as given, `root` the
/// same, canonical.
pub fn mapped(errors: &[Rustc], map: &SourceMap, out: &Path, root: &Path) -> Vec<Diagnostic> {
    let mut shown: Vec<Diagnostic> = Vec::new();
    for error in errors {
        let d = one(error, map, out, root);
        if !shown.contains(&d) {
            shown.push(d);
        }
    }
    // Errors without a place (such as "aborting due to ...") count only when
    // nothing else explains the failure.
    if shown.iter().any(|d| d.line.is_some()) {
        shown.retain(|d| d.line.is_some());
    }
    shown
}

fn one(error: &Rustc, map: &SourceMap, out: &Path, root: &Path) -> Diagnostic {
    let Some(primary) = error.spans.iter().find(|s| s.is_primary) else {
        return Diagnostic::in_file(out, &error.message);
    };
    let mut reason = error.message.clone();
    if let Some(label) = primary.label.as_deref().filter(|l| !l.is_empty()) {
        reason = format!("{reason}: {label}");
    }
    // A span inside a macro's expansion: the nearest call of it in the workspace.
    let mut span = primary;
    while relative(&span.file_name, root).is_none_or(|p| map.place(&p, at(span)).is_none()) {
        match &span.expansion {
            Some(expansion) => span = &expansion.span,
            None => {
                span = primary;
                break;
            }
        }
    }
    let Some(path) = relative(&span.file_name, root) else {
        return Diagnostic::at(&span.file_name, span.line_start, span.column_start, reason);
    };
    let output = out.join(&path);
    match map.place(&path, at(span)) {
        Some(Place::Input { file, line, col }) => Diagnostic::at(file, line, col, reason),
        Some(Place::Edit {
            file,
            line,
            col,
            pass,
        }) => Diagnostic::at(
            file,
            line,
            col,
            format!(
                "in knit's edit (pass `{pass}`; {}:{}:{} of the output): {reason}",
                output.display(),
                span.line_start,
                span.column_start
            ),
        ),
        Some(Place::Output { what }) => Diagnostic::at(
            output,
            span.line_start,
            span.column_start,
            format!("in {what}: {reason}"),
        ),
        None => Diagnostic::at(output, span.line_start, span.column_start, reason),
    }
}

fn at(span: &DiagnosticSpan) -> At {
    At {
        offset: span.byte_start as usize,
        line: span.line_start,
        col: span.column_start,
    }
}

/// `file` (as the compiler names it: relative to the workspace root, or
/// absolute) relative to the workspace root `root`, `/`-separated; `None` for a
/// file outside it.
fn relative(file: &str, root: &Path) -> Option<String> {
    let path = Path::new(file);
    let rel = if path.is_absolute() {
        path.strip_prefix(root).ok()?
    } else {
        path
    };
    Some(crate::paths::slash(rel))
}

/// Cargo's own error (a manifest it cannot read, a crate it cannot fetch), on
/// one line.
fn cargo_error(stderr: &str) -> String {
    let mut lines = stderr.lines().skip_while(|l| !l.starts_with("error"));
    let Some(first) = lines.next() else {
        return "no error message (cargo's exit status says it failed)".to_string();
    };
    let mut text = first.trim_start_matches("error:").trim().to_string();
    // The block's "Caused by:" lines, indented, until the next message.
    let block = lines.take_while(|l| l.is_empty() || l.starts_with(' ') || *l == "Caused by:");
    for line in block.map(str::trim) {
        if !line.is_empty() && line != "Caused by:" {
            text.push_str(": ");
            text.push_str(line);
        }
    }
    text
}
