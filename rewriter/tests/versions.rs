//! What a merged build holds and whether it is current: `knit.lock`, `knit check`,
//! `knit status`, and services pinned to a git revision.

mod common;

use std::path::Path;
use std::process::Command;

use common::{copy_greeter, knit};
use knit_rewriter::lockfile::Lock;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=knit",
            "-c",
            "user.email=knit@example.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A git repository holding the greeter system, committed; returns its HEAD.
fn repo(dir: &Path) -> String {
    copy_greeter(dir);
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "greeter system"]);
    git(dir, &["rev-parse", "HEAD"])
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn run(args: &[&str], dir: &Path) -> (i32, String) {
    let out = knit(args, dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), text)
}

#[test]
fn lock_records_sources_and_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let head = repo(&tmp.path().join("sys"));
    assert_eq!(
        run(&["merge", "sys/knit.toml", "--out", "out"], tmp.path()).0,
        0
    );
    let text = std::fs::read_to_string(tmp.path().join("out/knit.lock")).unwrap();
    let lock = Lock::parse(&text).unwrap();
    assert_eq!(Lock::parse(&lock.render()).unwrap(), lock);
    assert_eq!(lock.knit, env!("CARGO_PKG_VERSION"));
    let names: Vec<&str> = lock.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["greeter", "frontend"]);
    let greeter = &lock.services[0];
    assert_eq!(
        greeter.git.as_ref().map(|g| (g.commit.as_str(), g.dirty)),
        Some((head.as_str(), false))
    );
    for input in [
        "greeter/src/main.rs",
        "greeter/Cargo.toml",
        "greeter/Cargo.lock",
        "greeter/build.rs",
        "greeter/proto/helloworld.proto",
    ] {
        assert!(
            greeter.inputs[input].starts_with("sha256:"),
            "{input} is hashed"
        );
    }
    assert!(
        lock.outputs.contains_key("knit/merged/src/main.rs")
            && lock.outputs.contains_key("knit.diff")
    );
}

/// Services of one repository (asked of git once): each is dirty only for the
/// changes under its own folder, an untracked file included.
#[test]
fn lock_records_each_services_own_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let head = repo(&tmp.path().join("sys"));
    std::fs::write(tmp.path().join("sys/frontend/notes.txt"), "untracked\n").unwrap();
    assert_eq!(
        run(&["merge", "sys/knit.toml", "--out", "out"], tmp.path()).0,
        0
    );
    let text = std::fs::read_to_string(tmp.path().join("out/knit.lock")).unwrap();
    let lock = Lock::parse(&text).unwrap();
    let states: Vec<(&str, Option<(bool, bool)>)> = lock
        .services
        .iter()
        .map(|s| {
            let git = s.git.as_ref().map(|g| (g.commit == head, g.dirty));
            (s.name.as_str(), git)
        })
        .collect();
    assert_eq!(
        states,
        [
            ("greeter", Some((true, false))),
            ("frontend", Some((true, true)))
        ]
    );
}

#[test]
fn check_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    repo(&tmp.path().join("sys"));
    assert_eq!(
        run(&["merge", "sys/knit.toml", "--out", "out"], tmp.path()).0,
        0
    );
    let check = || run(&["check", "sys/knit.toml", "--against", "out"], tmp.path());

    let (code, text) = check();
    assert_eq!((code, text.trim()), (0, "knit check: out is up to date"));

    // A service edited since the merge.
    edit(
        &tmp.path().join("sys/greeter/src/main.rs"),
        "Hello {name}!",
        "Hi {name}!",
    );
    let (code, text) = check();
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("service `greeter` changed: modified greeter/src/main.rs"),
        "{text}"
    );
    assert!(
        text.contains("greeter/src/main.rs differs from what knit generates"),
        "{text}"
    );

    // Merged again, then a call site that stops converting.
    assert_eq!(
        run(&["merge", "sys/knit.toml", "--out", "out"], tmp.path()).0,
        0
    );
    assert_eq!(check().0, 0);
    edit(
        &tmp.path().join("sys/frontend/src/main.rs"),
        "GreeterClient::connect(greeter_url).await?",
        "GreeterClient::new(tower::ServiceBuilder::new().service(tonic::transport::Endpoint::from_shared(greeter_url)?.connect_lazy()))",
    );
    let (code, text) = check();
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("call sites of `frontend` to `helloworld.Greeter` stopped converting (1 inline before, 0 now)"),
        "{text}"
    );

    // A folder knit did not write, and a plan that does not parse: errors.
    std::fs::create_dir(tmp.path().join("plain")).unwrap();
    let (code, text) = run(
        &["check", "sys/knit.toml", "--against", "plain"],
        tmp.path(),
    );
    assert_eq!(code, 2, "{text}");
    assert!(
        text.starts_with("error: plain/knit.lock: not a folder knit generated"),
        "{text}"
    );
}

