//! The synthetic system of `cargo xtask bench rewrite`: many tonic services, each a
//! scaled-up `corpus/inventory` stock (a thin `#[tokio::main]` over a library that
//! serves the gRPC service), calling each other through clients built with
//! `XClient::connect(url)` and `XClient::new(channel)`, plus bulk ordinary code.
//! Deterministic: the same seed gives byte-identical files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What [`generate`] wrote.
pub struct System {
    /// The merge plan of every service.
    pub plan: PathBuf,
    pub services: usize,
    pub packages: usize,
    pub rust_files: usize,
    pub rust_lines: usize,
    pub rust_bytes: u64,
    /// Client constructor calls (`connect`, `new`) in the sources.
    pub call_sites: usize,
    /// An input file of the first service (its gRPC handler).
    pub handler: PathBuf,
}

/// Domain words: service names, nouns of the bulk code.
const WORDS: &[&str] = &[
    "billing", "catalog", "orders", "ledger", "search", "pricing", "shipping", "accounts", "stock",
    "reviews", "payments", "profiles", "notify", "audit", "session", "media", "ranking", "fraud",
    "quotes", "tickets",
];
const NOUNS: &[&str] = &[
    "order", "invoice", "account", "entry", "item", "price", "quote", "batch", "cursor", "record",
    "event", "tenant", "region", "window", "bucket", "token", "slot", "route", "report", "member",
];
/// The gRPC services each service calls.
const PEERS: usize = 4;
/// The path crates of each service.
const CRATES: &[&str] = &["model", "store", "util"];

/// SplitMix64: small, seeded, stable across platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn camel(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_ascii_uppercase().to_string() + chars.as_str()
    })
}

/// One service: `name` is its service name, package, proto package and
/// (capitalised) gRPC service.
struct Service {
    name: String,
    peers: Vec<usize>,
}

/// Writes the system into `dir` (which must not exist) and its plan `knit.toml`.
pub fn generate(dir: &Path, services: usize, seed: u64) -> Result<System, String> {
    if services < 2 {
        return Err("a system needs at least two services".into());
    }
    let mut rng = Rng(seed);
    let all: Vec<Service> = (0..services)
        .map(|i| {
            let mut peers = Vec::new();
            while peers.len() < PEERS.min(services - 1) {
                let p = rng.below(services);
                if p != i && !peers.contains(&p) {
                    peers.push(p);
                }
            }
            peers.sort();
            Service {
                name: format!("{}{i:02}", WORDS[i % WORDS.len()]),
                peers,
            }
        })
        .collect();
    let mut files: Vec<(String, String)> = Vec::new();
    let mut call_sites = 0;
    for (i, service) in all.iter().enumerate() {
        let mut writer = Writer {
            rng: &mut rng,
            files: &mut files,
            next_id: 0,
            call_sites: 0,
        };
        writer.service(i, service, &all);
        call_sites += writer.call_sites;
    }
    files.push(("knit.toml".into(), plan(&all)));

    let mut system = System {
        plan: dir.join("knit.toml"),
        services,
        packages: services * (1 + CRATES.len()),
        rust_files: 0,
        rust_lines: 0,
        rust_bytes: 0,
        call_sites,
        handler: dir.join(format!("{}/server/src/service.rs", all[0].name)),
    };
    for (path, text) in &files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap())
            .and_then(|()| std::fs::write(&target, text))
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        if path.ends_with(".rs") {
            system.rust_files += 1;
            system.rust_lines += text.lines().count();
            system.rust_bytes += text.len() as u64;
        }
    }
    Ok(system)
}

fn plan(all: &[Service]) -> String {
    let names: Vec<String> = all.iter().map(|s| format!("\"{}\"", s.name)).collect();
    let mut plan = format!(
        "# The synthetic system of `cargo xtask bench rewrite`: every service merged.\n\n\
         [group]\nname = \"bench\"\nservices = [{}]\n",
        names.join(", ")
    );
    for s in all {
        write!(plan, "\n[services.{0}]\npath = \"{0}\"\n", s.name).unwrap();
    }
    plan
}

