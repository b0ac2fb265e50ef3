//! `cargo knit ..`: knit as a cargo subcommand (cargo runs `cargo-knit knit ..`).

#[path = "../main.rs"]
mod knit;

fn main() -> std::process::ExitCode {
    knit::main()
}
