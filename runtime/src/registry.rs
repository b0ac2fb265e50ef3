//! The process-wide table of gRPC services hosted in this process.
//!
//! The merged host declares up front which gRPC services (`package.Service`) some
//! service of the group will provide; an inline client of a declared service calls
//! its handler in process, any other client keeps using the network. Handlers are
//! registered when the providing service's entry builds its server.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::call::SharedInterceptor;
use crate::listener::{Incoming, Listen};

/// How long a call waits for a declared service to register its handler.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(30);

/// How many times a first call resolves anew while its provider registers
/// again (see [`Target::get`]).
const RESOLVE_ATTEMPTS: usize = 4;

/// A registered handler (an `Arc<H>` behind `Any`) and the server's interceptor.
pub(crate) type Handler = (Arc<dyn Any + Send + Sync>, Option<SharedInterceptor>);

struct Entry {
    /// The knit service (from the plan) that provides this gRPC service.
    provider: &'static str,
    handler: watch::Sender<Option<Handler>>,
}

fn table() -> &'static Mutex<HashMap<&'static str, Entry>> {
    static TABLE: OnceLock<Mutex<HashMap<&'static str, Entry>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

/// Declares that `provider` (a service of the merge group) provides `grpc_service`.
pub fn declare(grpc_service: &'static str, provider: &'static str) {
    let (handler, _) = watch::channel(None);
    table()
        .lock()
        .unwrap()
        .insert(grpc_service, Entry { provider, handler });
    // A handler resolved under an earlier declaration (an earlier host of
    // this process) is not this one's.
    clear_slots(grpc_service);
}

/// Whether calls to `grpc_service` are served in this process.
pub fn is_hosted(grpc_service: &str) -> bool {
    table().lock().unwrap().contains_key(grpc_service)
}

/// A channel to `endpoint` for clients of `grpc_services`, connected as
/// `Endpoint::connect` connects it, unless this process hosts every one of those
/// services: their clients then call in process, and the channel connects only
/// if something uses it (`connect_lazy`). knit puts this where a channel that
/// only feeds converted clients was connected eagerly.
pub async fn connect(
    endpoint: tonic::transport::Endpoint,
    grpc_services: &[&str],
) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    if grpc_services.iter().all(|s| is_hosted(s)) {
        Ok(endpoint.connect_lazy())
    } else {
        endpoint.connect().await
    }
}

/// A resolved in-process service: its handler and its server-side interceptor.
pub struct Resolved<H: ?Sized> {
    pub handler: Arc<H>,
    pub interceptor: Option<SharedInterceptor>,
}

/// An in-process client's handle on its service: the process-wide slot where
/// the first call of any client of the service keeps what it resolved, for every
/// later call of every client. A reference: cloning a client copies it.
pub struct Target<H: ?Sized + 'static> {
    slot: &'static Slot<H>,
}

impl<H: ?Sized> Clone for Target<H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H: ?Sized> Copy for Target<H> {}

impl<H: ?Sized> std::fmt::Debug for Target<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({})", self.slot.service)
    }
}

