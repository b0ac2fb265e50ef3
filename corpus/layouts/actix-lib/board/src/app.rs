//! The HTTP side: `GET /chores/{id}` answers the chore's line in plain text.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use tonic::Code;

use crate::Chores;

/// The HTTP server, built and bound; it runs when awaited.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `addr` and builds the server over `chores`.
    pub fn build(addr: &str, chores: Chores) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(chores.clone()))
                .route("/chores/{id}", web::get().to(show))
        })
        .workers(2)
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn show(chores: web::Data<Chores>, id: web::Path<u64>) -> HttpResponse {
    match chores.show(id.into_inner()).await {
        Ok(line) => HttpResponse::Ok().body(format!("{line}\n")),
        Err(status) if status.code() == Code::NotFound => {
            HttpResponse::NotFound().body(format!("{}\n", status.message()))
        }
        Err(status) => HttpResponse::BadGateway().body(format!("{status}\n")),
    }
}
