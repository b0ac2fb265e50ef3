//! Services that are members of one monorepo workspace: the plan names each
//! service's package.

mod common;

use std::path::Path;
use std::process::Command;

use common::{knit, tree};

/// The greeter system as one workspace: both services members of it.
fn monorepo(dir: &Path) {
    let corpus = common::root().join("corpus/greeter");
    for service in ["greeter", "frontend"] {
        common::copy_tree(&corpus.join(service), &dir.join(service));
        let manifest = dir.join(service).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let text = text
            .replace("\n# This service is its own repository: its own workspace and lockfile.\n[workspace]\n", "")
            .replace("tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }", "tokio = { workspace = true, features = [\"macros\"] }")
            .replace("version = \"0.1.0\"", "version.workspace = true");
        std::fs::write(&manifest, text).unwrap();
        std::fs::remove_file(dir.join(service).join("Cargo.lock")).unwrap();
    }
    let root = r#"[workspace]
resolver = "2"
members = ["greeter", "frontend"]

[workspace.package]
version = "0.3.0"

[workspace.dependencies]
tokio = { version = "1", features = ["rt-multi-thread"] }
"#;
    std::fs::write(dir.join("Cargo.toml"), root).unwrap();
    std::fs::copy(corpus.join("greeter/Cargo.lock"), dir.join("Cargo.lock")).unwrap();
}

const PLAN: &str = r#"[group]
name = "mono"
services = ["greeter", "frontend"]

[services.greeter]
path = "."
package = "greeter"

[services.frontend]
path = "."
package = "frontend"
"#;

#[test]
fn members_of_one_workspace_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let mono = tmp.path().join("mono");
    monorepo(&mono);
    std::fs::write(mono.join("knit.toml"), PLAN).unwrap();
    let run = knit(
        &[
            "merge",
            "mono/knit.toml",
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
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["calls"][0]["tier"], "inline");
    let out = tmp.path().join("out");
    // Packages keep their places under the workspace root, which is the plan's folder.
    assert!(
        out.join("greeter/src/knit_main.rs").is_file()
            && out.join("frontend/src/main.rs").is_file()
    );
    // What members inherited from the monorepo's root is written out.
    let greeter = std::fs::read_to_string(out.join("greeter/Cargo.toml")).unwrap();
    assert!(greeter.contains("version = \"0.3.0\""), "{greeter}");
    assert!(
        greeter
            .contains("tokio = { version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }"),
        "{greeter}"
    );
    let members = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(
        members.contains("\"greeter\",\n    \"frontend\","),
        "{members}"
    );
    // The diff applies in the monorepo.
    let work = tmp.path().join("work");
    common::copy_tree(&mono, &work);
    let applied = Command::new("git")
        .arg("apply")
        .arg(out.join("knit.diff"))
        .current_dir(&work)
        .status()
        .unwrap();
    assert!(applied.success());
    assert_eq!(tree(&work.join("greeter")), tree(&out.join("greeter")));
}

#[test]
fn a_workspace_of_several_services_needs_the_package_named() {
    let tmp = tempfile::tempdir().unwrap();
    let mono = tmp.path().join("mono");
    monorepo(&mono);
    std::fs::write(
        mono.join("knit.toml"),
        PLAN.replace("package = \"frontend\"\n", ""),
    )
    .unwrap();
    let run = knit(&["merge", "mono/knit.toml", "--out", "out"], tmp.path());
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        stderr.trim(),
        "error: mono/knit.toml:9:1: service `frontend`: name its package with `package = ..` (one of: frontend, greeter)"
    );
}

#[test]
fn a_main_in_src_bin_is_lifted_where_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let system = tmp.path().join("greeter");
    common::copy_greeter(&system);
    let bin = system.join("greeter/src/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::rename(system.join("greeter/src/main.rs"), bin.join("server.rs")).unwrap();
    let run = knit(&["merge", "greeter/knit.toml", "--out", "out"], tmp.path());
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let out = tmp.path().join("out/greeter");
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("[lib]\npath = \"src/bin/server.rs\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("[[bin]]\nname = \"server\"\npath = \"src/bin/knit_main.rs\""),
        "{manifest}"
    );
    let standalone = std::fs::read_to_string(out.join("src/bin/knit_main.rs")).unwrap();
    assert!(
        standalone.contains("greeter_greeter::knit_entry(host)"),
        "{standalone}"
    );
}

/// The monorepo with a member package `common` both services depend on.
fn monorepo_with_common(mono: &Path) {
    monorepo(mono);
    std::fs::create_dir_all(mono.join("common/src")).unwrap();
    std::fs::write(
        mono.join("common/Cargo.toml"),
        "[package]\nname = \"common\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        mono.join("common/src/lib.rs"),
        "/// Shared by both services.\npub const GREETING: &str = \"Hello\";\n",
    )
    .unwrap();
    let root = std::fs::read_to_string(mono.join("Cargo.toml")).unwrap();
    std::fs::write(
        mono.join("Cargo.toml"),
        root.replace(
            "members = [\"greeter\", \"frontend\"]",
            "members = [\"greeter\", \"frontend\", \"common\"]",
        ),
    )
    .unwrap();
    for service in ["greeter", "frontend"] {
        let manifest = mono.join(service).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(
            &manifest,
            text.replace(
                "[dependencies]\n",
                "[dependencies]\ncommon = { path = \"../common\" }\n",
            ),
        )
        .unwrap();
    }
}

