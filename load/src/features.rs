//! The features a service's build enables in each of its packages, read from
//! the manifests as Cargo resolves them for the service's binary: the binary's
//! package with its default features and the binary's `required-features`
//! (the merged build enables them too); a path dependency with what the
//! service's packages ask of it in their normal `[dependencies]` (its
//! defaults unless `default-features = false`, the listed features, and the
//! `dep/feature` entries of the features they enable), then the features
//! those turn on in its own `[features]`. `None` where knit cannot tell: a
//! manifest it cannot read, a package only dev-dependencies reach.

use std::collections::BTreeSet;

use toml::{Table, Value};

use knit_model::model::{Group, Service};

/// Each package's enabled features, in the order of `service.packages`.
pub fn enabled(group: &Group, service: &Service) -> Vec<Option<BTreeSet<String>>> {
    let manifests: Vec<Option<Table>> = service
        .packages
        .iter()
        .map(|p| group.file(p.manifest).text.parse::<Table>().ok())
        .collect();
    let roots: Vec<Option<Table>> = service
        .packages
        .iter()
        .map(|p| p.workspace.as_ref().and_then(|(text, _)| text.parse().ok()))
        .collect();
    // What each package is asked for: (default features, features).
    let mut asked: Vec<Option<(bool, BTreeSet<String>)>> = vec![None; manifests.len()];
    if manifests[0].is_some() {
        let required = service.bin_features.iter().cloned().collect();
        asked[0] = Some((true, required));
    }
    // To a fixed point: a package's features may ask more of its dependencies.
    loop {
        let mut changed = false;
        for (q, manifest) in manifests.iter().enumerate() {
            let (Some(manifest), Some(wants)) = (manifest, asked[q].clone()) else {
                continue;
            };
            let active = closure(manifest, &wants);
            for dep in &service.packages[q].local_deps {
                let Some(p) = service.packages.iter().position(|p| p.name == dep.package) else {
                    continue;
                };
                let Some(decl) = declaration(manifest, roots[q].as_ref(), &dep.key) else {
                    continue;
                };
                let mut features = decl.1;
                for entry in &active {
                    if let Some((key, feature)) = entry.split_once('/')
                        && key.trim_end_matches('?') == dep.key
                    {
                        features.insert(feature.to_string());
                    }
                }
                let slot = asked[p].get_or_insert_with(|| (false, BTreeSet::new()));
                let before = slot.clone();
                slot.0 |= decl.0;
                slot.1.extend(features);
                changed |= *slot != before;
            }
        }
        if !changed {
            break;
        }
    }
    manifests
        .iter()
        .zip(asked)
        .map(|(manifest, wants)| {
            let wants = wants?;
            let active = closure(manifest.as_ref()?, &wants);
            Some(active.into_iter().filter(|f| !f.contains('/')).collect())
        })
        .collect()
}

/// The features `wants` turns on in `manifest`'s `[features]`, with the
/// `dep/feature` entries met on the way (and `dep:` ones left out).
fn closure(manifest: &Table, (default, wants): &(bool, BTreeSet<String>)) -> BTreeSet<String> {
    let table = manifest.get("features").and_then(Value::as_table);
    let mut todo: Vec<String> = wants.iter().cloned().collect();
    if *default && table.is_some_and(|t| t.contains_key("default")) {
        todo.push("default".into());
    }
    let mut active = BTreeSet::new();
    while let Some(feature) = todo.pop() {
        if feature.starts_with("dep:") || !active.insert(feature.clone()) {
            continue;
        }
        let entries = table
            .and_then(|t| t.get(&feature))
            .and_then(Value::as_array);
        for entry in entries.into_iter().flatten().filter_map(Value::as_str) {
            todo.push(entry.to_string());
        }
    }
    active
}

/// How `manifest` (with its workspace root `root`) declares its normal
/// dependency `key`: (default features, features). `None` when only
/// `[dev-dependencies]` name it.
fn declaration(
    manifest: &Table,
    root: Option<&Table>,
    key: &str,
) -> Option<(bool, BTreeSet<String>)> {
    let mut tables: Vec<&Table> = manifest
        .get("dependencies")
        .and_then(Value::as_table)
        .into_iter()
        .collect();
    let targets = manifest.get("target").and_then(Value::as_table);
    for target in targets.into_iter().flat_map(|t| t.values()) {
        tables.extend(target.get("dependencies").and_then(Value::as_table));
    }
    let item = tables.iter().find_map(|t| t.get(key))?;
    let inherited = item
        .get("workspace")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        .then(|| root?.get("workspace")?.get("dependencies")?.get(key))
        .flatten();
    let strings = |v: Option<&Value>| -> BTreeSet<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let mut features = strings(item.get("features"));
    features.extend(strings(inherited.and_then(|d| d.get("features"))));
    let decl = inherited.unwrap_or(item);
    let default = decl.get("default-features").and_then(Value::as_bool) != Some(false);
    Some((default, features))
}
