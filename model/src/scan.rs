//! Finding the few nodes of some kinds in a whole file. A walk of the syntax
//! tree allocates a cursor for every node it visits; this walks the green tree
//! underneath, which allocates nothing, and builds syntax nodes only for what it
//! finds. Every node looked for spells a word (a `mod` item the keyword `mod`, a
//! path to `X` the identifier `X`), so a walk enters only the subtrees that hold
//! one of that word's offsets in the file's text ([`Words`]): the rest of the
//! file is skipped whole.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use ra_ap_syntax::{NodeOrToken, SyntaxKind, SyntaxNode, TextRange, TextSize};
use rowan::GreenNodeData;

/// The word every module item spells.
pub static MOD: LazyLock<Words> = LazyLock::new(|| Words::new(["mod"]));

/// The word every `use` item spells.
pub static USE: LazyLock<Words> = LazyLock::new(|| Words::new(["use"]));

/// `node`'s text without its whitespace (`#[cfg(any(test,feature="x"))]`):
/// how attributes are compared.
pub fn compact(node: &SyntaxNode) -> String {
    node.text().to_string().split_whitespace().collect()
}

/// Words to find in files' text: whole words (runs of alphanumerics and `_`,
/// as identifiers and keywords are spelled). A word in a comment or a string
/// counts too: the walks it guides only look more than they need to.
pub struct Words(Finder);

/// How [`Words`] finds its words.
enum Finder {
    /// A few anchors, each looked for with `memchr`'s substring search (several
    /// GB/s): every word ends with one of them.
    Anchored(Vec<Anchor>),
    /// Words with too many different endings: an Aho-Corasick automaton.
    Automaton(AhoCorasick),
}

/// The last bytes shared by some words, and those words.
struct Anchor {
    finder: memchr::memmem::Finder<'static>,
    words: Vec<Vec<u8>>,
}

/// Words end with their last `ANCHOR_LEN` bytes (or are shorter): the gRPC
/// type names knit looks for end with `Client` or `Server`.
const ANCHOR_LEN: usize = 6;

/// Above this many anchors, one pass of an automaton beats a pass per anchor.
const MAX_ANCHORS: usize = 6;

impl Words {
    pub fn new<W: AsRef<str>>(words: impl IntoIterator<Item = W>) -> Words {
        let words: Vec<String> = words.into_iter().map(|w| w.as_ref().to_string()).collect();
        let mut anchors: Vec<Anchor> = Vec::new();
        for word in &words {
            let word = word.as_bytes();
            let end = &word[word.len().saturating_sub(ANCHOR_LEN)..];
            match anchors.iter_mut().find(|a| a.finder.needle() == end) {
                Some(anchor) => anchor.words.push(word.to_vec()),
                None => anchors.push(Anchor {
                    finder: memchr::memmem::Finder::new(end).into_owned(),
                    words: vec![word.to_vec()],
                }),
            }
        }
        if anchors.len() <= MAX_ANCHORS && anchors.iter().all(|a| !a.finder.needle().is_empty()) {
            return Words(Finder::Anchored(anchors));
        }
        Words::automaton(&words)
    }

    fn automaton(words: &[String]) -> Words {
        // Leftmost-longest: a match that is not a whole word cannot hide one
        // that is (it would end inside a word the other starts after).
        // A contiguous NFA: quick to build (a pass builds one for each file's
        // imports), and its prefilter finds a few words about as fast as a DFA.
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(words)
            .expect("a handful of words fit the automaton's limits");
        Words(Finder::Automaton(automaton))
    }

    /// The offsets in `text` of the words, in order.
    pub fn offsets(&self, text: &str) -> Vec<TextSize> {
        let in_word = |c: char| c.is_alphanumeric() || c == '_';
        // Words start at character boundaries: a word's first byte never
        // matches the middle of a character.
        let whole = |start: usize, end: usize| {
            !text[..start].chars().next_back().is_some_and(in_word)
                && !text[end..].chars().next().is_some_and(in_word)
        };
        let at = |start: usize| TextSize::from(start as u32);
        match &self.0 {
            Finder::Automaton(automaton) => automaton
                .find_iter(text)
                .filter(|m| whole(m.start(), m.end()))
                .map(|m| at(m.start()))
                .collect(),
            Finder::Anchored(anchors) => {
                let bytes = text.as_bytes();
                let mut found = Vec::new();
                for anchor in anchors {
                    let len = anchor.finder.needle().len();
                    // Hits may overlap (an anchor such as `aaaaaa`): each is looked at.
                    let mut from = 0;
                    while let Some(i) = anchor.finder.find(&bytes[from..]) {
                        let end = from + i + len;
                        from += i + 1;
                        // Whole words cannot overlap: at most one word fits.
                        let word = anchor
                            .words
                            .iter()
                            .find(|w| bytes[..end].ends_with(w) && whole(end - w.len(), end));
                        if let Some(word) = word {
                            found.push(at(end - word.len()));
                        }
                    }
                }
                if anchors.len() > 1 {
                    found.sort_unstable();
                }
                found
            }
        }
    }
}

