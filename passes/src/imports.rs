//! Imports that knit's edits leave unused are removed, so that a merged build
//! compiles without new warnings; so is a private inline module left empty by
//! that (`mod api { pub use ..::XClient; }`), unless a comment of its own is in
//! it or other code of the package spells its name.
//!
//! An imported name is unused after the edits when every token of that name
//! outside `use` items lies inside a range an edit replaced. Any other
//! occurrence, in code or in a macro's tokens, keeps the import. A glob import
//! of a generated client module of a proto module (`use pb::greeter_client::*`
//! where `pb` includes the package) imports one name, the client's: tonic's
//! client module has no other public item.
//!
//! A file that `include!`s a file of the package pastes in text knit does not
//! read, which may name any import or module of its service: no import of that
//! service is removed. `include!`s of the build's generated code (`OUT_DIR`)
//! and those inside what an edit replaces do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use rayon::prelude::*;

use ra_ap_syntax::ast::{self, HasModuleItem, HasName, HasVisibility};
use ra_ap_syntax::{AstNode, AstToken, SyntaxKind, SyntaxNode, TextRange, TextSize};

use crate::edit::{Edit, Output};
use crate::model::{FileId, Group, PerService, ServiceId};
use crate::names::{ProtoModule, snake_case, upper_camel};
use crate::pass::PassId;
use crate::scan::Words;

const PASS: PassId = PassId::Imports;

/// The removals of imports that `edits` leave unused; `proto_modules`: the
/// group's modules that include a proto package.
pub fn prune(group: &Group, proto_modules: &[ProtoModule], edits: &[Edit]) -> Output {
    let mut out = Output::default();
    let mut by_file: BTreeMap<FileId, Vec<TextRange>> = BTreeMap::new();
    for e in edits.iter().filter(|e| !e.range.is_empty()) {
        by_file.entry(e.file).or_default().push(e.range);
    }
    // Names the edits write at the start of a path, which keep their imports.
    let mut written: BTreeMap<FileId, Vec<&str>> = BTreeMap::new();
    for e in edits {
        written
            .entry(e.file)
            .or_default()
            .extend(path_starts(&e.text));
    }
    // The services with a file that pastes in text knit does not read.
    let pasting: BTreeSet<ServiceId> = (0..group.files.len() as u32)
        .into_par_iter()
        .map(FileId)
        .filter(|id| {
            let replaced = by_file.get(id).map_or(&[][..], Vec::as_slice);
            includes_unread(group, *id, replaced)
        })
        .map(|id| group.file(id).service)
        .collect();
    let files: Vec<(FileId, Vec<TextRange>)> = by_file.into_iter().collect();
    let clients = client_modules(group, proto_modules);
    let outputs: Vec<Output> = files
        .par_iter()
        .filter(|(file, _)| !pasting.contains(&group.file(*file).service))
        .map(|(file, replaced)| {
            let written = written.get(file).map_or(&[][..], Vec::as_slice);
            let service = group.file(*file).service;
            prune_file(group, *file, replaced, written, &clients[service])
        })
        .collect();
    for mut output in outputs {
        // An import inside what an edit replaces whole (a file of generated
        // code checked in) goes with it.
        output.edits.retain(|removal| {
            !edits.iter().any(|e| {
                e.file == removal.file
                    && e.range != removal.range
                    && e.range.contains_range(removal.range)
            })
        });
        out.extend(output);
    }
    out
}

/// Per service, the generated client modules a glob may import and the client
/// each holds: (`pb`, `greeter_client`) -> `GreeterClient`, where module `pb`
/// includes the package of service `Greeter`.
fn client_modules(group: &Group, proto_modules: &[ProtoModule]) -> PerService<ClientModules> {
    let mut modules = PerService::of(group, |_| ClientModules::new());
    for m in proto_modules {
        let Some(parent) = m.module.last() else {
            continue;
        };
        let services = group.services[m.service]
            .protos
            .iter()
            .filter(|p| p.package == m.package)
            .flat_map(|p| &p.services);
        for s in services {
            let module = format!("{}_client", snake_case(&s.name));
            modules[m.service].insert(
                (parent.clone(), module),
                format!("{}Client", upper_camel(&s.name)),
            );
        }
    }
    modules
}

/// (proto module, client module) -> the client's name.
type ClientModules = BTreeMap<(String, String), String>;

