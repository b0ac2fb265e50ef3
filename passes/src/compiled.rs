//! Whether a service's build compiles a piece of code: not test code (a
//! `#[test]` function, an item under `#[cfg(test)]`), nor an item under a
//! `#[cfg(..)]` that the features the build enables turn off
//! (`#[cfg(any(test, feature = "mock"))]` in a build without `mock`). Only
//! `test`, `feature = ".."`, `any`, `all` and `not` are told; any other
//! predicate (`unix`, `target_os = ".."`) may hold.

use std::collections::BTreeSet;

use ra_ap_syntax::ast::{self, HasAttrs};
use ra_ap_syntax::{AstNode, NodeOrToken, TextRange};

use crate::model::{FileId, Group};

/// Whether the code at `range` of `file` is left out of every build of the
/// services that reach the file: test code, or under a `#[cfg(..)]` false
/// in each such build.
pub fn not_compiled(group: &Group, file: FileId, range: TextRange) -> bool {
    let source = group.file(file);
    let Some(rust) = &source.rust else {
        return false;
    };
    let tree = rust.tree();
    let node = match tree.syntax().covering_element(range) {
        NodeOrToken::Node(node) => node,
        NodeOrToken::Token(token) => match token.parent() {
            Some(node) => node,
            None => return false,
        },
    };
    let attrs: Vec<ast::Attr> = node
        .ancestors()
        .filter_map(ast::AnyHasAttrs::cast)
        .flat_map(|item| item.attrs())
        .collect();
    let mut cfgs = Vec::new();
    for attr in &attrs {
        let text = crate::scan::compact(attr.syntax());
        if text == "#[test]" || text.ends_with("::test]") {
            return true;
        }
        if let Some(predicate) = text
            .strip_prefix("#[cfg(")
            .or_else(|| text.strip_prefix("#![cfg("))
            .and_then(|t| t.strip_suffix(")]"))
        {
            cfgs.push(predicate.to_string());
        }
    }
    if cfgs.is_empty() {
        return false;
    }
    source.owners().all(|owner| {
        let features = group.services[owner.service].packages[owner.package]
            .features
            .as_ref();
        cfgs.iter()
            .any(|p| Predicate::parse(p).and_then(|p| p.holds(features)) == Some(false))
    })
}

/// A `cfg` predicate, as far as knit tells it.
#[derive(Debug, PartialEq)]
enum Predicate {
    Test,
    Feature(String),
    Any(Vec<Predicate>),
    All(Vec<Predicate>),
    Not(Box<Predicate>),
    /// Anything else: it may hold.
    Other,
}

impl Predicate {
    /// `text` without spaces (`any(test,feature="mock")`).
    fn parse(text: &str) -> Option<Predicate> {
        let (predicate, rest) = Predicate::one(text)?;
        rest.is_empty().then_some(predicate)
    }

    /// The predicate at the start of `text`, and the text after it.
    fn one(text: &str) -> Option<(Predicate, &str)> {
        let end = text
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let (name, rest) = text.split_at(end);
        if let Some(rest) = rest.strip_prefix("=\"") {
            let close = rest.find('"')?;
            let value = &rest[..close];
            let predicate = match name {
                "feature" => Predicate::Feature(value.to_string()),
                _ => Predicate::Other,
            };
            return Some((predicate, &rest[close + 1..]));
        }
        if let Some(mut rest) = rest.strip_prefix('(') {
            let mut list = Vec::new();
            loop {
                if let Some(after) = rest.strip_prefix(')') {
                    rest = after;
                    break;
                }
                let (item, after) = Predicate::one(rest)?;
                list.push(item);
                rest = after.strip_prefix(',').unwrap_or(after);
            }
            let predicate = match name {
                "any" => Predicate::Any(list),
                "all" => Predicate::All(list),
                "not" if list.len() == 1 => Predicate::Not(Box::new(list.pop()?)),
                _ => return None,
            };
            return Some((predicate, rest));
        }
        if name.is_empty() {
            return None;
        }
        let predicate = match name {
            "test" => Predicate::Test,
            _ => Predicate::Other,
        };
        Some((predicate, rest))
    }