/// The nodes of `root`'s subtree (`root` included) whose kind is one of `kinds`,
/// in preorder, among the subtrees that hold one of the offsets `within`: what
/// `root.descendants().filter(..)` gives of the nodes that spell a word there,
/// for less.
pub fn nodes_of_kinds(
    root: &SyntaxNode,
    kinds: &[SyntaxKind],
    within: &[TextSize],
) -> Vec<SyntaxNode> {
    nodes_and_paths_named(root, kinds, &BTreeSet::new(), within).0
}

/// One walk for the name resolver: the nodes of `kinds`, and the `PATH` nodes
/// whose last segment is a plain identifier in `names`, each in preorder, among
/// the subtrees that hold one of the offsets `within` (the names' offsets find
/// every such path).
pub fn nodes_and_paths_named(
    root: &SyntaxNode,
    kinds: &[SyntaxKind],
    names: &BTreeSet<String>,
    within: &[TextSize],
) -> (Vec<SyntaxNode>, Vec<SyntaxNode>) {
    let kinds: Vec<rowan::SyntaxKind> = kinds.iter().map(|k| raw(*k)).collect();
    let mut walk = NamedWalk {
        kinds: &kinds,
        names,
        within,
        ancestors: Vec::new(),
        found: Vec::new(),
        paths: Vec::new(),
    };
    walk.node(root.green(), root.text_range().start());
    let materialise = |found: Vec<(TextRange, rowan::SyntaxKind)>| -> Vec<SyntaxNode> {
        found
            .into_iter()
            .filter_map(|(range, kind)| node_at(root, range, kind))
            .collect()
    };
    // Recorded as they end: in preorder, an outer path comes before the paths
    // it holds.
    let mut paths = walk.paths;
    paths.sort_by_key(|r| (r.start(), std::cmp::Reverse(r.end())));
    let path = raw(SyntaxKind::PATH);
    let paths = paths.into_iter().map(|r| (r, path)).collect();
    (materialise(walk.found), materialise(paths))
}

/// Whether one of the sorted offsets `within` lies in `start..start + len`.
fn holds(within: &[TextSize], start: TextSize, len: TextSize) -> bool {
    let first = within.partition_point(|o| *o < start);
    within.get(first).is_some_and(|o| *o < start + len)
}

/// The identifiers of `root`'s subtree whose text is one of `names`, outside
/// nodes of kind `skip`: each with its range, in order.
pub fn idents_named<'n>(
    root: &SyntaxNode,
    names: &'n BTreeSet<String>,
    skip: SyntaxKind,
    within: &[TextSize],
) -> Vec<(&'n str, TextRange)> {
    fn walk<'n>(
        node: &GreenNodeData,
        start: TextSize,
        (names, skip, within): (&'n BTreeSet<String>, rowan::SyntaxKind, &[TextSize]),
        found: &mut Vec<(&'n str, TextRange)>,
    ) {
        let mut at = start;
        for child in node.children() {
            match child {
                NodeOrToken::Node(child) => {
                    if child.kind() != skip && holds(within, at, child.text_len()) {
                        walk(child, at, (names, skip, within), found);
                    }
                    at += child.text_len();
                }
                NodeOrToken::Token(token) => {
                    if token.kind() == raw(SyntaxKind::IDENT)
                        && let Some(name) = names.get(token.text())
                    {
                        found.push((name, TextRange::at(at, token.text_len())));
                    }
                    at += token.text_len();
                }
            }
        }
    }
    let mut found = Vec::new();
    if root.kind() != skip && !names.is_empty() {
        walk(
            root.green(),
            root.text_range().start(),
            (names, raw(skip), within),
            &mut found,
        );
    }
    found
}

fn raw(kind: SyntaxKind) -> rowan::SyntaxKind {
    rowan::SyntaxKind(u16::from(kind))
}

struct NamedWalk<'a> {
    kinds: &'a [rowan::SyntaxKind],
    names: &'a BTreeSet<String>,
    /// The subtrees to enter are those holding one of these offsets.
    within: &'a [TextSize],
    /// The nodes around the one visited: kind, start, and whether it is a path
    /// to record (its segment is one of the names).
    ancestors: Vec<(rowan::SyntaxKind, TextSize, bool)>,
    found: Vec<(TextRange, rowan::SyntaxKind)>,
    paths: Vec<TextRange>,
}

