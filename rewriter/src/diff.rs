//! The reviewable diff: unified, with `a/` and `b/` paths relative to the plan's
//! folder, so that it applies there with `git apply` or `patch -p1`.

use rayon::prelude::*;
use similar::TextDiff;

use crate::merge::Change;

/// The unified diff of `changes`, each file's part rendered in parallel.
pub fn render(changes: &[Change]) -> String {
    let parts: Vec<String> = changes.par_iter().map(render_change).collect();
    parts.concat()
}

/// The part of the diff for one changed file.
fn render_change(change: &Change) -> String {
    let old = change.old.as_deref().unwrap_or("");
    let (from, to) = match change.old {
        Some(_) => (format!("a/{}", change.path), format!("b/{}", change.path)),
        None => ("/dev/null".to_string(), format!("b/{}", change.path)),
    };
    let mut out = format!("diff --git a/{0} b/{0}\n", change.path);
    if change.old.is_none() {
        out.push_str("new file mode 100644\n");
    }
    // Lines end at `\n` only, as `git apply` and `patch` read them
    // (`TextDiff::from_lines` also ends one at a lone `\r`).
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = change.new.split_inclusive('\n').collect();
    let diff = TextDiff::configure()
        .newline_terminated(true)
        .diff_slices(&old_lines, &new_lines);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&from, &to)
        .to_string();
    out.push_str(&text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// `diff` with ANSI colours, for a terminal.
pub fn colorize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.split_inclusive('\n') {
        let color = if line.starts_with("+++")
            || line.starts_with("---")
            || line.starts_with("diff ")
            || line.starts_with("new file")
        {
            "\x1b[1m"
        } else if line.starts_with('+') {
            "\x1b[32m"
        } else if line.starts_with('-') {
            "\x1b[31m"
        } else if line.starts_with("@@") {
            "\x1b[36m"
        } else {
            ""
        };
        if color.is_empty() {
            out.push_str(line);
        } else {
            let (body, nl) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
            out.push_str(&format!("{color}{body}\x1b[0m{nl}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_changed_files() {
        let changes = vec![
            Change {
                path: "a/src/main.rs".into(),
                old: Some("one\ntwo\n".into()),
                new: "one\n2\n".into(),
            },
            Change {
                path: "a/src/new.rs".into(),
                old: None,
                new: "fn x() {}\n".into(),
            },
        ];
        assert_eq!(
            render(&changes),
            "diff --git a/a/src/main.rs b/a/src/main.rs\n--- a/a/src/main.rs\n+++ b/a/src/main.rs\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n\
             diff --git a/a/src/new.rs b/a/src/new.rs\nnew file mode 100644\n--- /dev/null\n+++ b/a/src/new.rs\n@@ -0,0 +1 @@\n+fn x() {}\n"
        );
    }

    /// A lone `\r` (a bare carriage return in a comment or literal) is no line
    /// break: the diff counts lines as `git apply` does (found by the `passes`
    /// fuzzer).
    #[test]
    fn a_lone_carriage_return_ends_no_line() {
        let changes = vec![Change {
            path: "m.rs".into(),
            old: Some("// a\rb\nc\n".into()),
            new: "// a\rb\nC\n".into(),
        }];
        assert_eq!(
            render(&changes),
            "diff --git a/m.rs b/m.rs\n--- a/m.rs\n+++ b/m.rs\n@@ -1,2 +1,2 @@\n // a\rb\n-c\n+C\n"
        );
    }
}
