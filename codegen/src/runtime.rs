//! knit-runtime in the output: its sources, embedded so that outputs never
//! point into knit, and its manifest for the group's tonic line.

use toml_edit::{Array, DocumentMut, Item, value};

use crate::TonicLine;
use crate::locked::LockedVersions;
use crate::names::RUNTIME_DIR;

/// knit-runtime's sources: (path in its crate, text).
const SOURCES: &[(&str, &str)] = &[
    ("src/lib.rs", include_str!("../../runtime/src/lib.rs")),
    ("src/call.rs", include_str!("../../runtime/src/call.rs")),
    (
        "src/channel.rs",
        include_str!("../../runtime/src/channel.rs"),
    ),
    ("src/env.rs", include_str!("../../runtime/src/env.rs")),
    ("src/host.rs", include_str!("../../runtime/src/host.rs")),
    (
        "src/listener.rs",
        include_str!("../../runtime/src/listener.rs"),
    ),
    (
        "src/registry.rs",
        include_str!("../../runtime/src/registry.rs"),
    ),
    (
        "src/signals.rs",
        include_str!("../../runtime/src/signals.rs"),
    ),
    ("src/stack.rs", include_str!("../../runtime/src/stack.rs")),
    ("src/stream.rs", include_str!("../../runtime/src/stream.rs")),
    (
        "src/transport.rs",
        include_str!("../../runtime/src/transport.rs"),
    ),
];

/// knit-runtime's own manifest, written for the group's line by [`manifest`].
const MANIFEST: &str = include_str!("../../runtime/Cargo.toml");

/// knit-runtime's files in the output, its manifest for the group's tonic line first.
pub fn files(versions: &LockedVersions) -> Vec<(String, String)> {
    let mut files = vec![(format!("{RUNTIME_DIR}/Cargo.toml"), manifest(versions))];
    for (path, text) in SOURCES {
        files.push((format!("{RUNTIME_DIR}/{path}"), text.to_string()));
    }
    fit_volo(&mut files, versions.volo.as_deref());
    files
}

/// The optional dependencies in knit-runtime's manifest: `volo` first, at the
/// version the services locked; volo-grpc, metainfo and pilota are in every
/// lockfile with volo-grpc, at versions these requirements match.
const DEPENDENCY: &str = "volo = { version = \"0.12\", optional = true }\n";
const DEPENDENCIES: &str = "volo-grpc = { version = \"0.12\", optional = true }\nmetainfo = { version = \"0.7\", optional = true }\npilota = { version = \"0.13\", optional = true }\n";
/// The feature in knit-runtime's manifest, with its comment.
const FEATURE: &str = "# Volo gRPC servers and clients (`knit_runtime::volo`); knit turns it on in the\n# manifest it writes for a group with Volo services.\nvolo = [\"dep:volo\", \"dep:volo-grpc\", \"dep:metainfo\", \"dep:pilota\"]\n";

/// knit-runtime's `volo` module: (path in the runtime, text), written only for
/// a group with Volo services.
const MODULES: &[(&str, &str)] = &[
    ("src/volo.rs", include_str!("../../runtime/src/volo.rs")),
    (
        "src/volo/inline.rs",
        include_str!("../../runtime/src/volo/inline.rs"),
    ),
    (
        "src/volo/served.rs",
        include_str!("../../runtime/src/volo/served.rs"),
    ),
    (
        "src/volo/to_tonic.rs",
        include_str!("../../runtime/src/volo/to_tonic.rs"),
    ),
];
/// Its declaration in knit-runtime's `lib.rs`, with its line of the crate's docs.
const DECLARATION: &str = "#[cfg(feature = \"volo\")]\npub mod volo;\n";
const DOC_LINE: &str =
    "//! - `volo` (feature `volo`): CloudWeGo Volo gRPC servers and clients in a merged binary.\n";

