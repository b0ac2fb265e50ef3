//! The input of knit-codegen, the stage that writes the support files of a
//! merged workspace: what was loaded and decided, as plain data.

use knit_codegen::locked::{Lock, LockedVersions};
use knit_codegen::{HostService, Input, ProtoCrate, RuntimeAsk, WorkspaceRoot};
use knit_passes::model::Group;
use knit_passes::namespace;
use knit_passes::sharing::Sharing;

use crate::load::Loaded;

/// Every generated file: (path in the output, contents), and notes for the
/// report (how the services' lockfiles merged, the host's runtime).
pub fn support(loaded: &Loaded, sharing: &Sharing) -> (Vec<(String, String)>, Vec<String>) {
    let lockfiles = crate::lockmerge::of_services(loaded);
    let (merged, mut notes) = crate::lockmerge::merge(&lockfiles);
    let text = (!lockfiles.is_empty()).then_some(merged);
    let lock = Lock {
        versions: versions(loaded.tonic, text.as_deref()),
        text,
    };
    let support = knit_codegen::support(&input(loaded, sharing, lock));
    notes.extend(support.notes);
    (support.files, notes)
}

/// The versions of the crates generated manifests name, from the merged
/// lockfile `text`.
fn versions(line: knit_codegen::TonicLine, text: Option<&str>) -> LockedVersions {
    let lock = text.map(crate::cargolock::CargoLock::lenient);
    let mut versions = LockedVersions::of(line, |name, range| {
        Some(lock.as_ref()?.highest_in(name, range)?.to_string())
    });
    versions.volo = crate::volo::locked_volo_of(text);
    versions
}

/// What knit-codegen needs of `loaded` and `sharing`.
fn input(loaded: &Loaded, sharing: &Sharing, lock: Lock) -> Input {
    let group = &loaded.group;
    let mut members: Vec<String> = Vec::new();
    for package in group.services.iter().flat_map(|s| &s.packages) {
        if !members.contains(&package.dir) {
            members.push(package.dir.clone());
        }
    }
    let workspaces = group.services.iter().flat_map(|service| {
        let roots = service.packages.iter().filter_map(|p| p.workspace.as_ref());
        roots.map(|(manifest, dir)| WorkspaceRoot {
            service: service.name.clone(),
            manifest: manifest.clone(),
            dir: dir.clone(),
        })
    });
    let protos = sharing.packages.iter().map(|shared| ProtoCrate {
        package: shared.package.clone(),
        name: shared.package_name(),
        files: shared
            .files
            .iter()
            .map(|f| (file_name(&f.path).to_string(), f.text.clone()))
            .collect(),
        provided: shared
            .provided
            .iter()
            .filter_map(|(name, &provider)| {
                let mut services = shared.files.iter().flat_map(|f| &f.services);
                let service = services.find(|s| &s.name == name)?;
                Some((service.clone(), group.services[provider].name.clone()))
            })
            .collect(),
    });
    let bridged = sharing.bridged.iter().map(|(server, &provider)| {
        let full = format!("{}.{}", server.package, server.service);
        let full = full.trim_start_matches('.').to_string();
        (group.services[provider].name.clone(), full)
    });
    // Volo providers that register their handlers for calls in process.
    let bridged = bridged.chain(knit_passes::volo::inline::declared(group));
    Input {
        tonic: loaded.tonic,
        lock,
        members,
        workspaces: workspaces.collect(),
        protos: protos.collect(),
        host: knit_codegen::Host {
            group: loaded.plan.group.clone(),
            plan: loaded
                .plan
                .file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
            worker_threads: loaded.plan.worker_threads.map(|n| n as u64),
            shutdown_grace_secs: loaded.plan.shutdown_grace_secs,
            bridged: bridged.collect(),
            services: group
                .service_ids()
                .map(|i| host_service(group, i))
                .collect(),
        },
    }
}

/// Service `index` as the merged binary runs it.
fn host_service(group: &Group, index: knit_passes::model::ServiceId) -> HostService {
    let service = &group.services[index];
    let package = &service.packages[0];
    HostService {
        name: service.name.clone(),
        listen: service.listen,
        env: service.env.clone(),
        args: service.args.clone(),
        bin: service.bin.name.clone(),
        features: service.bin_features.clone(),
        cwd: service.cwd.clone(),
        package_dir: package.dir.clone(),
        package: namespace::merged_name(group, &package.dir),
        entry: knit_passes::entry::entry_path(group, index),
        runtime: knit_passes::entry::runtime_settings(group, index).map(|s| RuntimeAsk {
            worker_threads: s.worker_threads,
            thread_stack_size: s.thread_stack_size,
        }),
        on_signal: knit_passes::entry::on_signal(group, index),
    }
}

/// The last part of a `/`-separated path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