/// Writes the files of one service.
struct Writer<'a> {
    rng: &'a mut Rng,
    files: &'a mut Vec<(String, String)>,
    /// Makes item names unique within a service.
    next_id: usize,
    call_sites: usize,
}

impl Writer<'_> {
    fn add(&mut self, path: String, text: String) {
        self.files.push((path, text));
    }

    fn service(&mut self, index: usize, service: &Service, all: &[Service]) {
        let name = &service.name;
        let peers: Vec<&str> = service
            .peers
            .iter()
            .map(|&p| all[p].name.as_str())
            .collect();
        let dir = name.as_str();
        self.add(
            format!("{dir}/Cargo.toml"),
            format!(
                "# The {name} team's repository: the service and its crates.\n\
                 [workspace]\nresolver = \"2\"\nmembers = [\"server\", {}]\n\n\
                 [workspace.dependencies]\n\
                 tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\
                 tonic = \"0.14\"\ntonic-prost = \"0.14\"\nprost = \"0.14\"\n",
                CRATES
                    .iter()
                    .map(|c| format!("\"crates/{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        for krate in CRATES {
            self.path_crate(dir, name, krate);
        }
        let server = format!("{dir}/server");
        let deps: String = CRATES
            .iter()
            .map(|c| format!("{name}-{c} = {{ path = \"../crates/{c}\" }}\n"))
            .collect();
        self.add(
            format!("{server}/Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [dependencies]\n{deps}tokio.workspace = true\ntonic.workspace = true\n\
                 tonic-prost.workspace = true\nprost.workspace = true\n\n\
                 [build-dependencies]\ntonic-prost-build = \"0.14\"\nprotoc-bin-vendored = \"3\"\n"
            ),
        );
        let peer_protos: Vec<String> = peers
            .iter()
            .map(|p| format!("\"proto/{p}.proto\""))
            .collect();
        self.add(
            format!("{server}/build.rs"),
            format!(
                "fn main() -> Result<(), Box<dyn std::error::Error>> {{\n\
                 \x20   // Use the system protoc when PROTOC is set, the vendored one otherwise.\n\
                 \x20   if std::env::var_os(\"PROTOC\").is_none() {{\n\
                 \x20       // SAFETY: build scripts are single-threaded.\n\
                 \x20       unsafe {{ std::env::set_var(\"PROTOC\", protoc_bin_vendored::protoc_bin_path()?) }};\n\
                 \x20   }}\n\
                 \x20   tonic_prost_build::compile_protos(\"proto/{name}.proto\")?;\n\
                 \x20   // The services this one calls: clients only.\n\
                 \x20   tonic_prost_build::configure()\n\
                 \x20       .build_server(false)\n\
                 \x20       .compile_protos(&[{}], &[\"proto\"])?;\n\
                 \x20   Ok(())\n}}\n",
                peer_protos.join(", ")
            ),
        );
        for proto in std::iter::once(name.as_str()).chain(peers.iter().copied()) {
            self.add(format!("{server}/proto/{proto}.proto"), proto_file(proto));
        }
        self.add(
            format!("{server}/src/main.rs"),
            format!(
                "//! The {name} service's binary: listens on `{env}_ADDR`.\n\n\
                 #[tokio::main]\n\
                 async fn main() -> Result<(), Box<dyn std::error::Error>> {{\n\
                 \x20   let addr = std::env::var(\"{env}_ADDR\")\n\
                 \x20       .unwrap_or_else(|_| \"127.0.0.1:{port}\".to_string())\n\
                 \x20       .parse()?;\n\
                 \x20   {name}::serve(addr).await\n}}\n",
                env = name.to_uppercase(),
                port = 50100 + index,
            ),
        );
        self.library(&server, name, &peers);
    }

    fn library(&mut self, server: &str, name: &str, peers: &[&str]) {
        let own = camel(name);
        let mut lib = format!(
            "//! The {name} service: answers `{name}.{own}`, calling {}.\n\n\
             pub mod clients;\npub mod domain;\npub mod rpc;\npub mod service;\n\n\
             use tonic::transport::Server;\n\n\
             use proto::{name}_server::{own}Server;\n\n\
             pub mod proto {{\n    tonic::include_proto!(\"{name}\");\n}}\n\n\
             /// Serves `{name}.{own}` on `addr` until the process ends.\n\
             pub async fn serve(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {{\n\
             \x20   let peers = clients::Peers::from_env().await?;\n\
             \x20   let handler = service::Handler::new(peers);\n\
             \x20   println!(\"{name} listening on {{addr}}\");\n\
             \x20   Server::builder()\n\
             \x20       .add_service({own}Server::new(handler))\n\
             \x20       .serve(addr)\n\
             \x20       .await?;\n\
             \x20   Ok(())\n}}\n",
            peers.join(", ")
        );
        lib.push_str(&self.bulk(4, &[]));
        self.add(format!("{server}/src/lib.rs"), lib);

        let mut rpc = format!("//! Generated clients of the services {name} calls.\n");
        for p in peers {
            write!(
                rpc,
                "\npub mod {p} {{\n    tonic::include_proto!(\"{p}\");\n}}\n"
            )
            .unwrap();
        }
        self.add(format!("{server}/src/rpc/mod.rs"), rpc);

        // `clients.rs` with its children in `clients/` (the `foo.rs` style).
        let mut clients =
            format!("//! Clients of the services {name} calls, connected once at start.\n\n");
        for p in peers {
            writeln!(clients, "pub mod {p};").unwrap();
        }
        clients.push_str("\nuse tonic::transport::Channel;\n\n");
        for p in peers {
            writeln!(
                clients,
                "use crate::rpc::{p}::{p}_client::{}Client;",
                camel(p)
            )
            .unwrap();
        }
        clients.push_str(
            "\n/// One client per service this one calls.\n#[derive(Clone)]\npub struct Peers {\n",
        );
        for p in peers {
            writeln!(clients, "    pub {p}: {}Client<Channel>,", camel(p)).unwrap();
        }
        clients.push_str(
            "}\n\nimpl Peers {\n    /// Connects to every peer at the URL its variable names.\n    \
             pub async fn from_env() -> Result<Self, Box<dyn std::error::Error>> {\n",
        );
        for p in peers {
            writeln!(
                clients,
                "        let {p}_url = std::env::var(\"{}_URL\").unwrap_or_else(|_| \"http://127.0.0.1:50051\".to_string());",
                p.to_uppercase()
            )
            .unwrap();
        }
        clients.push_str("        Ok(Self {\n");
        for p in peers {
            writeln!(
                clients,
                "            {p}: {}Client::connect({p}_url).await?,",
                camel(p)
            )
            .unwrap();
            self.call_sites += 1;
        }
        clients.push_str("        })\n    }\n}\n");
        self.add(format!("{server}/src/clients.rs"), clients);
        for p in peers {
            let text = self.bulk(8, &[p]);
            self.add(format!("{server}/src/clients/{p}.rs"), text);
        }

        self.add(format!("{server}/src/service.rs"), handler(name));

        // `domain/mod.rs` and its areas: the `mod.rs` style, with `foo.rs`
        // children and one grandchild each.
        let areas: Vec<&str> = (0..4).map(|_| self.rng.pick(NOUNS)).collect();
        let mut areas = areas;
        areas.sort();
        areas.dedup();
        let mut domain = format!("//! The {name} domain, one module per area.\n\n");
        for a in &areas {
            writeln!(domain, "pub mod {a}s;").unwrap();
        }
        domain.push('\n');
        domain.push_str(&self.bulk(3, &[]));
        self.add(format!("{server}/src/domain/mod.rs"), domain);
        for a in &areas {
            let area = format!("{server}/src/domain/{a}s");
            let parts = ["rules", "views", "jobs"];
            let mut text = format!("//! The {a}s of {name}.\n\n");
            for part in parts {
                writeln!(text, "pub mod {part};").unwrap();
            }
            text.push('\n');
            text.push_str(&self.bulk(4, &[]));
            self.add(format!("{area}/mod.rs"), text);
            for (k, part) in parts.iter().enumerate() {
                let mut text = format!("//! {} of the {a}s of {name}.\n\n", camel(part));
                if k == 0 {
                    text.push_str("pub mod detail;\n\n");
                }
                let calls = [peers[self.rng.below(peers.len())]];
                text.push_str(&self.bulk(6, &calls));
                self.add(format!("{area}/{part}.rs"), text);
            }
            let detail = self.bulk(6, &[]);
            self.add(
                format!("{area}/rules/detail.rs"),
                format!("//! The details of the rules.\n\n{detail}"),
            );
        }
    }

    /// A path crate: `lib.rs` with a `foo.rs` module (children in `foo/`) and a
    /// `mod.rs` module.
    fn path_crate(&mut self, dir: &str, name: &str, krate: &str) {
        let base = format!("{dir}/crates/{krate}");
        let dep = if krate == "model" {
            String::new()
        } else {
            format!("{name}-model = {{ path = \"../model\" }}\n")
        };
        self.add(
            format!("{base}/Cargo.toml"),
            format!(
                "[package]\nname = \"{name}-{krate}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [dependencies]\n{dep}"
            ),
        );
        let mut lib =
            format!("//! The {krate} crate of {name}.\n\npub mod codec;\npub mod types;\n\n");
        lib.push_str(&self.bulk(5, &[]));
        self.add(format!("{base}/src/lib.rs"), lib);
        let mut types =
            "//! The types, by family.\n\npub mod core;\npub mod extra;\n\n".to_string();
        types.push_str(&self.bulk(5, &[]));
        self.add(format!("{base}/src/types.rs"), types);
        for child in ["core", "extra"] {
            let text = self.bulk(6, &[]);
            self.add(format!("{base}/src/types/{child}.rs"), text);
        }
        let codec = self.bulk(6, &[]);
        self.add(format!("{base}/src/codec/mod.rs"), codec);
    }

    /// About `items` items of ordinary code (give or take two), and, for each
    /// of `peers`, client constructions and calls.
    fn bulk(&mut self, items: usize, peers: &[&str]) -> String {
        let mut out = String::new();
        if !peers.is_empty() {
            out.push_str("use tonic::transport::Channel;\n\n");
            for p in peers {
                writeln!(out, "use crate::rpc::{p}::{p}_client::{}Client;", camel(p)).unwrap();
            }
            out.push('\n');
        }
        for p in peers {
            for _ in 0..2 {
                self.next_id += 1;
                let noun = self.rng.pick(NOUNS);
                out.push_str(&fill(CLIENT_ITEMS, noun, Some(p), self.next_id, self.rng));
                self.call_sites += 3;
            }
        }
        let n = items + self.rng.below(5) - 2;
        for _ in 0..n {
            self.next_id += 1;
            let noun = self.rng.pick(NOUNS);
            let template = ITEMS[self.rng.below(ITEMS.len())];
            out.push_str(&fill(template, noun, None, self.next_id, self.rng));
        }
        out
    }
}

/// `template` with its placeholders filled: `@Noun`/`@noun`, `@Peer`/`@peer`,
/// `@id` (unique in the service) and numbers `@n1`, `@n2`.
fn fill(template: &str, noun: &str, peer: Option<&str>, id: usize, rng: &mut Rng) -> String {
    let peer = peer.unwrap_or("");
    template
        .replace("@Noun", &camel(noun))
        .replace("@noun", noun)
        .replace("@Peer", &camel(peer))
        .replace("@peer", peer)
        .replace("@id", &id.to_string())
        .replace("@n1", &(2 + rng.below(500)).to_string())
        .replace("@n2", &(2 + rng.below(40)).to_string())
}

fn proto_file(package: &str) -> String {
    let service = camel(package);
    format!(
        "syntax = \"proto3\";\n\npackage {package};\n\n\
         // The {service} service of the synthetic benchmark system.\n\
         service {service} {{\n\
         \x20 rpc Get (GetRequest) returns (GetReply);\n\
         \x20 rpc List (ListRequest) returns (ListReply);\n\
         \x20 rpc Put (PutRequest) returns (PutReply);\n\
         \x20 rpc Remove (RemoveRequest) returns (RemoveReply);\n}}\n\n\
         message GetRequest {{\n  string id = 1;\n}}\n\n\
         message GetReply {{\n  string id = 1;\n  string body = 2;\n  uint64 version = 3;\n}}\n\n\
         message ListRequest {{\n  string prefix = 1;\n  uint32 limit = 2;\n}}\n\n\
         message ListReply {{\n  repeated string ids = 1;\n}}\n\n\
         message PutRequest {{\n  string id = 1;\n  string body = 2;\n}}\n\n\
         message PutReply {{\n  uint64 version = 1;\n}}\n\n\
         message RemoveRequest {{\n  string id = 1;\n}}\n\n\
         message RemoveReply {{\n  bool removed = 1;\n}}\n"
    )
}

/// The gRPC handler of service `name`.
fn handler(name: &str) -> String {
    HANDLER.replace("@Own", &camel(name)).replace("@own", name)
}

const HANDLER: &str = r#"//! The handler of `@own.@Own`: a versioned store, with reads that fall back to a peer.

use std::collections::BTreeMap;
use std::sync::Mutex;

use tonic::{Request, Response, Status};

use crate::clients::Peers;
use crate::proto::@own_server::@Own;
use crate::proto::{GetReply, GetRequest, ListReply, ListRequest, PutReply, PutRequest, RemoveReply, RemoveRequest};

/// The service's state: bodies and their versions, by id.
pub struct Handler {
    peers: Peers,
    bodies: Mutex<BTreeMap<String, (String, u64)>>,
}

impl Handler {
    pub fn new(peers: Peers) -> Self {
        Self {
            peers,
            bodies: Mutex::new(BTreeMap::new()),
        }
    }
}

#[tonic::async_trait]
impl @Own for Handler {
    async fn get(&self, request: Request<GetRequest>) -> Result<Response<GetReply>, Status> {
        let id = request.into_inner().id;
        let found = self.bodies.lock().unwrap().get(&id).cloned();
        match found {
            Some((body, version)) => Ok(Response::new(GetReply { id, body, version })),
            None => Err(Status::not_found(format!("no body {id}"))),
        }
    }

    async fn list(&self, request: Request<ListRequest>) -> Result<Response<ListReply>, Status> {
        let ListRequest { prefix, limit } = request.into_inner();
        let bodies = self.bodies.lock().unwrap();
        let ids = bodies
            .keys()
            .filter(|id| id.starts_with(&prefix))
            .take(if limit == 0 { usize::MAX } else { limit as usize })
            .cloned()
            .collect();
        Ok(Response::new(ListReply { ids }))
    }

    async fn put(&self, request: Request<PutRequest>) -> Result<Response<PutReply>, Status> {
        let PutRequest { id, body } = request.into_inner();
        if id.is_empty() {
            return Err(Status::invalid_argument("id must not be empty"));
        }
        let mut bodies = self.bodies.lock().unwrap();
        let entry = bodies.entry(id).or_insert_with(|| (String::new(), 0));
        entry.0 = body;
        entry.1 += 1;
        Ok(Response::new(PutReply { version: entry.1 }))
    }

    async fn remove(&self, request: Request<RemoveRequest>) -> Result<Response<RemoveReply>, Status> {
        let id = request.into_inner().id;
        let removed = self.bodies.lock().unwrap().remove(&id).is_some();
        // The peers keep their own copies; they learn of removals on their next read.
        let _ = &self.peers;
        Ok(Response::new(RemoveReply { removed }))
    }
}
"#;

/// Items that build clients of `@peer` (three constructor calls) and call it.
const CLIENT_ITEMS: &str = r#"
/// Asks @peer for the @noun `id`, over a new connection to `url`.
pub async fn fetch_@noun_@id(url: String, id: u64) -> Result<String, tonic::Status> {
    let mut client = @PeerClient::connect(url)
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let reply = client
        .get(crate::rpc::@peer::GetRequest { id: id.to_string() })
        .await?
        .into_inner();
    Ok(reply.body)
}

/// A client of @peer over a channel the caller owns.
pub fn @peer_client_@id(channel: Channel) -> @PeerClient<Channel> {
    @PeerClient::new(channel)
}

/// Keeps one @peer client for the @noun lookups of this module, with a cache.
pub struct @NounLookup@id {
    client: @PeerClient<Channel>,
    cache: std::collections::HashMap<u64, String>,
}

impl @NounLookup@id {
    pub async fn connect(url: String) -> Result<Self, tonic::transport::Error> {
        let client = @PeerClient::connect(url).await?;
        Ok(Self {
            client,
            cache: Default::default(),
        })
    }

    /// The body of @noun `id`, from the cache or from @peer.
    pub async fn get(&mut self, id: u64) -> Result<String, tonic::Status> {
        if let Some(hit) = self.cache.get(&id) {
            return Ok(hit.clone());
        }
        let reply = self
            .client
            .get(crate::rpc::@peer::GetRequest { id: id.to_string() })
            .await?
            .into_inner();
        self.cache.insert(id, reply.body.clone());
        Ok(reply.body)
    }
}
"#;

/// Ordinary code: structs, impls, enums with matches, closures, traits, tests.
const ITEMS: &[&str] = &[
    r#"
/// A @noun as this module keeps it, validated on construction.
#[derive(Debug, Clone, PartialEq)]
pub struct @Noun@id {
    pub id: u64,
    pub name: String,
    pub weight: u32,
    pub tags: Vec<String>,
    pub parent: Option<u64>,
}

impl @Noun@id {
    /// Builds a @noun; empty names are rejected.
    pub fn new(id: u64, name: impl Into<String>) -> Result<Self, String> {
        let name = name.into();
        if name.trim().is_empty() {
            return Err(format!("@noun {id}: empty name"));
        }
        Ok(Self {
            id,
            name,
            weight: @n2,
            tags: Vec::new(),
            parent: None,
        })
    }

    /// A score from the fields, for ranking.
    pub fn score(&self) -> u64 {
        let mut total = self.id.wrapping_mul(@n1);
        total = total.wrapping_add(self.name.len() as u64 * u64::from(self.weight));
        for tag in &self.tags {
            total ^= tag.bytes().map(u64::from).sum::<u64>();
        }
        total + self.parent.unwrap_or_default()
    }

    /// Whether the @noun carries `tag`, ignoring case.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
    }
}
"#,
    r#"
/// How far a @noun has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum @NounState@id {
    Draft,
    Pending { since: u64 },
    Active(u32),
    Closed,
}

impl @NounState@id {
    /// The next state, if the @noun may move on at `now`.
    pub fn advance(self, now: u64) -> Option<Self> {
        match self {
            Self::Draft => Some(Self::Pending { since: now }),
            Self::Pending { since } if now.saturating_sub(since) > @n1 => Some(Self::Active(1)),
            Self::Pending { .. } => None,
            Self::Active(n) if n >= @n2 => Some(Self::Closed),
            Self::Active(n) => Some(Self::Active(n + 1)),
            Self::Closed => None,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Pending { .. } => "pending",
            Self::Active(_) => "active",
            Self::Closed => "closed",
        }
    }
}

impl std::fmt::Display for @NounState@id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.label())
    }
}
"#,
    r#"
