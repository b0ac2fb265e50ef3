//! Several services from one package: two binaries sharing its library
//! (`corpus/layouts/two-bins`), one binary in several roles chosen by the
//! plan's `args` (`corpus/layouts/roles`), and the plan's `cwd`.

mod common;

use std::path::Path;

use common::knit;

/// Copies the corpus system `layouts/NAME` into `dir` and merges it into
/// `dir/out`; the merged host's `main.rs` and manifest.
fn merge_layout(
    name: &str,
    dir: &Path,
    edit: impl FnOnce(&Path),
) -> Result<(String, String), String> {
    let system = dir.join(name);
    common::copy_tree(&common::root().join("corpus/layouts").join(name), &system);
    edit(&system);
    let plan = format!("{name}/knit.toml");
    let run = knit(&["merge", &plan, "--out", "out"], dir);
    if !run.status.success() {
        return Err(String::from_utf8_lossy(&run.stderr).trim().to_string());
    }
    let read = |p: &str| std::fs::read_to_string(dir.join("out/knit/merged").join(p)).unwrap();
    Ok((read("src/main.rs"), read("Cargo.toml")))
}

#[test]
fn two_binaries_of_one_package_are_two_services() {
    let tmp = tempfile::tempdir().unwrap();
    let (main, manifest) = merge_layout("two-bins", tmp.path(), |_| {}).unwrap();
    assert!(
        main.contains(".service(\"users\", true, shared_market::knit_bin_users::knit_entry)")
            && main
                .contains(".service(\"orders\", true, shared_market::knit_bin_orders::knit_entry)")
            && main.contains(".provides(\"users\", \"users.Users\")"),
        "{main}"
    );
    // The package once, its library shared.
    assert_eq!(manifest.matches("shared-market").count(), 1, "{manifest}");
    let package = std::fs::read_to_string(tmp.path().join("out/market/Cargo.toml")).unwrap();
    for bin in [
        "name = \"users\"\npath = \"src/bin/users.rs\"",
        "name = \"orders\"\npath = \"src/bin/orders.rs\"\nrequired-features = [\"build-binary\"]",
    ] {
        assert!(package.contains(bin), "{package}");
    }
    // orders is built only with `build-binary`: the merged build enables it,
    // and the library compiles orders' copy only with it.
    assert!(
        manifest.contains("path = \"../../market\", features = [\"build-binary\"] }"),
        "{manifest}"
    );
    let lib = std::fs::read_to_string(tmp.path().join("out/market/src/lib.rs")).unwrap();
    let gated = "#[cfg(feature = \"build-binary\")]\n#[doc(hidden)]\n#[allow(dead_code, unused_imports, unused_macros)]\n#[path = \"bin\"]\npub mod ";
    assert!(
        lib.contains(&format!("{gated}knit_bin_orders {{"))
            && !lib.contains(&format!("{gated}knit_bin_users {{")),
        "{lib}"
    );
    assert!(!tmp.path().join("out/market/src/bin/knit_main.rs").exists());
    let report = std::fs::read_to_string(tmp.path().join("out/report.md")).unwrap();
    assert!(report.contains("inline"), "{report}");
}

/// A binary of the package that no service of the group runs (an admin CLI
/// beside the two services) is not a service's code: none of its calls is a
/// call site, and it is copied as it is.
#[test]
fn a_binary_no_service_runs_is_copied_as_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let admin = "//! An admin tool: asks the users service directly.\n\
                 use market::pb::users::users_client::UsersClient;\n\
                 #[tokio::main]\n\
                 async fn main() -> Result<(), Box<dyn std::error::Error>> {\n    \
                 let mut users = UsersClient::connect(\"http://127.0.0.1:50081\").await?;\n    \
                 let _ = users.lookup(market::pb::users::LookupRequest { id: 1 }).await?;\n    \
                 Ok(())\n}\n";
    merge_layout("two-bins", tmp.path(), |dir| {
        std::fs::write(dir.join("market/src/bin/admin.rs"), admin).unwrap();
    })
    .unwrap();
    let copied = std::fs::read_to_string(tmp.path().join("out/market/src/bin/admin.rs")).unwrap();
    assert_eq!(copied, admin);
    let report = std::fs::read_to_string(tmp.path().join("out/report.json")).unwrap();
    assert!(!report.contains("admin.rs"), "{report}");
}

