//! Which calls between services of the group can run in process, and which proto
//! packages the group shares as one set of generated types.
//!
//! A call from service S to gRPC service `P.G` runs in process when exactly one
//! other service T of the group registers a handler for `P.G` in its entry, S and T
//! compile the same definitions of package P, and every mention of the client in S
//! is a shape knit converts. Then P becomes a shared crate of the merged workspace
//! (`knit-proto-P`), S's and T's modules that include P re-export it, and S's
//! request values reach T's handler as they are.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::channels::ChannelTimeout;
use crate::edit::{CallSite, Tier};
use crate::model::{FileId, Group, PerService, ProtoFile, ServiceId};
use crate::names::{Index, Mention, Named, Role, Usage};
use crate::routes::Connect;
use crate::scope::Deep;
use crate::served::Served;
use ra_ap_syntax::ast::HasGenericArgs;
use ra_ap_syntax::{AstNode, SyntaxNode, TextRange, TextSize, ast};

/// The code each service's entry covers (see [`crate::scope::entry_ranges`]).
type Entries = PerService<Vec<(FileId, TextRange)>>;

/// The decision for the calls of one service to one gRPC service.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decision {
    /// In process, served by the service at this index.
    Inline { provider: ServiceId },
    /// In process through the provider's server stack, with each side's own
    /// generated types encoded and decoded, because they cannot share one set
    /// (`reason`: different definitions, build script options, ..), or because
    /// the provider's server has more on the way than its handler (`stacked`:
    /// tower layers, a server-wide timeout, a wrapping service), which calls
    /// then go through as over the network.
    Bridged {
        provider: ServiceId,
        reason: String,
        stacked: bool,
    },
    /// In process through the provider's server, on the caller's own channel:
    /// the client keeps its type, its transport and its endpoint's settings
    /// (`reason`: why it keeps them), and the places where that channel is
    /// connected (`connects`) become `knit_runtime::channel::connect(..)`.
    Routed {
        provider: ServiceId,
        reason: String,
        stacked: bool,
        connects: Vec<Connect>,
    },
    /// Left as a real RPC, for this reason.
    Rpc(String),
}

/// A proto package shared by services of the group.
#[derive(Clone, Debug)]
pub struct SharedPackage {
    /// The proto package (`helloworld`).
    pub package: String,
    /// The proto files, as the first provider compiles them.
    pub files: Vec<ProtoFile>,
    /// gRPC services of the package served in process: (service name, provider).
    pub provided: BTreeMap<String, ServiceId>,
    /// Services whose proto modules re-export the shared crate.
    pub users: BTreeSet<ServiceId>,
    /// The Cargo package name, distinct among the group's shared packages.
    pub name: String,
}

impl SharedPackage {
    /// The Cargo package name (`knit-proto-helloworld`).
    pub fn package_name(&self) -> String {
        self.name.clone()
    }

    /// The crate name used in sources (`knit_proto_helloworld`).
    pub fn crate_name(&self) -> String {
        knit_codegen::names::crate_name(&self.package_name())
    }

    /// The crate's folder, relative to the output root.
    pub fn dir(&self) -> String {
        knit_codegen::names::proto_dir(&self.package)
    }

    /// The path of the in-process module of gRPC service `service` (`Greeter`).
    pub fn inline_module(&self, service: &str) -> String {
        let module = knit_codegen::names::inline_module(service);
        format!("{}::{module}", self.crate_name())
    }
}

/// The Cargo package name of the crate shared for proto package `package`
/// (`knit-proto-a-b` for `a.b`), given the names `taken` already: proto
/// packages that map to one name (`a.b` and `a_b`) get a short hash of their
/// own name appended (`knit-proto-a-b-1c2d3e4f`).
pub fn shared_package_name<'a>(
    package: &str,
    taken: impl Iterator<Item = &'a str> + Clone,
) -> String {
    let plain = knit_codegen::names::proto_package(package);
    if !taken.clone().any(|t| t == plain) {
        return plain;
    }
    // 64-bit FNV-1a: stable across runs and platforms.
    let hash = package.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut name = format!("{plain}-{:08x}", hash >> 32);
    while taken.clone().any(|t| t == name) {
        name.push('x');
    }
    name
}

/// All decisions of the group.
#[derive(Debug, Default)]
pub struct Sharing {
    pub index: Index,
    pub packages: Vec<SharedPackage>,
    /// (caller service, gRPC service) -> decision.
    pub calls: BTreeMap<(ServiceId, Named), Decision>,
    /// gRPC services (as servers) that bridged callers reach, by provider.
    pub bridged: BTreeMap<Named, ServiceId>,
    /// Those of [`Sharing::bridged`] reached through the provider's whole
    /// server (its listener's stack), not its generated server alone.
    pub stacked: BTreeSet<Named>,
    /// The code each service's entry covers (see [`crate::scope::entry_ranges`]).
    pub entries: PerService<Vec<(FileId, TextRange)>>,
    /// The walk from each service's `main` (see [`crate::scope::deep`]).
    pub deep: PerService<Deep>,
    /// The constant channel timeouts the calls pass gives in-process clients.
    pub channel_timeouts: ChannelTimeouts,
    /// Volo clients' calls to gRPC services a tonic server of the group
    /// serves, by (caller, `package.X`): the provider whose server takes them
    /// in process (registered for bridged callers), or why none does.
    pub volo_to_tonic: BTreeMap<(ServiceId, String), Result<ServiceId, String>>,
}

/// Signs of a client built over a transport other than a plain `Channel`.
const CUSTOM_TRANSPORTS: &[&str] = &["ServiceBuilder", "InterceptedService", ".layer(", "tower::"];

/// Code generation options of a build script that make its generated types
/// differ from the shared crate's.
const CODEGEN_OPTIONS: &[&str] = &[
    ".type_attribute(",
    ".field_attribute(",
    ".message_attribute(",
    ".enum_attribute(",
    ".extern_path(",
    ".bytes(",
    ".btree_map(",
    ".boxed(",
    ".compile_well_known_types(",
    ".server_mod_attribute(",
    ".client_mod_attribute(",
    ".server_attribute(",
    ".client_attribute(",
    ".codec_path(",
];

/// Server constructions knit turns into registrations.
const REGISTERED_CONSTRUCTORS: &[&str] = &["new", "with_interceptor"];

/// Whether a server's `method` (`XServer::new`, or an API crate's function:
/// `health_reporter()`) makes a server knit registers.
pub fn registers(method: &str) -> bool {
    REGISTERED_CONSTRUCTORS.contains(&method) || crate::names::builds_a_server(method)
}
/// Client constructors knit turns into in-process clients.
pub const CONVERTED_CONSTRUCTORS: &[&str] = &["connect", "new", "with_origin", "with_interceptor"];