/// Whether `file` pastes in a file knit does not read: an `include!` outside
/// the `replaced` ranges whose tokens do not name `OUT_DIR`.
fn includes_unread(group: &Group, file: FileId, replaced: &[TextRange]) -> bool {
    let source = group.file(file);
    let Some(rust) = &source.rust else {
        return false;
    };
    static INCLUDE: LazyLock<Words> = LazyLock::new(|| Words::new(["include"]));
    let offsets = INCLUDE.offsets(&source.text);
    if offsets.is_empty() {
        return false;
    }
    let tree = rust.tree();
    crate::scan::nodes_of_kinds(tree.syntax(), &[SyntaxKind::MACRO_CALL], &offsets)
        .into_iter()
        .filter_map(ast::MacroCall::cast)
        .any(|call| {
            let named = call
                .path()
                .and_then(|p| p.segment())
                .is_some_and(|s| s.syntax().text() == "include");
            let range = call.syntax().text_range();
            named
                && !call
                    .token_tree()
                    .is_some_and(|t| t.syntax().text().to_string().contains("OUT_DIR"))
                && !replaced.iter().any(|r| r.contains_range(range))
        })
}

/// The removals of imports of `file` that the edits replacing `replaced` leave
/// unused, but those naming what the edits write (`written`). `clients`: see
/// [`client_modules`].
fn prune_file(
    group: &Group,
    file: FileId,
    replaced: &[TextRange],
    written: &[&str],
    clients: &ClientModules,
) -> Output {
    let mut out = Output::default();
    let source = group.file(file);
    let Some(rust) = &source.rust else {
        return out;
    };
    let tree = rust.tree();
    let words = crate::scan::USE.offsets(&source.text);
    let uses: Vec<ast::Use> =
        crate::scan::nodes_of_kinds(tree.syntax(), &[SyntaxKind::USE], &words)
            .into_iter()
            .filter_map(ast::Use::cast)
            .collect();
    let mut imported: BTreeSet<String> = uses
        .iter()
        .filter_map(|u| u.use_tree())
        .flat_map(|root| {
            root.syntax()
                .descendants()
                .filter_map(ast::UseTree::cast)
                .collect::<Vec<_>>()
        })
        .filter_map(|leaf| imported_name(&leaf, clients))
        .collect();
    // Only a name spelled in a replaced range can lose all its uses (spelled
    // as a part of the range's text: raw or not, whatever its characters).
    imported.retain(|name| {
        let name = name.strip_prefix("r#").unwrap_or(name);
        replaced.iter().any(|r| source.text[*r].contains(name))
    });
    if imported.is_empty() {
        return out;
    }
    let spelled = Words::new(&imported).offsets(&source.text);
    let occurrences = occurrences(tree.syntax(), &imported, &spelled);
    let became_unused = |leaf: &ast::UseTree| {
        let Some(name) = imported_name(leaf, clients) else {
            return false;
        };
        let uses = occurrences.get(&name).map_or(&[][..], Vec::as_slice);
        !uses.is_empty()
            && uses
                .iter()
                .all(|u| replaced.iter().any(|r| r.contains_range(*u)))
    };
    // Whole `use` items left unused: removed after the loop, with the module
    // they leave empty where there is one.
    let mut removed: Vec<ast::Use> = Vec::new();
    for item in uses {
        let Some(root) = item.use_tree() else {
            continue;
        };
        let leaves: Vec<ast::UseTree> = root
            .syntax()
            .descendants()
            .filter_map(ast::UseTree::cast)
            .filter(|tree| is_leaf(tree) || tree.star_token().is_some())
            .collect();
        let unused: Vec<ast::UseTree> = leaves
            .iter()
            .filter(|leaf| became_unused(leaf))
            .filter(|leaf| {
                imported_name(leaf, clients).is_some_and(|n| !written.contains(&n.as_str()))
            })
            .cloned()
            .collect();
        if unused.is_empty() {
            continue;
        }
        if unused.len() == leaves.len() {
            removed.push(item);
            continue;
        }
        for list in root
            .syntax()
            .descendants()
            .filter_map(ast::UseTreeList::cast)
        {
            let entries: Vec<ast::UseTree> = list.use_trees().collect();
            let gone: Vec<&ast::UseTree> = entries.iter().filter(|e| unused.contains(e)).collect();
            let kept: Vec<&ast::UseTree> = entries.iter().filter(|e| !unused.contains(e)).collect();
            match (gone.is_empty(), kept.as_slice()) {
                (true, _) => {}
                // `{self, GreeterClient}` -> (nothing): `use hello::greeter_client;`
                (false, [only]) if only.syntax().text() == "self" => {
                    let parent = ast::UseTree::cast(list.syntax().parent().unwrap()).unwrap();
                    let start = parent
                        .coloncolon_token()
                        .map_or(list.syntax().text_range().start(), |t| {
                            t.text_range().start()
                        });
                    let range = TextRange::new(start, list.syntax().text_range().end());
                    out.edit(PASS, file, range, "", "import left unused by knit's edits");
                }
                // `{Channel, Server}` -> `Server`
                (false, [only]) if is_leaf(only) => {
                    let text = only.syntax().text().to_string();
                    out.edit(
                        PASS,
                        file,
                        list.syntax().text_range(),
                        text,
                        "import left unused by knit's edits",
                    );
                }
                (false, _) => {
                    for leaf in gone {
                        out.edit(
                            PASS,
                            file,
                            list_entry_range(leaf),
                            "",
                            "import left unused by knit's edits",
                        );
                    }
                }
            }
        }
    }
    let emptied = emptied_modules(group, file, &removed, (replaced, written));
    for item in &removed {
        if !emptied.iter().any(|m| {
            m.syntax()
                .text_range()
                .contains_range(item.syntax().text_range())
        }) {
            let range = with_trailing_line_break(item.syntax());
            out.edit(PASS, file, range, "", "import left unused by knit's edits");
        }
    }
    for module in emptied {
        let range = item_with_its_lines(module.syntax());
        out.edit(PASS, file, range, "", "module left empty by knit's edits");
    }
    // In the file's order, as the report lists them.
    out.edits.sort_by_key(|e| e.range.start());
    out
}

