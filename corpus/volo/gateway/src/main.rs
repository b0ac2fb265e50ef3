//! gateway: the public tonic API; every call goes on to teller, a Volo
//! service, over gRPC (`Tally` through teller's bidirectional stream).
//! `GATEWAY_ADDR` is where it listens, `TELLER_URL` where teller is.

pub mod gateway {
    tonic::include_proto!("gateway");
}
pub mod teller {
    tonic::include_proto!("teller");
}

use gateway::gateway_server::{Gateway, GatewayServer};
use gateway::{
    CheckReply, CheckRequest, ExchangeReply, ExchangeRequest, StatementReply, StatementRequest,
    SummaryReply, SummaryRequest, TallyReply, TallyRequest, TransferReply, TransferRequest,
};
use teller::teller_client::TellerClient;
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

struct Front {
    teller: TellerClient<Channel>,
}

impl Front {
    fn teller(&self) -> TellerClient<Channel> {
        self.teller.clone()
    }
}

#[tonic::async_trait]
impl Gateway for Front {
    async fn summary(
        &self,
        req: Request<SummaryRequest>,
    ) -> Result<Response<SummaryReply>, Status> {
        let req = req.into_inner();
        let reply = self
            .teller()
            .summary(teller::SummaryRequest {
                account: req.account,
                currency: req.currency,
            })
            .await?
            .into_inner();
        Ok(Response::new(SummaryReply {
            text: format!(
                "{} holds {} {} (answer #{} of accounts; trace `{}`, node `{}`)",
                reply.account, reply.amount, reply.currency, reply.served, reply.trace, reply.node
            ),
        }))
    }

    async fn statement(
        &self,
        req: Request<StatementRequest>,
    ) -> Result<Response<StatementReply>, Status> {
        let req = req.into_inner();
        let reply = self
            .teller()
            .statement(teller::StatementRequest {
                account: req.account,
                limit: req.limit,
            })
            .await?
            .into_inner();
        Ok(Response::new(StatementReply {
            lines: reply.lines,
            total: reply.total,
            seals: reply.seals,
            countersign: reply.countersign,
        }))
    }

    async fn check(&self, req: Request<CheckRequest>) -> Result<Response<CheckReply>, Status> {
        let req = req.into_inner();
        let reply = self
            .teller()
            .check(teller::CheckRequest {
                account: req.account,
                delay_ms: req.delay_ms,
                anonymous: req.anonymous,
            })
            .await?
            .into_inner();
        Ok(Response::new(CheckReply {
            verdict: reply.verdict,
        }))
    }

    async fn transfer(
        &self,
        req: Request<TransferRequest>,
    ) -> Result<Response<TransferReply>, Status> {
        let req = req.into_inner();
        let reply = self
            .teller()
            .transfer(teller::TransferRequest {
                account: req.account,
                cents: req.cents,
            })
            .await?
            .into_inner();
        Ok(Response::new(TransferReply {
            count: reply.count,
            deposited: reply.deposited,
            running: reply.running,
            seal: reply.seal,
            stamps: reply.stamps,
        }))
    }

    async fn exchange(
        &self,
        req: Request<ExchangeRequest>,
    ) -> Result<Response<ExchangeReply>, Status> {
        let req = req.into_inner();
        let reply = self
            .teller()
            .exchange(teller::ExchangeRequest {
                currency: req.currency,
                cents: req.cents,
            })
            .await?
            .into_inner();
        Ok(Response::new(ExchangeReply {
            ladder: reply.ladder,
            basket: reply.basket,
            converted: reply.converted,
        }))
    }

    async fn tally(&self, req: Request<TallyRequest>) -> Result<Response<TallyReply>, Status> {
        let items: Vec<teller::TallyItem> = req
            .into_inner()
            .cents
            .into_iter()
            .map(|cents| teller::TallyItem { cents })
            .collect();
        let mut totals = self
            .teller()
            .tally(tokio_stream::iter(items))
            .await?
            .into_inner();
        let mut reply = TallyReply::default();
        while let Some(total) = totals.message().await? {
            reply.totals.push(total.total);
        }
        Ok(Response::new(reply))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("GATEWAY_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50080".into())
        .parse()?;
    let url = std::env::var("TELLER_URL").unwrap_or_else(|_| "http://127.0.0.1:50083".into());
    let teller = TellerClient::new(Channel::from_shared(url)?.connect_lazy());
    Server::builder()
        .add_service(GatewayServer::new(Front { teller }))
        .serve(addr)
        .await?;
    Ok(())
}
