//! Generated gRPC code in a service's registry or git dependencies: API crates
//! that hold a proto package's tonic code (`dragonfly-api`, `arrow-flight`,
//! an organisation's published `*-proto` crate). knit reads them from Cargo's
//! cache of sources (where `cargo fetch` or a build puts them) to tell which
//! gRPC service a client or server they define is; it never copies or edits them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use knit_model::model::ExternalApi;
use toml::{Table, Value};

use crate::cargolock::{CargoLock, LockedPackage};

/// The API crates the packages whose manifests are `manifests` depend on
/// directly (not by path), as `lockfile` (of the workspace in `root`) locks
/// them: each dependency that itself depends on tonic. `workspaces` are the
/// manifests of their workspace roots (`x = { workspace = true }`). When one
/// is not in Cargo's cache, `cargo fetch --locked` in `root` puts it there
/// (without the network, or with a lockfile Cargo would change, it stays
/// unread: its clients are then listed `unresolved`, with the way out).
pub fn find(
    root: &Path,
    manifests: &[&str],
    workspaces: &[&str],
    lockfile: Option<&str>,
) -> Vec<ExternalApi> {
    let Some(home) = cargo_home() else {
        return Vec::new();
    };
    if lockfile.is_none() {
        return unlocked(&home, manifests, workspaces);
    }
    let found = lookup(&home, manifests, workspaces, lockfile);
    if found.iter().all(|api| api.read) {
        return found;
    }
    // Looked up again even when the fetch fails: it may have fetched some.
    fetch(root);
    lookup(&home, manifests, workspaces, lockfile)
}