    /// Whether it holds in a build (not a test build) with `features`, when
    /// knit tells.
    fn holds(&self, features: Option<&BTreeSet<String>>) -> Option<bool> {
        match self {
            Predicate::Test => Some(false),
            Predicate::Feature(f) => features.map(|all| all.contains(f)),
            Predicate::Other => None,
            Predicate::Not(p) => p.holds(features).map(|v| !v),
            Predicate::Any(list) => {
                let values: Vec<Option<bool>> = list.iter().map(|p| p.holds(features)).collect();
                if values.contains(&Some(true)) {
                    Some(true)
                } else if values.iter().all(|v| *v == Some(false)) {
                    Some(false)
                } else {
                    None
                }
            }
            Predicate::All(list) => {
                let values: Vec<Option<bool>> = list.iter().map(|p| p.holds(features)).collect();
                if values.contains(&Some(false)) {
                    Some(false)
                } else if values.iter().all(|v| *v == Some(true)) {
                    Some(true)
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::Predicate;

    fn holds(text: &str, features: Option<&[&str]>) -> Option<bool> {
        let features: Option<BTreeSet<String>> =
            features.map(|f| f.iter().map(|s| s.to_string()).collect());
        let text: String = text.split_whitespace().collect();
        Predicate::parse(&text)?.holds(features.as_ref())
    }

    /// The features of a path dependency: what the binary's package asks,
    /// without its defaults, what the binary's required features ask, and
    /// what those turn on.
    #[test]
    fn a_dependency_has_the_features_its_dependents_ask_for() {
        let group = crate::fixture::group(
            r#"
//- /svc/Cargo.toml
[package]
name = "svc"
edition = "2021"
[dependencies]
kit = { path = "kit", default-features = false, features = ["grpc"] }
[features]
server = ["kit/mock"]
[[bin]]
name = "svc"
path = "src/main.rs"
required-features = ["server"]
//- /svc/src/main.rs
fn main() { kit::run(); }
//- /svc/kit/Cargo.toml
[package]
name = "kit"
edition = "2021"
[features]
default = ["json"]
json = []
grpc = ["tls"]
tls = []
mock = []
//- /svc/kit/src/lib.rs
pub fn run() {}
"#,
        );
        let features: Vec<String> = group.services[0]
            .packages
            .iter()
            .map(|p| format!("{}: {:?}", p.name, p.features))
            .collect();
        expect_test::expect![[r#"
            svc: Some({"server"})
            kit: Some({"grpc", "mock", "tls"})"#]]
        .assert_eq(&features.join("\n"));
    }

    #[test]
    fn predicates_hold_as_cargo_builds_them() {
        assert_eq!(holds("test", Some(&[])), Some(false));
        assert_eq!(holds(r#"feature = "mock""#, Some(&[])), Some(false));
        assert_eq!(holds(r#"feature = "mock""#, Some(&["mock"])), Some(true));
        assert_eq!(holds(r#"feature = "mock""#, None), None);
        assert_eq!(
            holds(r#"any(test, feature = "mock")"#, Some(&["x"])),
            Some(false)
        );
        assert_eq!(
            holds(r#"any(test, feature = "mock")"#, Some(&["mock"])),
            Some(true)
        );
        assert_eq!(holds(r#"any(test, unix)"#, Some(&[])), None);
        assert_eq!(
            holds(r#"all(unix, feature = "mock")"#, Some(&[])),
            Some(false)
        );
        assert_eq!(holds(r#"not(feature = "mock")"#, Some(&[])), Some(true));
        assert_eq!(holds(r#"target_os = "linux""#, Some(&[])), None);
        assert_eq!(holds("any(test,", Some(&[])), None);
    }
}