/// Sums the @noun weights above `floor`, skipping the indexes in `skip`.
pub fn total_@noun_@id(weights: &[u64], floor: u64, skip: &[usize]) -> u64 {
    let keep = |i: &usize| !skip.contains(i);
    weights
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(i))
        .map(|(_, w)| *w)
        .filter(|w| *w > floor)
        .fold(0u64, |acc, w| acc.wrapping_add(w % @n1))
}

/// Groups @noun names by their first letter, each group sorted.
pub fn group_@noun_@id(names: &[String]) -> std::collections::BTreeMap<char, Vec<&str>> {
    let mut groups: std::collections::BTreeMap<char, Vec<&str>> = Default::default();
    for name in names {
        let Some(first) = name.chars().next() else {
            continue;
        };
        groups
            .entry(first.to_ascii_lowercase())
            .or_default()
            .push(name.as_str());
    }
    groups.values_mut().for_each(|v| v.sort_unstable());
    groups
}
"#,
    r#"
/// Something that can be checked before it is stored.
pub trait Check@Noun@id {
    fn check(&self) -> Result<(), String>;

    fn checked(self) -> Result<Self, String>
    where
        Self: Sized,
    {
        self.check().map(|()| self)
    }
}

impl Check@Noun@id for Vec<u64> {
    fn check(&self) -> Result<(), String> {
        // Empty batches are allowed; duplicates and zeros are not.
        let mut seen = std::collections::HashSet::new();
        for (i, v) in self.iter().enumerate() {
            if *v == 0 {
                return Err(format!("@noun {i}: zero"));
            }
            if !seen.insert(*v) {
                return Err(format!("duplicate @noun {v} at {i}"));
            }
        }
        Ok(())
    }
}
"#,
    r#"
