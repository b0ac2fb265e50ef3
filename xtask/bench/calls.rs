//! The per-call micro-benchmark of `cargo xtask bench calls`: one unary call of
//! `helloworld.Greeter/SayHello` through each path, on the crates knit generated
//! for the greeter corpus. Prints CPU time per call (the whole process: caller and
//! callee) and its ratio to a direct call of the handler trait.

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
    async fn say_hello(&self, request: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(HelloReply { message: request.into_inner().name }))
    }
}

/// CPU time (user + system) of this process so far.
fn cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    knit_runtime::registry::declare(greeter_inline::SERVICE, "greeter");
    let host = knit_runtime::ServiceHost::standalone("greeter");
    let _ = greeter_inline::provide(host, Echo);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(GreeterServer::new(Echo))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))),
    );
    let direct: Arc<dyn Greeter> = Arc::new(Echo);
    let inline = greeter_inline::GreeterClient::connect("http://unused").await.unwrap();
    let in_process = GreeterClient::new(GreeterServer::new(Echo));
    let loopback = GreeterClient::connect(format!("http://{addr}")).await.unwrap();

    println!("| payload | path | CPU µs/call | × direct |");
    println!("|---|---|---:|---:|");
    for (label, size, fast, slow) in [("small", 5usize, 1_000_000u32, 10_000u32), ("1 KiB", 1024, 500_000, 10_000)] {
        let name = "x".repeat(size);
        let request = HelloRequest { name };
        let d = measure(fast, || {
            let (h, r) = (direct.clone(), request.clone());
            async move {
                h.say_hello(Request::new(r)).await.unwrap();
            }
        })
        .await;
        let i = measure(fast, || {
            let (mut c, r) = (inline.clone(), request.clone());
            async move {
                c.say_hello(r).await.unwrap();
            }
        })
        .await;
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
        for (path, t) in [
            ("direct handler call", d),
            ("knit inline client", i),
            ("tonic over the server's tower service, in process", p),
            ("tonic over loopback TCP", l),
        ] {
            println!("| {label} | {path} | {t:.3} | {:.1} |", t / d);
        }
    }
}
