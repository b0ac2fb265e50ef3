use board::app::Application;
use board::{grpc, var, Chores};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let chores = Chores::connect(var("CHORES_URL", "http://127.0.0.1:50081"))
        .await
        .map_err(std::io::Error::other)?;
    let grpc_addr = var("BOARD_ADDR", "127.0.0.1:50080")
        .parse()
        .map_err(std::io::Error::other)?;
    actix_web::rt::spawn(grpc::serve(grpc_addr, chores.clone()));
    let app = Application::build(&var("HTTP_ADDR", "127.0.0.1:8081"), chores)?;
    println!("board listening on http://127.0.0.1:{} and grpc://{grpc_addr}", app.port());
    app.run_until_stopped().await
}
