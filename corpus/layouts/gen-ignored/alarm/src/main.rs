//! The alarm service: sets alarms in local time, asking the clock.

use std::sync::atomic::{AtomicU64, Ordering};

use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use generated::alarm_server::{Alarm, AlarmServer};
use generated::clock_client::ClockClient;
use generated::{LocalRequest, SetReply, SetRequest};

/// Written by build.rs into the gitignored src/generated/, beside the
/// checked-in src/generated/mod.rs that declares it.
mod generated;

pub struct Alarms {
    clock: ClockClient<Channel>,
    set: AtomicU64,
}

#[tonic::async_trait]
impl Alarm for Alarms {
    async fn set(&self, request: Request<SetRequest>) -> Result<Response<SetReply>, Status> {
        let SetRequest {
            label,
            utc_minute,
            zone,
        } = request.into_inner();
        let mut clock = self.clock.clone();
        let local = clock
            .local(LocalRequest {
                utc_minute,
                zone: zone.clone(),
            })
            .await?
            .into_inner();
        let n = self.set.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Response::new(SetReply {
            text: format!("alarm #{n} `{label}` rings at {} {zone}", local.hhmm),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("ALARM_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50132".to_string())
        .parse()?;
    let clock_url =
        std::env::var("CLOCK_URL").unwrap_or_else(|_| "http://127.0.0.1:50131".to_string());
    let alarms = Alarms {
        clock: ClockClient::connect(clock_url).await?,
        set: AtomicU64::new(0),
    };
    println!("alarm listening on {addr}");
    Server::builder()
        .add_service(AlarmServer::new(alarms))
        .serve(addr)
        .await?;
    Ok(())
}
