//! accounts: a Volo gRPC service behind a server layer that checks a bearer
//! token. `ACCOUNTS_ADDR` is where it listens.

mod auth;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metainfo::{Backward, Forward};
use tokio_stream::StreamExt;
use volo_gen::proto_gen::accounts::{
    Accounts, AccountsServer, AuditReply, AuditRequest, BalanceReply, BalanceRequest, DepositReply,
    Entry, HistoryRequest, Movement, Total,
};
use volo_grpc::server::{Server, ServiceBuilder};
use volo_grpc::{BoxStream, RecvStream, Request, Response, Status};

/// The token every caller must send as `authorization: Bearer TOKEN`.
const TOKEN: &str = "teller-secret";

/// Balances in cents, by account.
const BALANCES: [(&str, i64); 3] = [("alice", 12_500), ("bob", 300), ("carol", 0)];

#[derive(Default)]
struct Ledger {
    served: AtomicU64,
}

fn balance_of(account: &str) -> Result<i64, Status> {
    if account.is_empty() {
        return Err(Status::invalid_argument("account is empty"));
    }
    BALANCES
        .iter()
        .find(|(name, _)| *name == account)
        .map(|(_, cents)| *cents)
        .ok_or_else(|| Status::not_found(format!("no account `{account}`")))
}

impl Accounts for Ledger {
    async fn balance(
        &self,
        req: Request<BalanceRequest>,
    ) -> Result<Response<BalanceReply>, Status> {
        let account = req.into_inner().account;
        let cents = balance_of(&account)?;
        let served = self.served.fetch_add(1, Ordering::Relaxed) + 1;
        // Metainfo both ways: the caller's `trace`, and `node` sent back.
        let trace = volo::METAINFO.with(|mi| {
            let mut mi = mi.borrow_mut();
            mi.set_backward_transient("NODE", "ledger-1");
            mi.get_persistent("TRACE").unwrap_or_default()
        });
        Ok(Response::new(BalanceReply {
            account,
            cents,
            served,
            trace,
        }))
    }

    async fn history(
        &self,
        req: Request<HistoryRequest>,
    ) -> Result<Response<BoxStream<'static, Result<Entry, Status>>>, Status> {
        let req = req.into_inner();
        let cents = balance_of(&req.account)?;
        let limit = req.limit.clamp(1, 10);
        let entries: Vec<Result<Entry, Status>> = (1..=limit)
            .map(|seq| {
                Ok(Entry {
                    seq,
                    memo: format!("{} #{seq}", req.account).into(),
                    cents: cents / i64::from(limit) + i64::from(seq),
                })
            })
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(entries))))
    }

    async fn audit(&self, req: Request<AuditRequest>) -> Result<Response<AuditReply>, Status> {
        let req = req.into_inner();
        if req.account == "boom" {
            panic!("audit of `boom` failed");
        }
        balance_of(&req.account)?;
        tokio::time::sleep(Duration::from_millis(req.delay_ms)).await;
        Ok(Response::new(AuditReply {
            account: req.account,
            clean: true,
        }))
    }

    async fn deposit(
        &self,
        req: Request<RecvStream<Movement>>,
    ) -> Result<Response<DepositReply>, Status> {
        let mut movements = req.into_inner();
        let mut reply = DepositReply::default();
        while let Some(movement) = movements.next().await {
            let movement = movement?;
            balance_of(&movement.account)?;
            if movement.cents < 0 {
                return Err(Status::invalid_argument(format!(
                    "deposit #{} is negative",
                    reply.count + 1
                )));
            }
            reply.count += 1;
            reply.cents += movement.cents;
        }
        Ok(Response::new(reply))
    }

    async fn running(
        &self,
        req: Request<RecvStream<Movement>>,
    ) -> Result<Response<BoxStream<'static, Result<Total, Status>>>, Status> {
        let movements = req.into_inner();
        let (mut seq, mut cents) = (0u32, 0i64);
        let totals = movements.map(move |movement| {
            movement.map(|m| {
                seq += 1;
                cents += m.cents;
                Total { seq, cents }
            })
        });
        Ok(Response::new(Box::pin(totals)))
    }
}

#[volo::main]
async fn main() {
    let addr: SocketAddr = std::env::var("ACCOUNTS_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50081".into())
        .parse()
        .expect("ACCOUNTS_ADDR is an address");
    let addr = volo::net::Address::from(addr);
    Server::new()
        .layer_front(auth::AuthLayer::new(TOKEN))
        .add_service(ServiceBuilder::new(AccountsServer::new(Ledger::default())).build())
        .run(addr)
        .await
        .unwrap();
}
