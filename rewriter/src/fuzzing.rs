//! Hooks for knit's fuzzers (`fuzz/`): a loaded group's file replaced by other
//! text, parsed as the loader parses it, and work run on knit's own threads.
//! Nothing in `knit` itself calls them.

use knit_passes::FileId;
use knit_passes::model::BuiltModule;
use ra_ap_syntax::GreenNode;

use crate::error::{Diagnostic, Result};
use crate::load::Loaded;

/// Runs `f` on a thread of knit's workers, whose stack holds the nesting the
/// parser and the passes accept.
pub fn on_workers<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    let workers = crate::workers()
        .as_ref()
        .map_err(|e| Diagnostic::new(format!("cannot start knit's worker threads: {e}")))?;
    Ok(workers.install(f))
}

/// A file's text and tree, as [`replace`] found them.
pub struct Saved {
    text: String,
    green: GreenNode,
    built_modules: Vec<BuiltModule>,
}

/// Puts `text` in place of Rust file `id` of `loaded`, parsed as the loader
/// parses a file (the nesting guard included; call it through [`on_workers`]),
/// and hands back what was there for [`restore`]. A syntax error is the
/// loader's one-line error, and leaves `loaded` as it was. The new text has
/// no modules a build script writes (their ranges were the old text's).
pub fn replace(loaded: &mut Loaded, id: FileId, text: String) -> Result<Saved> {
    let origin = loaded.shown(&loaded.group.files[id.0 as usize].path);
    let file = &mut loaded.group.files[id.0 as usize];
    let Some(rust) = file.rust.as_mut() else {
        return Err(Diagnostic::in_file(&origin, "not a Rust file").into());
    };
    let (green, error) = crate::parse::source_file(&text, rust.edition);
    if let Some(error) = error {
        return Err(Diagnostic::at_offset(
            &origin,
            &text,
            usize::from(error.offset),
            format!("syntax error: {}", error.message),
        )
        .into());
    }
    let green = std::mem::replace(&mut rust.green, green);
    let built_modules = std::mem::take(&mut rust.built_modules);
    let text = std::mem::replace(&mut file.text, text);
    Ok(Saved {
        text,
        green,
        built_modules,
    })
}

/// Puts back the file [`replace`] took out.
pub fn restore(loaded: &mut Loaded, id: FileId, saved: Saved) {
    let file = &mut loaded.group.files[id.0 as usize];
    file.text = saved.text;
    if let Some(rust) = file.rust.as_mut() {
        rust.green = saved.green;
        rust.built_modules = saved.built_modules;
    }
}
