//! `knit check` on a merged output with one file changed, removed or added:
//! corpus/greeter is merged once into a scratch folder; each input changes it
//! (the first byte picks how, the second which file), checks, and puts it back.
//!
//! Promised: a one-line error or a verdict, and "up to date" only when the
//! output is as knit wrote it. Three changes may keep it up to date by design:
//! `knit.lock` itself (rewritten, it may say the same), `Cargo.lock` (Cargo
//! rewrites it; check keeps what keeps knit's versions) and anything under
//! `target/` (build output).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use knit_rewriter::check::{Verdict, check};
use knit_rewriter::load::Versions;
use knit_rewriter::{Lockfile, emit, output_files, prepare};

use crate::properties::one_line_errors;

/// The plan merged once, its output folder and the files written there.
struct Output {
    plan: PathBuf,
    dir: PathBuf,
    files: Vec<(String, Vec<u8>)>,
}

fn output() -> &'static Mutex<Output> {
    static OUTPUT: OnceLock<Mutex<Output>> = OnceLock::new();
    OUTPUT.get_or_init(|| {
        let plan = crate::root().join("corpus/greeter/knit.toml");
        let dir = crate::scratch("check").join("out");
        let (loaded, merged) = prepare(&plan, Versions::Read).expect("greeter merges");
        let files =
            output_files(&loaded, &merged, &dir, Lockfile::AsMerged).expect("greeter's output");
        emit::write(&dir, &files).expect("greeter's output is written");
        let mut written: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(p, _)| (p.clone(), std::fs::read(dir.join(p)).expect("written")))
            .collect();
        written.sort();
        assert!(
            matches!(check(&plan, &dir), Ok(Verdict::UpToDate)),
            "a fresh output is up to date"
        );
        Mutex::new(Output {
            plan,
            dir,
            files: written,
        })
    })
}

/// A change to make to the output.
enum Change<'a> {
    Replace(usize, &'a [u8]),
    Remove(usize),
    Add(String, &'a [u8]),
}

/// Changes the output as `data` says, checks it, and undoes the change.
pub fn run(data: &[u8]) {
    let [how, which, rest @ ..] = data else {
        return;
    };
    let guard = output().lock().unwrap_or_else(|e| e.into_inner());
    let out = &*guard;
    let pick = *which as usize % out.files.len();
    let change = match how % 3 {
        0 => Change::Replace(pick, rest),
        1 => Change::Remove(pick),
        _ => {
            let (name, body) = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or((rest, &[][..]), |i| (&rest[..i], &rest[i + 1..]));
            let name = String::from_utf8_lossy(name)
                .replace(['/', '\\', '\0'], "_")
                .replace("..", "_");
            if name.is_empty() || name == "." || name.len() > 64 {
                return;
            }
            // Beside a file knit wrote, in its folder.
            let folder = Path::new(&out.files[pick].0)
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let path = if folder.is_empty() {
                name
            } else {
                format!("{folder}/{name}")
            };
            if out.files.iter().any(|(p, _)| *p == path) {
                return;
            }
            Change::Add(path, body)
        }
    };
    let (path, same) = match &change {
        Change::Replace(i, body) => {
            let (path, old) = &out.files[*i];
            std::fs::write(out.dir.join(path), body).expect("the output is writable");
            (path.clone(), old == body)
        }
        Change::Remove(i) => {
            let path = &out.files[*i].0;
            std::fs::remove_file(out.dir.join(path)).expect("the output is writable");
            (path.clone(), false)
        }
        Change::Add(path, body) => {
            std::fs::write(out.dir.join(path), body).expect("the output is writable");
            (path.clone(), false)
        }
    };
    let verdict = check(&out.plan, &out.dir);
    match &change {
        Change::Replace(i, _) | Change::Remove(i) => {
            let (path, old) = &out.files[*i];
            std::fs::write(out.dir.join(path), old).expect("the output is writable");
        }
        Change::Add(path, _) => {
            std::fs::remove_file(out.dir.join(path)).expect("the output is writable");
        }
    }
    let may_stay = path == "knit.lock"
        || path == "Cargo.lock"
        || path == "target"
        || path.starts_with("target/");
    match verdict {
        Err(e) => one_line_errors(&e),
        Ok(Verdict::UpToDate) => assert!(
            same || may_stay,
            "check says up to date after {path} changed"
        ),
        Ok(Verdict::Stale(reasons)) => {
            assert!(
                !same,
                "check says out of date for an unchanged output: {reasons:?}"
            );
            assert!(!reasons.is_empty(), "out of date for no reason");
            for r in &reasons {
                assert!(!r.contains('\n'), "a reason spans lines: {r:?}");
            }
        }
    }
}