impl Sharing {
    pub fn of(group: &Group) -> Sharing {
        let index = Index::of(group);
        let deep = PerService::of(group, |s| crate::scope::deep(group, s));
        let mut sharing = Sharing {
            entries: PerService::of(group, |s| crate::scope::entry_ranges(group, s, &deep[s])),
            deep,
            ..Sharing::default()
        };
        // Where a caller may set a channel timeout, asked once per service.
        let mut timeouts: BTreeMap<ServiceId, TimeoutSites> = BTreeMap::new();
        let mut orphans = HashMap::new();
        let reach = crate::scope::Reach::default();
        let mut by_caller: BTreeMap<(ServiceId, Named), Vec<&Mention>> = BTreeMap::new();
        let mut servers: BTreeMap<(ServiceId, Named), Vec<&Mention>> = BTreeMap::new();
        for m in &index.mentions {
            // A server in code compiled for tests only (`#[cfg(test)]`
            // modules, a crate of mocks reached by dev-dependencies) serves
            // nothing in the binary.
            let test_only = || {
                group
                    .file(m.file)
                    .rust
                    .as_ref()
                    .is_some_and(|r| r.test_only)
            };
            if m.named.role == Role::Server && (test_only() || !reach.of(group, m)) {
                continue;
            }
            // The roles of one binary serve what it serves as one provider.
            let (map, service) = if m.named.role == Role::Client {
                (&mut by_caller, m.service)
            } else {
                (&mut servers, group.role_of(m.service))
            };
            map.entry((service, m.named.clone())).or_default().push(m);
        }
        for ((caller, named), mentions) in &by_caller {
            let seen = Seen {
                entries: &sharing.entries,
                deep: &sharing.deep,
                timeouts: &mut timeouts,
                given: &mut sharing.channel_timeouts,
                orphans: &mut orphans,
                reach: &reach,
            };
            let decision = decide(group, &index, &servers, seen, *caller, named, mentions);
            sharing.calls.insert((*caller, named.clone()), decision);
        }
        agree_on_shared_files(group, &by_caller, &mut sharing.calls);
        routed_own_calls(group, &by_caller, &mut sharing.calls);
        for ((caller, named), decision) in sharing.calls.clone() {
            if let Decision::Inline { provider } = decision {
                sharing.share(group, &named, caller, provider);
            }
        }
        // The provider registers either its handler (inline) or its server
        // (bridged) under the gRPC service's name, not both.
        for ((_, named), decision) in sharing.calls.iter_mut() {
            let (Decision::Bridged {
                provider, stacked, ..
            }
            | Decision::Routed {
                provider, stacked, ..
            }) = *decision
            else {
                continue;
            };
            let server = Named {
                role: Role::Server,
                ..named.clone()
            };
            let inline = sharing.packages.iter().any(|p| {
                p.package == named.package && p.provided.get(&named.service) == Some(&provider)
            });
            if inline {
                let why = match decision {
                    Decision::Routed { reason, .. } => format!("{reason}, and "),
                    _ => String::new(),
                };
                *decision = Decision::Rpc(format!(
                    "{why}`{}` serves `{}.{}` inline to callers with its own definitions; calls through its server to the same service are not supported yet",
                    group.services[provider].name, named.package, named.service
                ));
            } else {
                if stacked {
                    sharing.stacked.insert(server.clone());
                }
                sharing.bridged.insert(server, provider);
            }
        }
        // Volo clients of tonic servers: bridged, through what the provider
        // registers for tonic's bridged callers.
        for (caller, grpc) in crate::volo::calls::tonic_served(group) {
            let Some(server) = servers
                .keys()
                .map(|(_, named)| named)
                .find(|named| crate::volo::calls::full_name(&named.package, &named.service) == grpc)
                .cloned()
            else {
                continue;
            };
            let seen = (&sharing.entries, &sharing.deep);
            let decision = volo_to_tonic(group, &servers, seen, caller, &server, &sharing.packages);
            if let Ok((provider, stacked)) = decision {
                if stacked {
                    sharing.stacked.insert(server.clone());
                }
                sharing.bridged.insert(server, provider);
            }
            let provider = decision.map(|(provider, _)| provider);
            sharing.volo_to_tonic.insert((caller, grpc), provider);
        }
        sharing.index = index;
        sharing
    }

    /// The provider of `named` (a server) for bridged callers.
    pub fn bridged_provider(&self, named: &Named) -> Option<ServiceId> {
        self.bridged.get(named).copied()
    }

    /// Whether bridged callers of `named` (a server) go through the
    /// provider's whole server stack.
    pub fn is_stacked(&self, named: &Named) -> bool {
        self.stacked.contains(named)
    }

    fn share(&mut self, group: &Group, named: &Named, caller: ServiceId, provider: ServiceId) {
        let idx = match self
            .packages
            .iter()
            .position(|p| p.package == named.package)
        {
            Some(i) => i,
            None => {
                let files = protos_of(group, provider, &named.package);
                let name = shared_package_name(
                    &named.package,
                    self.packages.iter().map(|p| p.name.as_str()),
                );
                self.packages.push(SharedPackage {
                    package: named.package.clone(),
                    files,
                    provided: BTreeMap::new(),
                    users: BTreeSet::new(),
                    name,
                });
                self.packages.len() - 1
            }
        };
        let shared = &mut self.packages[idx];
        shared.provided.insert(named.service.clone(), provider);
        shared.users.extend([caller, provider]);
    }

    /// The shared package of `package`, if the group shares it.
    pub fn package(&self, package: &str) -> Option<&SharedPackage> {
        self.packages.iter().find(|p| p.package == package)
    }

    /// The provider of `named` (a server), when its calls run in process.
    pub fn provider_of(&self, named: &Named) -> Option<ServiceId> {
        self.package(&named.package)?
            .provided
            .get(&named.service)
            .copied()
    }
}

/// A file of a package several services reach (a client helper crate) is
/// compiled once, with one set of edits: when their calls to a gRPC service it
/// names would not run alike, they all stay RPC.
fn agree_on_shared_files(
    group: &Group,
    by_caller: &BTreeMap<(ServiceId, Named), Vec<&Mention>>,
    calls: &mut BTreeMap<(ServiceId, Named), Decision>,
) {
    let mut sharers: BTreeMap<(FileId, Named), BTreeSet<ServiceId>> = BTreeMap::new();
    for ((caller, named), mentions) in by_caller {
        for m in mentions
            .iter()
            .filter(|m| !group.file(m.file).also.is_empty())
        {
            sharers
                .entry((m.file, named.clone()))
                .or_default()
                .insert(*caller);
        }
    }
    for ((file, named), callers) in sharers {
        let decisions: BTreeSet<&Decision> = callers
            .iter()
            .filter_map(|c| calls.get(&(*c, named.clone())))
            .collect();
        // Calls that all stay RPC (for whatever reasons) leave the file alone.
        let tiers: BTreeSet<(u8, ServiceId)> = decisions
            .iter()
            .map(|d| match d {
                Decision::Inline { provider } => (0, *provider),
                Decision::Bridged { provider, .. } => (1, *provider),
                Decision::Rpc(_) => (2, ServiceId(0)),
                Decision::Routed { provider, .. } => (3, *provider),
            })
            .collect();
        // A routed caller's client code is not edited: it runs alike beside
        // callers whose calls stay RPC.
        let routed_beside_rpc = tiers.iter().all(|(t, _)| *t >= 2);
        if tiers.len() < 2 || routed_beside_rpc {
            continue;
        }
        // The provider itself reaching the shared client code: its own calls
        // through it run in process, on its own handler or through its own
        // server, as the others' do.
        let in_process: BTreeSet<(ServiceId, &Decision)> = decisions
            .iter()
            .filter_map(|d| match d {
                Decision::Inline { provider }
                | Decision::Bridged { provider, .. }
                | Decision::Routed { provider, .. } => Some((*provider, *d)),
                Decision::Rpc(_) => None,
            })
            .collect();
        if let [(provider, decision)] = in_process.iter().copied().collect::<Vec<_>>()[..] {
            let others_alike = callers
                .iter()
                .all(|c| *c == provider || calls.get(&(*c, named.clone())) == Some(decision));
            if others_alike && callers.contains(&provider) {
                let decision = decision.clone();
                calls.insert((provider, named.clone()), decision);
                continue;
            }
        }
        let names: Vec<&str> = callers
            .iter()
            .map(|c| group.services[*c].name.as_str())
            .collect();
        let reason = format!(
            "`{}` is shared by services {}, whose calls to `{}.{}` would not run alike",
            group.file(file).path,
            names.join(", "),
            named.package,
            named.service
        );
        for caller in callers {
            calls.insert((caller, named.clone()), Decision::Rpc(reason.clone()));
        }
    }
}