/// Runs `cargo fetch --locked` in the workspace folder `root` (from there, so
/// that Cargo reads the repository's configuration: its registries, source
/// replacements, git settings).
fn fetch(root: &Path) {
    let _ = std::process::Command::new(crate::workspace::cargo())
        .args(["fetch", "--locked", "--quiet", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// [`find`] in the cache of Cargo home `home` as it is.
fn lookup(
    home: &Path,
    manifests: &[&str],
    workspaces: &[&str],
    lockfile: Option<&str>,
) -> Vec<ExternalApi> {
    let Some(lock) = lockfile.and_then(|text| CargoLock::parse(text).ok()) else {
        return Vec::new();
    };
    let inherited: Vec<Table> = workspaces
        .iter()
        .filter_map(|text| text.parse::<Table>().ok())
        .collect();
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for (krate, package) in manifests
        .iter()
        .filter_map(|text| text.parse::<Table>().ok())
        .flat_map(|manifest| dependencies(&manifest, &inherited))
    {
        for locked in lock
            .sourced()
            .filter(|p| p.name == package && depends_on_tonic(p))
        {
            if !seen.insert((krate.clone(), locked.name.clone(), locked.version.clone())) {
                continue;
            }
            let dir = source_dir(home, locked);
            let services = dir.as_deref().map(services_in).unwrap_or_default();
            // Not renamed, the crate goes by its library's name.
            let lib = dir
                .as_deref()
                .filter(|_| krate == package.replace('-', "_"))
                .and_then(lib_name);
            found.push(ExternalApi {
                krate: lib.unwrap_or_else(|| krate.clone()),
                package: format!("{} {}", locked.name, locked.version),
                services,
                read: dir.is_some(),
            });
        }
    }
    found
}

/// [`find`] for a workspace without a lockfile, which says no commit: its git
/// dependencies as Cargo checked them out last (the newest checkout of the
/// repository that holds the package, where a build of the service put it).
/// Registry dependencies are not looked up: without a lockfile, no version.
fn unlocked(home: &Path, manifests: &[&str], workspaces: &[&str]) -> Vec<ExternalApi> {
    let inherited: Vec<Table> = workspaces
        .iter()
        .filter_map(|text| text.parse::<Table>().ok())
        .collect();
    let mut found: Vec<ExternalApi> = Vec::new();
    for (krate, package, spec) in manifests
        .iter()
        .filter_map(|text| text.parse::<Table>().ok())
        .flat_map(|manifest| specs(&manifest, &inherited))
    {
        let Some(url) = spec.get("git").and_then(Value::as_str) else {
            continue;
        };
        let rev = spec.get("rev").and_then(Value::as_str);
        let Some(dir) = newest_checkout(home, url, rev, &package) else {
            continue;
        };
        if !depends_on_tonic_by_manifest(&dir) {
            continue;
        }
        let lib = (krate == package.replace('-', "_"))
            .then(|| lib_name(&dir))
            .flatten();
        let krate = lib.unwrap_or(krate);
        if found.iter().any(|api| api.krate == krate) {
            continue;
        }
        found.push(ExternalApi {
            krate,
            package: format!("{package} (git {url}, checked out without a lockfile)"),
            services: services_in(&dir),
            read: true,
        });
    }
    found
}

/// The folder of package `name` in the newest checkout Cargo made of the git
/// repository at `url` (`git/checkouts/<repository>-<hash>/<commit>`), of the
/// commit `rev` names when it is a commit id.
fn newest_checkout(home: &Path, url: &str, rev: Option<&str>, name: &str) -> Option<PathBuf> {
    let repository = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()?
        .trim_end_matches(".git")
        .to_lowercase();
    let checkouts = std::fs::read_dir(home.join("git/checkouts")).ok()?;
    let mut commits: Vec<(std::time::SystemTime, PathBuf)> = checkouts
        .flatten()
        .filter(|repo| {
            let dir = repo.file_name().to_string_lossy().to_lowercase();
            dir.rsplit_once('-')
                .is_some_and(|(name, _)| name == repository)
        })
        .filter_map(|repo| std::fs::read_dir(repo.path()).ok())
        .flat_map(|commits| commits.flatten())
        .filter_map(|commit| Some((commit.metadata().ok()?.modified().ok()?, commit.path())))
        .collect();
    commits.sort();
    let named = |dir: &PathBuf| {
        let commit = dir.file_name().map(|n| n.to_string_lossy().to_string());
        match (rev, commit) {
            (Some(rev), Some(commit)) => rev.starts_with(&commit) || commit.starts_with(rev),
            _ => false,
        }
    };
    let (of_rev, others): (Vec<_>, Vec<_>) = commits.into_iter().rev().partition(|(_, d)| named(d));
    of_rev
        .into_iter()
        .chain(others)
        .find_map(|(_, dir)| package_in(&dir, name, 4))
}

/// Whether the manifest in `dir` depends on tonic.
fn depends_on_tonic_by_manifest(dir: &Path) -> bool {
    let Some(manifest) = std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<Table>().ok())
    else {
        return false;
    };
    dependencies(&manifest, &[])
        .iter()
        .any(|(_, package)| package == "tonic")
}

/// The `[lib] name` the manifest in `dir` gives its library, as code names it.
fn lib_name(dir: &Path) -> Option<String> {
    let manifest: Table = std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()?
        .parse()
        .ok()?;
    let name = manifest.get("lib")?.get("name")?.as_str()?;
    Some(name.replace('-', "_"))
}

/// `$CARGO_HOME`, or `~/.cargo`.
fn cargo_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return Some(PathBuf::from(home));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo"))
}

/// The dependencies of `manifest` that are not path dependencies (normal and
/// target-specific ones; build and dev ones name no code a service runs): the
/// crate name its sources use, and the package.
fn dependencies(manifest: &Table, workspaces: &[Table]) -> Vec<(String, String)> {
    specs(manifest, workspaces)
        .into_iter()
        .map(|(krate, package, _)| (krate, package))
        .collect()
}

/// [`dependencies`], each with its specification (`{ git = .., branch = .. }`).
fn specs(manifest: &Table, workspaces: &[Table]) -> Vec<(String, String, Value)> {
    let mut tables: Vec<&Table> = manifest
        .get("dependencies")
        .and_then(Value::as_table)
        .into_iter()
        .collect();
    let targets = manifest.get("target").and_then(Value::as_table);
    tables.extend(
        targets
            .into_iter()
            .flat_map(|t| t.values())
            .filter_map(|t| t.get("dependencies")?.as_table()),
    );
    let inherited = |key: &str| {
        workspaces.iter().find_map(|w| {
            w.get("workspace")?
                .get("dependencies")?
                .as_table()?
                .get(key)
                .cloned()
        })
    };
    let mut found = Vec::new();
    for (key, value) in tables.into_iter().flatten() {
        let value = match value.get("workspace").and_then(Value::as_bool) {
            Some(true) => match inherited(key) {
                Some(value) => value,
                None => continue,
            },
            _ => value.clone(),
        };
        if value.get("path").is_some() {
            continue;
        }
        let package = value.get("package").and_then(Value::as_str).unwrap_or(key);
        found.push((key.replace('-', "_"), package.to_string(), value.clone()));
    }
    found
}

/// Whether the lockfile entry of `package` lists tonic among its dependencies.
fn depends_on_tonic(package: &LockedPackage) -> bool {
    let deps = package.entry.get("dependencies").and_then(Value::as_array);
    deps.into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|d| d == "tonic" || d.starts_with("tonic "))
}

