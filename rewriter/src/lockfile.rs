//! `knit.lock`: what a merged workspace holds — knit's version, the plan, and for
//! each service where it was read, its git state and a content hash of every
//! input file — plus the hash of every file knit wrote. It also marks the folder
//! as knit's own ([`crate::outdir::prove_ours`]). `knit check` and `knit status`
//! read it back. It holds no absolute path: the plan is recorded relative to the
//! output folder and the services relative to the plan, so a clone of the
//! checkout elsewhere checks as the original does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::git::GitState;
use crate::load::Loaded;
use crate::merge::Content;
use crate::paths::{join, relative, resolved};

/// The format version this knit writes and reads.
pub const VERSION: u32 = 1;

const HEADER: &str =
    "# Written by knit: this folder is a merged workspace knit generated. Do not edit.\n";

/// A parsed `knit.lock`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    /// The version of knit that wrote it.
    pub knit: String,
    /// The plan, relative to the output folder.
    pub plan: PathBuf,
    pub plan_hash: String,
    #[serde(rename = "service")]
    pub services: Vec<ServiceLock>,
    /// Hash of every other file of the output (`Cargo.lock` included), by path.
    pub outputs: BTreeMap<String, String>,
}

/// One service of a merged build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ServiceLock {
    pub name: String,
    /// The folder its output folder mirrors, relative to the plan's folder (for
    /// a service pinned to a revision: its folder in the checkout).
    pub read_root: PathBuf,
    /// Its folder in the output.
    pub out_root: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<GitState>,
    /// Hash of the proto files' definitions.
    pub protos_hash: String,
    /// Hash of every input file, by its path in the output.
    pub inputs: BTreeMap<String, String>,
}

impl ServiceLock {
    /// The folder the service is read from, for the plan in `plan_dir`.
    pub fn root(&self, plan_dir: &Path) -> PathBuf {
        plan_dir.join(&self.read_root)
    }

    /// Where the input at output path `path` is read, from the service's
    /// folder `root` ([`ServiceLock::root`]): the output mirrors the input
    /// tree, so a file outside the service's folder (a sibling crate, a
    /// repository's `proto/`) is as far from it as in the output.
    pub fn origin(&self, root: &Path, path: &str) -> PathBuf {
        root.join(knit_passes::model::relative_path(&self.out_root, path))
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256:");
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// The hash of a file on disk.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    std::fs::read(path).map(|b| hash(&b))
}

/// The lock of `loaded` for the output `files` (without the lock itself),
/// written into the folder `out` (resolved, [`crate::paths::resolved`]).
pub fn lock(loaded: &Loaded, files: &[(String, Content)], out: &Path) -> std::io::Result<Lock> {
    let plan_dir = &loaded.canonical_dir;
    let mut services = Vec::new();
    for (i, service) in loaded.group.services.iter().enumerate() {
        let source = &loaded.sources[i];
        let mut inputs = BTreeMap::new();
        // Its files, and those of its packages' folders other services read
        // (another binary of a package it shares).
        let dirs: Vec<String> = service
            .packages
            .iter()
            .map(|p| format!("{}/", p.dir))
            .collect();
        for f in loaded.group.files.iter().filter(|f| {
            f.package_in(knit_passes::model::ServiceId(i)).is_some()
                || dirs.iter().any(|d| f.path.starts_with(d.as_str()))
        }) {
            inputs.insert(f.path.clone(), hash(f.text.as_bytes()));
        }
        let copies = loaded.copies.iter().zip(&loaded.copy_services);
        for ((origin, path), _) in copies.filter(|(_, services)| services.contains(&i)) {
            inputs.insert(path.clone(), hash_file(origin)?);
        }
        let build_files = loaded.cargo_configs.iter().chain(&loaded.toolchains);
        for (_, path, text) in build_files.filter(|(s, _, _)| *s == i) {
            inputs.insert(path.clone(), hash(text.as_bytes()));
        }
        if let Some(lockfile) = &loaded.lockfiles[i] {
            inputs.insert(
                join(&source.out_root, "Cargo.lock"),
                hash(lockfile.as_bytes()),
            );
        }
        let mut protos: Vec<u64> = service.protos.iter().map(|p| p.fingerprint).collect();
        protos.sort();
        let protos: Vec<u8> = protos.iter().flat_map(|f| f.to_le_bytes()).collect();
        // A pinned service is read from an export; its checkout is what stays.
        let read_root = match &source.rev {
            Some(_) => resolved(&loaded.plan.services[i].path)?,
            None => source.read_root.clone(),
        };
        services.push(ServiceLock {
            name: service.name.clone(),
            read_root: relative(plan_dir, &read_root),
            out_root: source.out_root.clone(),
            rev: source.rev.clone(),
            git: source.git.clone(),
            protos_hash: hash(&protos),
            inputs,
        });
    }
    let mut outputs = BTreeMap::new();
    for (path, content) in files {
        let h = match content {
            Content::Text(text) => hash(text.as_bytes()),
            Content::Copy(origin) => hash_file(origin)?,
        };
        outputs.insert(path.clone(), h);
    }
    Ok(Lock {
        version: VERSION,
        knit: env!("CARGO_PKG_VERSION").to_string(),
        plan: relative(out, plan_dir).join(loaded.plan.file.file_name().unwrap_or_default()),
        plan_hash: hash(loaded.plan.text.as_bytes()),
        services,
        outputs,
    })
}

impl Lock {
    pub fn render(&self) -> String {
        format!(
            "{HEADER}{}",
            toml::to_string(self).expect("a lock serializes")
        )
    }

    pub fn parse(text: &str) -> Result<Lock, String> {
        let lock: Lock = toml::from_str(text).map_err(|e| e.message().to_string())?;
        if lock.version != VERSION {
            return Err(format!(
                "version {} is not {VERSION}: written by another knit",
                lock.version
            ));
        }
        Ok(lock)
    }

    /// Reads the lock of the output folder `dir`.
    pub fn read(dir: &Path) -> Result<Lock, crate::error::Diagnostic> {
        let path = dir.join(crate::OUTPUT_MARKER);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            crate::error::Diagnostic::in_file(&path, format!("not a folder knit generated: {e}"))
        })?;
        Lock::parse(&text).map_err(|e| crate::error::Diagnostic::in_file(&path, e))
    }
}
