//! Errors as people read them on a terminal: the source line, a caret under
//! the place, a label and a `help:` line, as rustc shows them
//! (annotate-snippets); or one line each (`--error-format short`), for scripts,
//! editors and pre-commit.
//!
//! knit's messages put the way out last, in parentheses (`... (update the
//! service to tonic 0.14, or leave it out of the group)`): that part becomes the
//! `help:` line, and the subject before the first `: ` (`service `auth``) the
//! label under the caret.

use std::path::Path;

use annotate_snippets::{Level, Renderer, Snippet};

use crate::error::{Diagnostic, Error, shown};

/// How errors are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorFormat {
    /// With the source line, a caret, a label and a `help:` line.
    Human,
    /// One line each: `error: file:line:col: message`.
    Short,
}

/// `error` as `format` prints it, coloured when `color`.
pub fn render(error: &Error, format: ErrorFormat, color: bool) -> String {
    let mut text = String::new();
    for d in &error.0 {
        let rendered = match format {
            ErrorFormat::Short => None,
            ErrorFormat::Human => human(d, color),
        };
        match rendered {
            // A blank line after each diagnostic with source, as rustc prints them.
            Some(rendered) => text += &format!("{rendered}\n\n"),
            None => text += &format!("{d}\n"),
        }
    }
    text
}

/// `d` with its source line, when it points at a line of a file that can be
/// read.
fn human(d: &Diagnostic, color: bool) -> Option<String> {
    let file = d.file.as_deref()?;
    let (line, col) = d.line?;
    let source = source_line(file, line)?;
    let (message, help) = split_help(&d.message);
    let label = subject(message).unwrap_or("");
    let start = source
        .char_indices()
        .map(|(i, _)| i)
        .chain([source.len()])
        .find(|i| *i + 1 >= col)
        .unwrap_or(source.len());
    let end = word_end(&source, start);
    let origin = shown(file);
    let mut report = Level::Error.title(message).snippet(
        Snippet::source(&source)
            .line_start(line)
            .origin(&origin)
            .annotation(Level::Error.span(start..end).label(label)),
    );
    if let Some(help) = help {
        report = report.footer(Level::Help.title(help));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    Some(renderer.render(report).to_string())
}

/// Line `line` (1-based) of `file`, without its line break.
fn source_line(file: &Path, line: usize) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let found = text.split('\n').nth(line.checked_sub(1)?)?;
    Some(found.trim_end_matches('\r').to_string())
}

/// The end of the word or quoted string at `start` of `line` (at least one
/// character).
fn word_end(line: &str, start: usize) -> usize {
    let rest = &line[start..];
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return start + 1 + i + 1,
                _ => escaped = false,
            }
        }
    }
    let word: usize = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .map(char::len_utf8)
        .sum();
    let len = if word > 0 {
        word
    } else {
        rest.chars().next().map_or(0, char::len_utf8)
    };
    start + len
}

/// `message` without a trailing `(way out)`, and the way out.
fn split_help(message: &str) -> (&str, Option<&str>) {
    let Some(body) = message.strip_suffix(')') else {
        return (message, None);
    };
    // The `(` that opens the last parenthesised part.
    let mut depth = 0usize;
    for (i, c) in body.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth > 0 => depth -= 1,
            '(' => {
                let before = body[..i].trim_end();
                let help = &body[i + 1..];
                return if before.is_empty() || i == 0 || !body[..i].ends_with(' ') {
                    (message, None)
                } else {
                    (before, Some(help))
                };
            }
            _ => {}
        }
    }
    (message, None)
}

/// The subject of `message`: what comes before its first `: `, when short.
fn subject(message: &str) -> Option<&str> {
    let (subject, _) = message.split_once(": ")?;
    (subject.len() <= 48).then_some(subject)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trailing_parenthesis_is_the_way_out() {
        assert_eq!(
            split_help("service `a` uses tonic 0.9.2 (Cargo.lock): not supported yet (update it)"),
            (
                "service `a` uses tonic 0.9.2 (Cargo.lock): not supported yet",
                Some("update it")
            )
        );
        assert_eq!(split_help("calls `f(x)`"), ("calls `f(x)`", None));
        assert_eq!(split_help("no way out"), ("no way out", None));
        assert_eq!(split_help("(all of it)"), ("(all of it)", None));
    }

    #[test]
    fn a_diagnostic_shows_its_line_with_a_caret_label_and_help() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("knit.toml");
        std::fs::write(
            &plan,
            "[group]\nname = \"g\"\n\n[services.b.env]\nPORT = \"${PORT\"\n",
        )
        .unwrap();
        let d = Diagnostic::at(
            &plan,
            5,
            8,
            "service `b`: env `PORT`: unclosed `${` in `${PORT` (write `${VAR}`)",
        );
        let text = render(&Error(vec![d.clone()]), ErrorFormat::Human, false);
        let text = text.replace(&plan.display().to_string(), "knit.toml");
        assert_eq!(
            text,
            "error: service `b`: env `PORT`: unclosed `${` in `${PORT`\n \
             --> knit.toml:5:8\n  \
             |\n\
             5 | PORT = \"${PORT\"\n  \
             |        ^^^^^^^^ service `b`\n  \
             |\n  \
             = help: write `${VAR}`\n\n"
        );
        let short = render(&Error(vec![d]), ErrorFormat::Short, false);
        assert!(short.ends_with(
            "knit.toml:5:8: service `b`: env `PORT`: unclosed `${` in `${PORT` (write `${VAR}`)\n"
        ));
    }

    #[test]
    fn without_a_readable_line_it_is_one_line() {
        let d = Diagnostic::at("/nonexistent/knit.toml", 3, 1, "gone (way out)");
        assert_eq!(
            render(&Error(vec![d]), ErrorFormat::Human, false),
            "error: /nonexistent/knit.toml:3:1: gone (way out)\n"
        );
    }
}
