//! Liveness and readiness state, shared by the certificate reloader, the shutdown sequence and
//! the `/readyz` endpoint.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::SystemTime;

use super::tls::unix_seconds;

/// What `/readyz` reports on.
#[derive(Debug, Default)]
pub(crate) struct Health {
    shutting_down: AtomicBool,
    /// Expiry of the serving certificate in use (Unix seconds); 0 until one is loaded.
    cert_not_after: AtomicI64,
}

impl Health {
    /// Records the expiry of the certificate now served.
    pub(crate) fn set_cert_not_after(&self, unix_seconds: i64) {
        self.cert_not_after.store(unix_seconds, Ordering::SeqCst);
    }

    /// Marks the server as shutting down: readiness fails from now on, so that the endpoints
    /// controller takes the pod out of the Service before it stops accepting.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// `Ok` when ready to serve: a certificate valid at `now` is loaded and shutdown has not
    /// begun. The error says why not.
    pub(crate) fn readiness(&self, now: SystemTime) -> Result<(), &'static str> {
        if self.is_shutting_down() {
            return Err("shutting down");
        }
        let not_after = self.cert_not_after.load(Ordering::SeqCst);
        if not_after == 0 {
            return Err("no serving certificate loaded");
        }
        if unix_seconds(now) > not_after {
            return Err("the serving certificate has expired");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ready_only_with_a_valid_cert_and_not_shutting_down() {
        let health = Health::default();
        let now = SystemTime::now();
        assert_eq!(health.readiness(now), Err("no serving certificate loaded"));
        health.set_cert_not_after(unix_seconds(now) + 60);
        assert_eq!(health.readiness(now), Ok(()));
        assert_eq!(
            health.readiness(now + Duration::from_secs(120)),
            Err("the serving certificate has expired")
        );
        health.begin_shutdown();
        assert_eq!(health.readiness(now), Err("shutting down"));
    }
}
