//! The two generated `main`s: the merged binary's, which runs every service
//! of the group on one runtime ([`host_crate`]), and each service's standalone
//! binary's (`knit_main.rs`), which runs its lifted entry alone ([`standalone`]).

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

use crate::names::{
    ENTRY, HOST_DIR, HOST_PACKAGE, RUNTIME_DIR, RUNTIME_PACKAGE, crate_name, relative_path,
};
use crate::{Input, rust};

/// What a service's `main` asks of its tokio runtime: each setting as written,
/// and its value when knit can evaluate it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeAsk {
    pub worker_threads: Option<(String, Option<u64>)>,
    pub thread_stack_size: Option<(String, Option<u64>)>,
}

/// How a service's own process ends on SIGTERM: whether the merged host waits
/// for it when it shuts down (knit-runtime's `OnSignal`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnSignal {
    /// Its code handles shutdown: it stops by itself, and the host waits for it.
    #[default]
    Stops,
    /// Its code handles no signal: SIGTERM kills its process, and the host does
    /// not wait for it once the others have stopped.
    Dies,
}

/// A service the merged binary runs.
#[derive(Clone, Debug, Default)]
pub struct HostService {
    pub name: String,
    /// Whether its listener is on.
    pub listen: bool,
    /// The plan's environment for it: (key, value).
    pub env: Vec<(String, String)>,
    /// The plan's command line for it.
    pub args: Option<Vec<String>>,
    /// The binary it runs.
    pub bin: String,
    /// The features that binary requires (`required-features`), enabled on
    /// its package.
    pub features: Vec<String>,
    /// The plan's working directory, relative to the output.
    pub cwd: Option<String>,
    /// The folder of the package whose binary it runs.
    pub package_dir: String,
    /// That package's name in the merged workspace.
    pub package: String,
    /// The path of its entry in that package's library (`knit_entry`).
    pub entry: String,
    /// What its `main` asked of its runtime, when it built one knit can read.
    pub runtime: Option<RuntimeAsk>,
    /// How its own process ends on SIGTERM.
    pub on_signal: OnSignal,
}

/// The merged binary.
#[derive(Clone, Debug, Default)]
pub struct Host {
    /// The plan's group name.
    pub group: String,
    /// The plan's file name.
    pub plan: String,
    /// The plan's `worker_threads`.
    pub worker_threads: Option<u64>,
    /// The plan's `shutdown_grace_secs`.
    pub shutdown_grace_secs: Option<u64>,
    /// gRPC services provided in process besides the proto crates' (bridged
    /// tonic services, Volo services called inline): (provider, full gRPC name).
    pub bridged: Vec<(String, String)>,
    pub services: Vec<HostService>,
}

