//! The merged binary's `main`: every service of the group on one tokio runtime.

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::watch;

use crate::listener::Listen;
use crate::registry::{self, ServiceHost};
use crate::signals::{self, OnSignal, Signals};

type EntryFuture = Pin<Box<dyn Future<Output = Result<(), String>>>>;
type Start = Box<dyn FnOnce(&'static ServiceHost) -> EntryFuture>;

/// What a service's `main` returned, as the host reports it.
pub trait Outcome {
    /// `Err` carries the message the process would have printed.
    fn into_result(self) -> Result<(), String>;
}

impl Outcome for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: std::fmt::Debug> Outcome for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| format!("{e:?}"))
    }
}

impl Outcome for ExitCode {
    fn into_result(self) -> Result<(), String> {
        if self == ExitCode::SUCCESS {
            Ok(())
        } else {
            Err(format!("exited with {self:?}"))
        }
    }
}

/// The failure of an entry that ran on a thread of its own ([`on_own_thread`]):
/// the message its `main`'s error would have printed.
pub struct Failed(String);

impl std::fmt::Debug for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Set once a [`Host`] runs: the process is a merged binary, not a service alone.
static MERGED: AtomicBool = AtomicBool::new(false);

/// Whether this process is a merged binary whose host owns the signals: a
/// service that installs its own signal handlers (actix-web's `HttpServer`)
/// leaves them to the host and stops on [`ServiceHost::shutdown`] instead.
pub fn in_merged_host() -> bool {
    MERGED.load(Ordering::Relaxed)
}

/// Runs `main` on an OS thread of its own, named after the service, and
/// resolves with its outcome: how a service whose `main` runs a runtime of its
/// own (actix-rt's `System`, a current-thread runtime with a `LocalSet`) runs
/// beside the host's. A panic on that thread resumes in the caller.
pub async fn on_own_thread<F, T>(host: &'static ServiceHost, main: F) -> Result<(), Failed>
where
    F: FnOnce() -> T + Send + 'static,
    T: Outcome + 'static,
{
    let (done, outcome) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name(format!("knit-{}", host.name()))
        .spawn(move || {
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| main().into_result()));
            let _ = done.send(outcome);
        });
    if let Err(e) = thread {
        return Err(Failed(format!("cannot start its thread: {e}")));
    }
    match outcome.await {
        Ok(Ok(result)) => result.map_err(Failed),
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => Err(Failed("its thread ended without an outcome".into())),
    }
}

/// Runs `future` to completion on a current-thread runtime of its own: the
/// standalone binary of an entry that starts its own runtime on another thread
/// ([`on_own_thread`]), whose package need not depend on tokio.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("knit: cannot start the runtime")
        .block_on(future)
}

