//! Rust as tokens: identifiers and paths from names, and files printed by
//! prettyplease.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// knit-runtime's crate, as generated code names it.
pub fn runtime() -> Ident {
    ident(crate::names::RUNTIME_CRATE)
}

/// The identifier `name`: raw (`r#type`) when `name` is a keyword, as prost
/// and tonic write it; a name that is no identifier has its other characters
/// replaced by `_` (no such name reaches here from a valid plan or proto).
pub fn ident(name: &str) -> Ident {
    if let Ok(ident) = syn::parse_str::<Ident>(name) {
        return ident;
    }
    let mut clean: String = name
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c,
            false => '_',
        })
        .collect();
    if clean.is_empty() || clean.starts_with(|c: char| c.is_ascii_digit()) {
        clean.insert(0, '_');
    }
    match syn::parse_str::<Ident>(&clean) {
        Ok(ident) => ident,
        // Keywords that may be raw identifiers (`type`, `async`).
        Err(_) if !matches!(clean.as_str(), "self" | "Self" | "super" | "crate" | "_") => {
            Ident::new_raw(&clean, Span::call_site())
        }
        Err(_) => Ident::new(&format!("{clean}_"), Span::call_site()),
    }
}

/// The path `a::b::c` of `::`-separated names, each an [`ident`].
pub fn path(text: &str) -> TokenStream {
    let segments = text.split("::").map(ident);
    quote!(#(#segments)::*)
}

/// A path as a crate's code writes it (`::volo_gen::a`, `crate::gen::a`):
/// its leading `::` and `crate`/`self`/`super` kept, other names [`ident`]s.
pub fn path_tokens(text: &str) -> TokenStream {
    let (leading, rest) = match text.strip_prefix("::") {
        Some(rest) => (quote!(::), rest),
        None => (TokenStream::new(), text),
    };
    let segments = rest.split("::").map(|s| match s {
        "crate" => quote!(crate),
        "self" => quote!(self),
        "super" => quote!(super),
        name => {
            let name = ident(name);
            quote!(#name)
        }
    });
    quote!(#leading #(#segments)::*)
}

/// A Rust file: `docs` as its inner doc comment (one line each) and a blank
/// line, then `items`, printed by prettyplease.
pub fn file(docs: &[String], items: TokenStream) -> String {
    let mut text: String = docs.iter().map(|line| format!("//! {line}\n")).collect();
    if !text.is_empty() {
        text.push('\n');
    }
    match syn::parse2::<syn::File>(items.clone()) {
        Ok(file) => text.push_str(&prettyplease::unparse(&file)),
        // Tokens knit built always parse; should one not, it is still Rust.
        Err(_) => text.push_str(&items.to_string()),
    }
    text
}

/// A doc comment line as an attribute's text: ` line`.
pub fn doc(line: &str) -> String {
    format!(" {line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_raw_or_cleaned() {
        assert_eq!(ident("greeter").to_string(), "greeter");
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("self").to_string(), "self_");
        assert_eq!(ident("a-b").to_string(), "a_b");
        assert_eq!(ident("1a").to_string(), "_1a");
        assert_eq!(ident("a²").to_string(), "a_");
        assert_eq!(path("a::type::b").to_string(), "a :: r#type :: b");
    }
}