/// The callers of one gRPC service whose channels are routed to its provider.
struct RoutedCalls<'a> {
    provider: ServiceId,
    stacked: bool,
    /// Where their channels are connected.
    connects: Vec<&'a Connect>,
    callers: Vec<ServiceId>,
}

/// A provider's own clients of a gRPC service it serves stay RPC, unless
/// every channel they are made on is connected where another caller's routed
/// channels are, in code both compile: that connect is rewritten once for
/// both and routes each request by its service, so the provider's own calls
/// through it run in process too, through its own server.
fn routed_own_calls(
    group: &Group,
    by_caller: &BTreeMap<(ServiceId, Named), Vec<&Mention>>,
    calls: &mut BTreeMap<(ServiceId, Named), Decision>,
) {
    let mut routed: BTreeMap<&Named, RoutedCalls> = BTreeMap::new();
    for ((caller, named), decision) in calls.iter() {
        if let Decision::Routed {
            provider,
            stacked,
            connects,
            ..
        } = decision
        {
            let entry = routed.entry(named).or_insert_with(|| RoutedCalls {
                provider: *provider,
                stacked: *stacked,
                connects: Vec::new(),
                callers: Vec::new(),
            });
            entry.connects.extend(connects);
            entry.callers.push(*caller);
        }
    }
    let mut own = Vec::new();
    for ((caller, named), mentions) in by_caller {
        let Some(RoutedCalls {
            provider,
            stacked,
            connects: theirs,
            callers,
        }) = routed.get(named)
        else {
            continue;
        };
        if provider != caller
            || !matches!(calls.get(&(*caller, named.clone())), Some(Decision::Rpc(_)))
        {
            continue;
        }
        let made = mentions
            .iter()
            .filter(|m| matches!(m.usage, Usage::Call { .. }));
        let Ok(connects) = made
            .map(|m| crate::routes::connects_of(group, *caller, m))
            .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let mut connects: Vec<Connect> = connects.into_iter().flatten().collect();
        connects.sort();
        connects.dedup();
        if connects.is_empty() || !connects.iter().all(|c| theirs.contains(&c)) {
            continue;
        }
        let names: Vec<String> = callers
            .iter()
            .map(|c| format!("`{}`", group.services[*c].name))
            .collect();
        let reason = format!(
            "`{}` calls a service it serves itself, on channels connected where {}'s are, in code both compile",
            group.services[*caller].name,
            names.join(", ")
        );
        own.push((
            (*caller, named.clone()),
            Decision::Routed {
                provider: *provider,
                reason,
                stacked: *stacked,
                connects,
            },
        ));
    }
    calls.extend(own);
}

fn protos_of(group: &Group, service: ServiceId, package: &str) -> Vec<ProtoFile> {
    group.services[service]
        .protos
        .iter()
        .filter(|p| p.package == package)
        .cloned()
        .collect()
}

fn fingerprints(group: &Group, service: ServiceId, package: &str) -> Vec<u64> {
    let mut prints: Vec<u64> = protos_of(group, service, package)
        .iter()
        .map(|p| p.fingerprint)
        .collect();
    prints.sort();
    prints
}

/// What [`decide`] reads of every service and keeps from caller to caller.
struct Seen<'a> {
    /// What each service's entry covers.
    entries: &'a PerService<Vec<(FileId, TextRange)>>,
    /// The walk from each service's `main`.
    deep: &'a PerService<Deep>,
    /// Where callers may set channel timeouts.
    timeouts: &'a mut BTreeMap<ServiceId, TimeoutSites>,
    /// The channel timeouts given to in-process clients so far.
    given: &'a mut ChannelTimeouts,
    /// Per service and proto package, its first impl on a generated type.
    orphans: &'a mut Orphans,
    /// What each binary reaches of a library it shares with another.
    reach: &'a crate::scope::Reach,
}

/// Per service and proto package, its first impl on a generated type, once
/// asked ([`crate::orphans::impl_on_generated`]).
type Orphans = HashMap<(ServiceId, String), Option<(FileId, usize, String)>>;

/// Where a caller may set a channel timeout: its files that call
/// `.timeout(`, and the first channel timeout of its own files, once asked.
#[derive(Default)]
struct TimeoutSites {
    files: Option<Vec<FileId>>,
    first: Option<Option<(FileId, TextSize)>>,
}

/// The constant channel timeouts of client constructors, by the constructor
/// call (file, start, end): where the client is in hand, and the timeout's text.
pub type ChannelTimeouts = BTreeMap<(FileId, TextSize, TextSize), (TextSize, String)>;

