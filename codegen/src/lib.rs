//! The code knit generates for a merged workspace, as a pure stage: from the
//! group and the sharing decisions as plain data ([`Input`]) to new files and
//! notes for the report ([`support`]), with no I/O. Rust is built as tokens
//! (`quote`) and printed by prettyplease; manifests are `toml_edit` documents.
//!
//! - [`names`]: every name that crosses files (folders, packages, modules, the
//!   entry), for the passes too.
//! - [`mains`]: the two generated `main`s, the merged host's and each service's
//!   standalone binary's.
//! - `inline`: a proto crate's in-process module per gRPC service; `protos`:
//!   the proto crates; `manifests`: the workspace, runtime and host manifests
//!   and the root patches; [`locked`]: the merged `Cargo.lock`, as the driver
//!   merges it, and the versions generated manifests pin.
//! - [`volo`]: the in-process module of a crate with Volo services called or
//!   served inline (`knit_volo.rs`).

mod inline;
pub mod locked;
pub mod mains;
mod manifests;
pub mod names;
mod protos;
mod runtime;
mod rust;
#[cfg(test)]
mod tests;
pub mod volo;

pub use mains::{Host, HostService, OnSignal, RuntimeAsk};

/// The tonic release line of a group: the generated crates build with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum TonicLine {
    /// tonic 0.10: as 0.11.
    V0_10,
    /// tonic 0.11: `tonic-build` 0.11 and prost 0.12, on hyper 0.14 and
    /// http-body 0.4 (knit-runtime's feature `tonic-011`).
    V0_11,
    /// tonic 0.12: `tonic-build` 0.12 and prost 0.13; `tonic::body::BoxBody`.
    V0_12,
    /// tonic 0.13: `tonic-build` 0.13 and prost 0.13.
    V0_13,
    /// tonic 0.14: `tonic-prost-build` and prost 0.14.
    #[default]
    V0_14,
}

impl TonicLine {
    /// `0.10` to `0.14`: also the semver range Cargo unifies.
    pub fn name(self) -> &'static str {
        match self {
            TonicLine::V0_10 => "0.10",
            TonicLine::V0_11 => "0.11",
            TonicLine::V0_12 => "0.12",
            TonicLine::V0_13 => "0.13",
            TonicLine::V0_14 => "0.14",
        }
    }

    /// The prost line the line's code generator emits code for.
    pub fn prost(self) -> &'static str {
        match self {
            TonicLine::V0_10 | TonicLine::V0_11 => "0.12",
            TonicLine::V0_12 | TonicLine::V0_13 => "0.13",
            TonicLine::V0_14 => "0.14",
        }
    }

    /// Whether the line is on hyper 0.14 and http-body 0.4 (0.10 and 0.11).
    pub fn on_hyper_014(self) -> bool {
        matches!(self, TonicLine::V0_10 | TonicLine::V0_11)
    }
}

/// A gRPC service of a proto file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoService {
    /// As written in the proto (`Greeter`).
    pub name: String,
    pub methods: Vec<ProtoMethod>,
}

impl ProtoService {
    /// The fully qualified gRPC name (`helloworld.Greeter`).
    pub fn full_name(&self, package: &str) -> String {
        match package.is_empty() {
            true => self.name.clone(),
            false => format!("{package}.{}", self.name),
        }
    }
}

/// One RPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoMethod {
    /// As written in the proto (`SayHello`).
    pub name: String,
    /// Fully qualified message names (`.helloworld.HelloRequest`).
    pub input: String,
    pub output: String,
    pub client_streaming: bool,
    pub server_streaming: bool,
}

/// A proto package compiled once for the group, with knit's in-process clients.
#[derive(Clone, Debug)]
pub struct ProtoCrate {
    /// The proto package (`helloworld`).
    pub package: String,
    /// The Cargo package name (`knit-proto-helloworld`), distinct in the group.
    pub name: String,
    /// Its proto files: (file name, text), compiled from the crate's `proto/`.
    pub files: Vec<(String, String)>,
    /// The gRPC services of the package served in process, each with the name
    /// of the service of the group that provides it.
    pub provided: Vec<(ProtoService, String)>,
}

/// The workspace root a service's packages belong to: its `[patch]` and
/// `[replace]` apply to the merged workspace.
#[derive(Clone, Debug)]
pub struct WorkspaceRoot {
    /// The service whose package it is.
    pub service: String,
    /// The root manifest's text.
    pub manifest: String,
    /// Its folder, relative to the output.
    pub dir: String,
}

/// What the generated code is made from.
#[derive(Clone, Debug, Default)]
pub struct Input {
    /// The tonic line of the group.
    pub tonic: TonicLine,
    /// The merged `Cargo.lock` and the versions generated manifests pin.
    pub lock: locked::Lock,
    /// The folders of the services' packages, in the group's order, each once.
    pub members: Vec<String>,
    /// The workspace roots of the services' packages, in the group's order.
    pub workspaces: Vec<WorkspaceRoot>,
    /// The proto packages the group shares.
    pub protos: Vec<ProtoCrate>,
    /// The merged binary.
    pub host: Host,
}

/// The generated files: (path in the output, text), and notes for the report.
#[derive(Clone, Debug, Default)]
pub struct Support {
    pub files: Vec<(String, String)>,
    pub notes: Vec<String>,
}

/// Every generated file of the merged workspace: its manifest and lockfile,
/// knit-runtime, the proto crates and the merged binary.
pub fn support(input: &Input) -> Support {
    let mut notes = Vec::new();
    let (patches, patch_notes) = manifests::root_patches(&input.workspaces);
    notes.extend(patch_notes);
    let mut members = input.members.clone();
    members.push(names::RUNTIME_DIR.into());
    members.extend(input.protos.iter().map(|p| names::proto_dir(&p.package)));
    members.push(names::HOST_DIR.into());
    let mut files = vec![(
        "Cargo.toml".to_string(),
        manifests::workspace(&input.host.group, &members, &patches),
    )];
    if let Some(lock) = &input.lock.text {
        files.push(("Cargo.lock".into(), lock.clone()));
    }
    files.extend(runtime::files(&input.lock.versions));
    for proto in &input.protos {
        files.extend(protos::files(proto, &input.lock.versions));
    }
    let (host_files, host_notes) = mains::host_crate(input);
    files.extend(host_files);
    notes.extend(host_notes);
    Support { files, notes }
}
