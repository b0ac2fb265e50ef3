//! teller: a Volo gRPC service that calls accounts (with a client layer that
//! adds the bearer token and an `rpc_timeout`), rates (a client in a
//! `static LazyLock`) and notary, a tonic service (with the bearer layer, or
//! without it for carol's transfers). `TELLER_ADDR` is where it listens;
//! `ACCOUNTS_ADDR`, `RATES_ADDR` and `NOTARY_ADDR` where the others are.

mod bearer;

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use metainfo::{Backward, Forward};
use tokio_stream::StreamExt;
use volo_gen::proto_gen::accounts::{
    AccountsClient, AccountsClientBuilder, AuditRequest, BalanceRequest, HistoryRequest, Movement,
};
use volo_gen::proto_gen::notary::{NotaryClient, NotaryClientBuilder, SealRequest, SealsRequest};
use volo_gen::proto_gen::rates::{LadderRequest, QuoteRequest, RatesClient, RatesClientBuilder};
use volo_gen::proto_gen::teller::{
    CheckReply, CheckRequest, ExchangeReply, ExchangeRequest, StatementReply, StatementRequest,
    SummaryReply, SummaryRequest, TallyItem, TallyTotal, Teller, TellerServer, TransferReply,
    TransferRequest,
};
use volo_grpc::server::{Server, ServiceBuilder};
use volo_grpc::{BoxStream, RecvStream, Request, Response, Status};

/// How long teller waits for accounts.
const ACCOUNTS_TIMEOUT: Duration = Duration::from_millis(300);
/// How long teller waits for rates.
const RATES_TIMEOUT: Duration = Duration::from_millis(300);
/// How long teller waits for notary.
const NOTARY_TIMEOUT: Duration = Duration::from_millis(300);

fn addr_of(var: &str, default: &str) -> SocketAddr {
    std::env::var(var)
        .unwrap_or_else(|_| default.into())
        .parse()
        .expect("an address")
}

static RATES: LazyLock<RatesClient> = LazyLock::new(|| {
    RatesClientBuilder::new("rates")
        .address(addr_of("RATES_ADDR", "127.0.0.1:50082"))
        .rpc_timeout(Some(RATES_TIMEOUT))
        .build()
});

struct Counter {
    /// Sends the token.
    accounts: AccountsClient,
    /// Sends none.
    anonymous: AccountsClient,
    /// Sends the token.
    notary: NotaryClient,
    /// Sends none.
    notary_anonymous: NotaryClient,
}

impl Teller for Counter {
    async fn summary(
        &self,
        req: Request<SummaryRequest>,
    ) -> Result<Response<SummaryReply>, Status> {
        let req = req.into_inner();
        volo::METAINFO.with(|mi| {
            let trace = format!("summary-{}", req.account);
            mi.borrow_mut().set_persistent("TRACE", trace);
        });
        let balance = self
            .accounts
            .balance(BalanceRequest {
                account: req.account.clone(),
            })
            .await?
            .into_inner();
        let node = volo::METAINFO
            .with(|mi| mi.borrow().get_backward_downstream("NODE"))
            .unwrap_or_default();
        let quote = RATES
            .quote(QuoteRequest {
                currency: req.currency,
                cents: balance.cents,
            })
            .await?
            .into_inner();
        let desk = volo::METAINFO
            .with(|mi| mi.borrow().get_backward_downstream("DESK"))
            .unwrap_or_default();
        Ok(Response::new(SummaryReply {
            account: balance.account,
            currency: quote.currency,
            amount: quote.amount,
            served: balance.served,
            trace: format!("{}; rates read `{}`", balance.trace, quote.trace).into(),
            node: format!("{node}; rates at `{desk}`").into(),
        }))
    }

    async fn statement(
        &self,
        req: Request<StatementRequest>,
    ) -> Result<Response<StatementReply>, Status> {
        let req = req.into_inner();
        let entries = self
            .accounts
            .history(HistoryRequest {
                account: req.account.clone(),
                limit: req.limit,
            })
            .await?
            .into_inner();
        let mut reply = StatementReply::default();
        let mut amounts = Vec::new();
        let mut entries = std::pin::pin!(entries);
        while let Some(entry) = entries.next().await.transpose()? {
            reply
                .lines
                .push(format!("{} {} {}", entry.seq, entry.memo, entry.cents).into());
            reply.total += entry.cents;
            amounts.push(SealRequest {
                account: req.account.clone(),
                cents: entry.cents,
            });
        }
        // notary's seals of the account, and its countersign of the lines.
        let seals = self
            .notary
            .seals(SealsRequest {
                account: req.account.clone(),
                limit: req.limit,
            })
            .await?
            .into_inner();
        let mut seals = std::pin::pin!(seals);
        while let Some(seal) = seals.next().await.transpose()? {
            reply.seals.push(seal.seal);
        }
        reply.countersign = self
            .notary
            .countersign(tokio_stream::iter(amounts))
            .await?
            .into_inner()
            .seal;
        Ok(Response::new(reply))
    }

    async fn check(&self, req: Request<CheckRequest>) -> Result<Response<CheckReply>, Status> {
        let req = req.into_inner();
        // A bug of teller's own: the account `crash` panics here, before
        // accounts is asked.
        assert_ne!(
            req.account.as_str(),
            "crash",
            "teller: cannot check `crash`"
        );
        let client = if req.anonymous {
            &self.anonymous
        } else {
            &self.accounts
        };
        let audit = client
            .audit(AuditRequest {
                account: req.account,
                delay_ms: req.delay_ms,
            })
            .await?
            .into_inner();
        let verdict = if audit.clean { "clean" } else { "dirty" };
        Ok(Response::new(CheckReply {
            verdict: format!("{}: {verdict}", audit.account).into(),
        }))
    }