fn decide(
    group: &Group,
    index: &Index,
    servers: &BTreeMap<(ServiceId, Named), Vec<&Mention>>,
    seen: Seen,
    caller: ServiceId,
    named: &Named,
    mentions: &[&Mention],
) -> Decision {
    let server = Named {
        role: Role::Server,
        ..named.clone()
    };
    let full = format!("{}.{}", named.package, named.service);
    let provider = match provider_of(group, servers, seen.entries, caller, &server) {
        Ok(provider) => provider,
        Err(Some(reason)) => return Decision::Rpc(reason),
        Err(None) => {
            if let Some(reason) = built_by_its_crate(group, caller, named) {
                return Decision::Rpc(reason);
            }
            return Decision::Rpc(format!(
                "`{full}` is not served by a service of the merge group"
            ));
        }
    };
    // A side whose paths name the generated code of an API crate outside the
    // group (which knit never edits), and that crate.
    let api = mentions
        .iter()
        .find_map(|m| Some((caller, m.api_crate.as_deref()?)))
        .or_else(|| {
            servers[&(provider, server.clone())]
                .iter()
                .find_map(|m| Some((provider, m.api_crate.as_deref()?)))
        });
    let unshared = unshareable(group, index, seen.orphans, (caller, provider), named, api);
    if let Some(reason) = &unshared
        && let Err(refusal) = bridgeable(group, caller, provider, named, api.is_some())
    {
        return Decision::Rpc(format!("{reason}, and no bridge: {refusal}"));
    }
    // Whether a client is made on a channel with a timeout (`Endpoint::timeout`),
    // and the constant ones an in-process client is given.
    let mut timed = false;
    let mut timeouts_given = Vec::new();
    // Why the caller's clients keep their own channel, if they must: then
    // only where that channel is connected changes (`Decision::Routed`).
    let mut keeps: Option<String> = None;
    let client = &named.service;
    for m in mentions {
        if let Usage::Call { method, call, .. } = &m.usage {
            let call_text = &group.file(m.file).text[*call];
            if !CONVERTED_CONSTRUCTORS.contains(&method.as_str()) {
                return Decision::Rpc(format!("`{client}Client::{method}` is not converted yet"));
            }
            if CUSTOM_TRANSPORTS.iter().any(|t| call_text.contains(t)) {
                keeps.get_or_insert(format!(
                    "`{client}Client::{method}` runs over a transport of its own (tower layers)"
                ));
            }
            // A timeout an in-process client would lose matters only where
            // the caller's binary runs the code (a library two binaries share
            // makes other clients for the other one).
            let timeout = match seen.reach.of(group, m) {
                true => crate::channels::timeout(group, m),
                false => None,
            };
            match timeout {
                Some(ChannelTimeout::Computed(timeout)) if method == "connect" => {
                    keeps.get_or_insert(format!(
                        "`{client}Client::connect` dials an endpoint with a timeout an in-process client could not be given (`.timeout({timeout})`)"
                    ));
                }
                Some(ChannelTimeout::Computed(timeout)) => {
                    keeps.get_or_insert(format!(
                        "the channel `{client}Client::{method}` is given has a timeout an in-process client could not be given (`.timeout({timeout})`)"
                    ));
                }
                Some(ChannelTimeout::Unknown) => {
                    // Where this channel is made first, anywhere in the
                    // service only when that says nothing.
                    let sites = seen.timeouts.entry(caller).or_default();
                    let files = sites
                        .files
                        .get_or_insert_with(|| crate::channels::timeout_files(group, caller));
                    let set = match crate::channels::sets_timeout_near(group, m, files) {
                        Some(near) => Some(near),
                        None => *sites
                            .first
                            .get_or_insert_with(|| crate::channels::sets_timeout(group, caller)),
                    };
                    if let Some((file, at)) = set {
                        let (line, _) = group.file(file).line_col(at);
                        let given = if method == "connect" {
                            "dials what may be an endpoint made elsewhere"
                        } else {
                            "is given a channel made elsewhere"
                        };
                        keeps.get_or_insert(format!(
                            "`{client}Client::{method}` {given}, and `{}` sets a channel timeout at {}:{line}, which an in-process client would not keep",
                            group.services[caller].name,
                            group.file(file).path
                        ));
                    }
                }
                Some(ChannelTimeout::Constant(timeout)) => {
                    // A client `connect` makes is in hand once awaited (and
                    // unwrapped); one `new` makes, at once.
                    let end = if method == "connect" {
                        crate::channels::connected_end(group, m)
                    } else {
                        Some(call.end())
                    };
                    match end {
                        Some(end) => timeouts_given.push((
                            (m.file, call.start(), call.end()),
                            (end, timeout.syntax().to_string()),
                        )),
                        None => {
                            keeps.get_or_insert(format!(
                                "`{client}Client::connect` dials an endpoint with a timeout (`.timeout({timeout})`) and its client is not taken at once (`.await?`, `.await.unwrap()`, `.await.expect(..)`), where an in-process client would be given it"
                            ));
                        }
                    }
                    timed = true;
                }
                Some(ChannelTimeout::Wrapped(wrapper)) => {
                    keeps.get_or_insert(format!(
                        "`{client}Client::{method}` is given its channel inside `{wrapper}`, a transport of the client's own"
                    ));
                }
                Some(ChannelTimeout::Unset) | None => {}
            }
        } else if m.usage == Usage::Other {
            return Decision::Rpc(format!(
                "a use of `{client}Client` that knit does not convert yet"
            ));
        } else if m.usage == Usage::Type
            && let Some(transport) = own_transport(&group.file(m.file).text, m.path)
            && !type_parameter_in_scope(group, m, &transport)
        {
            keeps.get_or_insert(format!(
                "`{client}Client<{transport}>` runs over `{transport}`, a transport of the client's own"
            ));
        } else if m.usage == Usage::Type && aliased_in_a_block(group, m) {
            keeps.get_or_insert(format!(
                "`{client}Client` is given a `type` alias inside a function or an `impl`, which knit does not rewrite"
            ));
        }
    }
    let Registration { stack, encoded } =
        match registration(group, servers, (seen.entries, seen.deep), provider, &server) {
            Ok(registration) => registration,
            Err(reason) => return Decision::Rpc(reason),
        };
    let bridged = match (&unshared, &stack) {
        (None, None) => None,
        (Some(reason), None) => Some(reason.clone()),
        (None, Some(stack)) => Some(stack.clone()),
        (Some(reason), Some(stack)) => Some(format!("{reason}; {stack}")),
    };
    if keeps.is_none()
        && timed
        && let Some(reason) = &bridged
    {
        keeps = Some(format!(
            "{reason}, and its channel has a timeout (`Endpoint::timeout`) that the calls keep on their own channel"
        ));
    }
    let mut stacked = stack.is_some();
    // Encoded calls meet the encoding options set apart from the server's
    // construction only through its whole server.
    let bridged = match encoded {
        Some(_) if keeps.is_none() && bridged.is_none() => bridged,
        Some(Err(reason)) => return Decision::Rpc(reason),
        Some(Ok(reason)) if !stacked => {
            stacked = true;
            bridged.map(|b| format!("{b}; {reason}"))
        }
        Some(Ok(_)) | None => bridged,
    };
    match (keeps, bridged) {
        (None, None) => {
            seen.given.extend(timeouts_given);
            Decision::Inline { provider }
        }
        (None, Some(reason)) => {
            seen.given.extend(timeouts_given);
            Decision::Bridged {
                provider,
                reason,
                stacked,
            }
        }
        (Some(keeps), _) => {
            let from_api_crate = api.is_some();
            route(
                group,
                (caller, provider),
                named,
                mentions,
                keeps,
                stacked,
                from_api_crate,
            )
        }
    }
}

/// The provider whose tonic server takes a Volo client's calls of `caller` to
/// `server` (a `Named` server) in process, and whether through its whole
/// server; or why none does.
fn volo_to_tonic(
    group: &Group,
    servers: &BTreeMap<(ServiceId, Named), Vec<&Mention>>,
    (entries, deep): (&Entries, &PerService<Deep>),
    caller: ServiceId,
    server: &Named,
    packages: &[SharedPackage],
) -> Result<(ServiceId, bool), String> {
    let full = crate::volo::calls::full_name(&server.package, &server.service);
    let provider = provider_of(group, servers, entries, caller, server).map_err(|reason| {
        reason.unwrap_or_else(|| format!("`{full}` is not served by a service of the merge group"))
    })?;
    let inline = packages
        .iter()
        .any(|p| p.package == server.package && p.provided.get(&server.service) == Some(&provider));
    if inline {
        return Err(format!(
            "`{}` serves `{full}` inline to tonic callers with its own definitions; calls through its server to the same service are not supported yet",
            group.services[provider].name
        ));
    }
    let Registration { stack, encoded } =
        registration(group, servers, (entries, deep), provider, server)?;
    match encoded {
        Some(Err(reason)) => Err(reason),
        Some(Ok(_)) => Ok((provider, true)),
        None => Ok((provider, stack.is_some())),
    }
}