/// Fits knit-runtime's `files` to the group: when the services locked Volo
/// (`version`), the `volo` module and feature (on by default) at that
/// version; otherwise neither, so that a group without Volo resolves no Volo
/// crate.
fn fit_volo(files: &mut Vec<(String, String)>, version: Option<&str>) {
    for (path, text) in files.iter_mut() {
        let Some(name) = path.strip_prefix(RUNTIME_DIR) else {
            continue;
        };
        match (name, version) {
            ("/Cargo.toml", Some(version)) => {
                let dependency = format!("volo = {{ version = \"{version}\", optional = true }}\n");
                let feature = format!("default = [\"volo\"]\n{FEATURE}");
                *text = text
                    .replace(DEPENDENCY, &dependency)
                    .replace(FEATURE, &feature);
            }
            ("/Cargo.toml", None) => {
                *text = text
                    .replace(DEPENDENCY, "")
                    .replace(DEPENDENCIES, "")
                    .replace(FEATURE, "")
            }
            ("/src/lib.rs", None) => *text = text.replace(DECLARATION, "").replace(DOC_LINE, ""),
            _ => {}
        }
    }
    if version.is_some() {
        for (path, text) in MODULES {
            files.push((format!("{RUNTIME_DIR}/{path}"), text.to_string()));
        }
    }
}

/// knit-runtime's manifest for a group on tonic `versions.line`: it requires
/// the version of that line the services locked (the merged lockfile holds no
/// other tonic), and builds against the API of 0.12 (feature `tonic-012`) or
/// of 0.10 and 0.11 (feature `tonic-011`, with their hyper and h2) on those.
fn manifest(versions: &LockedVersions) -> String {
    let line = versions.line;
    let Ok(mut doc) = MANIFEST.parse::<DocumentMut>() else {
        return MANIFEST.to_string();
    };
    doc["dependencies"]["tonic"] = value(versions.tonic.clone());
    let feature = match line {
        TonicLine::V0_10 | TonicLine::V0_11 => Some("tonic-011"),
        TonicLine::V0_12 => Some("tonic-012"),
        TonicLine::V0_13 | TonicLine::V0_14 => None,
    };
    if line.on_hyper_014() {
        // The runtime serves in-memory connections with the line's hyper, and
        // names nothing of hyper 1's, which the services did not lock.
        let deps = &mut doc["dependencies"];
        if let Some(table) = deps.as_table_mut() {
            for hyper_1 in HYPER_1 {
                table.remove(hyper_1);
            }
        }
        deps["hyper_014"] = dependency("hyper", &versions.hyper_014, &["http2", "server"]);
        deps["h2_03"] = dependency("h2", &versions.h2_03, &[]);
    }
    if let Some(feature) = feature {
        let mut default = Array::new();
        default.push(feature);
        doc["features"]["default"] = Item::Value(default.into());
        // `default` first, under the comment that explains the feature.
        if let Some(features) = doc["features"].as_table_mut() {
            features
                .sort_values_by(|a, _, b, _| (a.get() != "default").cmp(&(b.get() != "default")));
            let comment = features.key_mut(feature).and_then(|mut key| {
                let prefix = key.leaf_decor().prefix()?.as_str()?.to_string();
                key.leaf_decor_mut().set_prefix("");
                Some(prefix)
            });
            if let (Some(comment), Some(mut key)) = (comment, features.key_mut("default")) {
                key.leaf_decor_mut().set_prefix(comment);
            }
        }
    }
    doc.to_string()
}

/// knit-runtime's dependencies of the hyper 1 family, which it names only on
/// tonic 0.12 and later.
const HYPER_1: &[&str] = &["h2", "http-body", "http-body-util", "hyper", "hyper-util"];