/// The private inline modules of `file` that held nothing but the `use` items
/// in `removed` (and no comment but its doc comments), and whose name no other
/// code of the service spells and no edit writes: removed whole rather than
/// left as `mod api { }`.
fn emptied_modules(
    group: &Group,
    file: FileId,
    removed: &[ast::Use],
    (replaced, written): (&[TextRange], &[&str]),
) -> Vec<ast::Module> {
    let mut modules: Vec<ast::Module> = removed
        .iter()
        .filter_map(|u| u.syntax().parent()?.parent())
        .filter_map(ast::Module::cast)
        .collect();
    modules.dedup();
    modules.retain(|module| {
        let (Some(name), Some(list)) = (module.name(), module.item_list()) else {
            return false;
        };
        let only_removed_uses = list.items().all(|item| match item {
            ast::Item::Use(u) => removed.contains(&u),
            _ => false,
        });
        // A comment inside, or a plain comment attached above (the item's own
        // doc comments go with it).
        let inside = list
            .syntax()
            .descendants_with_tokens()
            .any(|t| t.kind() == SyntaxKind::COMMENT);
        let above = module
            .syntax()
            .children_with_tokens()
            .filter_map(|t| t.into_token().and_then(ast::Comment::cast))
            .any(|c| c.kind().doc.is_none());
        let commented = inside || above;
        let name = name.text();
        let name = name.trim_start_matches("r#");
        only_removed_uses
            && !commented
            && module.visibility().is_none()
            && !written.contains(&name)
            && !spelled_elsewhere(group, file, name, module, replaced)
    });
    modules
}

/// Whether the service of `file` spells `name` outside `module` and outside
/// the ranges of `file` an edit replaced.
fn spelled_elsewhere(
    group: &Group,
    file: FileId,
    name: &str,
    module: &ast::Module,
    replaced: &[TextRange],
) -> bool {
    let source = group.file(file);
    let own = module.syntax().text_range();
    let words = Words::new([name]);
    group
        .files
        .iter()
        .filter(|f| f.service == source.service)
        .any(|f| {
            words.offsets(&f.text).iter().any(|&at| {
                let at = TextRange::at(at, TextSize::of(name));
                !std::ptr::eq(f, source)
                    || !(own.contains_range(at) || replaced.iter().any(|r| r.contains_range(at)))
            })
        })
}