/// What calls in process must go through to reach a provider's server.
struct Registration {
    /// Why every call must go through its whole server (its layers); none
    /// when the generated server is enough.
    stack: Option<String>,
    /// Where encoding options are set apart from the server's construction:
    /// encoded (bridged) calls go through its whole server (`Ok`, why), or
    /// stay RPC (`Err`, why); inline calls meet no encoding.
    encoded: Option<Result<String, String>>,
}

/// How `provider` builds `server` (a `Named` server) in its entry, for
/// registration ([`Registration`]); `Err(why)` when knit cannot register it.
fn registration(
    group: &Group,
    servers: &BTreeMap<(ServiceId, Named), Vec<&Mention>>,
    (entries, deep): (&Entries, &PerService<Deep>),
    provider: ServiceId,
    server: &Named,
) -> Result<Registration, String> {
    let named = server;
    let provider_name = &group.services[provider].name;
    let full = format!("{}.{}", named.package, named.service);
    let mut registered = false;
    let mut stack = None;
    let mut encoded: Option<Result<String, String>> = None;
    // Where an API crate's function builds the server (`health_reporter()`).
    let mut pairs: Vec<String> = Vec::new();
    for m in &servers[&(provider, server.clone())] {
        let file = group.file(m.file);
        let test_only = file.rust.as_ref().is_some_and(|r| r.test_only);
        if m.usage == Usage::Import
            || test_only
            || crate::compiled::not_compiled(group, m.file, m.path)
        {
            continue;
        }
        let (line, _) = file.line_col(m.path.start());
        if m.usage == Usage::Type && crate::served::type_only(file, m.path) {
            // `health_reporter.set_serving::<XServer<H>>()`, `fn serve(svc:
            // XServer<H>)`: no server is made there.
            continue;
        }
        if let Usage::Call { call, .. } = &m.usage
            && crate::served::builds_no_server(file, *call)
        {
            continue;
        }
        let Usage::Call { method, call, .. } = &m.usage else {
            // `.map(XServer::new)`, a type, a macro knit cannot read: how
            // that server is served is not seen.
            return Err(format!(
                "`{provider_name}` names `{}Server` at {}:{line} in a way knit does not follow",
                named.service, file.path
            ));
        };
        if !registers(method) {
            return Err(format!(
                "`{provider_name}` builds its server with `{}Server::{method}`: not converted yet",
                named.service
            ));
        }
        if !crate::scope::in_entry(&entries[provider], m) {
            return Err(format!(
                "`{provider_name}` builds `{}Server` {}",
                named.service,
                crate::scope::outside_entry(group, provider, m, &deep[provider].unreached)
            ));
        }
        registered = true;
        if crate::names::builds_a_server(method) {
            pairs.push(format!("{}:{line}", file.path));
        }
        match crate::served::serving(group, provider, m.file, *call, &entries[provider]) {
            Served::AsIs => {}
            Served::Stacked(reason) => {
                stack.get_or_insert(reason);
            }
            Served::Encoded(Err(reason)) => encoded = Some(Err(reason)),
            Served::Encoded(Ok(reason)) => {
                encoded.get_or_insert(Ok(reason));
            }
            Served::Rpc(reason) => return Err(reason),
        }
    }
    if !registered {
        return Err(format!(
            "`{provider_name}` does not build `{}Server` in its `fn main`",
            named.service
        ));
    }
    // Each pair's server answers with its own reporter's statuses: one
    // registration would answer for both.
    if pairs.len() > 1 {
        return Err(format!(
            "`{provider_name}` builds `{full}` servers in several places ({}), each with a reporter of its own: knit cannot tell which one a call is for",
            pairs.join(", ")
        ));
    }
    Ok(Registration { stack, encoded })
}

/// The one other service of the group that serves `server` (a `Named`
/// server) to `caller`: the one whose entry builds it, or that names it in
/// code no other service's entry builds it in. `Err(None)` when none does,
/// `Err(Some(reason))` when knit cannot tell which.
fn provider_of(
    group: &Group,
    servers: &BTreeMap<(ServiceId, Named), Vec<&Mention>>,
    entries: &Entries,
    caller: ServiceId,
    server: &Named,
) -> Result<ServiceId, Option<String>> {
    let full = format!("{}.{}", server.package, server.service);
    // The services whose code names the server, but those that name it only
    // in code another service's entry builds it in (a library two binaries
    // share names it for both; only the binary that runs it serves it).
    let named_by: Vec<ServiceId> = servers
        .keys()
        .filter(|(_, n)| n == server)
        .map(|(s, _)| *s)
        .collect();
    let mentions_of = |s: ServiceId| &servers[&(s, server.clone())];
    let builds = |s: ServiceId| {
        mentions_of(s).iter().any(|m| {
            matches!(m.usage, Usage::Call { .. }) && crate::scope::in_entry(&entries[s], m)
        })
    };
    let building: Vec<ServiceId> = named_by.iter().copied().filter(|&s| builds(s)).collect();
    let built_there: HashSet<(FileId, TextRange)> = building
        .iter()
        .flat_map(|&s| mentions_of(s).iter().map(|m| (m.file, m.path)))
        .collect();
    let serving: Vec<ServiceId> = named_by
        .into_iter()
        .filter(|&s| {
            building.contains(&s)
                || !mentions_of(s)
                    .iter()
                    .all(|m| built_there.contains(&(m.file, m.path)))
        })
        .collect();
    let serves_itself = serving.contains(&caller);
    let providers: Vec<ServiceId> = serving
        .into_iter()
        .filter(|&s| s != caller || group.has_roles(s))
        .collect();
    match providers.as_slice() {
        [] if serves_itself => Err(Some(format!(
            "no other service of the merge group serves `{full}` (the calling service `{}` reaches its server's code)",
            group.services[caller].name
        ))),
        [] => Err(None),
        // A service that serves `X` itself and calls it calls its peers
        // (other instances of itself), or the other service that serves it:
        // knit cannot tell which.
        [one] if serves_itself && !group.has_roles(caller) => Err(Some(format!(
            "`{}` serves `{full}` itself, as `{}` does: knit cannot tell whether its calls are for its own peers or for `{}`",
            group.services[caller].name, group.services[*one].name, group.services[*one].name
        ))),
        [one] => Ok(*one),
        many => {
            let names: Vec<&str> = many
                .iter()
                .map(|&s| group.services[s].name.as_str())
                .collect();
            Err(Some(format!(
                "`{full}` is served by several services of the group: {}",
                names.join(", ")
            )))
        }
    }
}

/// The decision for a caller whose clients of `named` keep their own channel
/// (`keeps` says why): routed through `provider`'s server where knit finds
/// every place that channel is connected, RPC otherwise.
fn route(
    group: &Group,
    (caller, provider): (ServiceId, ServiceId),
    named: &Named,
    mentions: &[&Mention],
    keeps: String,
    stacked: bool,
    from_api_crate: bool,
) -> Decision {
    if let Err(refusal) = bridgeable(group, caller, provider, named, from_api_crate) {
        return Decision::Rpc(format!(
            "{keeps}, and no call through its server: {refusal}"
        ));
    }
    let mut connects = Vec::new();
    for m in mentions
        .iter()
        .filter(|m| matches!(m.usage, Usage::Call { .. }))
    {
        match crate::routes::connects_of(group, caller, m) {
            Ok(found) => connects.extend(found),
            Err(why) => {
                let (line, _) = group.file(m.file).line_col(m.path.start());
                return Decision::Rpc(format!(
                    "{keeps}, and knit cannot tell where the channel of the client made at {}:{line} is connected: {why}",
                    group.file(m.file).path
                ));
            }
        }
    }
    if connects.is_empty() {
        return Decision::Rpc(format!("{keeps}, and knit finds no client made"));
    }
    connects.sort();
    connects.dedup();
    Decision::Routed {
        provider,
        reason: keeps,
        stacked,
        connects,
    }
}