/// `name` at `version` under another name, with `features`.
fn dependency(name: &str, version: &str, features: &[&str]) -> Item {
    let mut table = toml_edit::InlineTable::new();
    table.insert("package", name.into());
    table.insert("version", version.into());
    if !features.is_empty() {
        table.insert(
            "features",
            Array::from_iter(features.iter().copied()).into(),
        );
    }
    value(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_source_is_embedded() {
        let runtime = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
        for dir in ["src", "src/volo"] {
            for entry in std::fs::read_dir(runtime.join(dir)).unwrap() {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_dir() {
                    continue;
                }
                let name = format!("{dir}/{}", entry.file_name().to_string_lossy());
                let embedded = SOURCES.iter().chain(MODULES).any(|(path, _)| *path == name);
                assert!(embedded, "{name} is not embedded");
            }
        }
    }

    #[test]
    fn the_runtime_names_the_groups_tonic_only() {
        let locked = LockedVersions::of(TonicLine::V0_12, |name, _| {
            (name == "tonic").then(|| "0.12.3".to_string())
        });
        let doc: toml_edit::DocumentMut = manifest(&locked).parse().unwrap();
        assert_eq!(doc["dependencies"]["tonic"].as_str(), Some("0.12.3"));
        assert_eq!(
            doc["features"]["default"]
                .as_array()
                .unwrap()
                .get(0)
                .unwrap()
                .as_str(),
            Some("tonic-012")
        );
        for line in [TonicLine::V0_13, TonicLine::V0_14] {
            let doc: toml_edit::DocumentMut = manifest(&LockedVersions::of(line, |_, _| None))
                .parse()
                .unwrap();
            assert_eq!(doc["dependencies"]["tonic"].as_str(), Some(line.name()));
            assert!(doc["features"].get("default").is_none());
            assert!(doc["dependencies"].get("hyper_014").is_none());
        }
    }

    #[test]
    fn on_tonic_011_the_runtime_names_the_hyper_and_h2_the_services_locked() {
        let locked = LockedVersions::of(TonicLine::V0_11, |name, range| {
            match (name, range) {
                ("tonic", "0.11") => Some("0.11.0"),
                ("hyper", "0.14") => Some("0.14.32"),
                ("h2", "0.3") => Some("0.3.27"),
                _ => None,
            }
            .map(String::from)
        });
        let manifest = manifest(&locked);
        assert!(manifest.contains("\ntonic = \"0.11.0\"\n"), "{manifest}");
        assert!(
            manifest.contains("\nhyper_014 = { package = \"hyper\", version = \"0.14.32\", features = [\"http2\", \"server\"] }\nh2_03 = { package = \"h2\", version = \"0.3.27\" }\n"),
            "{manifest}"
        );
        assert!(!manifest.contains("\nhyper = "), "{manifest}");
        assert!(!manifest.contains("\nhttp-body = "), "{manifest}");
        // The feature's comment moves with `default`, which turns it on.
        assert!(
            manifest.contains("# (hyper 0.14 and h2 0.3, which those tonics lock) it writes beside `tonic`.\ndefault = [\"tonic-011\"]\n"),
            "{manifest}"
        );
    }

    #[test]
    fn the_volo_module_and_feature_are_written_only_for_groups_that_lock_volo() {
        let mut versions = LockedVersions::of(TonicLine::V0_14, |_, _| None);
        versions.volo = Some("0.12.3".into());
        let with = files(&versions);
        let text = |files: &[(String, String)], path: &str| {
            let path = format!("{RUNTIME_DIR}/{path}");
            files
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, t)| t.clone())
        };
        let manifest = text(&with, "Cargo.toml").unwrap();
        assert!(manifest.contains("volo = { version = \"0.12.3\", optional = true }\n"));
        assert!(manifest.contains("default = [\"volo\"]\n"));
        assert!(text(&with, "src/lib.rs").unwrap().contains(DECLARATION));
        assert!(manifest.contains(
            "volo = [\"dep:volo\", \"dep:volo-grpc\", \"dep:metainfo\", \"dep:pilota\"]\n"
        ));
        for (path, _) in MODULES {
            assert!(text(&with, path).is_some());
        }
        versions.volo = None;
        let without = files(&versions);
        for (path, _) in MODULES {
            assert!(text(&without, path).is_none());
        }
        assert!(!text(&without, "Cargo.toml").unwrap().contains("volo"));
        assert!(!text(&without, "src/lib.rs").unwrap().contains("volo"));
        for (path, text) in &without {
            assert!(
                !text.contains("feature = \"volo\""),
                "{path} names the feature `volo`, which a group without Volo does not declare"
            );
        }
    }
}
