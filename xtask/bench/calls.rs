//! The per-call micro-benchmark of `cargo xtask bench calls`: one unary call of
//! `helloworld.Greeter/SayHello` through each path, on the crates knit generated
//! for the greeter corpus. Prints CPU time per call (the whole process: caller and
//! callee) and its ratio to a direct call of the handler trait.
//!
//! The machine is shared and noisy, so the direct call and the inline client
//! are measured in interleaved rounds (direct then inline, then inline then
//! direct, ..), each path three times per round keeping its lowest (noise only
//! adds): each round gives a ratio, and the table shows the median of the rounds
//! (the ratio's median and its minimum for the inline client). Run as
//! `count PATH BYTES N`, it makes only N calls of one path, for `cargo xtask
//! bench` to count their instructions under callgrind; as `ratios ROUNDS`, it
//! prints only the median inline ÷ direct ratio of each payload over ROUNDS
//! rounds (`ratio<TAB>label<TAB>value` lines), for `cargo xtask bench` to
//! repeat in fresh processes.

use std::sync::Arc;
use std::time::Duration;

use knit_proto_helloworld::greeter_client::GreeterClient;
use knit_proto_helloworld::greeter_inline;
use knit_proto_helloworld::greeter_server::{Greeter, GreeterServer};
use knit_proto_helloworld::{HelloReply, HelloRequest};
use tonic::{Request, Response, Status};

struct Echo;

#[tonic::async_trait]
impl Greeter for Echo {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(HelloReply {
            message: request.into_inner().name,
        }))
    }
}

/// Rounds of the interleaved direct/inline measurement.
const ROUNDS: usize = 15;
/// Measurements of each path per round, of which the round keeps the lowest.
const TRIES: usize = 3;

/// CPU time (user + system) of this process so far, every thread, in ns.
fn cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the struct it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// CPU µs per call of `call`, over `n` calls after a warm-up.
async fn measure<F, Fut>(n: u32, mut call: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..n / 10 {
        call().await;
    }
    let start = cpu();
    for _ in 0..n {
        call().await;
    }
    (cpu() - start).as_secs_f64() * 1e6 / f64::from(n)
}

/// `count PATH BYTES N`: only `N` calls of `PATH` (`direct` or `inline`) with a
/// payload of `BYTES`, for an instruction count under callgrind.
fn count_mode() -> Option<(String, usize, u32)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [mode, path, bytes, n] if mode == "count" => {
            Some((path.clone(), bytes.parse().ok()?, n.parse().ok()?))
        }
        _ => None,
    }
}

/// `ratios ROUNDS`: only the interleaved rounds, `ROUNDS` of them per payload.
fn ratios_mode() -> Option<usize> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [mode, rounds] if mode == "ratios" => rounds.parse().ok(),
        _ => None,
    }
}

/// The payloads: label, message bytes, calls per measurement of the direct
/// and inline paths, calls of the tonic paths.
const PAYLOADS: [(&str, usize, u32, u32); 2] = [
    ("small", 5, 100_000, 10_000),
    ("1 KiB", 1024, 100_000, 10_000),
];

/// Each round's CPU µs per call of the direct and the inline path, and its
/// ratio: `rounds` rounds of `n` calls per measurement, interleaved.
async fn interleaved(
    direct: &Arc<dyn Greeter>,
    inline: &greeter_inline::GreeterClient,
    request: &HelloRequest,
    n: u32,
    rounds: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut ds, mut is, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let direct_call = || {
            measure(n, || {
                let (h, r) = (direct.clone(), request.clone());
                async move {
                    h.say_hello(Request::new(r)).await.unwrap();
                }
            })
        };
        let inline_call = || {
            measure(n, || {
                let (mut c, r) = (inline.clone(), request.clone());
                async move {
                    c.say_hello(r).await.unwrap();
                }
            })
        };
        // Every other round inline goes first, so neither path always runs
        // on a warmer (or busier) machine. Each path is measured `TRIES`
        // times and keeps its lowest: the machine's noise only adds.
        let (mut d, mut i) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..TRIES {
            if round % 2 == 0 {
                d = d.min(direct_call().await);
                i = i.min(inline_call().await);
            } else {
                i = i.min(inline_call().await);
                d = d.min(direct_call().await);
            }
        }
        ds.push(d);
        is.push(i);
        ratios.push(i / d);
    }
    (ds, is, ratios)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    knit_runtime::registry::declare(greeter_inline::SERVICE, "greeter");
    let host = knit_runtime::ServiceHost::standalone("greeter");
    let _ = greeter_inline::provide(host, Echo);
    if let Some((path, bytes, n)) = count_mode() {
        let request = HelloRequest { name: "x".repeat(bytes) };
        let direct: Arc<dyn Greeter> = Arc::new(Echo);
        let inline = greeter_inline::GreeterClient::connect("http://unused")
            .await
            .unwrap();
        for _ in 0..n {
            if path == "direct" {
                let (h, r) = (direct.clone(), request.clone());
                h.say_hello(Request::new(r)).await.unwrap();
            } else {
                let (mut c, r) = (inline.clone(), request.clone());
                c.say_hello(r).await.unwrap();
            }
        }
        return;
    }
    let direct: Arc<dyn Greeter> = Arc::new(Echo);
    let inline = greeter_inline::GreeterClient::connect("http://unused")
        .await
        .unwrap();
    if let Some(rounds) = ratios_mode() {
        for (label, size, fast, _) in PAYLOADS {
            let request = HelloRequest {
                name: "x".repeat(size),
            };
            let (_, _, ratios) = interleaved(&direct, &inline, &request, fast, rounds).await;
            println!("ratio\t{label}\t{:.3}", median(&ratios));
        }
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(GreeterServer::new(Echo))
            .serve_with_incoming(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            ),
    );
    let in_process = GreeterClient::new(GreeterServer::new(Echo));
    let loopback = GreeterClient::connect(format!("http://{addr}"))
        .await
        .unwrap();

    println!("| payload | path | CPU µs/call | × direct |");
    println!("|---|---|---:|---:|");
    let mut rounds = Vec::new();
    for (label, size, fast, slow) in PAYLOADS {
        let name = "x".repeat(size);
        let request = HelloRequest { name };
        let (ds, is, ratios) = interleaved(&direct, &inline, &request, fast, ROUNDS).await;
        let (d, i) = (median(&ds), median(&is));
        let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let p = measure(slow, || {
            let (mut c, r) = (in_process.clone(), request.clone());
            async move {
                c.say_hello(r).await.unwrap();
            }
        })
        .await;
        let l = measure(slow, || {
            let (mut c, r) = (loopback.clone(), request.clone());
            async move {
                c.say_hello(r).await.unwrap();
            }
        })
        .await;
        println!("| {label} | direct handler call | {d:.3} | 1.0 |");
        println!(
            "| {label} | knit inline client | {i:.3} | {:.2} (min {min:.2}) |",
            median(&ratios)
        );
        for (path, t) in [
            ("tonic over the server's tower service, in process", p),
            ("tonic over loopback TCP", l),
        ] {
            println!("| {label} | {path} | {t:.3} | {:.1} |", t / d);
        }
        let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        rounds.push(format!(
            "{label}: inline ÷ direct per round: {}",
            listed.join(", ")
        ));
    }
    println!();
    println!(
        "direct and inline: the median of {ROUNDS} interleaved rounds, each path's figure in a \
         round the lowest of {TRIES} measurements of 100000 calls (inline first in every other \
         round); × direct of the inline client: the median of the rounds' ratios (min)"
    );
    for line in rounds {
        println!("{line}");
    }
}
