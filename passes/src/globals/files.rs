//! Data files a service reads at run time by a path relative to its working
//! directory (`fs::read_to_string("config/app.toml")`, `File::open(..)`): the
//! merged process has one working directory, so each such read is reported,
//! with where it resolves and the plan's `cwd` as the way to choose it.

use std::collections::BTreeMap;

use ra_ap_syntax::ast::{self, HasArgList};
use ra_ap_syntax::{AstNode, TextSize};

use super::PASS;
use crate::edit::{Level, Output};
use crate::model::{FileId, Group, ServiceId};

/// Functions that read a file or folder by the path they are given, by the
/// end of their path (`std::fs::`, `tokio::fs::`, `File::` imported or not).
const READS: &[&str] = &[
    "fs::read_to_string",
    "fs::read",
    "fs::read_dir",
    "fs::metadata",
    "File::open",
];

/// Functions that make a path of a string (`Path::new("data")`).
const PATHS: &[&str] = &["Path::new", "PathBuf::from"];

pub(super) fn run(group: &Group, out: &mut Output) {
    // Per service: each relative path read, with its first site.
    let mut reads: BTreeMap<ServiceId, BTreeMap<String, (FileId, TextSize)>> = BTreeMap::new();
    let files = group.rust_files().filter(|(_, file, rust)| {
        !rust.test_only && (file.text.contains("fs::") || file.text.contains("File::"))
    });
    for (id, file, rust) in files {
        for call in rust
            .tree()
            .syntax()
            .descendants()
            .filter_map(ast::CallExpr::cast)
        {
            if !callee_ends_with(&call, READS)
                || crate::compiled::not_compiled(group, id, call.syntax().text_range())
            {
                continue;
            }
            let Some(path) = call
                .arg_list()
                .and_then(|a| a.args().next())
                .and_then(literal_path)
            else {
                continue;
            };
            if path.is_empty()
                || path.starts_with('/')
                || path.starts_with('~')
                || path.contains("://")
            {
                continue;
            }
            reads
                .entry(file.service)
                .or_default()
                .entry(path)
                .or_insert((id, call.syntax().text_range().start()));
        }
    }
    for (service, paths) in reads {
        let svc = &group.services[service];
        // In the order they are read.
        let mut paths: Vec<(String, (FileId, TextSize))> = paths.into_iter().collect();
        paths.sort_by_key(|(_, (file, at))| (*file, *at));
        let listed: Vec<String> = paths
            .iter()
            .map(|(path, (file, at))| {
                let file = group.file(*file);
                format!("`{path}` ({}:{})", file.path, file.line_col(*at).0)
            })
            .collect();
        let resolve = match &svc.cwd {
            Some(cwd) => format!("they resolve in the plan's `cwd` (`{cwd}`)"),
            None => "they resolve where the merged binary is started; the plan's `cwd` chooses that folder (docs/plan.md)".to_string(),
        };
        let (file, at) = paths
            .first()
            .map_or((svc.bin.root, 0.into()), |(_, site)| *site);
        out.finding(
            PASS,
            Level::Note,
            Some((file, at)),
            format!(
                "`{}` reads files by paths relative to its working directory: {}; merged, every service shares one working directory: {resolve}",
                svc.name,
                listed.join(", ")
            ),
        );
    }
}

/// Whether `call`'s callee is a path ending in one of `ends`.
fn callee_ends_with(call: &ast::CallExpr, ends: &[&str]) -> bool {
    let Some(ast::Expr::PathExpr(callee)) = call.expr() else {
        return false;
    };
    let text: String = callee
        .syntax()
        .text()
        .to_string()
        .split_whitespace()
        .collect();
    ends.iter()
        .any(|end| text == *end || text.ends_with(&format!("::{end}")))
}

/// The string a path argument is written as: a literal, or a literal made a
/// path (`Path::new("data")`, `PathBuf::from("data")`), behind `&` or not.
fn literal_path(arg: ast::Expr) -> Option<String> {
    match arg {
        ast::Expr::Literal(literal) => {
            let ast::LiteralKind::String(s) = literal.kind() else {
                return None;
            };
            s.value().ok().map(|v| v.to_string())
        }
        ast::Expr::RefExpr(r) => literal_path(r.expr()?),
        ast::Expr::CallExpr(made) if callee_ends_with(&made, PATHS) => {
            literal_path(made.arg_list()?.args().next()?)
        }
        _ => None,
    }
}