impl<H: ?Sized + Send + Sync + 'static> Target<H> {
    pub fn new(service: &'static str) -> Self {
        Self {
            slot: Slot::of(service),
        }
    }

    /// The service's handler and interceptor once a call has resolved them.
    #[inline]
    pub fn cached(&self) -> Option<&'static Resolved<H>> {
        let resolved = self.slot.resolved.load(Ordering::Acquire);
        // SAFETY: a slot holds null or a leaked box, never freed.
        unsafe { resolved.as_ref() }
    }

    /// The service's handler and interceptor (see [`resolve`]), with what is
    /// left of `timeout`, the timeout of the caller's channel. The wait for the
    /// provider counts against it, as connecting does against tonic's channel's:
    /// when it passes first, the call answers as an expired call does.
    pub async fn get(
        &self,
        timeout: Option<Duration>,
    ) -> Result<(&'static Resolved<H>, Option<Duration>), tonic::Status> {
        if let Some(resolved) = self.cached() {
            return Ok((resolved, timeout));
        }
        let started = tokio::time::Instant::now();
        let deadline = timeout.and_then(|t| started.checked_add(t));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let registration = *lock(&self.slot.registration);
            let resolving = resolve::<H>(self.slot.service);
            let resolved = match deadline {
                Some(at) => tokio::time::timeout_at(at, resolving)
                    .await
                    .map_err(|_| crate::call::expired())??,
                None => resolving.await?,
            };
            #[cfg(test)]
            tests::AFTER_RESOLVE.with(|hook| hook.get().map(|f| f()));
            let left = timeout.map(|t| t.saturating_sub(started.elapsed()));
            let current = lock(&self.slot.registration);
            if *current != registration {
                // The provider registered again meanwhile: what was resolved
                // may be the handler it replaced. A provider that keeps
                // registering would keep the call resolving for ever: after a
                // few tries, this call takes the latest handler it found,
                // kept for it alone (leaked, as every resolution is).
                if attempt < RESOLVE_ATTEMPTS {
                    continue;
                }
                return Ok((Box::leak(Box::new(resolved)), left));
            }
            if let Some(resolved) = self.cached() {
                // Another first call got there first.
                return Ok((resolved, left));
            }
            // Leaked: calls read it without a reference count. Once per
            // registration that calls reach.
            let resolved: &'static Resolved<H> = Box::leak(Box::new(resolved));
            self.slot
                .resolved
                .store(resolved as *const _ as *mut _, Ordering::Release);
            return Ok((resolved, left));
        }
    }
}

/// What the clients of one gRPC service (with one handler type) resolved: null
/// until a first call, and again after the provider registers anew (or the
/// service is declared anew). A value once there is never freed: a call may
/// still hold it, so a handler that is replaced is kept, not dropped.
struct Slot<H: ?Sized> {
    service: &'static str,
    resolved: AtomicPtr<Resolved<H>>,
    /// Counts the clearings: a first call keeps what it resolved only if no
    /// registration came in between.
    registration: Mutex<u64>,
    /// Send and Sync as `Arc<H>` is, whatever bounds the impls state.
    _handler: PhantomData<Arc<H>>,
}

/// A [`Slot`] of any handler type, as the registry keeps it.
trait AnySlot: Send + Sync {
    fn clear(&self);
    fn as_any(&self) -> &(dyn Any + Send + Sync);
}

impl<H: ?Sized + Send + Sync + 'static> AnySlot for Slot<H> {
    fn clear(&self) {
        let mut registration = lock(&self.registration);
        *registration += 1;
        // The previous value stays valid for the calls that hold it (leaked).
        self.resolved.store(std::ptr::null_mut(), Ordering::Release);
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }
}

