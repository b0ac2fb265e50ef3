//! Callers that keep a transport of their own (`corpus/layouts/own-transport`):
//! shopfront's clients of depot run over a tower wrapper of the repository's
//! telemetry crate (`StockClient<Traced<Channel>>`), on channels whose timeout
//! is computed from the configuration, one of them dialled by a helper of that
//! crate, and clients of pools that a factory trait makes over balance
//! channels. Merged, each client stays as written and only where its channel
//! is connected changes (`knit_runtime::channel`): its calls reach depot's
//! server in process, the wrapper and the timeout still acting.
//!
//! A callee that serves on a listener its own code binds
//! (`corpus/layouts/server-deep`): tally's router keeps that listener, and
//! the group's in-memory connections arrive beside it.
//!
//! A callee whose `main`, beside its library, serves through a function of
//! its binary (`corpus/layouts/lib-and-bin`).
//!
//! The tier of each call of `corpus/volo` (Volo and tonic services, calling
//! each other).

mod common;

use std::path::Path;

use common::knit;

/// The call sites of shopfront's client shapes, in the order report.json
/// lists them: the traced stock client and the prices client of
/// `shopfront/src/depot.rs`, the traced stock client of `main.rs` on the
/// channel `telemetry::dial` connected, and the pools' stock and prices
/// clients (`FromChannel::from_channel` of `shopfront/src/pool.rs`).
const SITES: [(&str, &str); 5] = [
    ("shop/shopfront/src/depot.rs:36:17", "stockroom.v1.Stock"),
    ("shop/shopfront/src/depot.rs:38:18", "stockroom.v1.Prices"),
    ("shop/shopfront/src/main.rs:121:19", "stockroom.v1.Stock"),
    ("shop/shopfront/src/pool.rs:27:9", "stockroom.v1.Stock"),
    ("shop/shopfront/src/pool.rs:33:9", "stockroom.v1.Prices"),
];