/// Where Cargo keeps the sources of `package`: `registry/src/<index>/NAME-VERSION`
/// for a registry package, the package's folder in `git/checkouts/<repo>/<commit>`
/// for a git one.
fn source_dir(home: &Path, package: &LockedPackage) -> Option<PathBuf> {
    let source = package.source.as_deref()?;
    if let Some(git) = source.strip_prefix("git+") {
        let (_, commit) = git.rsplit_once('#')?;
        let short = commit.get(..7)?;
        let checkouts = std::fs::read_dir(home.join("git/checkouts")).ok()?;
        return checkouts
            .flatten()
            .map(|repo| repo.path().join(short))
            .filter(|dir| dir.is_dir())
            .find_map(|dir| package_in(&dir, &package.name, 4));
    }
    let indexes = std::fs::read_dir(home.join("registry/src")).ok()?;
    indexes
        .flatten()
        .map(|index| {
            index
                .path()
                .join(format!("{}-{}", package.name, package.version))
        })
        .find(|dir| dir.join("Cargo.toml").is_file())
}

/// The folder below `dir` (at most `depth` deep) whose manifest is package `name`'s.
fn package_in(dir: &Path, name: &str, depth: usize) -> Option<PathBuf> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok();
    let named = manifest
        .and_then(|text| text.parse::<Table>().ok())
        .is_some_and(|m| {
            m.get("package")
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                == Some(name)
        });
    if named {
        return Some(dir.to_path_buf());
    }
    if depth == 0 {
        return None;
    }
    let entries = std::fs::read_dir(dir).ok()?;
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| !skipped(p))
        .collect();
    dirs.sort();
    dirs.into_iter()
        .find_map(|d| package_in(&d, name, depth - 1))
}

/// Folders that hold no code the crate compiles for its users (`benches`,
/// `benches-disabled`, `examples`, ..).
fn skipped(dir: &Path) -> bool {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with('.')
        || name == "target"
        || ["tests", "benches", "examples"]
            .iter()
            .any(|kind| name.starts_with(kind))
}

/// [`scan`] of the crate in `dir`, once per process: services of one
/// repository reach the same API crates, and Cargo's cached sources do not change.
fn services_in(dir: &Path) -> Vec<(String, String)> {
    type Scanned = std::collections::HashMap<PathBuf, Vec<(String, String)>>;
    static SCANNED: std::sync::LazyLock<std::sync::Mutex<Scanned>> =
        std::sync::LazyLock::new(Default::default);
    let cached = SCANNED.lock().ok().and_then(|s| s.get(dir).cloned());
    if let Some(services) = cached {
        return services;
    }
    let services = scan(dir);
    if let Ok(mut scanned) = SCANNED.lock() {
        scanned.insert(dir.to_path_buf(), services.clone());
    }
    services
}