#[test]
fn status_says_which_services_moved_on() {
    let tmp = tempfile::tempdir().unwrap();
    let head = repo(&tmp.path().join("sys"));
    assert_eq!(
        run(&["merge", "sys/knit.toml", "--out", "out"], tmp.path()).0,
        0
    );
    let (code, text) = run(&["status", "out"], tmp.path());
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!("greeter   {}, 5 files", &head[..10])),
        "{text}"
    );
    assert_eq!(text.matches("current").count(), 2, "{text}");

    edit(
        &tmp.path().join("sys/frontend/src/main.rs"),
        "Welcome to the frontend.",
        "Welcome!",
    );
    let (code, text) = run(&["status", "out"], tmp.path());
    assert_eq!(code, 1, "{text}");
    let frontend = text.lines().find(|l| l.starts_with("frontend")).unwrap();
    assert!(frontend.contains("moved on"), "{frontend}");
    assert!(
        frontend.contains("modified frontend/src/main.rs"),
        "{frontend}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("greeter") && l.ends_with("current")),
        "{text}"
    );
}

#[test]
fn pinned_revision_is_read_without_touching_the_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let sys = tmp.path().join("sys");
    let v1 = repo(&sys);
    git(&sys, &["tag", "v1"]);
    edit(
        &sys.join("greeter/src/main.rs"),
        "Hello {name}!",
        "Hi {name}!",
    );
    git(&sys, &["commit", "-qam", "greeter says hi"]);
    // Uncommitted work in the checkout, which the pinned merge must not see or touch.
    edit(
        &sys.join("greeter/src/main.rs"),
        "Hi {name}!",
        "Hey {name}!",
    );
    let before = common::tree(&sys);
    edit(
        &sys.join("knit.toml"),
        "path = \"greeter\"",
        "path = \"greeter\"\nrev = \"v1\"",
    );
    let plan_before = common::tree(&sys);

    let (code, text) = run(&["merge", "sys/knit.toml", "--out", "out"], tmp.path());
    assert_eq!(code, 0, "{text}");
    let merged = std::fs::read_to_string(tmp.path().join("out/greeter/src/main.rs")).unwrap();
    assert!(merged.contains("Hello {name}!"), "the merge reads v1");
    assert_eq!(common::tree(&sys), plan_before, "the checkout is untouched");
    assert!(
        before
            .iter()
            .any(|(p, b)| p == "greeter/src/main.rs" && String::from_utf8_lossy(b).contains("Hey"))
    );
    assert!(
        !sys.join(".git/worktrees").exists(),
        "no worktree was added"
    );
    let lock = Lock::read(&tmp.path().join("out")).unwrap();
    assert_eq!(lock.services[0].rev.as_deref(), Some("v1"));
    assert_eq!(lock.services[0].git.as_ref().unwrap().commit, v1);

    let (code, text) = run(&["status", "out"], tmp.path());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("rev v1 = {}", &v1[..10])), "{text}");
    assert_eq!(
        run(&["check", "sys/knit.toml", "--against", "out"], tmp.path()).0,
        0
    );

    // Moving the tag moves the pinned service.
    git(&sys, &["tag", "-f", "v1", "HEAD"]);
    let (code, text) = run(&["check", "sys/knit.toml", "--against", "out"], tmp.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!(
            "service `greeter` changed: revision moved from {}",
            &v1[..10]
        )),
        "{text}"
    );
}

