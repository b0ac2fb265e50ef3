//! How the merged host stops on a signal: which services it waits for, and
//! for how long.
//!
//! Split, each service is its own process and SIGTERM ends each as its code
//! decides: a service that handles signals (tonic's `serve_with_shutdown`,
//! axum's `with_graceful_shutdown`, `tokio::signal`, actix-web's `HttpServer`)
//! drains and exits; one that handles none is killed on the spot. Merged, the
//! host owns the signals: on the first it shuts every service down, waits for
//! the services that stop by themselves ([`OnSignal::Stops`]) at most the
//! grace period, and does not wait for the others ([`OnSignal::Dies`]), which
//! one SIGTERM would have killed. A second signal exits at once.

use std::time::Duration;

/// How a service's own process ends on SIGTERM, which tells the merged host
/// whether to wait for it when it shuts down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnSignal {
    /// It stops by itself: its code handles shutdown. The host waits for it,
    /// at most the grace period.
    #[default]
    Stops,
    /// Nothing in it stops it on SIGTERM: SIGTERM kills its process. The host
    /// does not wait for it once the services that stop have ended.
    Dies,
}

/// How long the host waits for the services that stop by themselves, unless
/// the plan says otherwise: under the 10 s that `docker stop` (and many
/// supervisors) give a process before they kill it, so that the host can name
/// the services that did not stop before it exits.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The host's message when services are still running at the end of the
/// grace period.
pub(crate) fn grace_over(grace: Duration, running: &[&str]) -> String {
    format!(
        "knit: {} still running {:?} after the shutdown began (the grace period): exiting without waiting for {}",
        plural(running.len(), "service", "services"),
        grace,
        names(running)
    )
}

/// The host's message when only services that handle no signal are left.
pub(crate) fn not_waiting(dying: &[&str]) -> String {
    format!(
        "knit: not waiting for {}: nothing in {} stops it on SIGTERM (alone, one SIGTERM ends its process)",
        names(dying),
        if dying.len() == 1 { "it" } else { "them" },
    )
}

fn names(services: &[&str]) -> String {
    let quoted: Vec<String> = services.iter().map(|s| format!("`{s}`")).collect();
    quoted.join(", ")
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> String {
    match n {
        1 => one.to_string(),
        n => format!("{n} {many}"),
    }
}

/// SIGINT and SIGTERM, listened to from the host's start: a signal that comes
/// while the host handles another event is not lost.
pub(crate) struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// Installs the handlers; call on the host's runtime.
    pub(crate) fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = signal(SignalKind::terminate())
                .and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
                .ok();
            Signals { streams }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Resolves on the next SIGINT or SIGTERM.
    pub(crate) async fn next(&mut self) {
        #[cfg(unix)]
        if let Some((term, int)) = &mut self.streams {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_services() {
        let over = grace_over(Duration::from_millis(300), &["fares"]);
        assert_eq!(
            over,
            "knit: service still running 300ms after the shutdown began (the grace period): exiting without waiting for `fares`"
        );
        let over = grace_over(DEFAULT_GRACE, &["a", "b"]);
        assert!(
            over.starts_with("knit: 2 services still running 5s after"),
            "{over}"
        );
        assert!(over.ends_with("for `a`, `b`"), "{over}");
        assert_eq!(
            not_waiting(&["kiosk"]),
            "knit: not waiting for `kiosk`: nothing in it stops it on SIGTERM (alone, one SIGTERM ends its process)"
        );
        assert!(not_waiting(&["a", "b"]).contains("nothing in them"));
    }
}