/// The Cargo configuration a service's build reads (`.cargo/config.toml` in
/// its workspace's folder: `--cfg tokio_unstable`) is written at the output's
/// root, where a build of the merged workspace reads it; `knit check` sees it
/// change.
#[test]
fn the_services_cargo_configuration_is_written_at_the_outputs_root() {
    let tmp = tempfile::tempdir().unwrap();
    let config = "[build]\nrustflags = [\"--cfg\", \"tokio_unstable\"]\n";
    merge_layout("two-bins", tmp.path(), |dir| {
        std::fs::create_dir_all(dir.join("market/.cargo")).unwrap();
        std::fs::write(dir.join("market/.cargo/config.toml"), config).unwrap();
    })
    .unwrap();
    let written = std::fs::read_to_string(tmp.path().join("out/.cargo/config.toml")).unwrap();
    assert_eq!(written, config);
    let report = std::fs::read_to_string(tmp.path().join("out/report.md")).unwrap();
    assert!(
        report.contains(
            "the services' builds read Cargo configuration (`market/.cargo/config.toml`)"
        ),
        "{report}"
    );
    let check = knit(
        &["check", "two-bins/knit.toml", "--against", "out"],
        tmp.path(),
    );
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    check_sees_a_change(tmp.path(), "market/.cargo/config.toml", "[build]\n");
}

/// Writes `text` to `file` of the merged two-bins system in `dir`, and asserts
/// that `knit check` of its output exits 1 naming the file modified.
fn check_sees_a_change(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join("two-bins").join(file), text).unwrap();
    let check = knit(&["check", "two-bins/knit.toml", "--against", "out"], dir);
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.code() == Some(1) && said.contains(&format!("modified {file}")),
        "{said}"
    );
}

/// The toolchain a service's workspace pins (`rust-toolchain.toml` in its
/// folder, or above it up to its repository's) is named in the report, not
/// written: knit's runtime may need a newer rustc than a pin (chariott's
/// 1.72.1). `knit check` sees the pin change.
#[test]
fn the_toolchains_the_services_pin_are_noted() {
    let tmp = tempfile::tempdir().unwrap();
    let pin = "[toolchain]\nchannel = \"1.72.1\"\ncomponents = [\"clippy\"]\n";
    merge_layout("two-bins", tmp.path(), |dir| {
        std::fs::write(dir.join("market/rust-toolchain.toml"), pin).unwrap();
    })
    .unwrap();
    assert!(!tmp.path().join("out/rust-toolchain.toml").exists());
    let report = std::fs::read_to_string(tmp.path().join("out/report.md")).unwrap();
    assert!(
        report.contains("the services' builds pin a Rust toolchain (`users` at `market/rust-toolchain.toml`: `1.72.1`, `orders` at `market/rust-toolchain.toml`: `1.72.1`): the output pins none"),
        "{report}"
    );
    check_sees_a_change(tmp.path(), "market/rust-toolchain.toml", "[toolchain]\n");

    // A legacy `rust-toolchain` file names its channel alone.
    let tmp = tempfile::tempdir().unwrap();
    let system = tmp.path().join("accept-loop");
    common::copy_tree(&common::root().join("corpus/layouts/accept-loop"), &system);
    std::fs::write(system.join("kiosk/rust-toolchain"), "1.88.0\n").unwrap();
    let run = knit(
        &["merge", "accept-loop/knit.toml", "--out", "out"],
        tmp.path(),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!tmp.path().join("out/rust-toolchain").exists());
    let report = std::fs::read_to_string(tmp.path().join("out/report.md")).unwrap();
    assert!(
        report.contains("(`kiosk` at `kiosk/rust-toolchain`: `1.88.0`)"),
        "{report}"
    );
}