/// The transport the client type at `range` of `text` names other than a
/// `Channel` (by any name the file gives it: `Channel as Ch`) or tonic's
/// `InterceptedService` around one, as written: `TracingService<Channel>` in
/// `XClient<TracingService<Channel>>`.
fn own_transport(text: &str, range: TextRange) -> Option<String> {
    const BEFORE: &str = "type T = ";
    let ty = &text[range];
    let parsed = ast::SourceFile::parse(&format!("{BEFORE}{ty};"), ra_ap_syntax::Edition::CURRENT);
    let path = parsed
        .tree()
        .syntax()
        .descendants()
        .find_map(ast::PathType::cast)?
        .path()?;
    let arg = path.segment()?.generic_arg_list()?.generic_args().next()?;
    let ast::GenericArg::TypeArg(arg) = arg else {
        return None;
    };
    let ast::Type::PathType(transport) = arg.ty()? else {
        return Some(arg.syntax().to_string());
    };
    let name = transport.path()?.segment()?.name_ref()?.text().to_string();
    let name = name.trim_start_matches("r#");
    let channel = |n: &str| {
        matches!(n, "Channel" | "InterceptedService")
            || text.contains(&format!("Channel as {n}"))
            || text.contains(&format!("Channel as r#{n}"))
            || text.contains(&format!("type {n} = "))
    };
    (!channel(name)).then(|| arg.syntax().to_string())
}

/// The syntax around mention `m`, innermost first.
fn mention_ancestors(group: &Group, m: &Mention) -> impl Iterator<Item = SyntaxNode> {
    let tree = group.file(m.file).rust.as_ref().map(|rust| rust.tree());
    tree.and_then(|tree| crate::served::covering_node(&tree, m.path))
        .into_iter()
        .flat_map(|node| node.ancestors())
}

/// Whether `name` is a type parameter of an item around mention `m`
/// (`type BaseNodeGrpcClient<T> = BaseNodeClient<T>;`, `struct Node<T> {
/// client: NodeClient<T> }`): such a mention names no transport; where the
/// client is made does.
fn type_parameter_in_scope(group: &Group, m: &Mention, name: &str) -> bool {
    use ra_ap_syntax::ast::{HasGenericParams, HasName};
    mention_ancestors(group, m)
        .filter_map(ast::AnyHasGenericParams::cast)
        .filter_map(|item| item.generic_param_list())
        .flat_map(|params| params.type_or_const_params())
        .any(|param| match param {
            ast::TypeOrConstParam::Type(ty) => ty.name().is_some_and(|n| n.text() == name),
            ast::TypeOrConstParam::Const(_) => false,
        })
}

/// Whether mention `m` is the type of a `type` alias declared inside a block
/// (a function's body) or an `impl` or trait (an associated type): knit follows
/// module-level aliases only.
fn aliased_in_a_block(group: &Group, m: &Mention) -> bool {
    mention_ancestors(group, m)
        .find_map(ast::TypeAlias::cast)
        .and_then(|alias| alias.syntax().parent())
        .is_some_and(|parent| {
            ast::StmtList::can_cast(parent.kind()) || ast::AssocItemList::can_cast(parent.kind())
        })
}

/// Why `caller` and `provider` cannot share one set of generated types for
/// `named`'s package, if they cannot: then each keeps its own, and calls are
/// bridged.
fn unshareable(
    group: &Group,
    index: &Index,
    orphans: &mut Orphans,
    (caller, provider): (ServiceId, ServiceId),
    named: &Named,
    api: Option<(ServiceId, &str)>,
) -> Option<String> {
    let full = format!("{}.{}", named.package, named.service);
    let names = |side: ServiceId| group.services[side].name.as_str();
    if let Some((side, api)) = api {
        return Some(format!(
            "`{}` takes the generated code of `{}` from `{api}`, a dependency knit does not edit",
            names(side),
            named.package,
        ));
    }
    if fingerprints(group, caller, &named.package) != fingerprints(group, provider, &named.package)
    {
        return Some(format!(
            "`{}` and `{}` compile different definitions of `{}`",
            names(caller),
            names(provider),
            named.package
        ));
    }
    let protos = protos_of(group, provider, &named.package);
    let methods = protos
        .iter()
        .flat_map(|p| &p.services)
        .filter(|s| s.name == named.service)
        .flat_map(|s| &s.methods);
    for m in methods {
        for ty in [&m.input, &m.output] {
            if !ty.starts_with(&format!(".{}.", named.package)) && ty != ".google.protobuf.Empty" {
                return Some(format!(
                    "`{full}/{}` uses `{ty}` from another package",
                    m.name
                ));
            }
        }
    }
    let imports: BTreeSet<&String> = protos.iter().flat_map(|p| p.imports.iter()).collect();
    if let Some(import) = imports.iter().find(|i| !i.starts_with("google/protobuf/")) {
        return Some(format!(
            "proto package `{}` imports `{import}`",
            named.package
        ));
    }
    for side in [caller, provider] {
        let scripts = group.services[side]
            .packages
            .iter()
            .filter_map(|p| p.build_script.as_deref());
        if let Some(option) = scripts
            .flat_map(|s| CODEGEN_OPTIONS.iter().filter(move |o| s.contains(*o)))
            .next()
        {
            return Some(format!(
                "`{}`'s build script customises the generated code (`{}`)",
                names(side),
                option.trim_matches(['.', '('])
            ));
        }
    }
    for side in [caller, provider] {
        let orphan = orphans
            .entry((side, named.package.clone()))
            .or_insert_with(|| {
                crate::orphans::impl_on_generated(group, index, side, &named.package)
            });
        if let Some((file, at, ty)) = orphan.clone() {
            let line = group.file(file).text[..at].matches('\n').count() + 1;
            return Some(format!(
                "`{}` implements `{ty}` itself ({}:{line}), which Rust's orphan rule forbids once the generated types are shared",
                names(side),
                group.file(file).path
            ));
        }
    }
    for side in [caller, provider] {
        if index.modules_of(side, &named.package).next().is_none() {
            return Some(format!(
                "`{}` does not include proto package `{}` in a module knit can rewrite",
                names(side),
                named.package
            ));
        }
    }
    None
}