#[test]
fn a_package_both_services_use_is_kept_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mono = tmp.path().join("mono");
    monorepo_with_common(&mono);
    std::fs::write(mono.join("knit.toml"), PLAN).unwrap();
    let run = knit(&["merge", "mono/knit.toml", "--out", "out"], tmp.path());
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let out = tmp.path().join("out");
    let common = std::fs::read_to_string(out.join("common/Cargo.toml")).unwrap();
    assert!(common.contains("name = \"shared-common\""), "{common}");
    for service in ["greeter", "frontend"] {
        let manifest = std::fs::read_to_string(out.join(service).join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("common = { path = \"../common\", package = \"shared-common\" }"),
            "{manifest}"
        );
    }
    let members = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert_eq!(members.matches("\"common\"").count(), 1, "{members}");
}

/// A plan in a folder of its own, beside the monorepo rather than above it:
/// the output mirrors the folder above both, so each package, the one both
/// services share included, stands once at its place in the repository.
#[test]
fn a_plan_apart_from_the_monorepo_merges() {
    let tmp = tempfile::tempdir().unwrap();
    let mono = tmp.path().join("mono");
    monorepo_with_common(&mono);
    std::fs::create_dir_all(tmp.path().join("plans")).unwrap();
    std::fs::write(
        tmp.path().join("plans/knit.toml"),
        PLAN.replace("path = \".\"", "path = \"../mono\""),
    )
    .unwrap();
    let run = knit(
        &[
            "merge",
            "plans/knit.toml",
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
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["calls"][0]["tier"], "inline");
    let out = tmp.path().join("out");
    for package in ["greeter", "frontend", "common"] {
        assert!(
            out.join("mono").join(package).join("Cargo.toml").is_file(),
            "{package}"
        );
    }
    let members = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert_eq!(members.matches("\"mono/common\"").count(), 1, "{members}");
    let frontend = std::fs::read_to_string(out.join("mono/frontend/Cargo.toml")).unwrap();
    assert!(
        frontend.contains("common = { path = \"../common\", package = \"shared-common\" }"),
        "{frontend}"
    );
    // The shared package is an input of both services: `check` sees it change.
    let check = || {
        knit(
            &["check", "plans/knit.toml", "--against", "out"],
            tmp.path(),
        )
    };
    assert_eq!(check().status.code(), Some(0));
    std::fs::write(
        mono.join("common/src/lib.rs"),
        "pub const GREETING: &str = \"Hi\";\n",
    )
    .unwrap();
    let changed = check();
    assert_eq!(changed.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&changed.stdout);
    for service in ["greeter", "frontend"] {
        assert!(
            stdout.contains(&format!(
                "service `{service}` changed: modified mono/common/src/lib.rs"
            )),
            "{stdout}"
        );
    }
}

/// A module declared in a branch of `cfg_if!` (`cfg_if::cfg_if! { if
/// #[cfg(unix)] { mod serving; } else { .. } }`) is loaded as rustc would load
/// it, from the branches a Linux build may take: the server it builds is
/// found, and the frontend's call runs inline; a `#[cfg(test)]` branch's mock
/// and a `#[cfg(windows)]` branch's module (one file a stub, one missing) are
/// not read.
#[test]
fn a_module_declared_in_cfg_if_is_loaded() {
    let tmp = tempfile::tempdir().unwrap();
    let system = tmp.path().join("greeter");
    common::copy_greeter(&system);
    let main = system.join("greeter/src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    let serve = "    Server::builder()\n        .add_service(GreeterServer::new(greeter))\n        .serve(addr)\n        .await?;\n";
    assert!(text.contains(serve));
    let text = text.replace(serve, "    serving::serve(greeter, addr).await?;\n").replace(
        "pub mod hello_world {",
        "cfg_if::cfg_if! {\n    if #[cfg(test)] {\n        mod mock;\n    } else if #[cfg(windows)] {\n        #[path = \"serving_windows.rs\"]\n        mod serving;\n        mod windows_only;\n    } else {\n        mod serving;\n    }\n}\n\npub mod hello_world {",
    );
    std::fs::write(&main, text).unwrap();
    std::fs::write(
        system.join("greeter/src/serving.rs"),
        "use tonic::transport::Server;\n\nuse crate::hello_world::greeter_server::GreeterServer;\nuse crate::MyGreeter;\n\npub async fn serve(greeter: MyGreeter, addr: std::net::SocketAddr) -> Result<(), tonic::transport::Error> {\n    Server::builder()\n        .add_service(GreeterServer::new(greeter))\n        .serve(addr)\n        .await\n}\n",
    )
    .unwrap();
    // Another platform's module, and a mock for tests: neither is the server.
    std::fs::write(
        system.join("greeter/src/serving_windows.rs"),
        "use crate::MyGreeter;\n\npub async fn serve(_greeter: MyGreeter, _addr: std::net::SocketAddr) -> Result<(), tonic::transport::Error> {\n    unimplemented!(\"not on windows\")\n}\n",
    )
    .unwrap();
    std::fs::write(
        system.join("greeter/src/mock.rs"),
        "pub fn mock() -> crate::hello_world::greeter_server::GreeterServer<crate::MyGreeter> {\n    crate::hello_world::greeter_server::GreeterServer::new(crate::MyGreeter::default())\n}\n",
    )
    .unwrap();
    let manifest = system.join("greeter/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("[dependencies]\n", "[dependencies]\ncfg-if = \"1\"\n"),
    )
    .unwrap();
    let run = knit(&["merge", "greeter/knit.toml", "--out", "out"], tmp.path());
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("call sites: 1 inline"), "{stdout}");
    let serving = std::fs::read_to_string(tmp.path().join("out/greeter/src/serving.rs")).unwrap();
    assert!(serving.contains("greeter_inline::provide("), "{serving}");
}