/// The exit status of a service run alone: as its original `main` would have
/// ended, printing `Error: ..` on failure.
pub fn exit(outcome: impl Outcome) -> ExitCode {
    match outcome.into_result() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Hosts the services of one merge group.
pub struct Host {
    services: Vec<(&'static str, Listen, Start)>,
    on_signal: Vec<(&'static str, OnSignal)>,
    grace: Duration,
    worker_threads: Option<usize>,
    thread_stack_size: Option<usize>,
    env_errors: Vec<String>,
    cwd: Option<String>,
}

impl Default for Host {
    fn default() -> Self {
        Self {
            services: Vec::new(),
            on_signal: Vec::new(),
            grace: signals::DEFAULT_GRACE,
            worker_threads: None,
            thread_stack_size: None,
            env_errors: Vec::new(),
            cwd: None,
        }
    }
}

impl Host {
    pub fn new() -> Self {
        Self::default()
    }

    /// Says how `service`'s own process ends on SIGTERM ([`OnSignal::Stops`]
    /// unless told): the host does not wait for a service that [`OnSignal::Dies`]
    /// once the others have stopped.
    pub fn on_signal(mut self, service: &'static str, on_signal: OnSignal) -> Self {
        self.on_signal.push((service, on_signal));
        self
    }

    /// How long the host waits, once it shuts down, for the services that stop
    /// by themselves ([`signals::DEFAULT_GRACE`] unless told, the plan's
    /// `shutdown_grace_secs`); then it exits naming those still running.
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Runs the services on `n` worker threads (tokio's default otherwise).
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = Some(n);
        self
    }

    /// Gives the runtime's threads stacks of `bytes` (tokio's default otherwise):
    /// the largest a service's own runtime asked for.
    pub fn thread_stack_size(mut self, bytes: usize) -> Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Gives `service` its own value of the environment variable `key`;
    /// `${VAR}` in `value` reads the process's `VAR`.
    pub fn env(mut self, service: &'static str, key: &str, value: &str) -> Self {
        match crate::env::expand(value) {
            Ok(value) => crate::env::set(service, key, value),
            Err(e) => self
                .env_errors
                .push(format!("service `{service}`: {key}: {e}")),
        }
        self
    }

    /// Gives `service` its own command line: its binary's name `program`, then
    /// `args` (the plan's `args`), read through [`crate::env::args`].
    pub fn args(self, service: &'static str, program: &str, args: &[&str]) -> Self {
        crate::env::set_args(service, program, args);
        self
    }

    /// Makes `dir` the process's working directory before any service starts
    /// (the plan's `cwd`).
    pub fn cwd(mut self, dir: &str) -> Self {
        self.cwd = Some(dir.to_string());
        self
    }

    /// Declares that `service` provides `grpc_service` to the others in process.
    pub fn provides(self, service: &'static str, grpc_service: &'static str) -> Self {
        registry::declare(grpc_service, service);
        self
    }

    /// Adds a service and its lifted entry. Its listener is kept unless `listen`
    /// is false; the environment variable `KNIT_LISTEN_<SERVICE>` (`0` or `1`)
    /// overrides the plan.
    pub fn service<F, Fut>(mut self, name: &'static str, listen: bool, entry: F) -> Self
    where
        F: FnOnce(&'static ServiceHost) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: Outcome,
    {
        let var = format!("KNIT_LISTEN_{}", name.to_uppercase().replace('-', "_"));
        let listen = match std::env::var(var).as_deref() {
            Ok("0") => false,
            Ok("1") => true,
            _ => listen,
        };
        let listen = if listen { Listen::On } else { Listen::Off };
        let start: Start =
            Box::new(move |host| Box::pin(async move { entry(host).await.into_result() }));
        self.services.push((name, listen, start));
        self
    }

    /// Runs every service until all have ended or one fails; SIGINT and SIGTERM
    /// shut all of them down gracefully.
    pub fn run(self) -> ExitCode {
        MERGED.store(true, Ordering::Relaxed);
        if !self.env_errors.is_empty() {
            for e in &self.env_errors {
                eprintln!("knit: {e}");
            }
            return ExitCode::FAILURE;
        }
        if let Some(dir) = &self.cwd {
            if let Err(e) = std::env::set_current_dir(dir) {
                eprintln!("knit: cannot enter the plan's `cwd` {dir}: {e}");
                return ExitCode::FAILURE;
            }
        }
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if let Some(n) = self.worker_threads {
            builder.worker_threads(n);
        }
        if let Some(bytes) = self.thread_stack_size {
            builder.thread_stack_size(bytes);
        }
        let runtime = match builder.enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("knit: cannot start the runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        let stopped = runtime.block_on(self.serve());
        if stopped.left_running {
            // Their tasks (and blocking threads) end with the process.
            runtime.shutdown_background();
        }
        stopped.code
    }

    async fn serve(self) -> Stopped {
        let mut signals = Signals::listen();
        let (shutdown, signal) = watch::channel(false);
        let on_signal = |name| {
            let mut said = self.on_signal.iter().filter(|(n, _)| *n == name);
            said.next_back().map_or(OnSignal::default(), |(_, on)| *on)
        };
        // The services not ended yet, in start order.
        let mut left: Vec<(&'static str, OnSignal)> = self
            .services
            .iter()
            .map(|(name, _, _)| (*name, on_signal(*name)))
            .collect();
        let mut running: FuturesUnordered<_> = self
            .services
            .into_iter()
            .map(|(name, listen, start)| {
                let host = Box::leak(Box::new(ServiceHost::new(name, listen, signal.clone())));
                // The entry runs as the host's current service (its `args`).
                let entry = host.scope(start(host));
                async move { (name, entry.await) }
            })
            .collect();
        let mut code = ExitCode::SUCCESS;
        let grace = self.grace;
        // Set once the host shuts down: when the grace period ends.
        let mut until: Option<tokio::time::Instant> = None;
        let shut_down = |until: &mut Option<_>| {
            shutdown.send_replace(true);
            until.get_or_insert_with(|| {
                let now = tokio::time::Instant::now();
                // A grace period past any date is one without end.
                now.checked_add(grace).unwrap_or(now + NO_END)
            });
        };
        loop {
            if until.is_some() && left.iter().all(|(_, on)| *on == OnSignal::Dies) {
                if !left.is_empty() {
                    let dying: Vec<&str> = left.iter().map(|(name, _)| *name).collect();
                    eprintln!("{}", signals::not_waiting(&dying));
                }
                return Stopped {
                    code,
                    left_running: !left.is_empty(),
                };
            }
            let grace_over = async {
                match until {
                    Some(until) => tokio::time::sleep_until(until).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ended = running.next() => match ended {
                    None => break,
                    Some((name, outcome)) => {
                        left.retain(|(n, _)| *n != name);
                        match outcome {
                            Ok(()) => eprintln!("knit: service `{name}` ended"),
                            Err(e) => {
                                eprintln!("knit: service `{name}` failed: {e}");
                                code = ExitCode::FAILURE;
                                shut_down(&mut until);
                            }
                        }
                    }
                },
                _ = signals.next() => {
                    if until.is_some() {
                        eprintln!("knit: second signal: exiting without waiting");
                        std::process::exit(130);
                    }
                    eprintln!("knit: shutting down");
                    shut_down(&mut until);
                }
                _ = grace_over => {
                    let still: Vec<&str> = left.iter().map(|(name, _)| *name).collect();
                    eprintln!("{}", signals::grace_over(grace, &still));
                    return Stopped { code: ExitCode::FAILURE, left_running: true };
                }
            }
        }
        Stopped {
            code,
            left_running: false,
        }
    }
}

/// A grace period as long as one can wait (about 30 years).
const NO_END: Duration = Duration::from_secs(30 * 365 * 86_400);

/// How [`Host::serve`] ended.
struct Stopped {
    code: ExitCode,
    /// Whether services were left running (the host did not wait for them).
    left_running: bool,
}