/// Empties the slots of `grpc_service`: the next call of any of its clients
/// resolves its handler anew.
fn clear_slots(grpc_service: &str) {
    for ((service, _), slot) in slots().lock().unwrap().iter() {
        if *service == grpc_service {
            slot.clear();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The slots of a process, by gRPC service and handler type.
type Slots = HashMap<(&'static str, TypeId), &'static dyn AnySlot>;

/// Every slot of this process.
fn slots() -> &'static Mutex<Slots> {
    static SLOTS: OnceLock<Mutex<Slots>> = OnceLock::new();
    SLOTS.get_or_init(Default::default)
}

impl<H: ?Sized + Send + Sync + 'static> Slot<H> {
    /// The slot of `service` for handlers of type `H`, made on first use.
    fn of(service: &'static str) -> &'static Self {
        let mut slots = slots().lock().unwrap();
        let slot = *slots
            .entry((service, TypeId::of::<H>()))
            .or_insert_with(|| {
                Box::leak(Box::new(Slot::<H> {
                    service,
                    resolved: AtomicPtr::new(std::ptr::null_mut()),
                    registration: Mutex::new(0),
                    _handler: PhantomData,
                }))
            });
        slot.as_any()
            .downcast_ref()
            .expect("a slot is keyed by its handler type")
    }
}

/// The handler of `grpc_service`, waiting (bounded) for its provider to register it.
///
/// `H` is the handler trait object type, e.g. `dyn greeter_server::Greeter`.
pub async fn resolve<H>(grpc_service: &'static str) -> Result<Resolved<H>, tonic::Status>
where
    H: ?Sized + Send + Sync + 'static,
{
    let (any, interceptor) = registered(grpc_service).await?;
    let handler = any.downcast_ref::<Arc<H>>().cloned().ok_or_else(|| {
        tonic::Status::internal(format!(
            "knit: handler registered for `{grpc_service}` has another type"
        ))
    })?;
    Ok(Resolved {
        handler,
        interceptor,
    })
}

/// What the provider of `grpc_service` registered, of whatever type, waiting
/// (bounded) for it to register.
pub(crate) async fn registered(grpc_service: &str) -> Result<Handler, tonic::Status> {
    let (mut handler, provider) = {
        let table = table().lock().unwrap();
        let entry = table.get(grpc_service).ok_or_else(|| {
            tonic::Status::unavailable(format!(
                "knit: `{grpc_service}` is not hosted in this process"
            ))
        })?;
        (entry.handler.subscribe(), entry.provider)
    };
    let ready = tokio::time::timeout(RESOLVE_TIMEOUT, handler.wait_for(Option::is_some)).await;
    let missing = || {
        tonic::Status::unavailable(format!(
            "knit: service `{provider}` did not register `{grpc_service}` within {RESOLVE_TIMEOUT:?}"
        ))
    };
    match ready {
        Ok(Ok(handler)) => handler.clone().ok_or_else(missing),
        _ => Err(missing()),
    }
}

/// Whether a service declared in this process registered an `H`, or has yet
/// to register (and may register one).
pub(crate) fn any_may_provide<H: ?Sized + 'static>() -> bool {
    table().lock().unwrap().values().any(|entry| {
        entry
            .handler
            .borrow()
            .as_ref()
            .is_none_or(|(any, _)| any.is::<Arc<H>>())
    })
}

tokio::task_local! {
    static CURRENT: &'static ServiceHost;
}

/// What a lifted service entry receives from its host.
#[derive(Clone)]
pub struct ServiceHost {
    name: &'static str,
    /// Whether the service keeps its own listener.
    pub(crate) listen: Listen,
    shutdown: watch::Receiver<bool>,
}

impl ServiceHost {
    /// The host of a service running alone, as its own binary: it keeps its
    /// listener and runs until the process ends, as the original `main` did.
    pub fn standalone(name: &'static str) -> &'static Self {
        let (tx, shutdown) = watch::channel(false);
        std::mem::forget(tx);
        Box::leak(Box::new(Self {
            name,
            listen: Listen::On,
            shutdown,
        }))
    }

    pub(crate) fn new(name: &'static str, listen: Listen, shutdown: watch::Receiver<bool>) -> Self {
        Self {
            name,
            listen,
            shutdown,
        }
    }

    /// Runs `future` with this host as [`ServiceHost::current`]: how code lifted
    /// from a library reaches its host without a parameter.
    pub fn scope<F: std::future::Future>(
        &'static self,
        future: F,
    ) -> impl std::future::Future<Output = F::Output> {
        CURRENT.scope(self, future)
    }

    /// The host of the running service entry; outside one (a service's own
    /// binary, or a task the service spawned), a standalone host.
    pub fn current() -> &'static ServiceHost {
        static FALLBACK: OnceLock<&'static ServiceHost> = OnceLock::new();
        CURRENT
            .try_with(|host| *host)
            .unwrap_or_else(|_| FALLBACK.get_or_init(|| ServiceHost::standalone("service")))
    }

    /// The host of the running service entry, if the running task is one.
    pub fn try_current() -> Option<&'static ServiceHost> {
        CURRENT.try_with(|host| *host).ok()
    }

    /// The knit service name (from the plan).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Registers `handler` as the in-process handler of `grpc_service`.
    ///
    /// Services the host did not declare are served over the network only.
    pub fn provide<H>(&self, grpc_service: &'static str, handler: Arc<H>)
    where
        H: ?Sized + Send + Sync + 'static,
    {
        self.provide_intercepted(grpc_service, handler, None);
    }

    /// Registers `handler` with the server-side `interceptor` its listener runs:
    /// in-process calls pass through it too.
    pub fn provide_intercepted<H>(
        &self,
        grpc_service: &'static str,
        handler: Arc<H>,
        interceptor: Option<SharedInterceptor>,
    ) where
        H: ?Sized + Send + Sync + 'static,
    {
        if let Some(entry) = table().lock().unwrap().get(grpc_service) {
            entry
                .handler
                .send_replace(Some((Arc::new(handler), interceptor)));
        }
        // Clients resolve the new registration on their next call.
        clear_slots(grpc_service);
    }

    /// The connections to serve on `addr`: the service's own listener, or none
    /// when the host turned it off (calls from inside the group still arrive,
    /// those to the stacked servers this service registered included).
    pub fn incoming(&self, addr: std::net::SocketAddr) -> Incoming {
        let local = crate::stack::take_pending(self.name);
        Incoming::new(self.name, addr, self.listen, local)
    }

    /// [`ServiceHost::incoming`] for a router that serves the stacked gRPC
    /// services `stacked` (none for a router without one): in-memory calls to
    /// those, and to no other, arrive on it. An entry with several routers
    /// names each one's.
    pub fn incoming_serving(
        &self,
        addr: std::net::SocketAddr,
        stacked: &[&'static str],
    ) -> Incoming {
        let local = crate::stack::take_serving(self.name, stacked);
        Incoming::new(self.name, addr, self.listen, local)
    }

    /// Resolves when the host shuts down or `signal` resolves, whichever comes
    /// first: the service's own shutdown signal keeps working. `signal` may
    /// borrow (`shutdown.recv()` of a local `shutdown`), as tonic's serves
    /// allow.
    pub fn shutdown_with<'a, F>(&self, signal: F) -> impl std::future::Future<Output = ()> + 'a
    where
        F: std::future::Future<Output = ()> + 'a,
    {
        let host = self.shutdown();
        async move {
            tokio::select! {
                _ = host => {}
                _ = signal => {}
            }
        }
    }

    /// Resolves when the host shuts down (never, for a standalone service).
    pub fn shutdown(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut shutdown = self.shutdown.clone();
        async move {
            let _ = shutdown.wait_for(|down| *down).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// Runs in [`Target::get`] between a resolution and its check.
        pub(super) static AFTER_RESOLVE: Cell<Option<fn()>> = const { Cell::new(None) };
    }

    trait Greeter: Send + Sync {}
    struct English;
    impl Greeter for English {}

    fn register() {
        ServiceHost::standalone("churn").provide::<dyn Greeter>("test.Churn", Arc::new(English));
    }

    /// A first call whose provider registers again each time the call has
    /// resolved (a service restarting its server in a loop) answers, after a
    /// few tries, with the latest handler it found, instead of resolving anew
    /// for ever.
    #[test]
    fn a_first_call_ends_under_endless_registrations() {
        declare("test.Churn", "churn");
        register();
        let (answered, answer) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            AFTER_RESOLVE.with(|hook| hook.set(Some(register)));
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let target = Target::<dyn Greeter>::new("test.Churn");
            let got = runtime.block_on(target.get(None)).map(|_| ());
            let _ = answered.send((got, target.cached().is_some()));
        });
        let (got, cached) = answer
            .recv_timeout(Duration::from_secs(10))
            .expect("the first call answers");
        assert!(got.is_ok());
        assert!(
            !cached,
            "a handler resolved under churn is this call's only"
        );
    }
}