/// Whether calls from `caller` to `named` can be bridged to `provider`'s server
/// although the two compile different definitions of its proto package: every
/// method the caller knows must exist on the provider with the same streaming
/// shape and the same message type names. Fields are compared by the wire, as
/// over the network: a field one side lacks is skipped when decoding.
fn bridgeable(
    group: &Group,
    caller: ServiceId,
    provider: ServiceId,
    named: &Named,
    from_api_crate: bool,
) -> Result<(), String> {
    let methods = |side: ServiceId| -> BTreeMap<String, (bool, bool, String, String)> {
        protos_of(group, side, &named.package)
            .iter()
            .flat_map(|p| &p.services)
            .filter(|s| s.name == named.service)
            .flat_map(|s| &s.methods)
            .map(|m| {
                let shape = (
                    m.client_streaming,
                    m.server_streaming,
                    m.input.clone(),
                    m.output.clone(),
                );
                (m.name.clone(), shape)
            })
            .collect()
    };
    if from_api_crate {
        // Generated code knit knows by its services, not its methods: both
        // sides compiled it against the same tonic, and the server answers
        // a method it lacks with `Unimplemented`, as over the network.
        return Ok(());
    }
    let (theirs, ours) = (methods(provider), methods(caller));
    let who = |side: ServiceId| group.services[side].name.as_str();
    for (name, shape) in &ours {
        match theirs.get(name) {
            None => {
                return Err(format!(
                    "`{}` calls `{}.{}/{name}`, which `{}`'s definitions lack",
                    who(caller),
                    named.package,
                    named.service,
                    who(provider)
                ));
            }
            Some(their) if their != shape => {
                return Err(format!(
                    "`{}` and `{}` define `{}.{}/{name}` with other message types or streaming",
                    who(caller),
                    who(provider),
                    named.package,
                    named.service
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Why no service of the group serves `named` when another service builds its
/// server with a function of its API crate ([`crate::names::SERVER_BUILDERS`]:
/// `tonic_health::server::health_reporter()`) by a path knit does not resolve
/// to that function.
fn built_by_its_crate(group: &Group, caller: ServiceId, named: &Named) -> Option<String> {
    let builder = crate::names::SERVER_BUILDERS
        .iter()
        .find(|b| b.package == named.package && b.service == named.service)?;
    let name = builder.path.last()?;
    let function = format!("{name}()");
    let full = format!(
        "`{}::{}()`",
        builder.krate.replace('-', "_"),
        builder.path.join("::")
    );
    // A function of the file's own by that name is not the crate's.
    let own = format!("fn {name}");
    let (id, file, _) = group.rust_files().find(|(_, file, _)| {
        file.text.contains(&function)
            && !file.text.contains(&own)
            && file.owners().any(|o| o.service != caller)
    })?;
    let at = file.text.find(&function).unwrap_or(0);
    let (line, column) = group
        .file(id)
        .line_col(ra_ap_syntax::TextSize::from(at as u32));
    let server = file.owners().find(|o| o.service != caller)?.service;
    Some(format!(
        "`{}` builds the `{}.{}` server with its crate's `{function}` ({}:{line}:{column}) by a path knit does not resolve to that function; called as {full}, or imported by that name, it would be registered for calls in process",
        group.services[server].name, named.package, named.service, file.path
    ))
}

/// The record of one call site.
pub fn call_site(
    group: &Group,
    m: &Mention,
    decision: &Decision,
    shared: Option<&SharedPackage>,
) -> CallSite {
    let full = format!("{}.{}", m.named.package, m.named.service);
    let inline_client = shared
        .map(|s| s.inline_module(&m.named.service))
        .unwrap_or_default();
    let (tier, message) = match decision {
        Decision::Inline { provider } => (
            Tier::Inline,
            format!(
                "calls to `{full}` run in process on `{}`'s handler ({inline_client}::{}Client)",
                group.services[*provider].name,
                crate::names::upper_camel(&m.named.service)
            ),
        ),
        Decision::Bridged {
            provider,
            reason,
            stacked: false,
        } => (
            Tier::Bridged,
            format!(
                "calls to `{full}` run in process through `{}`'s server stack, bridged (each side encodes with its own generated types): {reason}",
                group.services[*provider].name
            ),
        ),
        Decision::Bridged {
            provider,
            reason,
            stacked: true,
        } => (
            Tier::Bridged,
            format!(
                "calls to `{full}` run in process through `{}`'s whole server, its layers and settings included (encoded, no socket): {reason}",
                group.services[*provider].name
            ),
        ),
        Decision::Routed {
            provider,
            reason,
            stacked,
            connects,
        } => {
            let places: Vec<String> = connects
                .iter()
                .map(|c| {
                    let file = group.file(c.file);
                    let (line, _) = file.line_col(c.range().start());
                    format!("{}:{line}", file.path)
                })
                .collect();
            let server = match stacked {
                true => "whole server, its layers and settings included",
                false => "server",
            };
            (
                Tier::Bridged,
                format!(
                    "calls to `{full}` run in process through `{}`'s {server} (encoded, no socket), on the caller's own channel, connected in process at {}: {reason}",
                    group.services[*provider].name,
                    places.join(", ")
                ),
            )
        }
        Decision::Rpc(reason) => (Tier::Rpc, format!("calls to `{full}` stay RPC: {reason}")),
    };
    CallSite {
        tier,
        at: (m.file, m.path.start()),
        caller: m.service,
        callee: Some(full),
        detail: message,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use crate::fixture::{GREETER, HELLO_PROTO, check_all, with_frontend};

    const CALLER: &str = "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n";

    /// The decision of `fixture`'s first call finding, without its site.
    fn decision(fixture: &str, expected: Expect) {
        let findings = check_all(fixture).findings;
        let call = findings.iter().find(|f| f.starts_with("Call(")).unwrap();
        expected.assert_eq(call.split_once(": calls to ").unwrap().1);
    }

    #[test]
    fn proto_packages_of_one_crate_name_get_distinct_names() {
        use super::shared_package_name as name;
        assert_eq!(name("a.b", [].into_iter()), "knit-proto-a-b");
        assert_eq!(name("a_b", ["knit-proto-x"].into_iter()), "knit-proto-a-b");
        let second = name("a_b", ["knit-proto-a-b"].into_iter());
        assert!(second.starts_with("knit-proto-a-b-"), "{second}");
        assert_eq!(
            second,
            name("a_b", ["knit-proto-a-b"].into_iter()),
            "stable"
        );
        assert_ne!(second, name("a-b", ["knit-proto-a-b"].into_iter()));
        let third = name("a_b", ["knit-proto-a-b", second.as_str()].into_iter());
        assert!(third != second && third != "knit-proto-a-b", "{third}");
    }

    #[test]
    fn a_client_type_over_a_type_parameter_names_no_transport() {
        // A generic alias (tari's `BaseNodeGrpcClient<TChannel>`) or field:
        // the transport is what the client is made with.
        for generic in [
            "type Node<TChannel> = GreeterClient<TChannel>;\n",
            "struct Node<T> { client: GreeterClient<T> }\n",
        ] {
            decision(
                &with_frontend(&format!("{generic}{CALLER}")),
                expect![
                    "`helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
                ],
            );
        }
        decision(
            &with_frontend(&format!("type Node = GreeterClient<Traced>;\n{CALLER}")),
            expect![
                "`helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:5: `GreeterClient<Traced>` runs over `Traced`, a transport of the client's own"
            ],
        );
    }

    /// A crate of test helpers that the caller reaches by dev-dependencies
    /// only (shuttle's `common-tests`, with mock servers of the group's
    /// services) is compiled for its tests: its servers serve nothing in the
    /// caller's binary, which therefore does not serve the service itself.
    #[test]
    fn a_mock_server_in_a_dev_dependency_does_not_serve() {
        let mocks = r#"//- /knit.toml
[group]
name = "g"
services = ["greeter", "frontend"]
[services.greeter]
path = "greeter"
[services.frontend]
path = "app"
package = "frontend"
//- /app/Cargo.toml
[workspace]
members = ["frontend", "mocks"]
//- /app/frontend/Cargo.toml
[package]
name = "frontend"
edition = "2021"
[dev-dependencies]
mocks = { path = "../mocks" }
//- /app/frontend/proto/helloworld.proto
HELLO
//- /app/frontend/src/main.rs
CALLER
//- /app/mocks/Cargo.toml
[package]
name = "mocks"
edition = "2021"
//- /app/mocks/proto/helloworld.proto
HELLO
//- /app/mocks/src/lib.rs
use hello::greeter_server::GreeterServer;
pub mod hello { tonic::include_proto!("helloworld"); }
pub async fn mock_greeter(addr: std::net::SocketAddr) {
    tonic::transport::Server::builder().add_service(GreeterServer::new(Mock)).serve(addr).await.unwrap();
}
"#
        .replace("HELLO\n", HELLO_PROTO)
        .replace("CALLER\n", CALLER);
        decision(
            &format!("{GREETER}{mocks}"),
            expect![
                "`helloworld.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `frontend` and `greeter` compile different definitions of `helloworld`"
            ],
        );
    }

    #[test]
    fn a_service_served_twice_stays_rpc() {
        let twin = GREETER
            .replace("/greeter/", "/twin/")
            .replace("name = \"greeter\"", "name = \"twin\"");
        decision(
            &format!("{}{twin}", with_frontend(CALLER)),
            expect![
                "`helloworld.Greeter` stay RPC: `helloworld.Greeter` is served by several services of the group: greeter, twin"
            ],
        );
    }

    #[test]
    fn client_uses_knit_does_not_convert_keep_the_calls_rpc() {
        decision(
            &with_frontend(&CALLER.replace(
                "GreeterClient::connect(\"http://a\").await",
                "GreeterClient::from_parts(\"http://a\")",
            )),
            expect![
                "`helloworld.Greeter` stay RPC: `GreeterClient::from_parts` is not converted yet"
            ],
        );
        decision(
            &with_frontend(&CALLER.replace(
                "GreeterClient::connect(\"http://a\").await",
                "let dial = GreeterClient::connect",
            )),
            expect![
                "`helloworld.Greeter` stay RPC: a use of `GreeterClient` that knit does not convert yet"
            ],
        );
    }

    #[test]
    fn a_provider_knit_cannot_register_keeps_the_calls_rpc() {
        let from_arc = with_frontend(CALLER).replace(
            "GreeterServer::new(MyGreeter)",
            "GreeterServer::from_arc(handler)",
        );
        decision(
            &from_arc,
            expect![
                "`helloworld.Greeter` stay RPC: `greeter` builds its server with `GreeterServer::from_arc`: not converted yet"
            ],
        );
        let elsewhere = with_frontend(CALLER).replace(
            "    Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;\n",
            "    serve().await?;\n",
        ) + "//- /greeter/src/serve.rs\nasync fn serve() { Server::builder().add_service(crate::hello_world::greeter_server::GreeterServer::new(MyGreeter)).serve(addr).await; }\n";
        let elsewhere =
            elsewhere.replace("pub mod hello_world {", "mod serve;\npub mod hello_world {");
        decision(
            &elsewhere,
            expect![
                "`helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/src/serve.rs:1, in `serve`, which knit does not reach from `fn main`: it follows calls of the functions of the binary and of the libraries it depends on by path, free or associated, by paths it resolves, and of their methods on receivers whose type it tells, made on the entry's task"
            ],
        );
    }

    #[test]
    fn types_that_cannot_be_shared_are_bridged() {
        let foreign = with_frontend(CALLER).replace(
            "rpc SayHello (HelloRequest) returns (HelloReply);",
            "rpc SayHello (.common.Name) returns (HelloReply);",
        );
        decision(
            &foreign,
            expect![
                "`helloworld.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `helloworld.Greeter/SayHello` uses `.common.Name` from another package"
            ],
        );
        let imports = with_frontend(CALLER).replace(
            "package helloworld;",
            "import \"common/name.proto\";\npackage helloworld;",
        );
        decision(
            &imports,
            expect![
                "`helloworld.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): proto package `helloworld` imports `common/name.proto`"
            ],
        );
    }

    /// An encoding option set on the server apart from where it is made:
    /// knit registers the server as made, so bridged calls go through the
    /// whole server to meet it; inline calls encode nothing and stay inline.
    #[test]
    fn encoding_options_set_apart_send_bridged_calls_through_the_whole_server() {
        let apart = |fixture: String| {
            fixture.replace(
                "    Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;\n",
                "    let svc = GreeterServer::new(MyGreeter);\n    Server::builder().add_service(svc.max_decoding_message_size(1 << 20)).serve(addr).await?;\n",
            )
        };
        let foreign = apart(with_frontend(CALLER).replace(
            "rpc SayHello (HelloRequest) returns (HelloReply);",
            "rpc SayHello (.common.Name) returns (HelloReply);",
        ));
        decision(
            &foreign,
            expect![
                "`helloworld.Greeter` run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `helloworld.Greeter/SayHello` uses `.common.Name` from another package; `greeter` sets an encoding option on its server apart from where it builds it (`svc.max_decoding_message_size(1 << 20)`), which bridged calls go through"
            ],
        );
        let registered =
            crate::fixture::check(crate::PassId::Entry, &foreign).render("greeter/src/main.rs");
        assert!(
            registered
                .contains("provide_stacked(\"helloworld.Greeter\", GreeterServer::new(MyGreeter))"),
            "{registered}"
        );
        decision(
            &apart(with_frontend(CALLER)),
            expect![
                "`helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        // In the construction's own chain, the option is registered with it.
        let chained = with_frontend(CALLER)
            .replace(
                "rpc SayHello (HelloRequest) returns (HelloReply);",
                "rpc SayHello (.common.Name) returns (HelloReply);",
            )
            .replace(
                "GreeterServer::new(MyGreeter))",
                "GreeterServer::new(MyGreeter).max_decoding_message_size(1 << 20))",
            );
        decision(
            &chained,
            expect![
                "`helloworld.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `helloworld.Greeter/SayHello` uses `.common.Name` from another package"
            ],
        );
    }

    #[test]
    fn callers_inline_and_bridged_to_one_service_keep_the_bridged_ones_rpc() {
        let older = format!(
            "{}//- /older/Cargo.toml\n[package]\nname = \"older\"\nedition = \"2021\"\n//- /older/proto/helloworld.proto\n{HELLO_PROTO}message Extra {{}}\n//- /older/src/main.rs\n{CALLER}",
            with_frontend(CALLER)
        );
        let findings = check_all(&older).findings;
        let calls: Vec<&String> = findings.iter().filter(|f| f.starts_with("Call(")).collect();
        expect![[r#"
            [
                "Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)",
                "Call(Rpc) older/src/main.rs:4: calls to `helloworld.Greeter` stay RPC: `greeter` serves `helloworld.Greeter` inline to callers with its own definitions; calls through its server to the same service are not supported yet",
            ]
        "#]].assert_debug_eq(&calls);
    }
}
