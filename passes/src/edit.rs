//! Edits as data: what passes produce and the driver applies at the end.

use std::fmt;

use serde::{Deserialize, Serialize};

use ra_ap_syntax::{SyntaxKind, SyntaxNode, TextRange, TextSize};

use crate::manifest::ManifestOp;
use crate::model::{FileId, ServiceId};
use crate::pass::PassId;

/// Replace `range` of `file` with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub file: FileId,
    pub range: TextRange,
    pub text: String,
    /// The pass that made it.
    pub pass: PassId,
    /// Why, in a few words, for the report.
    pub note: String,
}

/// A file the merged workspace gains, relative to the output root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFile {
    pub path: String,
    pub text: String,
    pub pass: PassId,
}

/// How a call site between services runs in the merged binary. The report
/// names it in lower case (`inline`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The callee's handler is called in process with the caller's request value
    /// (and stream messages, for streaming methods).
    Inline,
    /// Through tonic's client and the callee's server stack in process, with each
    /// side's own generated types: messages are encoded, no socket. Caller and
    /// callee compile different definitions of the proto package.
    Bridged,
    /// Left as a real RPC (the finding says why).
    Rpc,
    /// A client knit cannot attribute to a gRPC service of the group: left as
    /// a real RPC.
    Unresolved,
}

impl Tier {
    /// The tier's name in the report (`inline`).
    pub fn name(self) -> &'static str {
        match self {
            Tier::Inline => "inline",
            Tier::Bridged => "bridged",
            Tier::Rpc => "rpc",
            Tier::Unresolved => "unresolved",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// A fact the reviewer should know.
    Note,
    /// The merge cannot go on.
    Error,
}

/// A note or an error for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub pass: PassId,
    /// Where, when it is about a place in a file.
    pub at: Option<(FileId, TextSize)>,
    pub message: String,
}

/// A call of a client of a gRPC service (the `calls` pass's finding), and how
/// it runs merged.
///
/// A site in a file several services reach (a shared client-helper crate, the
/// library of a package holding several services' binaries) is one call site
/// per service that reaches it, each with its own decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSite {
    pub tier: Tier,
    /// The client path's file and offset.
    pub at: (FileId, TextSize),
    /// The calling service: its index in [`Group::services`](crate::model::Group),
    /// which is not always the file's own service ([`SourceFile::service`](crate::model::SourceFile)).
    pub caller: ServiceId,
    /// The gRPC service called (`helloworld.Greeter`), when knit knows it.
    pub callee: Option<String>,
    /// How it runs and why, in a sentence.
    pub detail: String,
}

/// Everything a pass (or all of them) produced.
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub edits: Vec<Edit>,
    /// Edits of a `main` beside a library that hold only in the entry lifted
    /// from it into the library (the binary keeps its `main` as it is): the
    /// host's listener and registrations.
    pub entry_edits: Vec<Edit>,
    pub manifest_ops: Vec<(FileId, ManifestOp)>,
    pub new_files: Vec<NewFile>,
    pub findings: Vec<Finding>,
    pub calls: Vec<CallSite>,
}

impl Output {
    pub fn extend(&mut self, other: Output) {
        self.edits.extend(other.edits);
        self.entry_edits.extend(other.entry_edits);
        self.manifest_ops.extend(other.manifest_ops);
        self.new_files.extend(other.new_files);
        self.findings.extend(other.findings);
        self.calls.extend(other.calls);
    }

    pub fn edit(
        &mut self,
        pass: PassId,
        file: FileId,
        range: TextRange,
        text: impl Into<String>,
        note: impl Into<String>,
    ) {
        self.edits.push(Edit {
            file,
            range,
            text: text.into(),
            pass,
            note: note.into(),
        });
    }

    pub fn finding(
        &mut self,
        pass: PassId,
        level: Level,
        at: Option<(FileId, TextSize)>,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding {
            level,
            pass,
            at,
            message: message.into(),
        });
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Error)
    }
}

/// The range of `node` without the comments and whitespace the parser attaches
/// before an item: an edit of the item must keep them.
pub fn code_range(node: &SyntaxNode) -> TextRange {
    let start = node
        .children_with_tokens()
        .find(|t| !matches!(t.kind(), SyntaxKind::COMMENT | SyntaxKind::WHITESPACE))
        .map_or(node.text_range().start(), |t| t.text_range().start());
    TextRange::new(start, node.text_range().end())
}

