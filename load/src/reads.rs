//! What a package's build and code read besides its own files: the `.proto`
//! files its build script names (a repository-level `proto/` folder, reached
//! as `../../proto`), the files its code includes (`include_str!`,
//! `include_bytes!`, `include!`) by a path that leaves the package, and the
//! files and folders macros read relative to the package's folder
//! (`sqlx::migrate!("../migrations")`).
//!
//! A build script is read literally: every string literal that names a file
//! or folder counts, as do the folders that literals built at run time start
//! with (`format!("../proto/{name}.proto")` names `../proto/`). What such a
//! reading cannot see (paths assembled from variables) is not found.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ra_ap_syntax::ast::HasArgList;
use ra_ap_syntax::ast::HasAttrs;
use ra_ap_syntax::{AstNode, AstToken, Edition, SyntaxKind, SyntaxNode, ast};

use crate::paths::normalize;

/// The most `.proto` files taken from one folder a build script names.
const MOST_PROTOS_PER_FOLDER: usize = 2_000;

/// The `.proto` files outside `package_dir` that the build script `text`
/// names, directly or as a folder holding them, sorted and without repeats.
pub fn build_protos(text: &str, package_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for literal in string_literals(text) {
        let Some(path) = named_path(&literal, package_dir) else {
            continue;
        };
        if path.starts_with(package_dir) {
            continue;
        }
        if path.is_file() && path.extension().is_some_and(|e| e == "proto") {
            found.push(path);
        } else if path.is_dir() {
            found.extend(protos_under(&path));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The `.proto` files outside `package_dir` that its `volo.yml` (volo-build's
/// configuration, read by `volo_build::ConfigBuilder`) names: each local
/// IDL's `path`, and every proto under its `includes` (what its imports may
/// reach). The file is read by lines, as its keys are always written.
pub fn volo_yml_protos(package_dir: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(package_dir.join("volo.yml")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut in_includes = false;
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or(line).trim();
        let line = line.strip_prefix("- ").unwrap_or(line).trim();
        if line.starts_with('#') {
            continue;
        }
        let value = |key: &str| {
            line.strip_prefix(key)
                .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
        };
        if let Some(path) = value("path:") {
            in_includes = false;
            let path = normalize(&package_dir.join(&path));
            if path.extension().is_some_and(|e| e == "proto") && path.is_file() {
                found.push(path);
            }
        } else if line == "includes:" {
            in_includes = true;
        } else if in_includes && !line.contains(':') && !line.is_empty() {
            let dir = normalize(&package_dir.join(line.trim_matches(['"', '\''])));
            if dir.is_dir() {
                found.extend(protos_under(&dir));
            }
        } else {
            in_includes = false;
        }
    }
    found.retain(|p| !p.starts_with(package_dir));
    found.sort();
    found.dedup();
    found
}

/// Whether reading the build script `text` literally finds what it compiles:
/// it compiles no proto; or a literal names a `.proto` file or a folder holding
/// protos, and none names one missing below a folder the package lacks. A
/// script that hands its paths over in variables, or names them relative to
/// a folder only a build-helper crate knows, is not read with certainty.
pub fn literal_reading_is_certain(text: &str, package_dir: &Path) -> bool {
    // `compile_protos(..)`, `.compile(..)`, a helper's `compile(..)`.
    const COMPILES: [&str; 3] = ["compile_protos", "compile(", "compile_fds"];
    if !COMPILES.iter().any(|c| text.contains(c)) {
        return true;
    }
    // A proto missing from a folder of the package is missing; one named
    // below a folder the package does not have is named relative to
    // somewhere else.
    let missing = missing_build_protos(text, package_dir);
    if !missing.is_empty() {
        return missing.iter().all(|(_, literal)| {
            normalize(&package_dir.join(literal.trim_start_matches('/')))
                .parent()
                .is_some_and(Path::is_dir)
        });
    }
    string_literals(text).iter().any(|literal| {
        named_path(literal, package_dir).is_some_and(|path| {
            (path.is_file() && path.extension().is_some_and(|e| e == "proto"))
                || (path.is_dir() && !protos_under(&path).is_empty())
        })
    })
}

/// The `.proto` files outside `package_dir` among the paths a build script
/// said it read (`rerun-if-changed`), with those under the folders it named.
pub fn protos_read(read: &[PathBuf], package_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for path in read.iter().filter(|p| !p.starts_with(package_dir)) {
        if path.is_file() && path.extension().is_some_and(|e| e == "proto") {
            found.push(path.clone());
        } else if path.is_dir() {
            found.extend(protos_under(path));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The `.proto` files the build script `text` names by a literal path inside
/// `package_dir` that are not there, as (offset of the literal, path): the
/// build would fail. A name found under a folder another literal names (an
/// include folder, `compile_protos(&["a.proto"], &["proto"])`) is there.
pub fn missing_build_protos(text: &str, package_dir: &Path) -> Vec<(usize, String)> {
    // A script that writes files may write the proto it compiles.
    const WRITES: [&str; 5] = [
        "fs::write",
        "File::create",
        "fs::copy",
        "OpenOptions",
        "fs::rename",
    ];
    if WRITES.iter().any(|w| text.contains(w)) {
        return Vec::new();
    }
    let (green, _) = crate::parse::source_file(text, Edition::Edition2021);
    // A literal joined to another path (`out_dir.join("a.proto")`) is not
    // from the package's folder.
    let joined: BTreeSet<usize> = SyntaxNode::new_root(green)
        .descendants()
        .filter_map(ast::MethodCallExpr::cast)
        .filter(|call| {
            call.name_ref().is_some_and(|n| {
                matches!(
                    n.text().to_string().as_str(),
                    "join" | "push" | "with_file_name"
                )
            })
        })
        .flat_map(|call| call.arg_list().into_iter().flat_map(|a| a.args()))
        .map(|arg| usize::from(arg.syntax().text_range().start()))
        .collect();
    let literals: Vec<(usize, String)> = string_literal_tokens(text)
        .into_iter()
        .filter(|(offset, _)| !joined.contains(offset))
        .collect();
    let folders: Vec<PathBuf> = literals
        .iter()
        .filter_map(|(_, literal)| named_path(literal, package_dir))
        .filter(|path| path.is_dir())
        .collect();
    let mut missing = Vec::new();
    for (offset, literal) in literals {
        let plain = !literal.is_empty()
            && literal.ends_with(".proto")
            && !literal
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, ':' | '=' | '{' | '}' | '$' | '*'));
        if !plain {
            continue;
        }
        let relative = literal.trim_start_matches('/');
        let path = normalize(&package_dir.join(relative));
        let absolute = Path::new(&literal);
        if !path.starts_with(package_dir)
            || path.exists()
            || (absolute.is_absolute() && absolute.exists())
            || folders.iter().any(|f| f.join(&literal).exists())
        {
            continue;
        }
        missing.push((offset, literal));
    }
    missing
}

/// Files outside `package_dir` that the Rust source `text` of the file at
/// `file` includes with `include_str!`, `include_bytes!` or `include!` and a
/// literal path.
pub fn included_files(
    text: &str,
    tree: &SyntaxNode,
    file: &Path,
    package_dir: &Path,
) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = literal_includes(text, tree, file)
        .into_iter()
        .filter(|include| !include.path.starts_with(package_dir) && include.path.is_file())
        .map(|include| include.path)
        .collect();
    found.extend(manifest_dir_reads(text, tree, package_dir));
    found.sort();
    found.dedup();
    found
}

/// Macros that read a file or a folder at compile time by a path relative to
/// the package's folder (`CARGO_MANIFEST_DIR`), with the folder they read
/// when given no path: sqlx's migrations and query files, diesel's and
/// refinery's embedded migrations, include_dir's folders.
const MANIFEST_DIR_READS: &[(&str, Option<&str>)] = &[
    ("migrate", Some("migrations")),
    ("embed_migrations", Some("migrations")),
    ("query_file", None),
    ("query_file_as", None),
    ("query_file_scalar", None),
    ("query_file_unchecked", None),
    ("query_file_as_unchecked", None),
    ("query_file_scalar_unchecked", None),
    ("include_dir", None),
];

/// The most files taken from one folder such a macro reads.
const MOST_FILES_PER_READ: usize = 10_000;

/// Files outside `package_dir` that macros of the Rust source `text` read by
/// a path relative to the package's folder ([`MANIFEST_DIR_READS`]): a file,
/// or every file under a folder (`sqlx::migrate!("../migrations")`).
fn manifest_dir_reads(text: &str, tree: &SyntaxNode, package_dir: &Path) -> Vec<PathBuf> {
    if !MANIFEST_DIR_READS
        .iter()
        .any(|(name, _)| text.contains(name))
    {
        return Vec::new();
    }
    let mut found = Vec::new();
    for call in tree.descendants().filter_map(ast::MacroCall::cast) {
        let name = call
            .path()
            .and_then(|p| p.segment()?.name_ref())
            .map(|n| n.text().to_string());
        let Some((_, default)) = MANIFEST_DIR_READS
            .iter()
            .find(|(known, _)| name.as_deref() == Some(*known))
        else {
            continue;
        };
        // The first string literal of the arguments (`query_file_as!(Row,
        // "q.sql")`), else the macro's default folder.
        let literal = call
            .token_tree()
            .into_iter()
            .flat_map(|t| t.syntax().descendants_with_tokens())
            .filter_map(|t| t.into_token())
            .find_map(ast::String::cast)
            .and_then(|s| s.value().ok().map(|v| v.to_string()));
        let Some(relative) = literal.or(default.map(String::from)) else {
            continue;
        };
        let relative = relative
            .trim_start_matches("$CARGO_MANIFEST_DIR")
            .trim_start_matches('/');
        let path = normalize(&package_dir.join(relative));
        if path.starts_with(package_dir) {
            continue;
        }
        if path.is_file() {
            found.push(path);
        } else if path.is_dir() {
            found.extend(files_under(&path).take(MOST_FILES_PER_READ));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The files the Rust source `text` of the file at `file` includes by a
/// literal path that do not exist or are folders, outside items compiled only under a `cfg`
/// and outside the folders a build script writes (`built_dirs`): rustc
/// cannot build such a file.
pub fn missing_includes(
    text: &str,
    tree: &SyntaxNode,
    file: &Path,
    built_dirs: &[PathBuf],
) -> Vec<Include> {
    literal_includes(text, tree, file)
        .into_iter()
        .filter(|include| !include.path.is_file() && !include.under_cfg)
        .filter(|include| !built_dirs.iter().any(|d| include.path.starts_with(d)))
        .collect()
}

/// A file named by `include!`, `include_str!` or `include_bytes!` with a
/// literal path.
#[derive(Debug)]
pub struct Include {
    /// The offset of the macro call in its file.
    pub offset: usize,
    /// The path as written.
    pub literal: String,
    /// The path resolved against the including file's folder.
    pub path: PathBuf,
    /// Whether an item around the call is compiled only under a `cfg`.
    pub under_cfg: bool,
}

fn literal_includes(text: &str, tree: &SyntaxNode, file: &Path) -> Vec<Include> {
    if !text.contains("include") {
        return Vec::new();
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut found = Vec::new();
    for call in tree.descendants().filter_map(ast::MacroCall::cast) {
        let name = call
            .path()
            .and_then(|p| p.segment())
            .map(|s| s.syntax().text().to_string());
        if !matches!(
            name.as_deref(),
            Some("include_str" | "include_bytes" | "include")
        ) {
            continue;
        }
        // The first token of the arguments is the literal: not
        // `concat!(env!("OUT_DIR"), ..)`.
        let Some(literal) = call
            .token_tree()
            .into_iter()
            .flat_map(|t| t.syntax().children_with_tokens())
            .filter_map(|t| t.into_token())
            .find(|t| {
                !t.kind().is_trivia()
                    && !matches!(
                        t.kind(),
                        SyntaxKind::L_PAREN | SyntaxKind::L_BRACK | SyntaxKind::L_CURLY
                    )
            })
            .and_then(ast::String::cast)
        else {
            continue;
        };
        let Ok(value) = literal.value() else { continue };
        let under_cfg = call.syntax().ancestors().any(|node| {
            ast::AnyHasAttrs::cast(node).is_some_and(|item| {
                item.attrs().any(|a| {
                    let text = a.syntax().text().to_string();
                    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                    text.starts_with("#[cfg(")
                })
            })
        });
        found.push(Include {
            offset: usize::from(call.syntax().text_range().start()),
            literal: value.to_string(),
            path: normalize(&dir.join(value.as_ref())),
            under_cfg,
        });
    }
    found.extend(attribute_includes(tree, dir));
    found
}

/// The files included in attributes whose arguments are not parsed:
/// `#![cfg_attr(not(doctest), doc = include_str!("../README.md"))]`.
fn attribute_includes(tree: &SyntaxNode, dir: &Path) -> Vec<Include> {
    let mut found = Vec::new();
    let attrs = tree.descendants().filter_map(ast::Attr::cast);
    for token_tree in attrs.flat_map(|a| {
        a.syntax()
            .descendants()
            .filter_map(ast::TokenTree::cast)
            .collect::<Vec<_>>()
    }) {
        let tokens: Vec<_> = token_tree
            .syntax()
            .children_with_tokens()
            .filter_map(|t| t.into_token())
            .filter(|t| !t.kind().is_trivia())
            .collect();
        for window in tokens.windows(2) {
            let [name, bang] = window else { continue };
            let named = matches!(name.text(), "include_str" | "include_bytes");
            if !named || bang.kind() != SyntaxKind::BANG {
                continue;
            }
            // The literal is the first token of the macro's own token tree.
            let args = bang
                .next_sibling_or_token()
                .and_then(|n| n.into_node())
                .and_then(ast::TokenTree::cast);
            let literal = args
                .into_iter()
                .flat_map(|t| t.syntax().children_with_tokens())
                .filter_map(|t| t.into_token())
                .find(|t| !t.kind().is_trivia() && t.kind() != SyntaxKind::L_PAREN)
                .and_then(ast::String::cast);
            let Some(Ok(value)) = literal.map(|l| l.value().map(|v| v.to_string())) else {
                continue;
            };
            found.push(Include {
                offset: usize::from(name.text_range().start()),
                path: normalize(&dir.join(&value)),
                literal: value,
                under_cfg: false,
            });
        }
    }
    found
}

/// The folders inside `package_dir` that the build script `text` has code
/// generators write into (`.out_dir("src/generated")`): their files are made
/// anew by every build, whether or not one ran yet.
pub fn build_written_dirs(text: &str, package_dir: &Path) -> Vec<PathBuf> {
    text.match_indices("out_dir(")
        .filter_map(|(at, _)| {
            let call = text[at..].split(')').next()?;
            let literal = call.split('"').nth(1)?;
            let dir = normalize(&package_dir.join(literal));
            (dir.starts_with(package_dir) && dir != package_dir).then_some(dir)
        })
        .collect()
}

/// The proto packages whose generated code the Rust file `text` (at `path`)
/// brings in: `include_proto!("p")`, `include!(".../p.rs")`, or tonic's
/// generated code itself, in a file named after its package.
pub fn included_proto_packages(text: &str, path: &Path) -> Vec<String> {
    const MARKERS: [&str; 2] = [
        "/// Generated client implementations.",
        "/// Generated server implementations.",
    ];
    let mut packages = Vec::new();
    for (macro_name, strip_rs) in [("include_proto!(", false), ("include!(", true)] {
        for (at, _) in text.match_indices(macro_name) {
            let rest = &text[at + macro_name.len()..];
            let call = rest.split([';', '\n']).next().unwrap_or_default();
            // The quoted strings of the call: every other piece between quotes.
            let mut literals = call.split('"').skip(1).step_by(2);
            let package = if strip_rs {
                literals.find_map(|l| l.rsplit('/').next()?.strip_suffix(".rs"))
            } else {
                literals.next()
            };
            packages.extend(package.map(str::to_string));
        }
    }
    if MARKERS.iter().any(|m| text.contains(m)) {
        let stem = path.file_stem().map(|s| s.to_string_lossy().to_string());
        packages.extend(stem);
    }
    packages
}

/// The `.proto` files under `dir` that declare one of `packages`.
pub fn protos_of_packages(dir: &Path, packages: &BTreeSet<String>) -> Vec<PathBuf> {
    protos_under(dir)
        .into_iter()
        .filter(|p| {
            let Ok(text) = std::fs::read_to_string(p) else {
                return false;
            };
            text.lines()
                .filter_map(|l| l.trim().strip_prefix("package "))
                .filter_map(|l| l.trim().strip_suffix(';'))
                .any(|package| packages.contains(package.trim()))
        })
        .collect()
}

/// Of `protos` (found by their package), for each package and file name the
/// ones nearest to `dir` (the longest leading folders in common): a repository
/// can hold another copy of a proto package elsewhere (a second system, a
/// vendored version), and a build script compiles the one beside it.
pub fn nearest_of_each_name(protos: Vec<PathBuf>, dir: &Path) -> Vec<PathBuf> {
    let shared = |p: &Path| {
        p.components()
            .zip(dir.components())
            .take_while(|(a, b)| a == b)
            .count()
    };
    let key = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        let package = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("package "))
            .find_map(|l| l.trim().strip_suffix(';'))
            .map(|l| l.trim().to_string());
        (package, p.file_name().map(|n| n.to_os_string()))
    };
    let mut best: std::collections::BTreeMap<_, (usize, Vec<PathBuf>)> = Default::default();
    for proto in protos {
        let near = shared(&proto);
        let entry = best.entry(key(&proto)).or_insert((near, Vec::new()));
        if near > entry.0 {
            *entry = (near, Vec::new());
        }
        if near == entry.0 {
            entry.1.push(proto);
        }
    }
    let mut kept: Vec<PathBuf> = best.into_values().flat_map(|(_, p)| p).collect();
    kept.sort();
    kept
}

/// The values of the string literals of the Rust source `text`.
fn string_literals(text: &str) -> Vec<String> {
    string_literal_tokens(text)
        .into_iter()
        .map(|(_, value)| value)
        .collect()
}

/// The string literals of the Rust source `text`, with their offsets.
fn string_literal_tokens(text: &str) -> Vec<(usize, String)> {
    let (green, _) = crate::parse::source_file(text, Edition::Edition2021);
    SyntaxNode::new_root(green)
        .descendants_with_tokens()
        .filter_map(|t| t.into_token())
        .filter_map(ast::String::cast)
        .filter_map(|s| {
            let offset = usize::from(s.syntax().text_range().start());
            s.value().ok().map(|v| (offset, v.to_string()))
        })
        .collect()
}

/// The file or folder a build script's literal names, from the package's
/// folder: the path itself, a path after `env!("CARGO_MANIFEST_DIR")` (which
/// starts with `/`), or the folder a template (`../proto/{name}.proto`) or a
/// prefix (`../proto/`) starts with.
fn named_path(literal: &str, package_dir: &Path) -> Option<PathBuf> {
    if literal.is_empty() || literal.contains("://") || literal.contains('\n') {
        return None;
    }
    let fixed = literal.split('{').next().unwrap_or_default();
    let complete = fixed.len() == literal.len();
    let fixed = if complete {
        fixed
    } else {
        fixed.rsplit_once('/').map_or("", |(dir, _)| dir)
    };
    if fixed.is_empty() {
        return None;
    }
    let absolute = Path::new(fixed);
    if absolute.is_absolute() && absolute.exists() {
        return Some(normalize(absolute));
    }
    let path = normalize(&package_dir.join(fixed.trim_start_matches('/')));
    path.exists().then_some(path)
}

/// The `.proto` files under `dir`, sorted; symbolic links, build output and
/// version control folders are not entered.
fn protos_under(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = files_under(dir)
        .filter(|p| p.extension().is_some_and(|e| e == "proto"))
        .take(MOST_PROTOS_PER_FOLDER)
        .collect();
    found.sort();
    found
}

/// The files under `dir`, hidden ones too, links not followed, outside
/// `target` and `.git` folders.
fn files_under(dir: &Path) -> impl Iterator<Item = PathBuf> {
    ignore::WalkBuilder::new(dir)
        .hidden(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != "target" && e.file_name() != ".git")
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::tests::fixture as tree;

    fn names(found: &[PathBuf], top: &Path) -> Vec<String> {
        found
            .iter()
            .map(|p| {
                p.strip_prefix(top)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect()
    }

    #[test]
    fn missing_build_protos_are_literal_paths_found_nowhere() {
        let repo = tree(&[("svc/proto/a.proto", ""), ("svc/Cargo.toml", "")]);
        let dir = repo.path().join("svc");
        let missing = |script: &str| -> Vec<String> {
            missing_build_protos(script, &dir)
                .into_iter()
                .map(|(at, name)| format!("{at}:{name}"))
                .collect()
        };
        assert_eq!(
            missing("fn main() { c(\"proto/a.proto\"); c(\"proto/b.proto\"); }"),
            ["34:proto/b.proto"]
        );
        // Under an include folder, formatted, joined, outside, or written.
        assert!(missing("fn main() { c(&[\"a.proto\"], &[\"proto\"]); }").is_empty());
        assert!(
            missing("fn main() { p(\"cargo:rerun-if-changed=b.proto\", \"{x}.proto\"); }")
                .is_empty()
        );
        assert!(missing("fn main() { c(out.join(\"b.proto\")); }").is_empty());
        assert!(missing("fn main() { c(\"../other/b.proto\"); }").is_empty());
        assert!(
            missing("fn main() { std::fs::write(\"b.proto\", x); c(\"b.proto\"); }").is_empty()
        );
    }

    #[test]
    fn a_build_script_names_protos_outside_its_package() {
        let repo = tree(&[
            ("proto/users.proto", "syntax = \"proto3\";"),
            ("proto/common/types.proto", "syntax = \"proto3\";"),
            ("proto/README.md", ""),
            ("other/x.proto", "syntax = \"proto3\";"),
            ("services/orders/proto/own.proto", "syntax = \"proto3\";"),
        ]);
        let package = repo.path().join("services/orders");
        let found = |script: &str| names(&build_protos(script, &package), repo.path());
        // A folder: every proto under it.
        assert_eq!(
            found(r#"fn main() { build_common::compile_protos("../../proto").unwrap(); }"#),
            ["proto/common/types.proto", "proto/users.proto"]
        );
        // A file, and a template whose folder is fixed.
        assert_eq!(
            found(r#"fn main() { c(&["../../other/x.proto"], &["../../other"]); }"#),
            ["other/x.proto"]
        );
        assert_eq!(
            found(r#"fn main() { for n in ["users"] { c(format!("../../proto/{n}.proto")); } }"#),
            ["proto/common/types.proto", "proto/users.proto"]
        );
        // After CARGO_MANIFEST_DIR; the package's own protos are its files already.
        assert_eq!(
            found(
                r#"fn main() { c(concat!(env!("CARGO_MANIFEST_DIR"), "/../../other/x.proto")); c("proto/own.proto"); }"#
            ),
            ["other/x.proto"]
        );
        assert!(found(r#"fn main() { c("https://x/y"); c("missing/dir"); }"#).is_empty());
    }

    #[test]
    fn code_generators_write_into_folders_of_the_package() {
        let package = Path::new("/repo/clock");
        let script = r#"fn main() { tonic_prost_build::configure().out_dir("src/generated").compile_protos(&["proto/c.proto"], &["proto"]).unwrap(); let _ = std::env::var("OUT_DIR"); }"#;
        assert_eq!(
            build_written_dirs(script, package),
            [PathBuf::from("/repo/clock/src/generated")]
        );
        assert!(build_written_dirs(r#"fn main() { c.out_dir(".."); }"#, package).is_empty());
    }

    #[test]
    fn generated_code_names_its_proto_packages() {
        let text = "mod a { tonic::include_proto!(\"shop.v1\"); }\nmod b { include!(\"../generated/inventory.v1.rs\"); }\nmod c { include!(concat!(env!(\"OUT_DIR\"), \"/helloworld.rs\")); }\n";
        assert_eq!(
            included_proto_packages(text, Path::new("src/main.rs")),
            ["shop.v1", "inventory.v1", "helloworld"]
        );
        let generated = "/// Generated client implementations.\npub mod stock_client {}\n";
        assert_eq!(
            included_proto_packages(generated, Path::new("src/gen/inventory.v1.rs")),
            ["inventory.v1"]
        );
        let repo = tree(&[
            (
                "proto/inventory.proto",
                "syntax = \"proto3\";\npackage inventory.v1;\n",
            ),
            (
                "proto/other.proto",
                "syntax = \"proto3\";\npackage other;\n",
            ),
        ]);
        let wanted = BTreeSet::from(["inventory.v1".to_string()]);
        assert_eq!(
            names(&protos_of_packages(repo.path(), &wanted), repo.path()),
            ["proto/inventory.proto"]
        );
    }

    /// Another system of the repository with a proto of the same package and
    /// name: the copy nearest to the package is the one its build compiles.
    #[test]
    fn the_nearest_copy_of_a_proto_package_is_taken() {
        let proto = "syntax = \"proto3\";\npackage depot.v1;\n";
        let repo = tree(&[
            ("shop/apis/depot/v1/depot.proto", proto),
            ("shop/apis/depot/v1/common.proto", proto),
            ("other/proto/depot/v1/depot.proto", proto),
            ("shop/rust/depot/Cargo.toml", ""),
        ]);
        let wanted = BTreeSet::from(["depot.v1".to_string()]);
        let found = protos_of_packages(repo.path(), &wanted);
        assert_eq!(found.len(), 3);
        let near = nearest_of_each_name(found, &repo.path().join("shop/rust/depot"));
        assert_eq!(
            names(&near, repo.path()),
            [
                "shop/apis/depot/v1/common.proto",
                "shop/apis/depot/v1/depot.proto"
            ]
        );
    }

    #[test]
    fn included_files_outside_the_package_are_found() {
        let repo = tree(&[
            ("data/schema.sql", "create table t;"),
            ("svc/src/main.rs", ""),
            ("svc/src/local.txt", ""),
        ]);
        let file = repo.path().join("svc/src/main.rs");
        let text = r#"const S: &str = include_str!("../../data/schema.sql"); const L: &str = include_str!("local.txt"); include!(concat!(env!("OUT_DIR"), "/x.rs"));"#;
        let (green, _) = crate::parse::source_file(text, Edition::Edition2021);
        let found = included_files(
            text,
            &SyntaxNode::new_root(green),
            &file,
            &repo.path().join("svc"),
        );
        assert_eq!(names(&found, repo.path()), ["data/schema.sql"]);
    }

    /// volo-build's configuration names the protos of a `volo-gen` crate.
    #[test]
    fn the_protos_volo_yml_names_are_found() {
        let repo = tree(&[
            ("proto/user.proto", "syntax = \"proto3\";"),
            ("proto/common/money.proto", "syntax = \"proto3\";"),
            ("other/x.proto", "syntax = \"proto3\";"),
            (
                "gen/volo.yml",
                "entries:\n  default:\n    protocol: protobuf\n    filename: volo_gen.rs\n    services:\n    - idl:\n        source: local\n        path: ../proto/user.proto\n        includes:\n        - ../proto\n    idls:\n      - source: local\n        path: \"./local.proto\"\n",
            ),
            ("gen/local.proto", "syntax = \"proto3\";"),
        ]);
        let found = volo_yml_protos(&repo.path().join("gen"));
        assert_eq!(
            names(&found, repo.path()),
            ["proto/common/money.proto", "proto/user.proto"]
        );
    }

    /// A crate's docs taken from a README above it, in an attribute whose
    /// arguments the parser leaves as tokens (volo's own `lib.rs`).
    #[test]
    fn files_included_in_attributes_are_found() {
        let repo = tree(&[("README.md", "# x"), ("svc/src/lib.rs", "")]);
        let file = repo.path().join("svc/src/lib.rs");
        let text = r#"#![cfg_attr(not(doctest), doc = include_str!("../../README.md"))]
#![doc = include_str!("../../README.md")]
pub fn f() {}"#;
        let (green, _) = crate::parse::source_file(text, Edition::Edition2021);
        let found = included_files(
            text,
            &SyntaxNode::new_root(green),
            &file,
            &repo.path().join("svc"),
        );
        assert_eq!(names(&found, repo.path()), ["README.md"]);
    }

    /// Folders and files macros read relative to the package's folder:
    /// sqlx's migrations outside the package (every file under them), a query
    /// file, diesel's default `migrations` folder (inside: the package's own).
    #[test]
    fn macros_reading_from_the_package_folder_are_found() {
        let repo = tree(&[
            ("migrations/0001_init.sql", "create table t;"),
            ("migrations/0002_more.sql", "alter table t;"),
            ("queries/orders.sql", "select 1;"),
            ("svc/migrations/0001.sql", ""),
            ("svc/src/main.rs", ""),
        ]);
        let file = repo.path().join("svc/src/main.rs");
        let text = r#"static M: Migrator = sqlx::migrate!("../migrations");
fn q() { let _ = sqlx::query_file_as!(Order, "../queries/orders.sql"); }
const D: EmbeddedMigrations = embed_migrations!();"#;
        let (green, _) = crate::parse::source_file(text, Edition::Edition2021);
        let found = included_files(
            text,
            &SyntaxNode::new_root(green),
            &file,
            &repo.path().join("svc"),
        );
        assert_eq!(
            names(&found, repo.path()),
            [
                "migrations/0001_init.sql",
                "migrations/0002_more.sql",
                "queries/orders.sql"
            ]
        );
    }

    #[test]
    fn missing_includes_skip_cfg_items_and_built_folders() {
        let repo = tree(&[("svc/src/main.rs", ""), ("svc/src/here.rs", "")]);
        let file = repo.path().join("svc/src/main.rs");
        let text = r#"include!("here.rs");
include!("gone.rs");
#[cfg(test)] mod t { const S: &str = include_str!("fixture.txt"); }
const G: &str = include_str!("generated/x.rs");
const D: &[u8] = include_bytes!("..");
include!(concat!(env!("OUT_DIR"), "/x.rs"));"#;
        let (green, _) = crate::parse::source_file(text, Edition::Edition2021);
        let missing = missing_includes(
            text,
            &SyntaxNode::new_root(green),
            &file,
            &[repo.path().join("svc/src/generated")],
        );
        let found: Vec<(&str, usize)> = missing
            .iter()
            .map(|m| (m.literal.as_str(), m.offset))
            .collect();
        assert_eq!(found, [("gone.rs", 21), ("..", 175)]);
    }

    #[test]
    fn a_literal_reading_is_certain_where_literals_name_what_is_compiled() {
        let repo = tree(&[
            ("svc/proto/a.proto", ""),
            ("svc/Cargo.toml", ""),
            ("apis/b/v1/b.proto", ""),
        ]);
        let dir = repo.path().join("svc");
        let certain = |script: &str| literal_reading_is_certain(script, &dir);
        // Nothing compiled, or every proto named where it is.
        assert!(certain("fn main() { println!(\"cargo:rustc-cfg=x\"); }"));
        assert!(certain(
            "fn main() { tonic_prost_build::compile_protos(\"proto/a.proto\").unwrap(); }"
        ));
        assert!(certain(
            "fn main() { build_common::compile(\"../apis\").unwrap(); }"
        ));
        // A proto missing from a folder of the package is missing: the
        // refusal, not a run, answers it.
        assert!(certain(
            "fn main() { compile_protos(\"proto/gone.proto\").unwrap(); }"
        ));
        // Paths assembled at run time, or named from a folder only a helper
        // crate knows.
        assert!(!certain(
            "fn main() { let d = std::env::var(\"API_DIR\").unwrap(); compile_protos(&d).unwrap(); }"
        ));
        assert!(!certain(
            "fn main() { apigen::compile(&[\"b/v1/b.proto\"]).unwrap(); }"
        ));
    }
}
