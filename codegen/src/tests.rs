//! Fixture tests: one per generated shape.

use expect_test::{Expect, expect};

use crate::*;

fn check(input: Input, expect: Expect) {
    let support = support(&input);
    let mut out = String::new();
    for (path, text) in &support.files {
        if path.starts_with(names::RUNTIME_DIR) && !path.ends_with("Cargo.toml") {
            continue;
        }
        out.push_str(&format!("//- /{path}\n{text}"));
    }
    for note in &support.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    expect.assert_eq(&out);
}

#[test]
fn smoke() {
    check(Input::default(), expect![[""]]);
}