/// Two edits of one file that touch the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    pub first: Edit,
    pub second: Edit,
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "overlapping edits: {} ({:?}, {}) and {} ({:?}, {})",
            self.first.pass,
            self.first.range,
            self.first.note,
            self.second.pass,
            self.second.range,
            self.second.note
        )
    }
}

/// Drops the edits that lie inside a range another edit deletes (an import
/// the imports pass removes whole, in which another pass rewrote a path): what
/// they change is gone with it.
pub fn drop_swallowed(edits: &mut Vec<Edit>) {
    let deleted: Vec<(FileId, TextRange)> = edits
        .iter()
        .filter(|e| e.text.is_empty() && !e.range.is_empty())
        .map(|e| (e.file, e.range))
        .collect();
    // An insertion where a deletion starts or ends stays.
    let inside = |range: &TextRange, e: &Edit| {
        if e.range.is_empty() {
            range.start() < e.range.start() && e.range.start() < range.end()
        } else {
            *range != e.range && range.contains_range(e.range)
        }
    };
    edits.retain(|e| {
        !deleted
            .iter()
            .any(|(file, range)| *file == e.file && inside(range, e))
    });
}

/// Applies `edits` (all of one file) to `text`. Bytes outside the edited ranges
/// are kept as they are; insertions at one offset apply in the given order. A
/// byte order mark stays first: an edit at the file's start applies after it.
pub fn apply(text: &str, edits: &[&Edit]) -> Result<String, Box<Overlap>> {
    let bom = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let range = |e: &Edit| {
        (
            usize::from(e.range.start()).max(bom),
            usize::from(e.range.end()).max(bom),
        )
    };
    let mut sorted: Vec<&Edit> = edits.to_vec();
    sorted.sort_by_key(|e| range(e));
    // A file of a package several services reach gets the same edit from each.
    sorted.dedup_by(|b, a| a == b);
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if range(a).1 > range(b).0 {
            return Err(Box::new(Overlap {
                first: a.clone(),
                second: b.clone(),
            }));
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in sorted {
        let (start, end) = range(edit);
        out.push_str(&text[at..start]);
        out.push_str(&edit.text);
        at = end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: u32, end: u32, text: &str) -> Edit {
        Edit {
            file: FileId(0),
            range: TextRange::new(start.into(), end.into()),
            text: text.into(),
            pass: PassId::Calls,
            note: String::new(),
        }
    }

    #[test]
    fn an_edit_inside_a_deleted_range_is_dropped() {
        let mut edits = vec![
            edit(0, 20, ""),
            edit(4, 9, "super"),
            edit(20, 20, "pub "),
            edit(0, 0, "// x\n"),
            edit(25, 30, "x"),
        ];
        drop_swallowed(&mut edits);
        assert_eq!(
            edits,
            [
                edit(0, 20, ""),
                edit(20, 20, "pub "),
                edit(0, 0, "// x\n"),
                edit(25, 30, "x")
            ]
        );
    }

    #[test]
    fn applies_in_offset_order_and_keeps_other_bytes() {
        let (a, b) = (edit(6, 11, "knit"), edit(0, 0, "// x\n"));
        assert_eq!(
            apply("hello world!", &[&a, &b]).unwrap(),
            "// x\nhello knit!"
        );
    }

    #[test]
    fn rejects_overlaps() {
        let (a, b) = (edit(0, 5, "a"), edit(3, 8, "b"));
        let err = apply("hello world", &[&a, &b]).unwrap_err();
        assert_eq!(err.first.range, a.range);
    }

    #[test]
    fn adjacent_edits_do_not_overlap() {
        let (a, b) = (edit(0, 5, "A"), edit(5, 6, "_"));
        assert_eq!(apply("hello world", &[&a, &b]).unwrap(), "A_world");
    }

    #[test]
    fn a_byte_order_mark_stays_first() {
        let (a, b) = (edit(0, 0, "// x\n"), edit(3, 8, "bye"));
        assert_eq!(
            apply("\u{feff}hello world", &[&a, &b]).unwrap(),
            "\u{feff}// x\nbye world"
        );
    }
}
