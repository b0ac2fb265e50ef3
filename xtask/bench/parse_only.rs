//! The parse-only baselines of `cargo xtask bench rewrite`: read and parse every
//! `.rs` file under a folder with ra_ap_syntax (the version knit uses), in
//! parallel on rayon's global pool (`RAYON_NUM_THREADS`), keeping the trees until
//! the end, as knit's loader does. Neither runs rust-analyzer's validation, which
//! knit does not run either. Two ways to build the trees:
//!
//! - `plain`: a tree builder of its own for each file, as `SourceFile::parse`
//!   builds it (ra_ap_syntax's `SyntaxTreeBuilder`);
//! - `knit`: knit's own `load/src/parse.rs`, compiled in: the trees a thread
//!   builds share one node cache.
//!
//! Prints the number of files, bytes and syntax errors (the files with a lexer or
//! parser error).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ra_ap_syntax::{Edition, GreenNode, SyntaxTreeBuilder};
use rayon::prelude::*;

mod nesting;
mod parse;

/// `text`'s tree built by a builder of its own, and the first lexer or parser
/// error.
fn plain(text: &str, edition: Edition) -> (GreenNode, Option<String>) {
    let lexed = ra_ap_parser::LexedStr::new(edition, text);
    let input = lexed.to_input(edition);
    let output = ra_ap_parser::TopEntryPoint::SourceFile.parse(&input);
    let mut builder = SyntaxTreeBuilder::default();
    let mut first = None;
    lexed.intersperse_trivia(&output, &mut |step| match step {
        ra_ap_parser::StrStep::Token { kind, text } => builder.token(kind, text),
        ra_ap_parser::StrStep::Enter { kind } => builder.start_node(kind),
        ra_ap_parser::StrStep::Exit => builder.finish_node(),
        ra_ap_parser::StrStep::Error { msg, .. } => {
            first.get_or_insert_with(|| msg.to_string());
        }
    });
    let first = first.or_else(|| Some(lexed.errors().next()?.1.to_string()));
    let green = builder.finish().syntax_node().green().to_owned();
    (green, first)
}

/// `text` parsed by knit's loader.
fn knit(text: &str, edition: Edition) -> (GreenNode, Option<String>) {
    let (green, error) = parse::source_file(text, edition);
    (green, error.map(|e| format!("offset {:?}: {}", e.offset, e.message)))
}

/// Every `.rs` file under `dir`, build output and `.git` aside.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                rust_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let (parser, root): (fn(&str, Edition) -> _, _) = match args.as_slice() {
        [mode, root] if mode == "plain" => (plain, root),
        [mode, root] if mode == "knit" => (knit, root),
        _ => {
            eprintln!("usage: knit-bench-parse-only plain|knit DIR");
            return ExitCode::from(2);
        }
    };
    let mut files = Vec::new();
    if let Err(e) = rust_files(Path::new(&root), &mut files) {
        eprintln!("cannot list {}: {e}", Path::new(&root).display());
        return ExitCode::from(2);
    }
    files.sort();
    let parsed: Vec<Result<(usize, _), String>> = files
        .par_iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Ok((text.len(), parser(&text, Edition::Edition2021)))
        })
        .collect();
    let (mut bytes, mut errors) = (0, 0);
    for (path, result) in files.iter().zip(&parsed) {
        match result {
            Ok((len, (_tree, error))) => {
                bytes += len;
                if let Some(e) = error {
                    errors += 1;
                    eprintln!("{}: {e}", path.display());
                }
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    println!(
        "{} files, {bytes} bytes, {errors} syntax errors",
        files.len()
    );
    if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
