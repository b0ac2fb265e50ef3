//! The guarantees of knit-runtime that inline calls and the merged host rely on.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use knit_runtime::{call, registry, Host, ServiceHost};
use tonic::{Code, Request, Response, Status};

/// A unary call as knit's generated client makes it: the handler called on the
/// request under its deadline, its future boxed as tonic's handler traits box it.
fn unary<T, R, F, Fut>(request: Request<T>, handler: F) -> call::Unary<'static, R>
where
    R: 'static,
    F: FnOnce(Request<T>) -> Fut,
    Fut: std::future::Future<Output = Result<Response<R>, Status>> + Send + 'static,
{
    call::unary(request, None, |request| Box::pin(handler(request)))
}

#[tokio::test]
async fn request_reaches_the_handler_as_it_is() {
    let mut request = Request::new("hi".to_string());
    request
        .metadata_mut()
        .insert("x-request-id", "42".parse().unwrap());
    request.extensions_mut().insert(7u8);
    let reply = unary(request, |r: Request<String>| async move {
        let id = r
            .metadata()
            .get("x-request-id")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let ext = *r.extensions().get::<u8>().unwrap();
        let mut response = Response::new(format!("{} {id} {ext}", r.into_inner()));
        response
            .metadata_mut()
            .insert("x-served-by", "callee".parse().unwrap());
        Ok(response)
    })
    .await
    .unwrap();
    assert_eq!(reply.get_ref(), "hi 42 7");
    assert_eq!(reply.metadata().get("x-served-by").unwrap(), "callee");
}

#[tokio::test]
async fn statuses_come_back_unchanged() {
    let err = unary(Request::new(()), |_| async {
        Err::<Response<()>, _>(Status::not_found("no such item"))
    })
    .await
    .unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (Code::NotFound, "no such item")
    );
}

#[tokio::test]
async fn an_expired_deadline_answers_as_tonic_does() {
    let mut request = Request::new(());
    request.set_timeout(Duration::from_millis(20));
    let err = unary(request, |_| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(Response::new(()))
    })
    .await
    .unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (Code::Cancelled, "Timeout expired")
    );
}

/// The deadline's timer is made only when the handler waits, from the time the
/// call was made: a handler that waits past it still meets it, one that does
/// not wait answers, and a deadline too far to count never comes.
#[test]
fn the_sooner_of_the_requests_deadline_and_the_channels_timeout_holds() {
    let (second, minute) = (Duration::from_secs(1), Duration::from_secs(60));
    let mut request = Request::new(());
    assert_eq!(call::deadline(&request, None), None);
    assert_eq!(call::deadline(&request, Some(second)), Some(second));
    request.set_timeout(minute);
    assert_eq!(call::deadline(&request, None), Some(minute));
    assert_eq!(call::deadline(&request, Some(second)), Some(second));
    request.set_timeout(Duration::from_millis(5));
    assert_eq!(
        call::deadline(&request, Some(second)),
        Some(Duration::from_millis(5))
    );
}

/// `grpc-timeout` is read as tonic's server reads it: the first value, at most
/// 8 digits (more, or no unit, and the request has no deadline of its own),
/// among few headers or many.
#[test]
fn a_grpc_timeout_is_read_as_tonics_server_reads_it() {
    let deadline = |value: &str, others: usize| {
        let mut request = Request::new(());
        for i in 0..others {
            let name = format!("x-other-{i}").parse::<tonic::metadata::MetadataKey<_>>();
            request
                .metadata_mut()
                .insert(name.unwrap(), "1".parse().unwrap());
        }
        request
            .metadata_mut()
            .insert("grpc-timeout", value.parse().unwrap());
        request
            .metadata_mut()
            .append("grpc-timeout", "1n".parse().unwrap());
        call::deadline(&request, None)
    };
    for others in [0, 2, 8] {
        assert_eq!(
            deadline("12345678m", others),
            Some(Duration::from_millis(12345678))
        );
        assert_eq!(deadline("123456789m", others), None);
        assert_eq!(deadline("5S", others), Some(Duration::from_secs(5)));
        assert_eq!(deadline("5", others), None);
        assert_eq!(deadline("5x", others), None);
    }
}

