//! The plan parser on any text: a plan or a one-line error per problem.

use std::path::Path;

use knit_rewriter::plan::Plan;

use crate::properties::one_line_errors;

/// Parses `data` (lossy UTF-8) as `knit.toml`.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    if let Err(e) = Plan::parse(Path::new("fuzz/knit.toml"), text) {
        one_line_errors(&e);
    }
}
