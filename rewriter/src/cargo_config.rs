//! The Cargo configuration the services' builds read from their repositories
//! (`.cargo/config.toml` in a workspace's folder and the folders above it:
//! `rustflags = ["--cfg", "tokio_unstable"]`, `[env]`, linkers), as one file at
//! the output's root, which Cargo reads when the merged workspace is built
//! from there.

use toml_edit::{DocumentMut, Item, Value};

/// Where the merged configuration goes in the output.
pub const PATH: &str = ".cargo/config.toml";

/// The configuration of `configs` ((service name, text), in the order they
/// take precedence: the group's services in plan order, each one's deepest
/// first), and notes on what two of them set differently. One text, or
/// several equal, is kept as written; several are merged: tables key by key,
/// arrays joined (`rustflags` of each), and of two different values the
/// first (the first service's).
pub fn merged(configs: &[(&str, &str)]) -> Option<(String, Vec<String>)> {
    let (_, first) = configs.first()?;
    if configs.iter().all(|(_, text)| text == first) {
        return Some((first.to_string(), Vec::new()));
    }
    let mut notes = Vec::new();
    let mut into = DocumentMut::new();
    let mut owner: Vec<(String, String)> = Vec::new();
    for (service, text) in configs {
        let Ok(doc) = text.parse::<DocumentMut>() else {
            notes.push(format!(
                "`{service}`'s Cargo configuration does not parse as TOML: the merged build does without it"
            ));
            continue;
        };
        merge_table(
            into.as_table_mut(),
            doc.as_table(),
            "",
            service,
            &mut owner,
            &mut notes,
        );
    }
    Some((into.to_string(), notes))
}

fn merge_table(
    into: &mut toml_edit::Table,
    from: &toml_edit::Table,
    prefix: &str,
    service: &str,
    owner: &mut Vec<(String, String)>,
    notes: &mut Vec<String>,
) {
    for (key, item) in from.iter() {
        let path = match prefix {
            "" => key.to_string(),
            _ => format!("{prefix}.{key}"),
        };
        match (into.get_mut(key), item) {
            (None, _) => {
                into.insert(key, item.clone());
                owner.push((path, service.to_string()));
            }
            (Some(Item::Table(mine)), Item::Table(theirs)) => {
                merge_table(mine, theirs, &path, service, owner, notes)
            }
            (Some(Item::Value(Value::Array(mine))), Item::Value(Value::Array(theirs))) => {
                for value in theirs.iter() {
                    let text = value.to_string();
                    if !mine.iter().any(|v| v.to_string().trim() == text.trim()) {
                        mine.push(value.clone());
                    }
                }
            }
            (Some(mine), theirs) => {
                if mine.to_string().trim() != theirs.to_string().trim() {
                    // Whoever set it, or a table holding it, first.
                    let first = owner
                        .iter()
                        .find(|(p, _)| *p == path || path.starts_with(&format!("{p}.")))
                        .map_or("another service", |(_, s)| s.as_str());
                    notes.push(format!(
                        "Cargo configuration: `{path}` is {} for `{first}` and {} for `{service}`: the merged build takes `{first}`'s",
                        mine.to_string().trim(),
                        theirs.to_string().trim()
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_configuration_is_kept_as_written() {
        let text =
            "# tokio's unstable APIs\n[build]\nrustflags = [\"--cfg\", \"tokio_unstable\"]\n";
        assert_eq!(
            merged(&[("a", text), ("b", text)]),
            Some((text.to_string(), Vec::new()))
        );
        assert_eq!(merged(&[]), None);
    }

    #[test]
    fn several_are_merged_arrays_joined_the_first_value_kept() {
        let a = "[build]\nrustflags = [\"--cfg\", \"tokio_unstable\"]\n[env]\nRUST_MIN_STACK = \"8388608\"\n";
        let b = "[build]\nrustflags = [\"--cfg\", \"tokio_unstable\", \"-W\", \"unreachable-pub\"]\n[env]\nRUST_MIN_STACK = \"4194304\"\n[alias]\nci = \"test --workspace\"\n";
        let (text, notes) = merged(&[("ledger", a), ("teller", b)]).unwrap();
        assert_eq!(
            text,
            "[build]\nrustflags = [\"--cfg\", \"tokio_unstable\", \"-W\", \"unreachable-pub\"]\n[env]\nRUST_MIN_STACK = \"8388608\"\n[alias]\nci = \"test --workspace\"\n"
        );
        assert_eq!(
            notes,
            [
                "Cargo configuration: `env.RUST_MIN_STACK` is \"8388608\" for `ledger` and \"4194304\" for `teller`: the merged build takes `ledger`'s"
            ]
        );
    }
}
