//! Running the passes and applying their edits: the merged workspace in memory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use knit_passes::edit::{self, Edit};
use knit_passes::manifest::{self, ManifestOp};
use knit_passes::sharing::Sharing;
use knit_passes::{FileId, Finding, Level, Output, PassId};
use rayon::prelude::*;

use crate::error::{Diagnostic, Error, Result};
use crate::generate;
use crate::load::Loaded;

/// A file of the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    Text(String),
    /// Copied as it is from this input file.
    Copy(PathBuf),
}

/// A service file knit changed or added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    /// `None` for a new file.
    pub old: Option<String>,
    pub new: String,
}

/// The merged workspace, before it is written.
#[derive(Debug)]
pub struct Merged {
    /// Every file of the output by path.
    pub files: BTreeMap<String, Content>,
    /// The changes to the services' files, in path order: the diff.
    pub changes: Vec<Change>,
    /// Generated support files (workspace manifest, runtime, shared protos, host).
    pub generated: Vec<String>,
    /// What the passes did and found.
    pub output: Output,
    pub sharing: Sharing,
}

/// Runs the passes over `loaded` and applies their edits.
pub fn merge(loaded: &Loaded) -> Result<Merged> {
    let group = &loaded.group;
    let sharing = Sharing::of(group);
    let mut output = knit_passes::run_all(group, &sharing);
    let locks = crate::lockmerge::of_services(loaded);
    let native = crate::links::check(&locks, &loaded.links);
    if !native.clashes.is_empty() {
        return Err(Error(
            native.clashes.into_iter().map(Diagnostic::new).collect(),
        ));
    }
    let edits = output.edits.iter().chain(&output.entry_edits);
    if let Some(refusal) = crate::volo::unsupported(&locks, edits.map(|e| e.text.as_str())) {
        return Err(Error(vec![Diagnostic::new(refusal)]));
    }
    for message in native.notes {
        output.findings.push(Finding {
            level: Level::Note,
            pass: PassId::Namespace,
            at: None,
            message,
        });
    }
    let errors: Vec<Diagnostic> = output
        .findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .map(|f| match f.at {
            Some((file, offset)) => {
                let text = &group.file(file).text;
                Diagnostic::at_offset(
                    loaded.shown(&group.file(file).path),
                    text,
                    usize::from(offset),
                    &f.message,
                )
            }
            None => Diagnostic::new(&f.message),
        })
        .collect();
    if !errors.is_empty() {
        return Err(Error(errors));
    }

    let mut edits: BTreeMap<FileId, Vec<&Edit>> = BTreeMap::new();
    for e in &output.edits {
        edits.entry(e.file).or_default().push(e);
    }
    let mut ops: BTreeMap<FileId, Vec<&ManifestOp>> = BTreeMap::new();
    for (file, op) in &output.manifest_ops {
        ops.entry(*file).or_default().push(op);
    }
    let ids: Vec<FileId> = (0..group.files.len() as u32).map(FileId).collect();
    let rewritten: Vec<Result<(FileId, String), Diagnostic>> = ids
        .par_iter()
        .filter(|id| edits.contains_key(id) || ops.contains_key(id))
        .map(|&id| {
            let file = group.file(id);
            let origin = loaded.shown(&file.path);
            let text = edit::apply(&file.text, edits.get(&id).map_or(&[][..], Vec::as_slice))
                .map_err(|o| {
                    Diagnostic::at_offset(
                        &origin,
                        &file.text,
                        usize::from(o.second.range.start()),
                        o.to_string(),
                    )
                })?;
            let text = match ops.get(&id) {
                Some(ops) => {
                    manifest::apply(&text, ops).map_err(|e| Diagnostic::in_file(&origin, e))?
                }
                None => text,
            };
            Ok((id, text))
        })
        .collect();
    // Each file's new text, if an edit or an op rewrote it.
    let mut new_texts: Vec<Option<String>> = vec![None; group.files.len()];
    let mut errors = Vec::new();
    for r in rewritten {
        match r {
            Ok((id, text)) => new_texts[id.0 as usize] = Some(text),
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(Error(errors));
    }

    // Every file's output text (copied in parallel: they are the whole group's
    // sources), and the change of each file whose text changed.
    let outputs: Vec<(String, Content, Option<Change>)> = new_texts
        .into_par_iter()
        .zip(&group.files)
        .map(|(new, file)| {
            let change = new
                .as_ref()
                .filter(|new| **new != file.text)
                .map(|new| Change {
                    path: file.path.clone(),
                    old: Some(file.text.clone()),
                    new: new.clone(),
                });
            let text = new.unwrap_or_else(|| file.text.clone());
            (file.path.clone(), Content::Text(text), change)
        })
        .collect();
    let mut files = BTreeMap::new();
    let mut changes = Vec::new();
    for (path, content, change) in outputs {
        changes.extend(change);
        files.insert(path, content);
    }
    for (origin, path) in &loaded.copies {
        files.insert(path.clone(), Content::Copy(origin.clone()));
    }
    for new in &output.new_files {
        if files.contains_key(&new.path) {
            return Err(Diagnostic::new(format!(
                "pass `{}` adds `{}`, which exists already",
                new.pass, new.path
            ))
            .into());
        }
        changes.push(Change {
            path: new.path.clone(),
            old: None,
            new: new.text.clone(),
        });
        files.insert(new.path.clone(), Content::Text(new.text.clone()));
    }
    if let Some(config) = cargo_config(loaded, &mut output.findings) {
        if files.contains_key(crate::cargo_config::PATH) {
            return Err(Diagnostic::new(format!(
                "a service has `{}`, where knit puts the services' Cargo configuration",
                crate::cargo_config::PATH
            ))
            .into());
        }
        files.insert(crate::cargo_config::PATH.to_string(), Content::Text(config));
    }
    toolchain(loaded, &mut output.findings);
    let mut generated = Vec::new();
    let (support, notes) = generate::support(loaded, &sharing);
    for message in notes {
        let finding = Finding {
            level: Level::Note,
            pass: PassId::Namespace,
            at: None,
            message,
        };
        output.findings.push(finding);
    }
    for (path, text) in support {
        if files.contains_key(&path) {
            return Err(Diagnostic::new(format!(
                "a service has `{path}`, where knit puts generated code"
            ))
            .into());
        }
        generated.push(path.clone());
        files.insert(path, Content::Text(text));
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Merged {
        files,
        changes,
        generated,
        output,
        sharing,
    })
}

/// Notes the Rust toolchains the services' builds pin (`rust-toolchain.toml`,
/// `rust-toolchain`). The output pins none: knit's runtime and the merged
/// lockfile's other packages may need a newer rustc than a service's pin
/// (chariott pins 1.72.1; the runtime calls `Option::is_none_or`, 1.82), so the
/// merged build uses the toolchain rustup picks for the output's folder, and
/// the note says which pins there were.
fn toolchain(loaded: &Loaded, findings: &mut Vec<Finding>) {
    let mut pins: Vec<String> = loaded
        .toolchains
        .iter()
        .map(|(service, path, text)| {
            let channel = channel(text)
                .map(|c| format!(": `{c}`"))
                .unwrap_or_default();
            format!(
                "`{}` at `{path}`{channel}",
                loaded.group.services[*service].name
            )
        })
        .collect();
    if pins.is_empty() {
        return;
    }
    pins.dedup();
    findings.push(Finding {
        level: Level::Note,
        pass: PassId::Namespace,
        at: None,
        message: format!(
            "the services' builds pin a Rust toolchain ({}): the output pins none, since knit's runtime and the packages the merged lockfile adds may need a newer rustc; the merged build uses the toolchain rustup picks for the output's folder (put a `rust-toolchain.toml` there to pin one)",
            pins.join(", ")
        ),
    });
}

/// The channel a toolchain file names: `channel = ".."` of its
/// `[toolchain]`, or the whole of a legacy one-line file.
fn channel(text: &str) -> Option<String> {
    match text.parse::<toml_edit::DocumentMut>() {
        Ok(doc) => doc
            .get("toolchain")?
            .get("channel")?
            .as_str()
            .map(str::to_string),
        Err(_) => {
            let line = text.trim();
            (!line.is_empty() && !line.contains('\n')).then(|| line.to_string())
        }
    }
}

/// The Cargo configuration the services' builds read from their repositories
/// (each file once), merged for the output's root, with a note saying where
/// the build must run for Cargo to read it.
fn cargo_config(loaded: &Loaded, findings: &mut Vec<Finding>) -> Option<String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut configs: Vec<(&str, &str)> = Vec::new();
    for (service, path, text) in &loaded.cargo_configs {
        if !seen.contains(&path.as_str()) {
            seen.push(path);
            configs.push((&loaded.group.services[*service].name, text));
        }
    }
    let (text, notes) = crate::cargo_config::merged(&configs)?;
    let note = |message: String| Finding {
        level: Level::Note,
        pass: PassId::Namespace,
        at: None,
        message,
    };
    findings.push(note(format!(
        "the services' builds read Cargo configuration ({}): it is written to `{}` of the output, which Cargo reads when the merged workspace is built from the output's folder (`cargo build -p merged` there)",
        seen.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "),
        crate::cargo_config::PATH
    )));
    findings.extend(notes.into_iter().map(note));
    Some(text)
}