/// Merges a copy of the corpus system `system` (its path below `corpus/`)
/// in `dir` into `dir/out`.
fn merge_copy(dir: &Path, system: &str) {
    let name = Path::new(system).file_name().unwrap().to_str().unwrap();
    common::copy_tree(&common::root().join("corpus").join(system), &dir.join(name));
    let plan = format!("{name}/knit.toml");
    let run = knit(&["merge", &plan, "--out", "out"], dir);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// report.json's call sites: (site, calling service, callee, provider, tier, detail).
fn calls(dir: &Path) -> Vec<[String; 6]> {
    let text = std::fs::read_to_string(dir.join("out/report.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            ["site", "service", "callee", "provider", "tier", "detail"]
                .map(|key| c[key].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// The lines knit.diff adds to `file`.
fn added(diff: &str, file: &str) -> Vec<String> {
    let header = format!("diff --git a/{file} b/{file}\n");
    let Some(start) = diff.find(&header) else {
        return Vec::new();
    };
    let section = &diff[start + header.len()..];
    let section = &section[..section.find("diff --git ").unwrap_or(section.len())];
    section
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .map(|l| l[1..].trim().to_string())
        .collect()
}

#[test]
fn each_client_shape_is_a_call_site_of_depot() {
    let tmp = tempfile::tempdir().unwrap();
    merge_copy(tmp.path(), "layouts/own-transport");
    let found: Vec<[String; 4]> = calls(tmp.path())
        .into_iter()
        .map(|[site, service, callee, provider, ..]| [site, service, callee, provider])
        .collect();
    let expected: Vec<[String; 4]> = SITES
        .iter()
        .map(|(site, callee)| [site, &"shopfront", callee, &"depot"].map(|s| s.to_string()))
        .collect();
    assert_eq!(found, expected);
}

/// Each shape keeps its client as written and is `bridged`: its channel calls
/// depot's server in process, so `Traced` still adds its metadata and the
/// endpoint's computed timeout still ends a slow call with `Cancelled`.
#[test]
fn clients_with_a_transport_of_their_own_are_bridged_on_their_channel() {
    let tmp = tempfile::tempdir().unwrap();
    merge_copy(tmp.path(), "layouts/own-transport");
    let calls = calls(tmp.path());
    assert_eq!(calls.len(), 5, "{calls:?}");
    // Per site, the words its reason must hold beside the callee and the
    // provider: the transport the client keeps, or the computed timeout, and
    // the pools' balance channel among the places it is connected.
    let pool = "shop/shopfront/src/pool.rs:71";
    let words: [&[&str]; 5] = [
        &["Traced<Channel>", pool],
        &["timeout", pool],
        &["Traced<Channel>"],
        &["Traced<Channel>", pool],
        &["timeout", pool],
    ];
    for (([site, _, callee, _, tier, detail], (expected_site, _)), words) in
        calls.iter().zip(SITES).zip(words)
    {
        assert_eq!((site.as_str(), tier.as_str()), (expected_site, "bridged"));
        for word in ["in process", "`depot`", callee.as_str()]
            .iter()
            .chain(words)
        {
            assert!(detail.contains(word), "{site}: no {word:?} in {detail:?}");
        }
    }
    let md = std::fs::read_to_string(tmp.path().join("out/report.md")).unwrap();
    assert!(
        md.contains("5 call sites: 0 inline, 5 bridged, 0 left as RPC."),
        "{md}"
    );

    // The clients are as written; only the connects change.
    let diff = std::fs::read_to_string(tmp.path().join("out/knit.diff")).unwrap();
    let depot = added(&diff, "shop/shopfront/src/depot.rs");
    for line in [
        "match knit_runtime::channel::connect(endpoint.clone(), &[\"stockroom.v1.Stock\"]).await {",
        "let prices = PricesClient::new(knit_runtime::channel::connect_lazy(later, &[\"stockroom.v1.Prices\"]));",
    ] {
        assert!(depot.iter().any(|l| l == line), "{line}\n{diff}");
    }
    assert!(
        [
            "-    pub stock: StockClient<Traced<Channel>>,",
            "-    let stock = StockClient::new(Traced::new(channel));",
            "-    recount: StockClient<Traced<Channel>>,",
            "-    let recount = StockClient::new(Traced::new(channel));",
        ]
        .iter()
        .all(|line| !diff.contains(line)),
        "{diff}"
    );
    // The pools' balance channel, reached from clients of both services by
    // generic code (`C::from_channel(channel)`), lists both.
    let pool = added(&diff, "shop/shopfront/src/pool.rs");
    let balance = "let (channel, changes) = knit_runtime::channel::balance_channel::<String>(self.per_node, &[\"stockroom.v1.Prices\", \"stockroom.v1.Stock\"]);";
    assert_eq!(pool, [balance], "{diff}");
    // The helper's connect names the service its channel is for: with an empty
    // list, the channel would dial depot at start, which fails when depot's
    // listener is off.
    let helper = added(&diff, "shop/crates/telemetry/src/lib.rs");
    assert!(
        helper.iter().any(
            |l| l.contains("knit_runtime::channel::connect(endpoint, &[")
                && l.contains("\"stockroom.v1.Stock\"")
        ),
        "{diff}"
    );
}

/// tally binds its listener itself (`net::listen(addr)`, a `TcpIncoming` with
/// its socket options) and serves its router on it in a task of its own, with
/// a signal that borrows a local. Merged, the serve keeps that listener and
/// takes the host's in-memory connections beside it: `tally.Tally` is called
/// inline, `tally.Admin` (behind an `InterceptedService`) through the whole
/// server. booth serves its API as tonic routes through axum: tally's call
/// back into it runs inline, and booth's axum serve is left as it is.
#[test]
fn a_router_on_the_callees_own_listener_takes_calls_in_process() {
    let tmp = tempfile::tempdir().unwrap();
    merge_copy(tmp.path(), "layouts/server-deep");
    let tiers: Vec<[String; 3]> = calls(tmp.path())
        .into_iter()
        .map(|[site, _, callee, _, tier, _]| [site, callee, tier])
        .collect();
    let expected = [
        ["booth/src/main.rs:96:17", "tally.Tally", "inline"],
        ["booth/src/main.rs:97:17", "tally.Admin", "bridged"],
        ["tally/src/grpc.rs:74:25", "booth.Booth", "inline"],
    ]
    .map(|row| row.map(String::from));
    assert_eq!(tiers, expected);
    let diff = std::fs::read_to_string(tmp.path().join("out/knit.diff")).unwrap();
    let grpc = added(&diff, "tally/src/grpc.rs");
    for line in [
        ".serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming_beside(incoming), knit_runtime::ServiceHost::current().shutdown_with(shutdown_signal))",
        "knit_runtime::ServiceHost::current().provide_stacked(\"tally.Admin\", AdminServer::new(Keepers(counters.clone()))),",
    ] {
        assert!(grpc.iter().any(|l| l == line), "{line}\n{diff}");
    }
    // Their listener is bound as they bind it, booth's axum serve kept.
    assert!(
        !diff.contains("-        let incoming = crate::net::listen(addr)?;"),
        "{diff}"
    );
    assert!(
        !diff.contains("-    axum::serve(listener, app).await?;"),
        "{diff}"
    );
    let booth = added(&diff, "booth/src/main.rs");
    let registered = "grpc.add_service(BoothServer::from_arc(knit_proto_booth::booth_inline::provide(&knit_host, BoothService { tally, admin })));";
    assert!(booth.iter().any(|l| l == registered), "{diff}");
    let report = std::fs::read_to_string(tmp.path().join("out/report.json")).unwrap();
    assert!(
        report.contains("serves on a TCP listener of its own"),
        "{report}"
    );
}

/// auth's `main` sits beside its library and serves through `serve(addr)`, a
/// function of its binary (`corpus/layouts/lib-and-bin`). Merged, the library's
/// copy of that function (in `knit_bin_auth`) serves on the host and hands it
/// auth's server, so every call to auth runs in process, through its layer;
/// the binary's own file is left as it is.
#[test]
fn a_server_built_in_a_function_of_the_binary_beside_its_library_is_hosted() {
    let tmp = tempfile::tempdir().unwrap();
    merge_copy(tmp.path(), "layouts/lib-and-bin");
    let tiers: Vec<[String; 3]> = calls(tmp.path())
        .into_iter()
        .map(|[site, service, _, _, tier, _]| [site, service, tier])
        .collect();
    let expected = [
        ["services/auth/src/client.rs:21:21", "auth", "bridged"],
        ["services/gateway/src/main.rs:31:51", "gateway", "bridged"],
        ["services/auth/src/client.rs:21:21", "gateway", "bridged"],
    ]
    .map(|row| row.map(String::from));
    assert_eq!(tiers, expected);
    let diff = std::fs::read_to_string(tmp.path().join("out/knit.diff")).unwrap();
    assert!(
        !diff.contains("diff --git a/services/auth/src/main.rs"),
        "{diff}"
    );
    let lib = added(&diff, "services/auth/src/lib.rs");
    for line in [
        ".add_service(knit_runtime::ServiceHost::current().provide_stacked(\"auth.Auth\", AuthServer::new(Sessions)))",
        ".serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown())",
    ] {
        assert!(lib.iter().any(|l| l == line), "{line}\n{diff}");
    }
}

/// The health server vault builds with `tonic_health::server::health_reporter()`
/// (`corpus/layouts/layered-server`) is registered where the pair is made, and
/// teller's health checks name vault as their provider, bridged through its
/// whole server.
#[test]
fn a_health_server_built_by_its_crate_is_vaults() {
    let tmp = tempfile::tempdir().unwrap();
    merge_copy(tmp.path(), "layouts/layered-server");
    let health: Vec<[String; 3]> = calls(tmp.path())
        .into_iter()
        .filter(|[_, _, callee, ..]| callee == "grpc.health.v1.Health")
        .map(|[site, _, _, provider, tier, _]| [site, provider, tier])
        .collect();
    assert_eq!(
        health,
        [["teller/src/main.rs:50:26", "vault", "bridged"].map(str::to_string)]
    );
    let diff = std::fs::read_to_string(tmp.path().join("out/knit.diff")).unwrap();
    assert!(
        added(&diff, "vault/src/main.rs").contains(
            &"let (reporter, health) = knit_host.provide_stacked_paired(\"grpc.health.v1.Health\", tonic_health::server::health_reporter());".to_string()
        ),
        "{diff}"
    );
}

/// corpus/volo: teller's Volo client of rates (no layers either side) is
/// inline, gateway's tonic client of teller (no layers) is bridged through
/// teller's Volo stack in process, teller's two clients of accounts (whose
/// server has an auth layer) stay RPCs over accounts' Unix socket, and its
/// two Volo clients of notary (a tonic server) are bridged through the
/// server notary registers.
#[test]
fn volo_calls_take_the_tier_their_provider_allows() {
    let tmp = tempfile::tempdir().unwrap();
    merge_copy(tmp.path(), "volo");
    let found: Vec<[String; 3]> = calls(tmp.path())
        .into_iter()
        .map(|[_, service, callee, _, tier, _]| [service, callee, tier])
        .collect();
    let expected = [
        ["gateway", "teller.Teller", "bridged"],
        ["teller", "rates.Rates", "inline"],
        ["teller", "accounts.Accounts", "rpc"],
        ["teller", "accounts.Accounts", "rpc"],
        ["teller", "notary.Notary", "bridged"],
        ["teller", "notary.Notary", "bridged"],
    ]
    .map(|row| row.map(str::to_string));
    assert_eq!(found, expected);
}
