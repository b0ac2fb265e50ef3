//! `knit.lock`: what a merged workspace holds, and the mark that knit created it.

use crate::hash::fnv64;
use crate::load::Loaded;

/// The contents of `knit.lock` for `loaded`: knit's version, the plan, and for
/// each service where it was read and a hash of every input file.
pub fn render(loaded: &Loaded) -> std::io::Result<String> {
    let mut out = String::from(
        "# Written by knit: this folder is a merged workspace knit generated. Do not edit.\n",
    );
    out.push_str(&format!(
        "version = 1\nknit = \"{}\"\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str(&format!(
        "plan = \"{}\"\nplan-hash = \"{:016x}\"\n",
        loaded.plan.file.display(),
        fnv64(loaded.plan.text.as_bytes())
    ));
    for (i, service) in loaded.group.services.iter().enumerate() {
        let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
        for f in loaded.group.files.iter().filter(|f| f.service == i) {
            inputs.push((f.path.clone(), f.text.clone().into_bytes()));
        }
        for (origin, path) in &loaded.copies {
            if service
                .packages
                .iter()
                .any(|p| path.starts_with(&format!("{}/", p.dir)))
            {
                inputs.push((path.clone(), std::fs::read(origin)?));
            }
        }
        inputs.sort();
        let mut all = Vec::new();
        for (path, bytes) in &inputs {
            all.extend_from_slice(path.as_bytes());
            all.push(0);
            all.extend_from_slice(&fnv64(bytes).to_le_bytes());
        }
        let spec = &loaded.plan.services[i];
        out.push_str(&format!(
            "\n[[service]]\nname = \"{}\"\nsource = \"{}\"\nfiles = {}\ninputs-hash = \"{:016x}\"\n",
            service.name,
            spec.path.display(),
            inputs.len(),
            fnv64(&all)
        ));
    }
    Ok(out)
}
