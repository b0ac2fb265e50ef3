//! The merged host on a signal: it waits for the services that stop by
//! themselves, at most the grace period, and not for those that handle no
//! signal. Each test sends the process a real SIGTERM, so they run one at a
//! time, in a test binary of their own.
#![cfg(unix)]

use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use knit_runtime::{Host, OnSignal, ServiceHost};

/// One host at a time receives the signals of this process.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Sends SIGTERM to this process, as `docker stop` or `kill` does.
fn sigterm() {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A hand-written accept loop with no signal handling: it never ends.
async fn accept_loop(_: &'static ServiceHost) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        drop(stream);
    }
}

/// A server that drains for a moment once the host shuts down.
async fn graceful(host: &'static ServiceHost) {
    host.shutdown().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[test]
fn one_signal_stops_the_host_without_waiting_for_a_service_that_handles_none() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let code = Host::new()
        .on_signal("gateway", OnSignal::Dies)
        .service("backend", true, graceful)
        .service("gateway", true, |host| async move {
            sigterm();
            accept_loop(host).await
        })
        .run();
    assert_eq!(code, ExitCode::SUCCESS);
    let took = start.elapsed();
    // The backend drained (200 ms); the gateway was not waited for.
    assert!(took >= Duration::from_millis(200), "{took:?}");
    assert!(took < knit_runtime::DEFAULT_GRACE, "{took:?}");
}

#[test]
fn a_group_of_services_that_handle_no_signal_stops_at_once() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let code = Host::new()
        .on_signal("gateway", OnSignal::Dies)
        .on_signal("worker", OnSignal::Dies)
        .service("gateway", true, |host| async move {
            sigterm();
            accept_loop(host).await
        })
        .service("worker", true, |_| std::future::pending::<()>())
        .run();
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_service_that_does_not_stop_within_the_grace_period_is_left_and_the_host_fails() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let grace = Duration::from_millis(300);
    let start = Instant::now();
    let code = Host::new()
        .grace_period(grace)
        .on_signal("gateway", OnSignal::Dies)
        .service("backend", true, graceful)
        // Said to stop, but ignores the host's shutdown.
        .service("stuck", true, |_| async {
            sigterm();
            std::future::pending::<()>().await
        })
        .service("gateway", true, accept_loop)
        .run();
    assert_eq!(code, ExitCode::FAILURE);
    let took = start.elapsed();
    assert!(took >= grace, "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn a_failing_service_stops_the_host_without_waiting_for_a_service_that_handles_no_signal() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let code = Host::new()
        .on_signal("gateway", OnSignal::Dies)
        .service("gateway", true, accept_loop)
        .service("backend", true, graceful)
        .service("broken", true, |_| async {
            Err::<(), _>("cannot open the database")
        })
        .run();
    assert_eq!(code, ExitCode::FAILURE);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn services_that_stop_are_waited_for_until_they_end() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let code = Host::new()
        .service("slow", true, |host: &'static ServiceHost| async move {
            host.shutdown().await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            Ok::<(), String>(())
        })
        .service("backend", true, |host| async move {
            sigterm();
            graceful(host).await
        })
        .run();
    assert_eq!(code, ExitCode::SUCCESS);
}
