//! Errors as knit prints them: one line each, naming the file, line and reason.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with knit's input (or its own output), rustc-style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: Option<PathBuf>,
    /// 1-based line and column, when known.
    pub line: Option<(usize, usize)>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            file: None,
            line: None,
            message: message.into(),
        }
    }

    pub fn in_file(file: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self {
            file: Some(file.as_ref().to_path_buf()),
            line: None,
            message: message.into(),
        }
    }

    pub fn at(file: impl AsRef<Path>, line: usize, col: usize, message: impl Into<String>) -> Self {
        Self {
            file: Some(file.as_ref().to_path_buf()),
            line: Some((line, col)),
            message: message.into(),
        }
    }

    /// The diagnostic at byte `offset` of `text`, the contents of `file`.
    pub fn at_offset(
        file: impl AsRef<Path>,
        text: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> Self {
        let (line, col) = line_col(text, offset);
        Self::at(file, line, col, message)
    }
}

/// 1-based line and column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// `path` as errors name it: as it is, or quoted with Rust's escapes when it
/// holds a control character (a line break would split the one-line error).
pub fn shown(path: &Path) -> String {
    let text = path.to_string_lossy();
    if text.chars().any(char::is_control) {
        format!("{text:?}")
    } else {
        text.into_owned()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("error: ")?;
        if let Some(file) = &self.file {
            f.write_str(&shown(file))?;
            if let Some((line, col)) = self.line {
                write!(f, ":{line}:{col}")?;
            }
            f.write_str(": ")?;
        }
        // A path a message quotes may hold a line break too: one line each.
        f.write_str(&self.message.replace('\n', "\\n").replace('\r', "\\r"))
    }
}

/// One or more diagnostics: why a command failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub Vec<Diagnostic>);

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error(vec![d])
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
