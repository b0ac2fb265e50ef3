//! knit on the bundled greeter system: the diff and report (snapshots), loss-free
//! edits, determinism, the diff applying with git and patch, and knit's refusals.

mod common;

use std::process::Command;

use common::{copy_greeter, greeter_plan, knit, merge_greeter, tree};
use knit_rewriter::load::Versions;
use knit_rewriter::merge::Content;
use knit_rewriter::{DIFF_FILE, prepare, report::Report};

fn snapshots() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(common::root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

#[test]
fn diff_and_report_snapshots() {
    let (loaded, merged) = prepare(&greeter_plan(), Versions::Read).unwrap();
    let report = Report::new(&loaded, &merged);
    snapshots().bind(|| {
        insta::assert_snapshot!("greeter.diff", knit_rewriter::diff::render(&merged.changes));
        insta::assert_snapshot!("greeter.report.md", report.to_markdown());
        insta::assert_snapshot!("greeter.report.json", report.to_json());
    });
}

#[test]
fn other_corpus_systems_snapshots() {
    for system in ["inventory", "ledger", "shapes"] {
        let plan = common::root().join(format!("corpus/{system}/knit.toml"));
        let (loaded, merged) = prepare(&plan, Versions::Read).unwrap();
        let report = Report::new(&loaded, &merged);
        let diff = knit_rewriter::diff::render(&merged.changes);
        snapshots().bind(|| {
            insta::assert_snapshot!(format!("{system}.diff"), diff);
            insta::assert_snapshot!(format!("{system}.report.md"), report.to_markdown());
        });
    }
}

/// Every byte outside the edited ranges is kept: the gaps between edits appear,
/// in order, in the rewritten file; files without edits are identical.
#[test]
fn edits_are_loss_free() {
    let (loaded, merged) = prepare(&greeter_plan(), Versions::Read).unwrap();
    let group = &loaded.group;
    let mut checked = 0;
    for (i, file) in group.files.iter().enumerate() {
        let Content::Text(new) = &merged.files[&file.path] else {
            panic!("{} is not text", file.path)
        };
        let mut edits: Vec<_> = merged
            .output
            .edits
            .iter()
            .filter(|e| e.file.0 as usize == i)
            .collect();
        if file.rust.is_none() {
            // Manifests: toml_edit keeps every line but those knit changes.
            let removed: Vec<&str> = file
                .text
                .lines()
                .filter(|l| !new.lines().any(|n| n == *l))
                .collect();
            for line in removed {
                let allowed = line.starts_with("name = ")
                    || line.starts_with('#')
                    || line == "[workspace]"
                    || line.is_empty();
                assert!(allowed, "{}: line {line:?} lost", file.path);
            }
            continue;
        }
        edits.sort_by_key(|e| e.range.start());
        let (mut old_at, mut new_at) = (0usize, 0usize);
        for e in &edits {
            let gap = &file.text[old_at..usize::from(e.range.start())];
            assert_eq!(
                &new[new_at..new_at + gap.len()],
                gap,
                "{}: bytes before an edit changed",
                file.path
            );
            new_at += gap.len() + e.text.len();
            old_at = usize::from(e.range.end());
        }
        assert_eq!(
            &new[new_at..],
            &file.text[old_at..],
            "{}: bytes after the last edit changed",
            file.path
        );
        checked += 1;
    }
    assert_eq!(checked, 2, "both mains are checked");
    for (origin, path) in &loaded.copies {
        assert_eq!(merged.files[path], Content::Copy(origin.clone()));
    }
}

#[test]
fn merges_are_deterministic_and_inputs_untouched() {
    let before = tree(&common::root().join("corpus/greeter"));
    let tmp = tempfile::tempdir().unwrap();
    for out in ["one", "two"] {
        let status = knit(
            &["merge", greeter_plan().to_str().unwrap(), "--out", out],
            tmp.path(),
        );
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
    let (one, two) = (tree(&tmp.path().join("one")), tree(&tmp.path().join("two")));
    assert!(one.len() > 20, "the output holds the workspace");
    assert_eq!(one, two);
    assert_eq!(
        before,
        tree(&common::root().join("corpus/greeter")),
        "knit modified its inputs"
    );
}

#[test]
fn the_diff_applies_with_git_and_patch() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let merged = knit(
        &[
            "merge",
            greeter_plan().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(merged.status.success());
    let diff = out.join(DIFF_FILE);
    let patchers: [(&str, &[&str]); 2] =
        [("git", &["apply"]), ("patch", &["-p1", "--quiet", "-i"])];
    for (tool, args) in patchers {
        if Command::new(tool).arg("--version").output().is_err() {
            eprintln!("{tool} is not installed: skipped");
            continue;
        }
        let work = tmp.path().join(tool);
        copy_greeter(&work);
        let status = Command::new(tool)
            .args(args)
            .arg(&diff)
            .current_dir(&work)
            .status()
            .unwrap();
        assert!(status.success(), "{tool} failed to apply knit.diff");
        for service in ["greeter", "frontend"] {
            let applied = tree(&work.join(service));
            let generated: Vec<_> = tree(&out.join(service));
            assert_eq!(
                applied, generated,
                "{tool}: {service} differs from knit's output"
            );
        }
    }
}

#[test]
fn refuses_its_own_output_as_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert!(merge_greeter(tmp.path(), "out").status.success());
    std::fs::copy(greeter_plan(), out.join("knit.toml")).unwrap();
    let again = knit(&["merge", "out/knit.toml", "--out", "again"], tmp.path());
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.starts_with("error: out/knit.toml: "), "{stderr}");
    assert!(
        stderr.contains("is inside a workspace knit generated"),
        "{stderr}"
    );
    assert!(!tmp.path().join("again").exists());
}

#[test]
fn refuses_to_write_over_a_folder_it_did_not_create() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("precious");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let run = knit(
        &[
            "merge",
            greeter_plan().to_str().unwrap(),
            "--out",
            "precious",
        ],
        tmp.path(),
    );
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        stderr.trim(),
        "error: precious: exists and was not created by knit (no knit.lock): refusing to write over it"
    );
    assert_eq!(
        tree(&out),
        vec![("notes.txt".to_string(), b"mine".to_vec())]
    );
    // Its own output it replaces.
    assert!(merge_greeter(tmp.path(), "mine").status.success());
    assert!(merge_greeter(tmp.path(), "mine").status.success());
}