    async fn transfer(
        &self,
        req: Request<TransferRequest>,
    ) -> Result<Response<TransferReply>, Status> {
        let req = req.into_inner();
        let movements: Vec<Movement> = req
            .cents
            .iter()
            .map(|cents| Movement {
                account: req.account.clone(),
                cents: *cents,
            })
            .collect();
        let deposit = self
            .accounts
            .deposit(tokio_stream::iter(movements.clone()))
            .await?
            .into_inner();
        let totals = self
            .accounts
            .running(tokio_stream::iter(movements))
            .await?
            .into_inner();
        let mut totals = std::pin::pin!(totals);
        let mut running = Vec::new();
        while let Some(total) = totals.next().await.transpose()? {
            running.push(total.cents);
        }
        volo::METAINFO.with(|mi| {
            let trace = format!("transfer-{}", req.account);
            mi.borrow_mut().set_persistent("TRACE", trace);
        });
        // carol's transfers go through the desk that sends no token.
        let notary = match req.account.as_str() {
            "carol" => &self.notary_anonymous,
            _ => &self.notary,
        };
        let seal = notary
            .seal(SealRequest {
                account: req.account.clone(),
                cents: deposit.cents,
            })
            .await?
            .into_inner()
            .seal;
        let amounts = req.cents.iter().map(|cents| SealRequest {
            account: req.account.clone(),
            cents: *cents,
        });
        let stamps = notary
            .stamp(tokio_stream::iter(amounts.collect::<Vec<_>>()))
            .await?
            .into_inner();
        let mut stamps = std::pin::pin!(stamps);
        let mut stamped = Vec::new();
        while let Some(stamp) = stamps.next().await.transpose()? {
            stamped.push(stamp.seal);
        }
        Ok(Response::new(TransferReply {
            count: deposit.count,
            deposited: deposit.cents,
            running,
            seal,
            stamps: stamped,
        }))
    }

    async fn exchange(
        &self,
        req: Request<ExchangeRequest>,
    ) -> Result<Response<ExchangeReply>, Status> {
        let req = req.into_inner();
        let mut reply = ExchangeReply::default();
        let ladder = RATES
            .ladder(LadderRequest {
                currency: req.currency.clone(),
                cents: req.cents.clone(),
            })
            .await?
            .into_inner();
        let mut ladder = std::pin::pin!(ladder);
        while let Some(quote) = ladder.next().await.transpose()? {
            reply.ladder.push(quote.amount);
        }
        let requests: Vec<QuoteRequest> = req
            .cents
            .iter()
            .map(|cents| QuoteRequest {
                currency: req.currency.clone(),
                cents: *cents,
            })
            .collect();
        reply.basket = RATES
            .basket(tokio_stream::iter(requests.clone()))
            .await?
            .into_inner()
            .amount;
        let converted = RATES
            .convert(tokio_stream::iter(requests))
            .await?
            .into_inner();
        let mut converted = std::pin::pin!(converted);
        while let Some(quote) = converted.next().await.transpose()? {
            reply.converted.push(quote.amount);
        }
        Ok(Response::new(reply))
    }

    async fn tally(
        &self,
        req: Request<RecvStream<TallyItem>>,
    ) -> Result<Response<BoxStream<'static, Result<TallyTotal, Status>>>, Status> {
        let mut total = 0;
        let totals = req.into_inner().map(move |item| {
            let cents = item?.cents;
            // A bug of teller's own: 13 cents panic.
            assert_ne!(cents, 13, "teller: cannot tally 13");
            if cents < 0 {
                return Err(Status::invalid_argument(format!(
                    "amount {cents} is negative"
                )));
            }
            total += cents;
            Ok(TallyTotal { total })
        });
        Ok(Response::new(Box::pin(totals)))
    }
}

#[volo::main]
async fn main() {
    let accounts_addr = addr_of("ACCOUNTS_ADDR", "127.0.0.1:50081");
    let accounts = AccountsClientBuilder::new("accounts")
        .address(accounts_addr)
        .rpc_timeout(Some(ACCOUNTS_TIMEOUT))
        .layer_outer(bearer::BearerLayer::new("teller-secret"))
        .build();
    let anonymous = AccountsClientBuilder::new("accounts")
        .address(accounts_addr)
        .rpc_timeout(Some(ACCOUNTS_TIMEOUT))
        .build();
    let notary_addr = addr_of("NOTARY_ADDR", "127.0.0.1:50084");
    let notary = NotaryClientBuilder::new("notary")
        .address(notary_addr)
        .rpc_timeout(Some(NOTARY_TIMEOUT))
        .layer_outer(bearer::BearerLayer::new("teller-secret"))
        .build();
    let notary_anonymous = NotaryClientBuilder::new("notary")
        .address(notary_addr)
        .rpc_timeout(Some(NOTARY_TIMEOUT))
        .build();
    let addr = volo::net::Address::from(addr_of("TELLER_ADDR", "127.0.0.1:50083"));
    Server::new()
        .add_service(
            ServiceBuilder::new(TellerServer::new(Counter {
                accounts,
                anonymous,
                notary,
                notary_anonymous,
            }))
            .build(),
        )
        .run(addr)
        .await
        .unwrap();
}