/// The call site both roles of one binary compile is a row of each role's
/// service, counted once for each, in report.json and report.md.
#[test]
fn a_site_two_services_share_is_a_row_per_calling_service() {
    let tmp = tempfile::tempdir().unwrap();
    merge_layout("roles", tmp.path(), |_| {}).unwrap();
    let read = |name: &str| std::fs::read_to_string(tmp.path().join("out").join(name)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&read("report.json")).unwrap();
    let rows: Vec<(&str, &str, &str)> = json["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let text = |key: &str| c[key].as_str().unwrap_or_default();
            (text("site"), text("service"), text("tier"))
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("shopd/src/main.rs:111:26", "catalog", "inline"),
            ("shopd/src/main.rs:111:26", "cart", "inline")
        ]
    );
    let md = read("report.md");
    assert!(
        md.contains("2 call sites: 2 inline, 0 bridged, 0 left as RPC. 1 site is in code several services share: each counts once per calling service.")
            && md.contains("| shopd/src/main.rs:111:26 | cart | inline |"),
        "{md}"
    );
}

#[test]
fn one_binary_in_two_roles_runs_once_per_role() {
    let tmp = tempfile::tempdir().unwrap();
    let (main, manifest) = merge_layout("roles", tmp.path(), |_| {}).unwrap();
    assert!(
        main.contains(".args(\"catalog\", \"shopd\", &[\"catalog\"])")
            && main
                .contains(".args(\"cart\", \"shopd\", &[\"cart\", \"--addr-var\", \"CART_ADDR\"])")
            && main.contains(".service(\"catalog\", true, shared_shopd::knit_entry)")
            && main.contains(".service(\"cart\", true, shared_shopd::knit_entry)"),
        "{main}"
    );
    assert_eq!(manifest.matches("shared-shopd").count(), 1, "{manifest}");
    let lifted = std::fs::read_to_string(tmp.path().join("out/shopd/src/main.rs")).unwrap();
    assert!(
        lifted.contains("Cli::parse_from(knit_runtime::env::args_os())"),
        "{lifted}"
    );
    assert_eq!(
        lifted.matches("pub async fn knit_entry").count(),
        1,
        "{lifted}"
    );
}

#[test]
fn roles_need_their_own_args() {
    let tmp = tempfile::tempdir().unwrap();
    let err = merge_layout("roles", tmp.path(), |dir| {
        let plan = dir.join("knit.toml");
        let text = std::fs::read_to_string(&plan).unwrap();
        std::fs::write(
            &plan,
            text.replace(
                "args = [\"cart\", \"--addr-var\", \"CART_ADDR\"]",
                "args = [\"catalog\"]",
            ),
        )
        .unwrap();
    })
    .unwrap_err();
    assert_eq!(
        err,
        "error: roles/knit.toml:13:1: services `catalog` and `cart` are the same binary `shopd` of package `shopd` with the same arguments: a binary runs once in a merge, unless each service names its role with its own `args = [..]`"
    );
}

#[test]
fn cwd_is_entered_by_the_merged_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let (main, _) = merge_layout("roles", tmp.path(), |dir| {
        std::fs::create_dir_all(dir.join("shopd/data")).unwrap();
        std::fs::write(dir.join("shopd/data/prices.txt"), "tea 450\n").unwrap();
        let plan = dir.join("knit.toml");
        let text = std::fs::read_to_string(&plan).unwrap();
        std::fs::write(
            &plan,
            text.replace(
                "args = [\"catalog\"]",
                "args = [\"catalog\"]\ncwd = \"shopd/data\"",
            ),
        )
        .unwrap();
    })
    .unwrap();
    assert!(
        main.contains(".cwd(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../../roles/shopd/data\"))")
            || main.contains(".cwd(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../../shopd/data\"))"),
        "{main}"
    );
    let err = merge_layout("roles", &tmp.path().join("again"), |dir| {
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let plan = dir.join("knit.toml");
        let text = std::fs::read_to_string(&plan).unwrap();
        std::fs::write(
            &plan,
            text.replace(
                "args = [\"catalog\"]",
                "args = [\"catalog\"]\ncwd = \"data\"",
            ),
        )
        .unwrap();
    })
    .unwrap_err();
    assert_eq!(
        err,
        "error: roles/knit.toml:9:1: service `catalog`: `cwd = \"data\"` is not inside a package the merge copies: the merged binary could not find the service's files there; name a folder inside one of the group's packages, or leave `cwd` out and give the service absolute paths"
    );
}
