//! The merge report: every call site and how it runs merged, every edit per pass,
//! new and generated files, and notes. Markdown for people, JSON for tools.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use knit_passes::{FileId, Tier};

use crate::load::Loaded;
use crate::merge::Merged;

/// The report of one merge.
#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    pub group: String,
    pub services: Vec<ServiceRow>,
    pub calls: Vec<CallRow>,
    pub edits: Vec<EditRow>,
    pub manifests: Vec<EditRow>,
    pub new_files: Vec<String>,
    pub generated: Vec<String>,
    pub notes: Vec<NoteRow>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ServiceRow {
    pub name: String,
    pub package: String,
    pub merged_package: String,
    pub bin: String,
    pub listen: bool,
}

/// A call site, as the calling service makes it: a site in code several
/// services share (a client-helper crate, the library of a package holding
/// several services' binaries) is one row per service that calls through it.
#[derive(Debug, Serialize, Deserialize)]
pub struct CallRow {
    pub site: String,
    /// The calling service (not always the service whose folder holds the file).
    pub service: String,
    /// The gRPC service called.
    pub callee: String,
    /// The service of the group that serves `callee`, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    pub tier: Tier,
    pub detail: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EditRow {
    pub pass: String,
    pub site: String,
    pub note: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NoteRow {
    pub pass: String,
    pub site: String,
    pub message: String,
}

fn site(loaded: &Loaded, file: FileId, offset: usize) -> String {
    let f = loaded.group.file(file);
    let (line, col) = crate::error::line_col(&f.text, offset);
    format!("{}:{line}:{col}", f.path)
}

impl Report {
    pub fn new(loaded: &Loaded, merged: &Merged) -> Report {
        let group = &loaded.group;
        let services = group
            .services
            .iter()
            .map(|s| ServiceRow {
                name: s.name.clone(),
                package: s.packages[0].name.clone(),
                merged_package: knit_passes::namespace::merged_name(group, &s.packages[0].dir),
                bin: s.bin.name.clone(),
                listen: s.listen,
            })
            .collect();
        let serves = crate::servers::registered(group, &merged.sharing);
        let calls = merged
            .output
            .calls
            .iter()
            .map(|c| {
                let (file, offset) = c.at;
                CallRow {
                    callee: c.callee.clone().unwrap_or_default(),
                    provider: c.callee.as_ref().and_then(|callee| {
                        let provider = group.service_ids().find(|&s| serves[s].contains(callee))?;
                        Some(group.services[provider].name.clone())
                    }),
                    service: group.services[c.caller].name.clone(),
                    site: site(loaded, file, usize::from(offset)),
                    tier: c.tier,
                    detail: c.detail.clone(),
                }
            })
            .collect();
        // Loading's notes first: they are about the inputs every pass read.
        let loading = loaded.notes.iter().map(|(path, message)| NoteRow {
            pass: "load".into(),
            site: path.clone(),
            message: message.clone(),
        });
        let notes = loading
            .chain(merged.output.findings.iter().map(|f| {
                NoteRow {
                    pass: f.pass.to_string(),
                    site: f
                        .at
                        .map(|(file, offset)| site(loaded, file, usize::from(offset)))
                        .unwrap_or_default(),
                    message: f.message.clone(),
                }
            }))
            .collect();
        // In the passes' order (the imports pass last), each pass's as it made them.
        let mut by_pass: Vec<&knit_passes::Edit> = merged.output.edits.iter().collect();
        by_pass.sort_by_key(|e| e.pass);
        let edits = by_pass
            .into_iter()
            .map(|e| EditRow {
                pass: e.pass.to_string(),
                site: site(loaded, e.file, usize::from(e.range.start())),
                note: e.note.clone(),
            })
            .collect();
        let manifests = merged
            .output
            .manifest_ops
            .iter()
            .map(|(file, op)| EditRow {
                pass: "manifest".to_string(),
                site: group.file(*file).path.clone(),
                note: op.to_string(),
            })
            .collect();
        let new_files = merged
            .output
            .new_files
            .iter()
            .map(|f| f.path.clone())
            .collect();
        Report {
            group: loaded.plan.group.clone(),
            services,
            calls,
            edits,
            manifests,
            new_files,
            generated: merged.generated.clone(),
            notes,
        }
    }

    /// How many sites are listed for more than one calling service.
    pub fn shared_sites(&self) -> usize {
        let mut callers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for c in &self.calls {
            callers.entry(&c.site).or_default().insert(&c.service);
        }
        callers.values().filter(|s| s.len() > 1).count()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serializes") + "\n"
    }

    pub fn to_markdown(&self) -> String {
        let mut md = format!("# knit merge report: group `{}`\n\n", self.group);
        md.push_str(&crate::mermaid::group_graph(self));
        md.push_str("## Services\n\n| service | package | merged package | binary | listener |\n|---|---|---|---|---|\n");
        for s in &self.services {
            let listen = if s.listen { "kept" } else { "off" };
            md.push_str(&format!(
                "| {} | {} | {} | {} | {listen} |\n",
                s.name, s.package, s.merged_package, s.bin
            ));
        }
        let count = |tier: Tier| self.calls.iter().filter(|c| c.tier == tier).count();
        let unresolved = match count(Tier::Unresolved) {
            0 => String::new(),
            n => format!(" ({n} unresolved)"),
        };
        let shared = match self.shared_sites() {
            0 => String::new(),
            n => format!(
                " {n} {} in code several services share: each counts once per calling service.",
                if n == 1 { "site is" } else { "sites are" }
            ),
        };
        md.push_str(&format!(
            "\n## Call sites\n\n{} call sites: {} inline, {} bridged, {} left as RPC{unresolved}.{shared}\n\n",
            self.calls.len(),
            count(Tier::Inline),
            count(Tier::Bridged),
            count(Tier::Rpc) + count(Tier::Unresolved)
        ));
        if !self.calls.is_empty() {
            md.push_str("| site | caller | tier | detail |\n|---|---|---|---|\n");
            for c in &self.calls {
                md.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    c.site,
                    c.service,
                    c.tier,
                    one_line(&c.detail)
                ));
            }
        }
        md.push_str("\n## Edits by pass\n");
        let mut pass = "";
        for e in &self.edits {
            if e.pass != pass {
                pass = &e.pass;
                md.push_str(&format!("\n### {pass}\n\n"));
            }
            md.push_str(&format!("- {}: {}\n", e.site, e.note));
        }
        md.push_str("\n### manifests\n\n");
        for e in &self.manifests {
            md.push_str(&format!("- {}: {}\n", e.site, e.note));
        }
        md.push_str("\n## New files in services\n\n");
        for f in &self.new_files {
            md.push_str(&format!("- {f}\n"));
        }
        md.push_str("\n## Generated support files\n\n");
        for f in &self.generated {
            md.push_str(&format!("- {f}\n"));
        }
        md.push_str("\n## Notes\n\n");
        for n in &self.notes {
            let site = if n.site.is_empty() {
                String::new()
            } else {
                format!("{} ", n.site)
            };
            md.push_str(&format!("- {site}({}): {}\n", n.pass, n.message));
        }
        md
    }
}

/// `text` as one cell of a Markdown table: on one line (a detail that quotes
/// code spread over lines, a generic type as the service wrote it, has each
/// run of whitespace with a line break made one space), its `|` escaped (a
/// closure's `move || ..`).
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\n') && !text.contains('|') {
        return text.into();
    }
    let text = match text.contains('\n') {
        true => text.split_whitespace().collect::<Vec<_>>().join(" "),
        false => text.to_string(),
    };
    text.replace('|', "\\|").into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_detail_over_lines_is_one_table_cell() {
        let detail = "`C<\n    Wrap<Channel>,\n>` runs over `Wrap`";
        assert_eq!(
            super::one_line(detail),
            "`C< Wrap<Channel>, >` runs over `Wrap`"
        );
        assert_eq!(super::one_line("a  b"), "a  b");
        assert_eq!(
            super::one_line("in `spawn(move || ..)`"),
            "in `spawn(move \\|\\| ..)`"
        );
    }
}
