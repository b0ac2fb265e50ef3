//! The deployment recipes `knit merge` writes beside the workspace.

mod common;

use common::{knit, root};
use yaml_rust2::YamlLoader;

#[test]
fn recipes_name_the_merged_binary_its_ports_and_the_old_service_names() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("corpus/inventory/knit.toml");
    let run = knit(
        &["merge", plan.to_str().unwrap(), "--out", "out"],
        dir.path(),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let deploy = dir.path().join("out/deploy");
    let read = |name: &str| std::fs::read_to_string(deploy.join(name)).unwrap();

    let dockerfile = read("Dockerfile");
    assert!(dockerfile.contains("RUN cargo build --release --locked -p merged\n"));
    // `--locked` needs a lockfile with every package the workspace builds:
    // knit's crates' dependencies and the workspace's own packages too.
    let locked = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--locked", "--offline", "--format-version", "1"])
        .current_dir(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(
        locked.status.success(),
        "{}",
        String::from_utf8_lossy(&locked.stderr)
    );
    let lockfile = std::fs::read_to_string(dir.path().join("out/Cargo.lock")).unwrap();
    assert!(lockfile.contains("name = \"knit-runtime\""), "{lockfile}");
    assert!(
        dockerfile.contains("COPY --from=build /src/target/release/merged /usr/local/bin/merged\n")
    );
    assert!(
        dockerfile.contains("EXPOSE 50061\nEXPOSE 50062\n"),
        "{dockerfile}"
    );

    let compose = &YamlLoader::load_from_str(&read("compose.yaml")).unwrap()[0];
    let merged = &compose["services"]["merged"];
    assert_eq!(
        merged["build"]["dockerfile"].as_str(),
        Some("deploy/Dockerfile")
    );
    assert_eq!(merged["environment"]["STOCK_PORT"].as_str(), Some("50061"));
    assert_eq!(merged["environment"]["SHELF_PORT"].as_str(), Some("50062"));
    let aliases: Vec<&str> = merged["networks"]["default"]["aliases"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert_eq!(aliases, ["stock", "shelf"]);

    let kubernetes = YamlLoader::load_from_str(&read("kubernetes.yaml")).unwrap();
    assert_eq!(
        kubernetes.len(),
        3,
        "a Deployment and a Service per listener"
    );
    assert_eq!(kubernetes[0]["kind"].as_str(), Some("Deployment"));
    let services: Vec<(&str, i64)> = kubernetes[1..]
        .iter()
        .map(|s| {
            (
                s["metadata"]["name"].as_str().unwrap(),
                s["spec"]["ports"][0]["port"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(services, [("stock", 50061), ("shelf", 50062)]);

    let listing = read("listeners.md");
    assert!(
        listing.contains("| stock | kept | `PORT` | 50061 | `PORT=${STOCK_PORT}` |"),
        "{listing}"
    );

    // The recipes are knit's output: `check` covers them.
    let check = knit(
        &["check", plan.to_str().unwrap(), "--against", "out"],
        dir.path(),
    );
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    std::fs::write(deploy.join("Dockerfile"), "FROM scratch\n").unwrap();
    let stale = knit(
        &["check", plan.to_str().unwrap(), "--against", "out"],
        dir.path(),
    );
    assert_eq!(stale.status.code(), Some(1));
}