#[tokio::test]
async fn the_deadline_counts_from_the_call_not_from_the_first_wait() {
    let mut request = Request::new(());
    request.set_timeout(Duration::from_millis(50));
    let call = unary(request, |_| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(Response::new(()))
    });
    // The call is polled first only after its deadline has passed.
    tokio::time::sleep(Duration::from_millis(80)).await;
    let started = std::time::Instant::now();
    let err = call.await.unwrap_err();
    assert_eq!(err.code(), Code::Cancelled);
    assert!(
        started.elapsed() < Duration::from_millis(40),
        "{:?}",
        started.elapsed()
    );

    let mut request = Request::new(());
    request.set_timeout(Duration::from_millis(1));
    let reply = unary(request, |_| async { Ok(Response::new(7)) }).await;
    assert_eq!(*reply.unwrap().get_ref(), 7);

    let reply = call::unary(Request::new(()), Some(Duration::MAX), |_| {
        Box::pin(async {
            tokio::task::yield_now().await;
            Ok::<_, Status>(Response::new(8))
        })
    })
    .await;
    assert_eq!(*reply.unwrap().get_ref(), 8);
}

#[tokio::test]
async fn a_panic_in_the_handler_is_an_error_for_that_call_only() {
    // Without a deadline and with one (the handler's future then boxed with
    // it), before and after the handler first waits.
    for timeout in [None, Some(Duration::from_secs(5))] {
        for wait_first in [false, true] {
            let mut request = Request::new(());
            if let Some(timeout) = timeout {
                request.set_timeout(timeout);
            }
            let err = unary(request, move |_| async move {
                if wait_first {
                    tokio::task::yield_now().await;
                }
                if true {
                    panic!("boom");
                }
                Ok(Response::new(()))
            })
            .await
            .unwrap_err();
            // As tonic's client reports a server whose handler panicked.
            assert_eq!(
                (err.code(), err.message()),
                (Code::Cancelled, "h2 protocol error: http2 error"),
                "deadline {timeout:?}, waited first: {wait_first}"
            );
        }
    }
}

trait Greeter: Send + Sync {
    fn greet(&self) -> String;
}

struct English;

impl Greeter for English {
    fn greet(&self) -> String {
        "hello".into()
    }
}

#[tokio::test]
async fn calls_wait_for_the_provider_to_register() {
    registry::declare("test.Greeter", "greeter");
    assert!(registry::is_hosted("test.Greeter"));
    assert!(!registry::is_hosted("test.Other"));
    let waiting = tokio::spawn(registry::resolve::<dyn Greeter>("test.Greeter"));
    tokio::time::sleep(Duration::from_millis(20)).await;
    let handler: Arc<dyn Greeter> = Arc::new(English);
    ServiceHost::standalone("greeter").provide::<dyn Greeter>("test.Greeter", handler);
    assert_eq!(waiting.await.unwrap().unwrap().handler.greet(), "hello");
    let missing = registry::resolve::<dyn Greeter>("test.Other")
        .await
        .err()
        .unwrap();
    assert_eq!(missing.code(), Code::Unavailable);
}