/// knit.lock holds no absolute path: a clone of the checkout elsewhere (the
/// plan, its services and the output moved together) checks as the original.
#[test]
fn check_and_status_work_from_another_place() {
    let tmp = tempfile::tempdir().unwrap();
    copy_greeter(&tmp.path().join("here/sys"));
    assert_eq!(
        run(
            &["merge", "here/sys/knit.toml", "--out", "here/out"],
            tmp.path()
        )
        .0,
        0
    );
    std::fs::rename(tmp.path().join("here"), tmp.path().join("there")).unwrap();
    let (code, text) = run(
        &["check", "there/sys/knit.toml", "--against", "there/out"],
        tmp.path(),
    );
    assert_eq!(
        (code, text.trim()),
        (0, "knit check: there/out is up to date")
    );
    let (code, text) = run(&["status", "there/out"], tmp.path());
    assert_eq!((code, text.matches("current").count()), (0, 2), "{text}");
    let lock = std::fs::read_to_string(tmp.path().join("there/out/knit.lock")).unwrap();
    let tmp_path = tmp.path().to_string_lossy().to_string();
    assert!(!lock.contains(&tmp_path), "no absolute path: {lock}");
}

/// Every file knit wrote is checked, `Cargo.lock` included: Cargo may add to
/// it, but a version or checksum knit locked that changed is a difference.
#[test]
fn check_covers_the_merged_cargo_lock() {
    let tmp = tempfile::tempdir().unwrap();
    copy_greeter(&tmp.path().join("sys"));
    assert_eq!(
        run(&["merge", "sys/knit.toml", "--out", "out"], tmp.path()).0,
        0
    );
    let check = || run(&["check", "sys/knit.toml", "--against", "out"], tmp.path());
    let lockfile = tmp.path().join("out/Cargo.lock");
    let written = std::fs::read_to_string(&lockfile).unwrap();
    // As Cargo leaves it after a build: the workspace's own packages added.
    std::fs::write(
        &lockfile,
        format!("{written}\n[[package]]\nname = \"merged\"\nversion = \"0.1.0\"\n"),
    )
    .unwrap();
    assert_eq!(check().0, 0);
    // Edited by hand: a locked version changed.
    let at = written.find("version = \"").unwrap() + 1;
    let at = at + written[at..].find("\nversion = \"").unwrap() + "\nversion = \"".len();
    let mut edited = written.clone();
    edited.insert(at, '9');
    std::fs::write(&lockfile, edited).unwrap();
    let (code, text) = check();
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("Cargo.lock differs from what knit generates"),
        "{text}"
    );
}

/// `knit check` never follows a symbolic link of the output (a loop, a link
/// to `/`): each is a difference.
#[test]
fn check_does_not_follow_symbolic_links() {
    let tmp = tempfile::tempdir().unwrap();
    copy_greeter(&tmp.path().join("sys"));
    for (out, link, to) in [("a", "loop", "."), ("b", "greeter/root", "/")] {
        assert_eq!(
            run(&["merge", "sys/knit.toml", "--out", out], tmp.path()).0,
            0
        );
        std::os::unix::fs::symlink(to, tmp.path().join(out).join(link)).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_knit"))
            .args(["check", "sys/knit.toml", "--against", out])
            .current_dir(tmp.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed().as_secs() > 60 {
                child.kill().unwrap();
                panic!("knit check {out} hangs");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut stdout = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
        assert_eq!(status.code(), Some(1), "{stdout}");
        assert!(
            stdout.contains(&format!("{link} was not written by knit (not a file)")),
            "{stdout}"
        );
    }
}

/// An error in a pinned revision names the file in the checkout, from the
/// plan's folder, not in knit's export of the revision.
#[test]
fn errors_in_a_pinned_revision_name_the_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let sys = tmp.path().join("sys");
    repo(&sys);
    std::fs::write(
        sys.join("greeter/src/main.rs"),
        "fn main() {\n    let x = ;\n}\n",
    )
    .unwrap();
    git(&sys, &["commit", "-qam", "broken"]);
    git(&sys, &["tag", "broken"]);
    edit(
        &sys.join("knit.toml"),
        "path = \"greeter\"",
        "path = \"greeter\"\nrev = \"broken\"",
    );
    let (code, text) = run(&["merge", "sys/knit.toml", "--out", "out"], tmp.path());
    assert_eq!(code, 2, "{text}");
    assert!(
        text.starts_with("error: sys/greeter/src/main.rs:2:"),
        "{text}"
    );
}
