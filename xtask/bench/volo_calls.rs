//! The Volo rows of `cargo xtask bench calls`: one unary call of
//! `rates.Rates/Quote` (corpus/volo's volo-gen crate, as knit merges it)
//! through each path a Volo call can take, in one process on 2 worker threads.
//! Prints CPU time per call (the whole process: caller and callee) and ratios.
//!
//! - direct: the handler's trait method, called;
//! - the floor of an inline call: the same call with its future boxed behind
//!   a function, as a caller in another crate reaches the handler (type
//!   erased), and that boxed call run in a metainfo scope of its own, as
//!   Volo's server runs every handler: what isolating the callee costs;
//! - split: a Volo client over loopback TCP to the Volo server, as two services
//!   deployed apart call each other (here both ends in one process);
//! - merged: the same client and server as knit merges them where a side has
//!   layers: the server runs with `knit_runtime::volo::incoming`, the client
//!   dials `knit_runtime::volo::address("rates", addr)`, the Unix socket of the
//!   process (the binary runs under a `knit_runtime::Host`, as a merged binary);
//! - inline: knit's client of corpus/volo's teller (`knit_client.rs`, the
//!   `knit_volo.rs` knit writes into teller) calling the handler that rates'
//!   `provide_rates` (`knit_provider.rs`) registered: knit's merged path where
//!   neither side has layers.
//!
//! Split and merged are measured in interleaved rounds (merged first in every
//! other round), each path `TRIES` times per round keeping its lowest (the
//! machine's noise only adds); each round gives a split ÷ merged ratio, and the
//! table shows the medians of the rounds. `ROUNDS CALLS` on the command line
//! set the rounds and the calls per measurement.

mod knit_client;
mod knit_provider;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use futures_util::future::BoxFuture;
use metainfo::{MetaInfo, METAINFO};
use volo_gen::proto_gen::rates::{
    LadderRequest, QuoteReply, QuoteRequest, Rates, RatesClient, RatesClientBuilder, RatesServer,
};
use volo_grpc::server::{Server, ServiceBuilder};
use volo_grpc::{BoxStream, RecvStream, Request, Response, Status};

/// The handler: answers with the request's fields.
#[derive(Clone, Copy)]
struct Echo;

impl Rates for Echo {
    async fn quote(&self, req: Request<QuoteRequest>) -> Result<Response<QuoteReply>, Status> {
        let req = req.into_inner();
        Ok(Response::new(QuoteReply {
            currency: req.currency,
            amount: req.cents,
            ..Default::default()
        }))
    }

    // The streaming methods are not measured.
    async fn ladder(
        &self,
        _: Request<LadderRequest>,
    ) -> Result<Response<BoxStream<'static, Result<QuoteReply, Status>>>, Status> {
        Err(Status::unimplemented("not measured"))
    }

    async fn basket(
        &self,
        _: Request<RecvStream<QuoteRequest>>,
    ) -> Result<Response<QuoteReply>, Status> {
        Err(Status::unimplemented("not measured"))
    }

    async fn convert(
        &self,
        _: Request<RecvStream<QuoteRequest>>,
    ) -> Result<Response<BoxStream<'static, Result<QuoteReply, Status>>>, Status> {
        Err(Status::unimplemented("not measured"))
    }
}

/// The handler's `quote` behind a function with a boxed future: what a
/// caller that cannot name the handler's type calls (knit's registry holds
/// such functions).
fn erased(
    request: Request<QuoteRequest>,
) -> BoxFuture<'static, Result<Response<QuoteReply>, Status>> {
    type Erased = Box<
        dyn Fn(Request<QuoteRequest>) -> BoxFuture<'static, Result<Response<QuoteReply>, Status>>
            + Send
            + Sync,
    >;
    static ERASED: LazyLock<Erased> = LazyLock::new(|| {
        let handler = Arc::new(Echo);
        Box::new(move |request| {
            let handler = Arc::clone(&handler);
            Box::pin(async move { handler.quote(request).await })
        })
    });
    std::hint::black_box(&*ERASED)(request)
}

/// Measurements of each path per round, of which the round keeps the lowest.
const TRIES: usize = 2;

/// The payloads: label and the bytes of the request's string field.
const PAYLOADS: [(&str, usize); 2] = [("small", 3), ("1 KiB", 1024)];

/// CPU time (user + system) of this process so far, every thread.
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

/// CPU µs per call of `call`, over `n` calls after a warm-up of `n / 10`.
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

/// CPU µs per call through `client`.
async fn through(client: &RatesClient, request: &QuoteRequest, n: u32) -> f64 {
    measure(n, || {
        let (c, r) = (client.clone(), request.clone());
        async move {
            c.quote(r).await.expect("the call is answered");
        }
    })
    .await
}

/// CPU µs per call through knit's inline client.
async fn inline(client: &knit_client::rates::RatesClient, request: &QuoteRequest, n: u32) -> f64 {
    measure(n, || {
        let r = request.clone();
        async move {
            client.quote(r).await.expect("the call is answered");
        }
    })
    .await
}

