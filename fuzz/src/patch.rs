//! A unified-diff reader and applier, independent of the renderer it checks
//! (`knit_rewriter::diff`): what `git apply` would do with `knit.diff`.

use std::collections::BTreeMap;

/// One hunk: where it starts in the old file (1-based; 0 for an empty file)
/// and its lines, each with its tag (`' '`, `'-'`, `'+'`) and text with its
/// line break, if any.
#[derive(Debug)]
pub struct Hunk {
    pub old_start: usize,
    pub old_len: usize,
    pub new_len: usize,
    pub lines: Vec<(char, String)>,
}

/// The hunks of each file of `diff`, by its `b/` path.
pub fn parse(diff: &str) -> Result<BTreeMap<String, Vec<Hunk>>, String> {
    let mut files: BTreeMap<String, Vec<Hunk>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in diff.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            let path = rest
                .trim_end_matches('\n')
                .rsplit_once(" b/")
                .map(|(_, b)| b.to_string())
                .ok_or_else(|| format!("bad header {line:?}"))?;
            if files.insert(path.clone(), Vec::new()).is_some() {
                return Err(format!("{path} twice"));
            }
            current = Some(path);
        } else if line.starts_with("--- ")
            || line.starts_with("+++ ")
            || line.starts_with("new file mode")
        {
        } else if let Some(rest) = line.strip_prefix("@@ -") {
            let path = current.as_ref().ok_or("a hunk before a header")?;
            let (old, rest) = rest.split_once(" +").ok_or("bad hunk header")?;
            let new = rest.split_once(" @@").ok_or("bad hunk header")?.0;
            let (old_start, old_len) = range(old)?;
            let (_, new_len) = range(new)?;
            files.get_mut(path).expect("its header").push(Hunk {
                old_start,
                old_len,
                new_len,
                lines: Vec::new(),
            });
        } else if line.starts_with("\\ ") {
            // `\ No newline at end of file`: the line before has no break.
            let hunk = current
                .as_ref()
                .and_then(|p| files.get_mut(p)?.last_mut())
                .ok_or("a marker outside a hunk")?;
            let last = hunk.lines.last_mut().ok_or("a marker before any line")?;
            if last.1.ends_with('\n') {
                last.1.pop();
            }
        } else {
            let mut chars = line.chars();
            let tag = chars.next().ok_or("an empty line")?;
            if !matches!(tag, ' ' | '-' | '+') {
                return Err(format!("bad line {line:?}"));
            }
            let hunk = current
                .as_ref()
                .and_then(|p| files.get_mut(p)?.last_mut())
                .ok_or("a line outside a hunk")?;
            hunk.lines.push((tag, chars.as_str().to_string()));
        }
    }
    Ok(files)
}

/// `start,len` or `start` (length 1).
fn range(text: &str) -> Result<(usize, usize), String> {
    let number = |s: &str| s.parse::<usize>().map_err(|e| format!("{s:?}: {e}"));
    match text.split_once(',') {
        Some((start, len)) => Ok((number(start)?, number(len)?)),
        None => Ok((number(text)?, 1)),
    }
}

/// `old` with `hunks` applied, each at its recorded line exactly (knit's diff
/// is made from these very files: no fuzz factor).
pub fn apply(old: &str, hunks: &[Hunk]) -> Result<String, String> {
    let lines: Vec<&str> = old.split_inclusive('\n').collect();
    let mut out = String::with_capacity(old.len());
    let mut next = 0; // the next old line (0-based) not yet copied
    for hunk in hunks {
        let start = if hunk.old_len == 0 {
            hunk.old_start
        } else {
            hunk.old_start - 1
        };
        if start < next || start > lines.len() {
            return Err(format!("hunk at line {} out of order", hunk.old_start));
        }
        out.extend(lines[next..start].iter().copied());
        next = start;
        let (mut removed, mut added) = (0, 0);
        for (tag, text) in &hunk.lines {
            match tag {
                ' ' | '-' => {
                    let at = lines
                        .get(next)
                        .ok_or_else(|| format!("hunk at {} runs past the end", hunk.old_start))?;
                    if at != text {
                        return Err(format!(
                            "line {}: expected {text:?}, found {at:?}",
                            next + 1
                        ));
                    }
                    if *tag == ' ' {
                        out.push_str(text);
                        added += 1;
                    }
                    removed += 1;
                    next += 1;
                }
                _ => {
                    out.push_str(text);
                    added += 1;
                }
            }
        }
        if removed != hunk.old_len || added != hunk.new_len {
            return Err(format!("hunk at {} miscounts its lines", hunk.old_start));
        }
    }
    out.extend(lines[next..].iter().copied());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_what_it_parses() {
        let diff = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n\\ No newline at end of file\n\
                    diff --git a/n b/n\nnew file mode 100644\n--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+new\n";
        let files = parse(diff).unwrap();
        assert_eq!(apply("a\nb\nc", &files["x"]).unwrap(), "a\nB\nc");
        assert_eq!(apply("", &files["n"]).unwrap(), "new\n");
        assert!(apply("a\nx\nc", &files["x"]).is_err());
    }
}