/// An item's whole text (its doc comments and attributes too) with its line,
/// and one of the blank lines around it when there is one on each side.
fn item_with_its_lines(node: &SyntaxNode) -> TextRange {
    let range = node.text_range();
    let before = whitespace(node.prev_sibling_or_token());
    let after = whitespace(node.next_sibling_or_token());
    let start = range.start() - indent(&before);
    // The line break that ends the item, and a blank line after it when one
    // comes before it too (`\n` or `\r\n` alike).
    let first = line_break(&after);
    let second = line_break(&after[first..]);
    let blank_before = before.contains("\n\n") || before.contains("\n\r\n");
    let taken = if blank_before && second > 0 {
        first + second
    } else {
        first
    };
    TextRange::new(start, range.end() + TextSize::from(taken as u32))
}

/// The length of the line break `text` starts with: `\n`, `\r\n`, or none.
fn line_break(text: &str) -> usize {
    if text.starts_with('\n') {
        1
    } else if text.starts_with("\r\n") {
        2
    } else {
        0
    }
}

/// The text of `element` when it is whitespace; empty otherwise.
fn whitespace(element: Option<ra_ap_syntax::SyntaxElement>) -> String {
    element
        .filter(|ws| ws.kind() == SyntaxKind::WHITESPACE)
        .map(|ws| ws.to_string())
        .unwrap_or_default()
}

/// The indentation that ends `whitespace` (what follows its last newline),
/// when it is only spaces and tabs.
fn indent(whitespace: &str) -> TextSize {
    let len = whitespace
        .rfind('\n')
        .map(|i| &whitespace[i + 1..])
        .filter(|indent| indent.chars().all(|c| c == ' ' || c == '\t'))
        .map_or(0, str::len);
    TextSize::from(len as u32)
}

fn is_leaf(tree: &ast::UseTree) -> bool {
    tree.use_tree_list().is_none() && tree.star_token().is_none()
}

/// The identifiers of `text` that are not preceded by `::`: names that must be
/// in scope where the text is written.
fn path_starts(text: &str) -> impl Iterator<Item = &str> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut rest = text;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find(is_ident)?;
            let len = rest[start..]
                .find(|c| !is_ident(c))
                .unwrap_or(rest.len() - start);
            let (before, name) = (&rest[..start], &rest[start..start + len]);
            rest = &rest[start + len..];
            if !before.trim_end().ends_with("::") {
                return Some(name);
            }
        }
    })
}

/// The name `tree` brings into scope: a leaf's, or the client's of a glob
/// import of a generated client module.
fn imported_name(tree: &ast::UseTree, clients: &ClientModules) -> Option<String> {
    if tree.star_token().is_none() {
        return is_leaf(tree).then(|| local_name(tree)).flatten();
    }
    let path = tree.path()?;
    let module = path.segment()?.name_ref()?.text().to_string();
    let parent = path.qualifier()?.segment()?.name_ref()?.text().to_string();
    clients.get(&(parent, module)).cloned()
}

/// The name a leaf brings into scope.
fn local_name(leaf: &ast::UseTree) -> Option<String> {
    if let Some(rename) = leaf.rename() {
        return rename.name().map(|n| n.text().to_string());
    }
    let segment = leaf.path()?.segment()?;
    let name = segment.name_ref()?.text().to_string();
    (name != "self").then_some(name)
}

/// Where each of `names` occurs as an identifier outside `use` items.
/// `spelled`: the offsets of `names` in the file's text.
fn occurrences(
    root: &SyntaxNode,
    names: &BTreeSet<String>,
    spelled: &[TextSize],
) -> BTreeMap<String, Vec<TextRange>> {
    let mut found: BTreeMap<String, Vec<TextRange>> = BTreeMap::new();
    for (name, range) in crate::scan::idents_named(root, names, SyntaxKind::USE, spelled) {
        found.entry(name.to_string()).or_default().push(range);
    }
    found
}

/// The item `node` with the rest of its line: the indentation before it, when
/// it starts a line, and the line break after it.
fn with_trailing_line_break(node: &SyntaxNode) -> TextRange {
    let range = crate::edit::code_range(node);
    let line_break_len = line_break(&whitespace(node.next_sibling_or_token()));
    if line_break_len == 0 {
        return range;
    }
    let start = range.start() - indent(&whitespace(node.prev_sibling_or_token()));
    TextRange::new(start, range.end() + TextSize::from(line_break_len as u32))
}

