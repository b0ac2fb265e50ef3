//! Where a line of the merged workspace came from: each output file knows the
//! input it was made from and the edits knit applied, so an output position
//! maps back to the service's own file and line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use knit_passes::PassId;

use crate::error::line_col;
use crate::load::Loaded;
use crate::merge::Merged;

/// The origin of every file of a merged workspace, by output path.
#[derive(Debug)]
pub struct SourceMap<'a> {
    files: BTreeMap<&'a str, Origin<'a>>,
}

/// Where one output file came from.
#[derive(Debug)]
enum Origin<'a> {
    /// A service's source file: its input (as errors name it), its text as read,
    /// and knit's edits to it in the order they were applied.
    Service {
        input: PathBuf,
        text: &'a str,
        splices: Vec<Splice>,
    },
    /// A service's file rewritten whole (a manifest, through `toml_edit`).
    Rewritten(PathBuf),
    /// A service's file copied as it is.
    Copy(PathBuf),
    /// A file a pass added to a service.
    Added(PassId),
    /// knit's generated support (workspace manifest, runtime, shared protos, host).
    Generated,
}

/// One applied edit: input bytes `start..end` became `len` bytes of output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Splice {
    pub start: usize,
    pub end: usize,
    pub len: usize,
    /// The pass that made it.
    pub pass: PassId,
}

/// A position in an output file, as the compiler gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    /// Byte offset.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

/// Where an output position is in knit's inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// At this 1-based line and column of a service's input file.
    Input {
        file: PathBuf,
        line: usize,
        col: usize,
    },
    /// In text an edit of `pass` wrote, which replaced the input from this line
    /// and column on.
    Edit {
        file: PathBuf,
        line: usize,
        col: usize,
        pass: PassId,
    },
    /// In a file knit wrote whole: only the output line is known. `what` says
    /// which file it is (for a rewritten service file: its input).
    Output { what: String },
}

impl<'a> SourceMap<'a> {
    /// The map of the workspace `merged` made from `loaded`.
    pub fn new(loaded: &'a Loaded, merged: &'a Merged) -> SourceMap<'a> {
        let mut files = BTreeMap::new();
        let group = &loaded.group;
        let mut splices: Vec<Vec<Splice>> = vec![Vec::new(); group.files.len()];
        for e in &merged.output.edits {
            splices[e.file.0 as usize].push(Splice {
                start: usize::from(e.range.start()),
                end: usize::from(e.range.end()),
                len: e.text.len(),
                pass: e.pass,
            });
        }
        let mut rewritten = vec![false; group.files.len()];
        for (file, _) in &merged.output.manifest_ops {
            rewritten[file.0 as usize] = true;
        }
        for (i, (file, mut splices)) in group.files.iter().zip(splices).enumerate() {
            let input = loaded.shown(&file.path);
            let origin = if rewritten[i] {
                Origin::Rewritten(input)
            } else {
                // As `knit_passes::edit::apply` orders them (a stable sort).
                splices.sort_by_key(|s| (s.start, s.end));
                Origin::Service {
                    input,
                    text: &file.text,
                    splices,
                }
            };
            files.insert(file.path.as_str(), origin);
        }
        for (_, path) in &loaded.copies {
            files.insert(path.as_str(), Origin::Copy(loaded.shown(path)));
        }
        for new in &merged.output.new_files {
            files.insert(new.path.as_str(), Origin::Added(new.pass));
        }
        for path in &merged.generated {
            files.insert(path.as_str(), Origin::Generated);
        }
        SourceMap { files }
    }

    /// Where position `at` of the output file `path` (output-relative,
    /// `/`-separated) came from; `None` for a file not in the workspace knit wrote.
    pub fn place(&self, path: &str, at: At) -> Option<Place> {
        Some(match self.files.get(path)? {
            Origin::Service {
                input,
                text,
                splices,
            } => match back(splices, at.offset) {
                Ok(at) => {
                    let (line, col) = line_col(text, at);
                    Place::Input {
                        file: input.clone(),
                        line,
                        col,
                    }
                }
                Err(splice) => {
                    let (line, col) = line_col(text, splice.start);
                    Place::Edit {
                        file: input.clone(),
                        line,
                        col,
                        pass: splice.pass,
                    }
                }
            },
            Origin::Copy(input) => Place::Input {
                file: input.clone(),
                line: at.line,
                col: at.col,
            },
            Origin::Rewritten(input) => Place::Output {
                what: format!("knit's rewrite of {}", input.display()),
            },
            Origin::Added(pass) => Place::Output {
                what: format!("a file pass `{pass}` added"),
            },
            Origin::Generated => Place::Output {
                what: "a file knit generated".to_string(),
            },
        })
    }
}