/// Parses `key=value` pairs separated by `;`, the @noun header format.
pub fn parse_@noun_@id(input: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for (n, part) in input.split(';').enumerate() {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        match part.split_once('=') {
            Some((k, v)) if !k.is_empty() => pairs.push((k.trim().to_string(), v.trim().to_string())),
            Some(_) => return Err(format!("pair {n}: empty key")),
            None => return Err(format!("pair {n}: no `=` in {part:?}")),
        }
    }
    if pairs.len() > @n1 {
        return Err(format!("{} pairs: at most @n1", pairs.len()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod parse_@noun_@id_tests {
    use super::*;

    #[test]
    fn reads_pairs_and_skips_empty_parts() {
        let pairs = parse_@noun_@id("a=1; ;b = 2").unwrap();
        assert_eq!(pairs, vec![("a".into(), "1".into()), ("b".into(), "2".into())]);
    }

    #[test]
    fn refuses_a_part_without_a_value() {
        assert!(parse_@noun_@id("a").is_err());
    }
}
"#,
    r#"
/// A window of recent @noun timings, for percentiles.
#[derive(Debug, Default)]
pub struct @NounWindow@id {
    samples: std::collections::VecDeque<u64>,
    capacity: usize,
}

impl @NounWindow@id {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            samples: std::collections::VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
        }
    }

    /// Records `sample`, forgetting the oldest one when full.
    pub fn record(&mut self, sample: u64) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// The `p`-th percentile (0..=100), if any sample was recorded.
    pub fn percentile(&self, p: u8) -> Option<u64> {
        if self.samples.is_empty() {
            return None;
        }
        let mut sorted: Vec<u64> = self.samples.iter().copied().collect();
        sorted.sort_unstable();
        let rank = (usize::from(p.min(100)) * (sorted.len() - 1)) / 100;
        sorted.get(rank).copied()
    }
}
"#,
];