/// The merged binary's crate: its manifest and `main`, and notes on the
/// runtime settings it chose.
pub fn host_crate(input: &Input) -> (Vec<(String, String)>, Vec<String>) {
    let rt = rust::runtime();
    let host = &input.host;
    let mut notes = Vec::new();
    let mut chain = Vec::new();
    let provides = input.protos.iter().flat_map(|proto| {
        let provided = proto.provided.iter();
        provided.map(|(service, provider)| {
            (
                provider.clone(),
                format!("{}.{}", proto.package, service.name),
            )
        })
    });
    for (provider, full) in provides.chain(host.bridged.iter().cloned()) {
        chain.push(quote!(.provides(#provider, #full)));
    }
    chain.extend(runtime_settings(host, &mut notes));
    chain.extend(shutdown_settings(host, &mut notes));
    for service in &host.services {
        let name = &service.name;
        for (key, value) in &service.env {
            chain.push(quote!(.env(#name, #key, #value)));
        }
    }
    for service in &host.services {
        if let Some(args) = &service.args {
            let (name, bin) = (&service.name, &service.bin);
            chain.push(quote!(.args(#name, #bin, &[#(#args),*])));
        }
    }
    // One working directory for the process (the plan refuses two), found from
    // the merged package's folder at build time.
    if let Some(cwd) = host.services.iter().find_map(|s| s.cwd.as_deref()) {
        let path = format!("/{}", relative_path(HOST_DIR, cwd));
        chain.push(quote!(.cwd(concat!(env!("CARGO_MANIFEST_DIR"), #path))));
    }
    // One dependency per package: several services may run binaries of one.
    let mut keys: BTreeMap<&str, String> = BTreeMap::new();
    let mut deps = Table::new();
    for service in &host.services {
        let key = keys.entry(service.package_dir.as_str()).or_insert_with(|| {
            // A package of several services goes by its own name.
            let several = host
                .services
                .iter()
                .filter(|s| s.package_dir == service.package_dir)
                .count()
                > 1;
            let key = match several {
                true => crate_name(&service.package),
                false => service.name.clone(),
            };
            let mut dep = InlineTable::new();
            dep.insert("package", service.package.as_str().into());
            dep.insert("path", relative_path(HOST_DIR, &service.package_dir).into());
            // What the binaries it runs require of it, as their own builds.
            let features: BTreeSet<&str> = host
                .services
                .iter()
                .filter(|s| s.package_dir == service.package_dir)
                .flat_map(|s| s.features.iter().map(String::as_str))
                .collect();
            if !features.is_empty() {
                dep.insert("features", Array::from_iter(features).into());
            }
            deps[key.as_str()] = value(dep);
            key
        });
        let (name, listen) = (&service.name, service.listen);
        let entry = rust::path(&format!("{key}::{}", service.entry));
        chain.push(quote!(.service(#name, #listen, #entry)));
    }
    let mut runtime = InlineTable::new();
    runtime.insert("path", relative_path(HOST_DIR, RUNTIME_DIR).into());
    deps[RUNTIME_PACKAGE] = value(runtime);
    let mut package = Table::new();
    package.decor_mut().set_prefix(format!(
        "# The merged binary of group `{}`. Generated by knit.\n",
        host.group
    ));
    package["name"] = value(HOST_PACKAGE);
    package["version"] = value("0.1.0");
    package["edition"] = value("2021");
    package["publish"] = value(false);
    let mut manifest = DocumentMut::new();
    manifest["package"] = Item::Table(package);
    manifest["dependencies"] = Item::Table(deps);
    let docs = [
        format!(
            "The merged binary of group `{}` (plan `{}`): its services on one",
            host.group, host.plan
        ),
        "tokio runtime, calling each other in process. Generated by knit.".into(),
    ];
    let main = quote! {
        fn main() -> std::process::ExitCode {
            #rt::Host::new() #(#chain)* .run()
        }
    };
    let files = vec![
        (format!("{HOST_DIR}/Cargo.toml"), manifest.to_string()),
        (format!("{HOST_DIR}/src/main.rs"), rust::file(&docs, main)),
    ];
    (files, notes)
}

/// The host's runtime settings: the plan's `worker_threads`, else the largest a
/// service's own runtime asked for when every service asked for a number; the
/// largest thread stack size a service asked for. Notes say which service's
/// settings apply.
fn runtime_settings(host: &Host, notes: &mut Vec<String>) -> Vec<TokenStream> {
    let asked: Vec<(&str, &RuntimeAsk)> = host
        .services
        .iter()
        .filter_map(|s| Some((s.name.as_str(), s.runtime.as_ref()?)))
        .collect();
    let largest = |get: fn(&RuntimeAsk) -> Option<u64>| {
        asked
            .iter()
            .filter_map(|(name, s)| Some((get(s)?, *name)))
            .max_by_key(|(value, _)| *value)
    };
    let mut chain = Vec::new();
    // A service that leaves tokio's default (one worker per core) keeps it.
    let every_one_sized = asked.len() == host.services.len();
    let workers = largest(|s| s.worker_threads.as_ref()?.1).filter(|_| every_one_sized);
    match (host.worker_threads, workers) {
        (Some(n), _) => {
            let n = Literal::u64_unsuffixed(n);
            chain.push(quote!(.worker_threads(#n)));
        }
        (None, Some((n, service))) => {
            let n_lit = Literal::u64_unsuffixed(n);
            chain.push(quote!(.worker_threads(#n_lit)));
            notes.push(format!(
                "the merged runtime runs {n} worker threads, the most a service asked for (`{service}`); the plan's `worker_threads` overrides it"
            ));
        }
        (None, None) => {
            if let Some((n, service)) = largest(|s| s.worker_threads.as_ref()?.1) {
                notes.push(format!(
                    "`{service}` asks for {n} worker threads, but not every service sizes its runtime: the merged runtime keeps tokio's default (one per core) unless the plan sets `worker_threads`"
                ));
            }
        }
    }
    if let Some((bytes, service)) = largest(|s| s.thread_stack_size.as_ref()?.1) {
        let bytes_lit = Literal::u64_unsuffixed(bytes);
        chain.push(quote!(.thread_stack_size(#bytes_lit)));
        notes.push(format!(
            "the merged runtime's threads have stacks of {bytes} bytes, the largest a service asked for (`{service}`)"
        ));
    }
    for (service, settings) in &asked {
        let unknown = [&settings.worker_threads, &settings.thread_stack_size]
            .into_iter()
            .flatten()
            .filter(|(_, value)| value.is_none())
            .map(|(text, _)| format!("`{text}`"))
            .collect::<Vec<_>>();
        if !unknown.is_empty() {
            notes.push(format!(
                "`{service}` sizes its runtime with {}, which knit cannot evaluate: the merged runtime does not apply it",
                unknown.join(", ")
            ));
        }
    }
    chain
}

/// How the host stops: the plan's grace period, and the services it does not
/// wait for, with a note naming them.
fn shutdown_settings(host: &Host, notes: &mut Vec<String>) -> Vec<TokenStream> {
    let rt = rust::runtime();
    let mut chain = Vec::new();
    if let Some(secs) = host.shutdown_grace_secs {
        let secs = Literal::u64_unsuffixed(secs);
        chain.push(quote!(.grace_period(std::time::Duration::from_secs(#secs))));
    }
    let dying: Vec<&str> = host
        .services
        .iter()
        .filter(|s| s.on_signal == OnSignal::Dies)
        .map(|s| s.name.as_str())
        .collect();
    for name in &dying {
        chain.push(quote!(.on_signal(#name, #rt::OnSignal::Dies)));
    }
    if !dying.is_empty() {
        let quoted = |names: &[&str]| {
            let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            names.join(", ")
        };
        let stopping: Vec<&str> = host
            .services
            .iter()
            .filter(|s| s.on_signal == OnSignal::Stops)
            .map(|s| s.name.as_str())
            .collect();
        let waits = match stopping.is_empty() {
            true => String::new(),
            false => format!(
                "waits for {} (whose code stops them on SIGTERM) within the grace period, and ",
                quoted(&stopping)
            ),
        };
        let (its, it, ends) = match dying.len() {
            1 => ("its", "it", "its process"),
            _ => ("their", "them", "each process"),
        };
        notes.push(format!(
            "on SIGTERM the merged binary {waits}does not wait for {}: nothing in {its} code stops {it} on SIGTERM, so alone one SIGTERM ends {ends}",
            quoted(&dying),
        ));
    }
    chain
}

/// How a standalone binary starts its runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StandaloneRuntime {
    /// An attribute on `async fn main`, as written (`#[tokio::main]`).
    Attr(String),
    /// A `tokio::runtime::Builder` chain, before `.build()`.
    Builder(String),
    /// knit-runtime's own current-thread runtime (`knit_runtime::block_on`): for
    /// an entry that starts its runtime itself (actix's `System`), in a package
    /// that may not depend on tokio.
    Knit,
}

/// A service's standalone binary.
#[derive(Clone, Debug)]
pub struct Standalone<'a> {
    /// The name its host goes by (the service's, or the binary's when it plays
    /// several roles).
    pub service: &'a str,
    /// The crate name of the library the entry was lifted into.
    pub lib: &'a str,
    pub runtime: &'a StandaloneRuntime,
    /// The file whose `fn main` was lifted.
    pub lifted_from: &'a str,
}

/// The standalone binary's `main` (`knit_main.rs`): the service's entry, alone,
/// with its own listener. An error when the runtime's attribute or builder
/// is not Rust.
pub fn standalone(main: &Standalone) -> Result<String, String> {
    let rt = rust::runtime();
    let service = main.service;
    let host = quote!(let host = #rt::ServiceHost::standalone(#service););
    let entry = rust::path(&format!("{}::{ENTRY}", main.lib));
    let tokens = |text: &str| {
        TokenStream::from_str(text)
            .map_err(|e| format!("the standalone binary's runtime `{text}` is not Rust: {e}"))
    };
    let items = match main.runtime {
        StandaloneRuntime::Attr(attr) => {
            let attr = tokens(attr)?;
            quote! {
                #attr
                async fn main() -> std::process::ExitCode {
                    #host
                    #rt::exit(#entry(host).await)
                }
            }
        }
        StandaloneRuntime::Builder(chain) => {
            let chain = tokens(chain)?;
            quote! {
                fn main() -> std::process::ExitCode {
                    let runtime = #chain.build().expect("the service's tokio runtime");
                    #host
                    #rt::exit(runtime.block_on(#entry(host)))
                }
            }
        }
        StandaloneRuntime::Knit => quote! {
            fn main() -> std::process::ExitCode {
                #host
                #rt::exit(#rt::block_on(#entry(host)))
            }
        },
    };
    let docs = [
        format!("The standalone binary of service `{service}`: runs the entry knit lifted from"),
        format!(
            "`fn main` in {}, alone, with its own listener. Generated by knit.",
            main.lifted_from
        ),
    ];
    Ok(rust::file(&docs, items))
}