impl NamedWalk<'_> {
    fn node(&mut self, node: &GreenNodeData, start: TextSize) {
        if self.kinds.contains(&node.kind()) {
            self.found
                .push((TextRange::at(start, node.text_len()), node.kind()));
        }
        self.ancestors.push((node.kind(), start, false));
        let mut at = start;
        for child in node.children() {
            match child {
                NodeOrToken::Node(child) => {
                    if holds(self.within, at, child.text_len()) {
                        self.node(child, at);
                    }
                    at += child.text_len();
                }
                NodeOrToken::Token(token) => {
                    if !self.names.is_empty()
                        && token.kind() == raw(SyntaxKind::IDENT)
                        && self.names.contains(token.text())
                    {
                        self.mark_path();
                    }
                    at += token.text_len();
                }
            }
        }
        if let Some((_, _, true)) = self.ancestors.pop() {
            self.paths.push(TextRange::at(start, node.text_len()));
        }
    }

    /// Marks the path whose segment is the identifier just visited, if it is one
    /// (`PATH > PATH_SEGMENT > NAME_REF > IDENT`), to be recorded when it ends.
    fn mark_path(&mut self) {
        if let [.., (path, _, wanted), (segment, _, _), (name_ref, _, _)] =
            self.ancestors.as_mut_slice()
            && *path == raw(SyntaxKind::PATH)
            && *segment == raw(SyntaxKind::PATH_SEGMENT)
            && *name_ref == raw(SyntaxKind::NAME_REF)
        {
            *wanted = true;
        }
    }
}

/// The outermost node of kind `kind` that spans exactly `range`.
fn node_at(root: &SyntaxNode, range: TextRange, kind: rowan::SyntaxKind) -> Option<SyntaxNode> {
    let covering = match root.covering_element(range) {
        NodeOrToken::Node(node) => node,
        NodeOrToken::Token(token) => token.parent()?,
    };
    covering
        .ancestors()
        .take_while(|n| n.text_range() == range)
        .filter(|n| n.green().kind() == kind)
        .last()
}

#[cfg(test)]
mod tests {
    use ra_ap_syntax::{AstNode, Edition, SourceFile};

    use super::*;

    fn kinds_found(root: &SyntaxNode, kinds: &[SyntaxKind]) -> Vec<SyntaxNode> {
        root.descendants()
            .filter(|n| kinds.contains(&n.kind()))
            .collect()
    }

    fn spelled(text: &str, words: &[&str]) -> Vec<TextSize> {
        Words::new(words).offsets(text)
    }

    #[test]
    fn words_are_found_whole() {
        let text = "mod a; // mod\nfn modx() { r#mod; _mod_ é_mod mod}";
        let at: Vec<usize> = spelled(text, &["mod"])
            .into_iter()
            .map(usize::from)
            .collect();
        assert_eq!(at, [0, 10, 28, 46]);
        let text = "include_proto!(x); include!(y); includes; include";
        let at: Vec<usize> = spelled(text, &["include", "include_proto"])
            .into_iter()
            .map(usize::from)
            .collect();
        assert_eq!(at, [0, 19, 42]);
        assert!(spelled("", &["mod"]).is_empty());
        assert!(spelled("mod", &[]).is_empty());
    }

    /// Anchors find what the automaton finds: every whole word, overlapping
    /// anchors and words sharing an ending included.
    #[test]
    fn anchors_find_what_the_automaton_finds() {
        let mut texts: Vec<String> = vec![
            "aaaaaaa aaaaaa_ aaaaaa; baaaaaa aaaaaaaaaaaa aaaaaa".into(),
            "GreeterClient EchoClient Client xClient GreeterClientx é_mod mod é mod_".into(),
        ];
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
        let mut dirs = vec![corpus];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    texts.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let sets: [&[&str]; 5] = [
            &["mod"],
            &["aaaaaa", "aaaaaaa", "a"],
            &[
                "Client",
                "GreeterClient",
                "EchoClient",
                "GreeterServer",
                "Channel",
            ],
            &["mod", "include_proto", "include"],
            &["é_mod", "use", "self", "Request", "Response"],
        ];
        let mut found = 0;
        for words in sets {
            let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            let anchored = Words::new(&words);
            assert!(matches!(anchored.0, Finder::Anchored(_)), "{words:?}");
            let automaton = Words::automaton(&words);
            for text in &texts {
                let offsets = anchored.offsets(text);
                assert_eq!(offsets, automaton.offsets(text), "{words:?} in {text}");
                found += offsets.len();
            }
        }
        assert!(found > 300, "{found}");
    }