/// The gRPC services of the crate in `dir`: named by the method paths in
/// tonic's generated code checked into its sources (`"/pkg.Svc/Method"`), and
/// by its `.proto` files (code generated into `OUT_DIR` at build time).
fn scan(dir: &Path) -> Vec<(String, String)> {
    let mut found: BTreeSet<(String, String)> = BTreeSet::new();
    let mut files = Vec::new();
    walk(dir, &mut files, 6);
    for file in files {
        let extension = file.extension().and_then(|e| e.to_str());
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        match extension {
            Some("rs") => found.extend(method_paths(&text)),
            Some("proto") => {
                let Ok(proto) = knit_model::proto::parse(&file.to_string_lossy(), &text) else {
                    continue;
                };
                let services = proto.services.iter();
                found.extend(services.map(|s| (proto.package.clone(), s.name.clone())));
            }
            _ => {}
        }
    }
    found.into_iter().collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth > 0 && !skipped(&path) {
            walk(&path, out, depth - 1);
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "rs" || e == "proto") {
            out.push(path);
        }
    }
}

/// The (proto package, service) of each gRPC method path a string literal of
/// `text` spells (`"/helloworld.Greeter/SayHello"`), as tonic's generated
/// clients and servers do.
fn method_paths(text: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("\"/") {
        let rest = &text[at + 2..];
        let Some(end) = rest.find('"') else { continue };
        let Some((service, method)) = rest[..end].split_once('/') else {
            continue;
        };
        let word =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !word(method) || !service.split('.').all(word) {
            continue;
        }
        // A service of a package: a path such as `"/Users/me"` names none.
        let Some((package, name)) = service.rsplit_once('.') else {
            continue;
        };
        if name.starts_with(|c: char| c.is_ascii_uppercase()) {
            found.insert((package.to_string(), name.to_string()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_paths_name_services() {
        let text = r#"
            let path = http::uri::PathAndQuery::from_static("/dfdaemon.v2.DfdaemonDownload/DownloadTask");
            "/dfdaemon.v2.DfdaemonUpload/SyncPieces" => { .. }
            let url = "/health/ready";
            let home = "/Users/Me";
            let sql = "/* comment */";
        "#;
        let found: Vec<(String, String)> = method_paths(text).into_iter().collect();
        assert_eq!(
            found,
            [
                ("dfdaemon.v2".to_string(), "DfdaemonDownload".to_string()),
                ("dfdaemon.v2".to_string(), "DfdaemonUpload".to_string()),
            ]
        );
    }

    /// A registry crate with tonic's code checked in, one whose code is
    /// generated from its protos at build time, and one not in the cache.
    #[test]
    fn api_crates_are_read_from_the_cache() {
        let home = std::env::temp_dir().join(format!("knit-external-{}", std::process::id()));
        let registry = home.join("registry/src/index.crates.io-1949cf8c6b5b557f");
        let write = |path: &str, text: &str| {
            let path = registry.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "acme-api-1.2.0/Cargo.toml",
            "[package]\nname = \"acme-api\"\n",
        );
        write(
            "acme-api-1.2.0/src/gen/acme.v1.rs",
            "// @generated\npub mod ledger_client { fn f() { let p = PathAndQuery::from_static(\"/acme.v1.Ledger/Post\"); } }\n",
        );
        write(
            "flights-0.3.0/Cargo.toml",
            "[package]\nname = \"flights\"\n[lib]\nname = \"air_traffic\"\n",
        );
        write(
            "flights-0.3.0/proto/flights.proto",
            "syntax = \"proto3\";\npackage air.v2;\nservice Tower { rpc Land (Empty) returns (Empty); }\nmessage Empty {}\n",
        );
        let lock = r#"
            [[package]]
            name = "acme-api"
            version = "1.2.0"
            source = "registry+https://github.com/rust-lang/crates.io-index"
            dependencies = ["prost", "tonic"]
            [[package]]
            name = "flights"
            version = "0.3.0"
            source = "registry+https://github.com/rust-lang/crates.io-index"
            dependencies = ["tonic 0.14.9"]
            [[package]]
            name = "absent-api"
            version = "0.1.0"
            source = "registry+https://github.com/rust-lang/crates.io-index"
            dependencies = ["tonic"]
            [[package]]
            name = "serde"
            version = "1.0.0"
            source = "registry+https://github.com/rust-lang/crates.io-index"
        "#;
        let manifest = "[dependencies]\nacme-api = \"1\"\nair = { package = \"flights\", version = \"0.3\" }\nflights = \"0.3\"\nabsent-api = \"0.1\"\nserde = \"1\"\n";
        let found = lookup(&home, &[manifest], &[], Some(lock));
        std::fs::remove_dir_all(&home).unwrap();
        let shown: Vec<String> = found
            .iter()
            .map(|a| {
                format!(
                    "{} ({}) read={} {:?}",
                    a.krate, a.package, a.read, a.services
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                r#"absent_api (absent-api 0.1.0) read=false []"#,
                r#"acme_api (acme-api 1.2.0) read=true [("acme.v1", "Ledger")]"#,
                r#"air (flights 0.3.0) read=true [("air.v2", "Tower")]"#,
                r#"air_traffic (flights 0.3.0) read=true [("air.v2", "Tower")]"#,
            ]
        );
    }

    /// A service without a lockfile takes its git API crate from the newest
    /// checkout of the repository that holds it (a proto crate of the
    /// repository itself, as a tutorial's gateway names it).
    #[test]
    fn without_a_lockfile_a_git_api_crate_is_read_from_its_newest_checkout() {
        let home = std::env::temp_dir().join(format!("knit-external-git-{}", std::process::id()));
        let repo = home.join("git/checkouts/shop-grpc-0a1b2c3d4e5f6a7b");
        let write = |path: &str, text: &str| {
            let path = repo.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        let manifest = "[package]\nname = \"shop-proto\"\n[dependencies]\ntonic = \"0.11\"\n";
        // The newer checkout sorts first by name: the time tells.
        write("2222222/protos/Cargo.toml", manifest);
        write(
            "2222222/protos/proto/shop.proto",
            "syntax = \"proto3\";\npackage shop;\nservice Old { rpc A (E) returns (E); }\nmessage E {}\n",
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        write("1111111/protos/Cargo.toml", manifest);
        write(
            "1111111/protos/proto/shop.proto",
            "syntax = \"proto3\";\npackage shop;\nservice Orders { rpc A (E) returns (E); }\nmessage E {}\n",
        );
        let shown = |service: &str| -> Vec<String> {
            unlocked(&home, &[service], &[])
                .iter()
                .map(|a| format!("{} read={} {:?}", a.krate, a.read, a.services))
                .collect()
        };
        let newest = shown(
            "[dependencies]\nshop-proto = { git = \"https://github.com/acme/Shop-GRPC.git\" }\nserde = \"1\"\n",
        );
        // A `rev` that names a commit picks its checkout.
        let pinned = shown(
            "[dependencies]\nshop-proto = { git = \"https://github.com/acme/Shop-GRPC\", rev = \"2222222abcdef\" }\n",
        );
        std::fs::remove_dir_all(&home).unwrap();
        assert_eq!(newest, [r#"shop_proto read=true [("shop", "Orders")]"#]);
        assert_eq!(pinned, [r#"shop_proto read=true [("shop", "Old")]"#]);
    }

    #[test]
    fn dependencies_follow_renames_and_the_workspace() {
        let manifest: Table = r#"
            [dependencies]
            api = { package = "acme-api", version = "1" }
            shared = { workspace = true }
            local = { path = "../local" }
            tonic = "0.13"
            [target.'cfg(unix)'.dependencies]
            flight = { package = "arrow-flight", version = "59" }
        "#
        .parse()
        .unwrap();
        let root: Table = r#"
            [workspace.dependencies]
            shared = { package = "acme-shared-proto", version = "2" }
        "#
        .parse()
        .unwrap();
        let found = dependencies(&manifest, &[root]);
        assert_eq!(
            found,
            [
                ("api".to_string(), "acme-api".to_string()),
                ("shared".to_string(), "acme-shared-proto".to_string()),
                ("tonic".to_string(), "tonic".to_string()),
                ("flight".to_string(), "arrow-flight".to_string()),
            ]
        );
    }
}
