//! The parse-only baseline of `cargo xtask bench rewrite`: reads and parses every
//! `.rs` file under a folder with ra_ap_syntax (the version knit uses) exactly as
//! knit's loader parses a file (`parse.rs` is knit's own `rewriter/src/parse.rs`,
//! compiled in), in parallel on rayon's global pool (`RAYON_NUM_THREADS`), and
//! keeps the trees until the end, as the loader does. Prints the number of files,
//! bytes and syntax errors (the files with a lexer or parser error).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ra_ap_syntax::Edition;
use rayon::prelude::*;

mod parse;

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
    let Some(root) = std::env::args_os().nth(1) else {
        eprintln!("usage: knit-bench-parse-only DIR");
        return ExitCode::from(2);
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
            Ok((text.len(), parse::source_file(&text, Edition::Edition2021)))
        })
        .collect();
    let (mut bytes, mut errors) = (0, 0);
    for (path, result) in files.iter().zip(&parsed) {
        match result {
            Ok((len, (_tree, error))) => {
                bytes += len;
                if let Some(e) = error {
                    errors += 1;
                    eprintln!("{}: offset {:?}: {}", path.display(), e.offset, e.message);
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