/// A first call whose provider has not registered when its channel's timeout
/// passes answers as an expired call does, then, not after the wait's own bound;
/// once the provider is there, the call goes on with what is left of the timeout.
#[tokio::test]
async fn the_wait_for_the_provider_counts_against_the_channels_timeout() {
    registry::declare("test.Late", "late");
    let target = registry::Target::<dyn Greeter>::new("test.Late");
    let started = std::time::Instant::now();
    let expired = target
        .get(Some(Duration::from_millis(50)))
        .await
        .err()
        .unwrap();
    assert_eq!(
        (expired.code(), expired.message()),
        (Code::Cancelled, "Timeout expired")
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let waiting = tokio::spawn(async move {
        let (resolved, left) = target.get(Some(Duration::from_secs(10))).await.unwrap();
        (resolved.handler.greet(), left.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let handler: Arc<dyn Greeter> = Arc::new(English);
    ServiceHost::standalone("late").provide::<dyn Greeter>("test.Late", handler);
    let (greeting, left) = waiting.await.unwrap();
    assert_eq!(greeting, "hello");
    assert!(left < Duration::from_millis(9950), "{left:?} left of 10 s");
}

struct French;

impl Greeter for French {
    fn greet(&self) -> String {
        "bonjour".into()
    }
}

/// Every client of a service shares what the first call resolved, clients made
/// before that call too; when the provider registers again, or the service is
/// declared again, the next call of any client resolves anew.
#[tokio::test]
async fn clients_share_the_resolved_handler_until_the_provider_registers_again() {
    registry::declare("test.Shared", "shared");
    let (first, second) = (
        registry::Target::<dyn Greeter>::new("test.Shared"),
        registry::Target::<dyn Greeter>::new("test.Shared"),
    );
    let host = ServiceHost::standalone("shared");
    host.provide::<dyn Greeter>("test.Shared", Arc::new(English));
    assert!(second.cached().is_none());
    let (resolved, _) = first.get(None).await.unwrap();
    assert_eq!(resolved.handler.greet(), "hello");
    assert_eq!(second.cached().unwrap().handler.greet(), "hello");
    host.provide::<dyn Greeter>("test.Shared", Arc::new(French));
    assert!(first.cached().is_none());
    let (resolved, _) = second.get(None).await.unwrap();
    assert_eq!(resolved.handler.greet(), "bonjour");
    assert_eq!(first.cached().unwrap().handler.greet(), "bonjour");
    // A new declaration (a new host in this process) starts with no handler.
    registry::declare("test.Shared", "shared");
    assert!(first.cached().is_none());
    // The first call's wait can run on any task.
    fn sendable<T: Send>(_: &T) {}
    sendable(&first.get(None));
}

#[test]
fn a_service_that_fails_stops_the_host() {
    let code = Host::new()
        .service("healthy", true, |host: &'static ServiceHost| async move {
            host.shutdown().await;
        })
        .service("broken", true, |_| async {
            Err::<(), _>("cannot open the database")
        })
        .run();
    assert_eq!(code, ExitCode::FAILURE);
}

#[test]
fn each_role_reads_its_own_args_and_env() {
    let code = Host::new()
        .args("catalog", "shopd", &["catalog"])
        .args("cart", "shopd", &["cart", "--fast"])
        .env("cart", "KNIT_TEST_ROLE_PORT", "7")
        .service("catalog", false, |_| async {
            let args: Vec<String> = knit_runtime::env::args().collect();
            assert_eq!(args, ["shopd", "catalog"]);
            let role = knit_runtime::env::current_service();
            assert_eq!(role, "catalog");
            assert!(knit_runtime::env::var(role, "KNIT_TEST_ROLE_PORT").is_err());
        })
        .service("cart", false, |_| async {
            let args: Vec<std::ffi::OsString> = knit_runtime::env::args_os().collect();
            assert_eq!(args, ["shopd", "cart", "--fast"]);
            let port =
                knit_runtime::env::var(knit_runtime::env::current_service(), "KNIT_TEST_ROLE_PORT");
            assert_eq!(port.as_deref(), Ok("7"));
        })
        .run();
    assert_eq!(code, ExitCode::SUCCESS);
    // Outside a service's entry: the process's command line.
    assert_eq!(knit_runtime::env::current_service(), "");
    assert_eq!(knit_runtime::env::args().count(), std::env::args().count());
}

#[test]
fn a_missing_variable_of_the_plan_stops_the_host_before_start() {
    let code = Host::new()
        .env("svc", "PORT", "${KNIT_TEST_SURELY_UNSET}")
        .service("svc", true, |_| async {})
        .run();
    assert_eq!(code, ExitCode::FAILURE);
}

#[test]
fn interceptors_see_metadata_and_keep_the_message() {
    use knit_runtime::call::{intercept, SharedInterceptor};
    let tag = SharedInterceptor::new(|mut r: Request<()>| {
        r.metadata_mut()
            .insert("x-caller", "shelf".parse().unwrap());
        Ok(r)
    });
    let request = intercept(Request::new(5u32), Some(&tag)).unwrap();
    assert_eq!(request.metadata().get("x-caller").unwrap(), "shelf");
    assert_eq!(*request.get_ref(), 5);
    let deny = SharedInterceptor::new(|_: Request<()>| Err(Status::unauthenticated("no")));
    let err = intercept(Request::new(5u32), Some(&deny)).unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(*intercept(Request::new(6u32), None).unwrap().get_ref(), 6);
}

#[tokio::test]
async fn dropping_the_call_cancels_the_handler() {
    struct Flag(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    // Without a deadline and with one longer than the caller's 20 ms wait.
    for timeout in [None, Some(Duration::from_secs(30))] {
        let mut request = Request::new(());
        if let Some(timeout) = timeout {
            request.set_timeout(timeout);
        }
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Flag(dropped.clone());
        let call = unary(request, move |_| async move {
            let _flag = flag;
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(Response::new(()))
        });
        let _ = tokio::time::timeout(Duration::from_millis(20), call).await;
        assert!(
            dropped.load(std::sync::atomic::Ordering::SeqCst),
            "the handler's future was dropped with the call (deadline {timeout:?})"
        );
    }
}

#[test]
fn outcomes_of_main_as_the_process_would_end() {
    use knit_runtime::Outcome;
    assert_eq!(().into_result(), Ok(()));
    assert_eq!(Ok::<(), String>(()).into_result(), Ok(()));
    assert_eq!(
        Err::<(), _>("bad config").into_result(),
        Err("\"bad config\"".to_string())
    );
    assert_eq!(ExitCode::SUCCESS.into_result(), Ok(()));
    assert!(ExitCode::from(3).into_result().is_err());
    assert_eq!(knit_runtime::exit(Err::<(), _>("x")), ExitCode::FAILURE);
}

#[test]
fn each_service_sees_its_own_environment() {
    use knit_runtime::env;
    std::env::set_var("KNIT_TEST_SHARED", "process");
    env::set("a", "KNIT_TEST_SHARED", "a's own".into());
    assert_eq!(env::var("a", "KNIT_TEST_SHARED").unwrap(), "a's own");
    assert_eq!(env::var("b", "KNIT_TEST_SHARED").unwrap(), "process");
    assert!(env::vars("a").any(|(k, v)| k == "KNIT_TEST_SHARED" && v == "a's own"));
    std::env::set_var("KNIT_TEST_PORT", "7000");
    assert_eq!(
        env::expand("127.0.0.1:${KNIT_TEST_PORT}").unwrap(),
        "127.0.0.1:7000"
    );
    assert!(env::expand("${KNIT_TEST_SURELY_UNSET}").is_err());
}

#[tokio::test]
async fn a_channel_for_hosted_services_does_not_dial() {
    // Nothing listens on port 9 of loopback (discard): dialling fails.
    let endpoint = tonic::transport::Endpoint::from_static("http://127.0.0.1:9");
    registry::declare("test.Dialled", "provider");
    assert!(registry::connect(endpoint.clone(), &["test.Dialled"])
        .await
        .is_ok());
    let elsewhere = registry::connect(endpoint, &["test.Dialled", "test.Elsewhere"]).await;
    assert!(
        elsewhere.is_err(),
        "a service of another process is dialled"
    );
}