/// The benchmark: prints the table.
async fn bench(addr: SocketAddr, rounds: usize, calls: u32) {
    let merged_addr = knit_runtime::volo::address("rates", addr);
    println!("knit_runtime::volo::address(\"rates\", {addr}) in this merged host: {merged_addr:?}");
    let split = RatesClientBuilder::new("rates").address(addr).build();
    let merged = RatesClientBuilder::new("rates").address(merged_addr).build();
    let knit = knit_client::rates::RatesClient::knit_new(merged.clone(), None);
    // The server is up once a call answers.
    for _ in 0..200 {
        let probe = QuoteRequest::default();
        let inline = knit.quote(probe.clone()).await.is_ok();
        if split.quote(probe.clone()).await.is_ok() && merged.quote(probe).await.is_ok() && inline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!();
    println!("| payload | path | CPU µs/call | × direct | split ÷ merged |");
    println!("|---|---|---:|---:|---:|");
    let mut lines = Vec::new();
    for (label, bytes) in PAYLOADS {
        let request = QuoteRequest {
            currency: "x".repeat(bytes).into(),
            cents: 12_345,
        };
        let direct = measure(calls * 20, || {
            let r = request.clone();
            async move {
                Echo.quote(Request::new(r)).await.expect("answered");
            }
        })
        .await;
        let boxed = measure(calls * 20, || {
            let r = request.clone();
            async move {
                erased(Request::new(r)).await.expect("answered");
            }
        })
        .await;
        let scoped = measure(calls * 20, || {
            let r = request.clone();
            async move {
                let scope = RefCell::new(MetaInfo::default());
                METAINFO
                    .scope(scope, erased(Request::new(r)))
                    .await
                    .expect("answered");
            }
        })
        .await;
        let knit_inline = inline(&knit, &request, calls * 20).await;
        let (mut ss, mut ms, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let (mut s, mut m) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..TRIES {
                if round % 2 == 0 {
                    s = s.min(through(&split, &request, calls).await);
                    m = m.min(through(&merged, &request, calls).await);
                } else {
                    m = m.min(through(&merged, &request, calls).await);
                    s = s.min(through(&split, &request, calls).await);
                }
            }
            ss.push(s);
            ms.push(m);
            ratios.push(s / m);
        }
        let (s, m) = (median(&ss), median(&ms));
        let (lo, hi) = ratios
            .iter()
            .fold((f64::INFINITY, 0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
        println!("| {label} | direct handler call | {direct:.3} | 1 | |");
        println!(
            "| {label} | the handler's future boxed (type-erased, as a caller in another crate reaches it) | {boxed:.3} | {:.2} | |",
            boxed / direct
        );
        println!(
            "| {label} | boxed, in a metainfo scope of its own (as Volo's server runs a handler) | {scoped:.3} | {:.2} | |",
            scoped / direct
        );
        println!(
            "| {label} | knit's inline client (merged, neither side with layers) | {knit_inline:.3} | {:.2} | |",
            knit_inline / direct
        );
        println!(
            "| {label} | Volo over loopback TCP (split) | {s:.1} | {:.0} | {:.2} ({lo:.2}–{hi:.2}) |",
            s / direct,
            median(&ratios)
        );
        println!(
            "| {label} | Volo over a Unix socket of the process (knit's merged path) | {m:.1} | {:.0} | 1 |",
            m / direct
        );
        let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        lines.push(format!(
            "{label}: split ÷ merged per round: {}",
            listed.join(", ")
        ));
    }
    println!();
    println!(
        "split and merged: the median of {rounds} interleaved rounds, each path's figure in a round \
         the lowest of {TRIES} measurements of {calls} calls (merged first in every other round); \
         split ÷ merged: the median of the rounds' ratios (range); direct and inline: {} calls each",
        calls * 20
    );
    for line in lines {
        println!("{line}");
    }
}

/// Ends the process once the table is printed (the server would run on), its
/// Unix socket removed.
fn end() {
    let socket = knit_runtime::volo::socket_path("rates");
    let _ = std::fs::remove_file(&socket);
    if let Some(dir) = socket.parent() {
        let _ = std::fs::remove_dir(dir);
    }
    std::process::exit(0)
}

fn main() -> ExitCode {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (rounds, calls) = match args.as_slice() {
        [rounds, calls] => (*rounds, *calls as u32),
        _ => (7, 2000),
    };
    // A free loopback port for the server's own listener.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a loopback port");
    knit_runtime::Host::new()
        .provides("rates", "rates.Rates")
        .worker_threads(2)
        .service("rates", true, move |host| async move {
            Server::new()
                .add_service(
                    ServiceBuilder::new(RatesServer::from_arc(
                        knit_provider::rates::provide_rates(Arc::new(Echo)),
                    ))
                    .build(),
                )
                .run_with_shutdown(
                    knit_runtime::volo::incoming(host, volo::net::Address::from(addr)),
                    knit_runtime::volo::shutdown(host),
                )
                .await
        })
        .service("bench", false, move |_| async move {
            bench(addr, rounds.max(1), calls.max(10)).await;
            end();
        })
        .run()
}
