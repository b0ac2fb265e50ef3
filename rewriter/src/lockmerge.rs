//! The services' lockfiles, which knit-codegen merges into the output's
//! `Cargo.lock` (`knit_codegen::lockmerge`).

pub(crate) use knit_codegen::lockmerge::{merge, numbers, range};

/// The services of `loaded` that have a lockfile: (service name, its text).
pub fn of_services(loaded: &crate::load::Loaded) -> Vec<(&str, &str)> {
    let services = loaded.group.services.iter();
    services
        .zip(&loaded.lockfiles)
        .filter_map(|(s, l)| Some((s.name.as_str(), l.as_deref()?)))
        .collect()
}
