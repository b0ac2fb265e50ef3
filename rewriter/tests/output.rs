//! Where `knit merge` writes, and what it never touches: a folder it cannot
//! prove its own, the services' folders, what a dead run left beside the
//! output, an empty folder made for it.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::{copy_greeter, knit, merge_greeter, tree};

/// `knit merge` of `plan` into `out` (both relative to `dir`), which must fail
/// with one line of error; returns it.
fn refused(dir: &Path, plan: &str, out: &str) -> String {
    let run = knit(&["merge", plan, "--out", out], dir);
    let stderr = String::from_utf8_lossy(&run.stderr).trim_end().to_string();
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr
}

/// Hidden entries beside the output, as a merge leaves them.
fn hidden(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[test]
fn a_folder_knit_cannot_prove_its_own_is_left_as_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = common::greeter_plan();
    let plan = plan.to_str().unwrap();
    assert!(merge_greeter(tmp.path(), "real").status.success());
    let lock = std::fs::read(tmp.path().join("real/knit.lock")).unwrap();

    // A user's folder that merely holds a file named knit.lock (here, a real one).
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "mine").unwrap();
    std::fs::write(mine.join("knit.lock"), &lock).unwrap();
    let before = tree(&mine);
    let err = refused(tmp.path(), plan, "mine");
    assert_eq!(
        err,
        "error: mine: holds `notes.txt`, which knit did not write: refusing to write over it"
    );
    assert_eq!(tree(&mine), before);

    // knit's own output, with a file added, a file edited, a symbolic link.
    let spoils: [(&str, Spoil); 3] = [
        ("added", |out| {
            std::fs::write(out.join("greeter/todo.txt"), "x").unwrap()
        }),
        ("edited", |out| {
            std::fs::write(out.join("report.md"), "my notes").unwrap()
        }),
        ("linked", |out| {
            std::os::unix::fs::symlink("/", out.join("greeter/root")).unwrap()
        }),
    ];
    for (name, spoil) in spoils {
        assert!(merge_greeter(tmp.path(), name).status.success());
        let out = tmp.path().join(name);
        spoil(&out);
        let before = tree_no_follow(&out);
        let err = refused(tmp.path(), plan, name);
        assert!(err.starts_with(&format!("error: {name}: ")), "{err}");
        assert!(err.ends_with(": refusing to write over it"), "{err}");
        assert_eq!(tree_no_follow(&out), before, "{name} is untouched");
    }
    // Unchanged, and with Cargo's build output in it, knit's own output is replaced.
    let real = tmp.path().join("real");
    std::fs::create_dir(real.join("target")).unwrap();
    std::fs::write(real.join("target/CACHEDIR.TAG"), "Signature").unwrap();
    assert!(merge_greeter(tmp.path(), "real").status.success());
    assert!(!real.join("target").exists());
}

/// A change made to an output folder.
type Spoil = fn(&Path);

/// Files below `dir` (symbolic links as their targets' paths), not following links.
fn tree_no_follow(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .to_string();
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                files.push((rel, target.to_string_lossy().as_bytes().to_vec()));
            } else if kind.is_dir() {
                pending.push(path);
            } else {
                files.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_output_never_overlaps_a_service() {
    let tmp = tempfile::tempdir().unwrap();
    let sys = tmp.path().join("sys");
    copy_greeter(&sys);
    std::os::unix::fs::symlink(sys.join("frontend"), tmp.path().join("link")).unwrap();
    let before = tree(&sys);
    for (out, relation) in [
        ("sys/greeter", "is"),
        ("sys/greeter/merged", "is inside"),
        ("sys/frontend/src/deep/out", "is inside"),
        ("link/merged", "is inside"),
        (".", "holds"),
        ("sys", "holds"),
    ] {
        let err = refused(tmp.path(), "sys/knit.toml", out);
        assert!(
            err.starts_with(&format!(
                "error: {out}: the output folder {relation} the folder of service `"
            )),
            "{out}: {err}"
        );
        assert_eq!(tree(&sys), before, "{out}: the services are untouched");
    }
    // Inside the plan's folder, beside the services: allowed.
    let run = knit(
        &["merge", "sys/knit.toml", "--out", "sys/merged"],
        tmp.path(),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn what_a_dead_run_left_beside_the_output_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    for left in [".out.knit-tmp", ".out.knit-old", ".out.knit-tmp-999999999"] {
        std::fs::create_dir_all(tmp.path().join(left).join("greeter")).unwrap();
        std::fs::write(tmp.path().join(left).join("greeter/main.rs"), "half").unwrap();
    }
    // Another output's copies, and a live process's, are not this run's business.
    let live = format!(".out.knit-tmp-{}", std::process::id());
    for other in [".other.knit-tmp", live.as_str()] {
        std::fs::create_dir(tmp.path().join(other)).unwrap();
    }
    assert!(merge_greeter(tmp.path(), "out").status.success());
    assert_eq!(
        hidden(tmp.path()),
        [".other.knit-tmp", ".out.knit-lock", live.as_str()]
    );
    // Merged again over its own output, then refused: no copy is left either way.
    assert!(merge_greeter(tmp.path(), "out").status.success());
    std::fs::write(tmp.path().join("out/mine.txt"), "mine").unwrap();
    let plan = common::greeter_plan();
    refused(tmp.path(), plan.to_str().unwrap(), "out");
    assert_eq!(
        hidden(tmp.path()),
        [".other.knit-tmp", ".out.knit-lock", live.as_str()]
    );
}

#[test]
fn an_empty_folder_is_written_into() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("mnt");
    std::fs::create_dir(&out).unwrap();
    let inode = std::fs::metadata(&out).unwrap().ino();
    let run = merge_greeter(tmp.path(), "mnt");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        std::fs::metadata(&out).unwrap().ino(),
        inode,
        "the same folder"
    );
    let files = tree(&out);
    assert!(files.iter().any(|(p, _)| p == "knit.lock"));
    assert!(files.iter().any(|(p, _)| p == "frontend/src/main.rs"));
    assert!(
        !files.iter().any(|(p, _)| p.contains("knit-tmp")),
        "no temporary file is left"
    );
    // The same as a merge into a new folder.
    assert!(merge_greeter(tmp.path(), "fresh").status.success());
    assert_eq!(files, tree(&tmp.path().join("fresh")));
}