/// The input offset of output offset `at`, given the splices in applied order;
/// the splice whose new text holds it, if one does.
pub fn back(splices: &[Splice], at: usize) -> Result<usize, &Splice> {
    // Output offset minus input offset, for what follows the splices so far.
    let mut shift: isize = 0;
    for s in splices {
        let start = s.start.saturating_add_signed(shift);
        if at < start {
            break;
        }
        if at < start + s.len {
            return Err(s);
        }
        shift += s.len as isize - (s.end - s.start) as isize;
    }
    Ok(at.saturating_add_signed(-shift))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use knit_passes::FileId;
    use knit_passes::edit::{Edit, apply};
    use ra_ap_syntax::TextRange;

    use super::*;

    fn edit(start: u32, end: u32, text: &str, pass: PassId) -> Edit {
        Edit {
            file: FileId(0),
            range: TextRange::new(start.into(), end.into()),
            text: text.into(),
            pass,
            note: String::new(),
        }
    }

    #[test]
    fn every_output_byte_maps_to_its_input_byte_or_its_edit() {
        let input = "use a::Old;\nfn main() {\n    let x = Old::new();\n    drop(x);\n}\n";
        let at = |s: &str| input.find(s).unwrap() as u32;
        let edits = [
            // Two insertions at one offset, a replacement, a deletion.
            edit(0, 0, "// one\n", PassId::Namespace),
            edit(0, 0, "// two\n", PassId::Entry),
            edit(at("Old::new"), at("::new"), "knit::New", PassId::Calls),
            edit(at("    drop"), at("}\n"), "", PassId::Imports),
        ];
        let refs: Vec<&Edit> = edits.iter().collect();
        let output = apply(input, &refs).unwrap();
        let mut splices: Vec<Splice> = edits
            .iter()
            .map(|e| Splice {
                start: usize::from(e.range.start()),
                end: usize::from(e.range.end()),
                len: e.text.len(),
                pass: e.pass,
            })
            .collect();
        splices.sort_by_key(|s| (s.start, s.end));
        let mut in_edits = String::new();
        for o in 0..output.len() {
            match back(&splices, o) {
                Ok(i) => assert_eq!(input.as_bytes()[i], output.as_bytes()[o], "at {o}"),
                Err(s) => in_edits.push_str(&format!("{}{}", s.pass, &output[o..o + 1])),
            }
        }
        // Each edit's text, byte by byte, attributed to its pass.
        let expected: String = ["namespace", "entry", "calls"]
            .iter()
            .zip(["// one\n", "// two\n", "knit::New"])
            .flat_map(|(pass, text)| text.chars().map(move |c| format!("{pass}{c}")))
            .collect();
        assert_eq!(in_edits, expected);
        // The byte after the deleted lines is the input's `}`.
        let close = output.rfind('}').unwrap();
        assert_eq!(back(&splices, close), Ok(input.rfind('}').unwrap()));
    }

    #[test]
    fn greeter_output_lines_map_to_the_services_lines() {
        let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/greeter/knit.toml");
        let (loaded, merged) = crate::prepare(&plan, crate::load::Versions::Skip).unwrap();
        let map = SourceMap::new(&loaded, &merged);
        let main = "frontend/src/main.rs";
        let crate::merge::Content::Text(text) = &merged.files[main] else {
            panic!("{main} is text");
        };
        let place = |needle: &str| {
            let offset = text.find(needle).unwrap();
            let (line, col) = line_col(text, offset);
            map.place(main, At { offset, line, col }).unwrap()
        };
        let input = |line, col| Place::Input {
            file: plan.parent().unwrap().join(main),
            line,
            col,
        };
        // Below an import knit removed: one line further down in the input.
        assert_eq!(place("println!(\"frontend listening"), input(62, 5));
        assert_eq!(place("visitors: AtomicU64::new(0)"), input(59, 9));
        assert_eq!(
            place("pub async fn knit_entry"),
            Place::Edit {
                file: plan.parent().unwrap().join(main),
                line: 49,
                col: 1,
                pass: PassId::Entry,
            }
        );
        let at = At {
            offset: 0,
            line: 3,
            col: 1,
        };
        assert_eq!(
            map.place("frontend/build.rs", at),
            Some(Place::Input {
                file: plan.parent().unwrap().join("frontend/build.rs"),
                line: 3,
                col: 1,
            })
        );
        let output = |what: &str| {
            Some(Place::Output {
                what: what.to_string(),
            })
        };
        assert_eq!(
            map.place("knit/merged/src/main.rs", at),
            output("a file knit generated")
        );
        assert_eq!(
            map.place("frontend/src/knit_main.rs", at),
            output("a file pass `entry` added")
        );
        assert_eq!(
            map.place("frontend/Cargo.toml", at),
            output(&format!(
                "knit's rewrite of {}",
                plan.parent().unwrap().join("frontend/Cargo.toml").display()
            ))
        );
        assert_eq!(map.place("elsewhere/src/lib.rs", at), None);
    }
}