    /// The nodes a walk of the syntax tree finds, in the same order, entering
    /// only the subtrees that spell the word each kind spells: modules nested
    /// in modules, functions and blocks, macro calls, `use` items.
    #[test]
    fn finds_what_a_walk_of_the_syntax_tree_finds() {
        let text = r#"
mod a;
mod b { mod c; fn f() { mod d { use x::Y; } m!(k); } }
#[path = "e.rs"] mod e;
fn g() -> Option<A<B>> { let v = vec![1]; h(|| {}); struct S; { { use z; } } }
"#;
        let file = SourceFile::parse(text, Edition::Edition2021).tree();
        let root = file.syntax();
        for (kinds, word) in [
            (&[SyntaxKind::MODULE][..], "mod"),
            (&[SyntaxKind::USE], "use"),
            (&[SyntaxKind::MACRO_CALL], "vec"),
        ] {
            let within = spelled(text, &[word]);
            let expected: Vec<SyntaxNode> = kinds_found(root, kinds)
                .into_iter()
                .filter(|n| n.text().to_string().contains(word))
                .collect();
            assert_eq!(nodes_of_kinds(root, kinds, &within), expected, "{word}");
        }
        assert_eq!(
            nodes_of_kinds(root, &[SyntaxKind::MODULE], &spelled(text, &["mod"])).len(),
            5
        );
        // Every word: every node with a word in it (not the `{}` of `|| {}`).
        let all: Vec<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        let every = spelled(text, &all);
        let kinds = [
            SyntaxKind::MODULE,
            SyntaxKind::MACRO_CALL,
            SyntaxKind::STMT_LIST,
        ];
        let worded: Vec<SyntaxNode> = kinds_found(root, &kinds)
            .into_iter()
            .filter(|n| n.text().to_string().contains(char::is_alphanumeric))
            .collect();
        assert_eq!(worded.len(), kinds_found(root, &kinds).len() - 1);
        assert_eq!(nodes_of_kinds(root, &kinds, &every), worded);
        // No word: the root alone is looked at.
        assert_eq!(
            nodes_of_kinds(root, &[SyntaxKind::SOURCE_FILE, SyntaxKind::MODULE], &[]),
            std::slice::from_ref(root)
        );
    }

    /// The paths whose last segment names `X`, as a filter of a walk of the
    /// syntax tree finds them, with the blocks found in the same walk (those
    /// that spell `X`).
    #[test]
    fn finds_the_paths_named() {
        let text = r#"
use a::X;
use b::{X as Y, c::X};
fn f(x: X<X<u8>>) -> m::X { X::new(X); let v: Vec<a::X::Z> = X::X::g(); { use q::X; } }
struct S { x: Option<X>, y: r#X, z: XX }
fn h() { { other(); } }
"#;
        let file = SourceFile::parse(text, Edition::Edition2021).tree();
        let root = file.syntax();
        let names: BTreeSet<String> = ["X".to_string()].into();
        let expected: Vec<SyntaxNode> = root
            .descendants()
            .filter_map(ra_ap_syntax::ast::Path::cast)
            .filter(|p| {
                p.segment()
                    .and_then(|s| s.name_ref())
                    .is_some_and(|n| n.text() == "X")
            })
            .map(|p| p.syntax().clone())
            .collect();
        let within = Words::new(&names).offsets(text);
        let (blocks, paths) =
            nodes_and_paths_named(root, &[SyntaxKind::STMT_LIST], &names, &within);
        assert_eq!(paths, expected);
        assert_eq!(paths.len(), 13);
        let lists: Vec<SyntaxNode> = kinds_found(root, &[SyntaxKind::STMT_LIST])
            .into_iter()
            .filter(|n| n.text().to_string().contains('X'))
            .collect();
        assert_eq!(blocks, lists);
        assert_eq!(blocks.len(), 2);
    }

    /// The identifiers named, outside `use` items, as a walk of the tokens finds
    /// them: in code, in macro calls' tokens and in nested items.
    #[test]
    fn finds_the_identifiers_named_outside_skipped_nodes() {
        let text = r#"
use a::{X, Y};
fn f(x: X) -> Y { m!(X, Z); mod i { use X as W; fn g() -> X {} } XX }
"#;
        let file = SourceFile::parse(text, Edition::Edition2021).tree();
        let root = file.syntax();
        let names: BTreeSet<String> = ["X".to_string(), "Y".to_string()].into();
        let expected: Vec<(String, TextRange)> = root
            .descendants_with_tokens()
            .filter_map(|t| t.into_token())
            .filter(|t| t.kind() == SyntaxKind::IDENT && names.contains(t.text()))
            .filter(|t| !t.parent_ancestors().any(|a| a.kind() == SyntaxKind::USE))
            .map(|t| (t.text().to_string(), t.text_range()))
            .collect();
        let within = Words::new(&names).offsets(text);
        let found: Vec<(String, TextRange)> = idents_named(root, &names, SyntaxKind::USE, &within)
            .into_iter()
            .map(|(n, r)| (n.to_string(), r))
            .collect();
        assert_eq!(found, expected);
        assert_eq!(found.len(), 4);
    }
}
