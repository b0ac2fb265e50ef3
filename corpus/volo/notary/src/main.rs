//! notary: a tonic service that seals teller's deposits. Its interceptor
//! refuses calls without the bearer token; it reads the trace that Volo
//! callers carry as metainfo (the header `rpc-persist-trace`). 666 cents
//! panic, and so does a list of seals with the limit 13, after its first. `NOTARY_ADDR` is where it listens.

pub mod notary {
    tonic::include_proto!("notary");
}

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Mutex;

use notary::notary_server::{Notary, NotaryServer};
use notary::{SealReply, SealRequest, SealsRequest};
use tokio_stream::{Stream, StreamExt};
use tonic::transport::Server;
use tonic::{Request, Response, Status, Streaming};

/// The token teller sends.
const TOKEN: &str = "Bearer teller-secret";

type Replies = Pin<Box<dyn Stream<Item = Result<SealReply, Status>> + Send>>;

/// The seals given, by account, and how many in all.
#[derive(Default)]
struct Desk {
    book: Mutex<(u64, HashMap<String, Vec<String>>)>,
}

impl Desk {
    /// Seals `cents` of `account`, with the caller's trace.
    fn seal(&self, account: &str, cents: i64, trace: &str) -> String {
        let mut book = self.book.lock().unwrap();
        book.0 += 1;
        let seal = format!("seal #{}: {account} {cents} (trace {trace})", book.0);
        book.1
            .entry(account.to_string())
            .or_default()
            .push(seal.clone());
        seal
    }
}

/// The trace a Volo caller carries as metainfo.
fn trace_of<T>(req: &Request<T>) -> String {
    req.metadata()
        .get("rpc-persist-trace")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_string()
}

/// Refuses an amount that is not positive.
fn positive(req: &SealRequest, what: &str) -> Result<(), Status> {
    match req.cents > 0 {
        true => Ok(()),
        false => Err(Status::invalid_argument(format!(
            "nothing to {what} for `{}`",
            req.account
        ))),
    }
}

#[tonic::async_trait]
impl Notary for Desk {
    async fn seal(&self, req: Request<SealRequest>) -> Result<Response<SealReply>, Status> {
        let trace = trace_of(&req);
        let req = req.into_inner();
        assert_ne!(req.cents, 666, "notary: a forged amount");
        positive(&req, "seal")?;
        Ok(Response::new(SealReply {
            seal: self.seal(&req.account, req.cents, &trace),
        }))
    }

    type SealsStream = Replies;

    async fn seals(&self, req: Request<SealsRequest>) -> Result<Response<Replies>, Status> {
        let req = req.into_inner();
        let given = self.book.lock().unwrap().1.get(&req.account).cloned();
        let given = given.unwrap_or_default();
        let limit = req.limit as usize;
        let mut replies: Vec<Result<SealReply, Status>> = given
            .iter()
            .take(limit)
            .map(|seal| Ok(SealReply { seal: seal.clone() }))
            .collect();
        if given.len() > limit {
            replies.push(Err(Status::resource_exhausted(format!(
                "`{}` has more than {limit} seals",
                req.account
            ))));
        }
        // A bug of notary's own: with the limit 13 the stream panics after
        // its first seal.
        let unlucky = req.limit == 13;
        let replies =
            tokio_stream::iter(replies.into_iter().enumerate()).map(move |(at, reply)| {
                assert!(!(unlucky && at > 0), "notary: an unlucky limit");
                reply
            });
        Ok(Response::new(Box::pin(replies)))
    }

    async fn countersign(
        &self,
        req: Request<Streaming<SealRequest>>,
    ) -> Result<Response<SealReply>, Status> {
        let trace = trace_of(&req);
        let mut amounts = req.into_inner();
        let (mut account, mut total, mut count) = (String::new(), 0, 0);
        while let Some(amount) = amounts.next().await {
            let amount = amount?;
            positive(&amount, "countersign")?;
            account = amount.account;
            total += amount.cents;
            count += 1;
        }
        let seal = self.seal(&account, total, &trace);
        Ok(Response::new(SealReply {
            seal: format!("{seal}, {count} amounts"),
        }))
    }

    type StampStream = Replies;

    async fn stamp(
        &self,
        req: Request<Streaming<SealRequest>>,
    ) -> Result<Response<Replies>, Status> {
        let amounts = req.into_inner();
        let mut count = 0;
        let stamps = amounts.map(move |amount| {
            count += 1;
            let amount = amount?;
            positive(&amount, "stamp")?;
            Ok(SealReply {
                seal: format!("stamp {count}: {} {}", amount.account, amount.cents),
            })
        });
        Ok(Response::new(Box::pin(stamps)))
    }
}

/// Refuses a call without the token.
fn check_token(req: Request<()>) -> Result<Request<()>, Status> {
    match req.metadata().get("authorization") {
        Some(token) if token == TOKEN => Ok(req),
        _ => Err(Status::unauthenticated("notary: no token")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("NOTARY_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50084".into())
        .parse()?;
    Server::builder()
        .add_service(NotaryServer::with_interceptor(Desk::default(), check_token))
        .serve(addr)
        .await?;
    Ok(())
}
