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
    files
}

/// knit-runtime's manifest for a group on tonic `versions.line`: it requires
/// the version of that line the services locked (the merged lockfile holds no
/// other tonic), and builds against tonic 0.12's API on 0.12.
fn manifest(versions: &LockedVersions) -> String {
    let line = versions.line;
    let Ok(mut doc) = MANIFEST.parse::<DocumentMut>() else {
        return MANIFEST.to_string();
    };
    doc["dependencies"]["tonic"] = value(versions.tonic.clone());
    if line == TonicLine::V0_12 {
        let mut default = Array::new();
        default.push("tonic-012");
        doc["features"]["default"] = Item::Value(default.into());
        // `default` first, under the comment that explains the feature.
        if let Some(features) = doc["features"].as_table_mut() {
            features
                .sort_values_by(|a, _, b, _| (a.get() != "default").cmp(&(b.get() != "default")));
            let comment = features.key_mut("tonic-012").and_then(|mut key| {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_source_is_embedded() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/src");
        for entry in std::fs::read_dir(src).unwrap() {
            let name = format!("src/{}", entry.unwrap().file_name().to_string_lossy());
            assert!(
                SOURCES.iter().any(|(path, _)| *path == name),
                "{name} is not embedded"
            );
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
        }
    }
}