/// An entry of a `{..}` list with the comma and space that separate it.
fn list_entry_range(leaf: &ast::UseTree) -> TextRange {
    let range = leaf.syntax().text_range();
    let mut end = range.end();
    let mut next = leaf.syntax().next_sibling_or_token();
    let mut took_comma = false;
    while let Some(el) = next {
        match el.kind() {
            SyntaxKind::COMMA if !took_comma => took_comma = true,
            SyntaxKind::WHITESPACE if took_comma => {}
            _ => break,
        }
        end = el.text_range().end();
        next = el.next_sibling_or_token();
    }
    if took_comma {
        return TextRange::new(range.start(), end);
    }
    // The last entry: take the comma before it instead.
    let mut start = range.start();
    let mut prev = leaf.syntax().prev_sibling_or_token();
    while let Some(el) = prev {
        match el.kind() {
            SyntaxKind::WHITESPACE => start = el.text_range().start(),
            SyntaxKind::COMMA => {
                start = el.text_range().start();
                break;
            }
            _ => break,
        }
        prev = el.prev_sibling_or_token();
    }
    TextRange::new(start, range.end())
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::fixture::{check_all, with_frontend};

    #[test]
    fn removes_only_what_the_edits_left_unused() {
        let out = check_all(&with_frontend(
            r#"// Imports.
use tonic::transport::{Channel, Endpoint, Server};
use tonic::transport::Channel as Ch;
use tonic::transport::Channel as r#Raw;
use hello::greeter_client::{self, GreeterClient};
mod hello { tonic::include_proto!("helloworld"); }
struct S { a: GreeterClient<Channel>, b: GreeterClient<Ch>, r: GreeterClient<r#Raw>, e: Endpoint }
#[tokio::main]
async fn main() { let c = GreeterClient::connect("http://a").await; let s = stringify!(Server); }
"#,
        ));
        expect![[r#"
            //- /frontend/src/main.rs
            // Imports.
            use tonic::transport::{Endpoint, Server};
            use hello::greeter_client;
            mod hello { pub use knit_proto_helloworld::*; }
            struct S { a: knit_proto_helloworld::greeter_inline::GreeterClient, b: knit_proto_helloworld::greeter_inline::GreeterClient, r: knit_proto_helloworld::greeter_inline::GreeterClient, e: Endpoint }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) { let c = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await; let s = stringify!(Server); }
            Call(Inline) frontend/src/main.rs:9: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]].assert_eq(&out.render("frontend/src/main.rs"));
    }

    /// A private module that held only imports the edits left unused goes
    /// with them; one with a comment of its own (inside, or a plain one above),
    /// a public one, or one whose name is spelled elsewhere (`r#` or not) stays
    /// (emptied).
    #[test]
    fn a_module_left_empty_goes_with_its_imports() {
        let out = check_all(&with_frontend(
            r#"use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }

/// The clients, under the names the rest knows.
mod gone {
    pub use crate::hello::greeter_client::GreeterClient;
}

mod commented {
    // This comment is the module's.
    pub use crate::hello::greeter_client::GreeterClient;
}
pub mod public { pub use crate::hello::greeter_client::GreeterClient; }
mod named { pub use crate::hello::greeter_client::GreeterClient; }
// named: spelled here too.
// A note of the module's own.
mod noted { pub use crate::hello::greeter_client::GreeterClient; }
mod r#raw { pub use crate::hello::greeter_client::GreeterClient; }
// Spelled without `r#`: raw.
#[tokio::main]
async fn main() { let c = GreeterClient::connect("http://a").await; }
"#,
        ));
        expect![[r#"
            //- /frontend/src/main.rs
            mod hello { pub use knit_proto_helloworld::*; }

            mod commented {
                // This comment is the module's.
            }
            pub mod public {  }
            mod named {  }
            // named: spelled here too.
            // A note of the module's own.
            mod noted {  }
            mod r#raw {  }
            // Spelled without `r#`: raw.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) { let c = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await; }
            Call(Inline) frontend/src/main.rs:21: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]].assert_eq(&out.render("frontend/src/main.rs"));
    }

    /// Windows line breaks go as `\n` ones do: with the removed import or
    /// module, and one of the two blank lines around it.
    #[test]
    fn removals_take_crlf_line_breaks_along() {
        let lf = r#"use tonic::transport::Channel;
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }

mod gone {
    pub use crate::hello::greeter_client::GreeterClient;
}

struct S { c: GreeterClient<Channel> }
#[tokio::main]
async fn main() { let c = GreeterClient::connect("http://a").await; }
"#;
        let render =
            |main_rs: &str| check_all(&with_frontend(main_rs)).render("frontend/src/main.rs");
        let crlf = render(&lf.replace('\n', "\r\n"));
        assert!(
            !crlf.contains("\n\r\n\r\n"),
            "a blank line too many:\n{crlf}"
        );
        assert_eq!(crlf.replace("\r\n", "\n"), render(lf));
        expect![[r#"
            //- /frontend/src/main.rs
            mod hello { pub use knit_proto_helloworld::*; }

            struct S { c: knit_proto_helloworld::greeter_inline::GreeterClient }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) { let c = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await; }
            Call(Inline) frontend/src/main.rs:11: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]].assert_eq(&render(lf));
    }

    /// A file that `include!`s another pastes in text knit does not read: every
    /// import of the service stays (the included text may use it, or name a
    /// module it re-exports from). An `include!` of the build's generated code
    /// (`OUT_DIR`) pastes nothing knit's edits could break.
    /// A file the service includes, which names what a module re-exports.
    const EXTRA: &str = "//- /frontend/src/extra.rs\nfn extra(c: api::GreeterClient<tonic::transport::Channel>) {}\n";

    #[test]
    fn what_an_included_file_may_use_stays() {
        let out = check_all(
            &(with_frontend(
                r#"use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
mod api { pub use crate::hello::greeter_client::GreeterClient; }
include!("extra.rs");
#[tokio::main]
async fn main() { let c = GreeterClient::connect("http://a").await; }
"#,
            ) + EXTRA),
        );
        expect![[r#"
            //- /frontend/src/main.rs
            use hello::greeter_client::GreeterClient;
            mod hello { pub use knit_proto_helloworld::*; }
            mod api { pub use crate::hello::greeter_client::GreeterClient; }
            include!("extra.rs");
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) { let c = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await; }
            Call(Inline) frontend/src/main.rs:6: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]].assert_eq(&out.render("frontend/src/main.rs"));
        // Included into another file of the service.
        let out = check_all(&format!(
            "{}//- /frontend/src/other.rs\ninclude!(\"extra.rs\");\n{EXTRA}",
            with_frontend(
                r#"mod other;
mod hello { tonic::include_proto!("helloworld"); }
mod api { pub use crate::hello::greeter_client::GreeterClient; }
#[tokio::main]
async fn main() { let c = hello::greeter_client::GreeterClient::connect("http://a").await; }
"#
            )
        ));
        assert!(
            out.render("frontend/src/main.rs")
                .contains("mod api { pub use crate::hello::greeter_client::GreeterClient; }"),
            "{}",
            out.render("frontend/src/main.rs")
        );
        // Generated code only: pruned as without it.
        let out = check_all(&with_frontend(
            r#"use hello::greeter_client::GreeterClient;
mod hello { include!(concat!(env!("OUT_DIR"), "/helloworld.rs")); }
mod api { pub use crate::hello::greeter_client::GreeterClient; }
#[tokio::main]
async fn main() { let c = GreeterClient::connect("http://a").await; }
"#,
        ));
        let main = out.render("frontend/src/main.rs");
        assert!(
            !main.contains("use hello::greeter_client") && !main.contains("mod api"),
            "{main}"
        );
    }

    #[test]
    fn a_glob_of_a_client_module_goes_with_the_client() {
        let out = check_all(&with_frontend(
            r#"use hello::*;
mod hello { tonic::include_proto!("helloworld"); }
async fn dial() {
    use hello::greeter_client::*;
    let c = GreeterClient::connect("http://a").await;
}
#[tokio::main]
async fn main() {}
"#,
        ));
        expect![[r#"
            //- /frontend/src/main.rs
            use hello::*;
            mod hello { pub use knit_proto_helloworld::*; }
            async fn dial() {
                let c = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await;
            }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {}
            Call(Inline) frontend/src/main.rs:5: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]].assert_eq(&out.render("frontend/src/main.rs"));
    }
}
