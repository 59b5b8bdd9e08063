//! Hot reload of the serving certificate.
//!
//! A Kubernetes Secret volume updates by writing a new timestamped directory and atomically
//! re-pointing the `..data` symlink, so watching the files themselves misses updates. The
//! reloader watches the directories that hold them and, because events can still be missed
//! (overlay filesystems, watch limits), also re-reads the files periodically. Only a changed
//! pair is loaded; a broken one (unparsable, key not matching, expired) is logged and counted,
//! and the old pair keeps being served.
//!
//! Replacing the two files one after the other (two renames, or two writes) shows, between the
//! two steps, a new certificate with the old key. A changed pair that cannot be loaded is
//! therefore read again after [`FAILURE_SETTLE`] and only counted as a failure if it is still
//! broken then.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};

use super::health::Health;
use super::metrics::Metrics;
use super::tls::{LoadedPair, PairSource, SwappableResolver, load_pair};

/// How long to wait after a file event for the rest of an update to land before reading.
const SETTLE: Duration = Duration::from_millis(100);

/// How long a changed pair that cannot be loaded gets to become valid before it is reported.
/// A two-file rotation leaves the certificate and key mismatched for the time between its two
/// steps: milliseconds for two renames, longer for a tool writing the files one by one under
/// load. One second covers that with a wide margin and delays a real failure's report by no
/// more.
pub const FAILURE_SETTLE: Duration = Duration::from_secs(1);

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The files are the ones served (or the ones already rejected).
    Unchanged,
    /// A new valid pair is served from now on.
    Reloaded,
    /// The files changed but cannot be used; the old pair is still served.
    Failed,
    /// The files changed but cannot be used yet: possibly a rotation half done. Check again
    /// with [`Reloader::check_settled`] after [`FAILURE_SETTLE`]; nothing was reported.
    Settling,
}

/// Compares the files on disk with the pair in use and swaps in a changed, valid pair.
#[derive(Debug)]
pub(crate) struct Reloader {
    cert_path: PathBuf,
    key_path: PathBuf,
    resolver: Arc<SwappableResolver>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    served: PairSource,
    /// The last contents (or read error) rejected, so a broken update is reported once, not on
    /// every periodic check.
    rejected: Option<Result<PairSource, String>>,
}

impl Reloader {
    /// A reloader for the pair at these paths, starting from the pair already served.
    pub(crate) fn new(
        cert_path: PathBuf,
        key_path: PathBuf,
        initial: &LoadedPair,
        resolver: Arc<SwappableResolver>,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
    ) -> Self {
        Self {
            cert_path,
            key_path,
            resolver,
            metrics,
            health,
            served: initial.source.clone(),
            rejected: None,
        }
    }

    /// Reads the files and swaps in the pair if it changed and is valid at `now`. A changed pair
    /// that cannot be used is not reported yet: the answer is [`Outcome::Settling`].
    pub(crate) fn check(&mut self, now: SystemTime) -> Outcome {
        self.check_reporting(now, false)
    }

    /// Like [`check`](Self::check), after the settle time: a changed pair that still cannot be
    /// used is logged and counted as a failure (once for the same contents).
    pub(crate) fn check_settled(&mut self, now: SystemTime) -> Outcome {
        self.check_reporting(now, true)
    }

    fn check_reporting(&mut self, now: SystemTime, report: bool) -> Outcome {
        let source = match PairSource::read(&self.cert_path, &self.key_path) {
            Ok(source) => source,
            Err(err) => return self.reject(Err(err.to_string()), report),
        };
        if source == self.served {
            self.rejected = None;
            return Outcome::Unchanged;
        }
        match load_pair(source.clone(), &self.cert_path, &self.key_path, now) {
            Ok(pair) => {
                self.resolver.swap(pair.key.clone());
                self.metrics.set_cert_not_after(pair.not_after);
                self.metrics.observe_reload(true);
                self.health.set_cert_not_after(pair.not_after);
                self.served = pair.source;
                self.rejected = None;
                tracing::info!(
                    cert = %self.cert_path.display(),
                    not_after = pair.not_after,
                    "loaded the new serving certificate"
                );
                Outcome::Reloaded
            }
            Err(err) => {
                let message = err.to_string();
                match self.reject(Ok(source), report) {
                    Outcome::Failed => {
                        tracing::error!(error = %message, "still serving the previous certificate");
                        Outcome::Failed
                    }
                    other => other,
                }
            }
        }
    }

    fn reject(&mut self, what: Result<PairSource, String>, report: bool) -> Outcome {
        if self.rejected.as_ref() == Some(&what) {
            return Outcome::Unchanged;
        }
        if !report {
            tracing::debug!(
                settle_ms = FAILURE_SETTLE.as_millis() as u64,
                "the certificate files changed but cannot be used yet; reading them again soon"
            );
            return Outcome::Settling;
        }
        if let Err(message) = &what {
            tracing::error!(error = %message, "cannot read the serving certificate; still serving the previous one");
        }
        self.metrics.observe_reload(false);
        self.rejected = Some(what);
        Outcome::Failed
    }

    /// The directories to watch: those holding the certificate and the key.
    fn directories(&self) -> Vec<PathBuf> {
        let mut directories: Vec<PathBuf> = [&self.cert_path, &self.key_path]
            .iter()
            .map(|path| match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
                _ => Path::new(".").to_owned(),
            })
            .collect();
        directories.dedup();
        directories
    }
}

/// Runs the reloader until `stop` turns true: on every change event in the watched directories
/// and every `interval`.
pub(crate) async fn run(
    mut reloader: Reloader,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let (events_tx, mut events) = mpsc::unbounded_channel::<()>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            // The receiver is gone only when the reloader stops; nothing to tell then.
            let _ = events_tx.send(());
        }
    });
    // Kept alive for the whole loop: dropping it stops the watch.
    let _watcher = match watcher {
        Ok(mut watcher) => {
            for directory in reloader.directories() {
                if let Err(err) = watcher.watch(&directory, RecursiveMode::NonRecursive) {
                    tracing::warn!(directory = %directory.display(), error = %err,
                        "cannot watch the certificate directory; relying on the periodic check");
                }
            }
            Some(watcher)
        }
        Err(err) => {
            tracing::warn!(error = %err, "cannot watch files; relying on the periodic check");
            None
        }
    };
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = super::stopped(&mut stop) => return,
            _ = ticker.tick() => {}
            Some(()) = events.recv() => {
                tokio::time::sleep(SETTLE).await;
                while events.try_recv().is_ok() {}
            }
        }
        if reloader.check(SystemTime::now()) == Outcome::Settling {
            tokio::select! {
                _ = super::stopped(&mut stop) => return,
                _ = tokio::time::sleep(FAILURE_SETTLE) => {}
            }
            while events.try_recv().is_ok() {}
            reloader.check_settled(SystemTime::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs;
    use crate::server::tls;

    fn generate() -> certs::DevCerts {
        certs::generate(&certs::Request::with_defaults(
            SystemTime::now() - Duration::from_secs(60),
            Duration::from_secs(3600),
        ))
        .unwrap()
    }

    #[test]
    fn swaps_changed_valid_pairs_and_reports_broken_ones_once() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("tls.crt");
        let key = dir.path().join("tls.key");
        let first = generate();
        std::fs::write(&cert, &first.tls_cert_pem).unwrap();
        std::fs::write(&key, &first.tls_key_pem).unwrap();
        let initial = tls::load_pair(
            PairSource::read(&cert, &key).unwrap(),
            &cert,
            &key,
            SystemTime::now(),
        )
        .unwrap();
        let resolver = Arc::new(SwappableResolver::new(initial.key.clone()));
        let metrics = Arc::new(Metrics::new());
        let health = Arc::new(Health::default());
        let mut reloader = Reloader::new(
            cert.clone(),
            key.clone(),
            &initial,
            resolver.clone(),
            metrics.clone(),
            health.clone(),
        );
        let now = SystemTime::now();
        assert_eq!(reloader.check(now), Outcome::Unchanged);

        // Half a rotation: the new certificate with the old key settles, then loads.
        let second = generate();
        std::fs::write(&cert, &second.tls_cert_pem).unwrap();
        assert_eq!(
            reloader.check(now),
            Outcome::Settling,
            "key of the old pair"
        );
        assert_eq!(resolver.current().cert, initial.key.cert);
        std::fs::write(&key, &second.tls_key_pem).unwrap();
        assert_eq!(reloader.check_settled(now), Outcome::Reloaded);
        assert_ne!(resolver.current().cert, initial.key.cert);
        assert_eq!(health.readiness(now), Ok(()));

        // A mismatch that persists is reported once.
        let third = generate();
        std::fs::write(&cert, &third.tls_cert_pem).unwrap();
        assert_eq!(reloader.check(now), Outcome::Settling);
        assert_eq!(
            reloader.check_settled(now),
            Outcome::Failed,
            "still mismatched"
        );
        assert_eq!(reloader.check(now), Outcome::Unchanged, "reported once");
        assert_eq!(
            reloader.check_settled(now),
            Outcome::Unchanged,
            "reported once"
        );
        std::fs::write(&cert, &second.tls_cert_pem).unwrap();
        assert_eq!(
            reloader.check(now),
            Outcome::Unchanged,
            "back to the served pair"
        );

        std::fs::remove_file(&key).unwrap();
        assert_eq!(reloader.check(now), Outcome::Settling, "missing file");
        assert_eq!(reloader.check_settled(now), Outcome::Failed, "missing file");
        assert_eq!(reloader.check(now), Outcome::Unchanged, "reported once");
        std::fs::write(&key, &second.tls_key_pem).unwrap();
        assert_eq!(
            reloader.check(now),
            Outcome::Unchanged,
            "back to the served pair"
        );

        let text = metrics.encode().unwrap();
        assert!(
            text.contains("bgppeer_webhook_tls_reloads_total{result=\"success\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("bgppeer_webhook_tls_reloads_total{result=\"failure\"} 2"),
            "{text}"
        );
    }

    #[test]
    fn watches_the_directories_of_both_files_once() {
        let reloader_dirs = |cert: &str, key: &str| {
            let pair = generate();
            let dir = tempfile::tempdir().unwrap();
            let cert_path = dir.path().join("tls.crt");
            let key_path = dir.path().join("tls.key");
            std::fs::write(&cert_path, &pair.tls_cert_pem).unwrap();
            std::fs::write(&key_path, &pair.tls_key_pem).unwrap();
            let initial = tls::load_pair(
                PairSource::read(&cert_path, &key_path).unwrap(),
                &cert_path,
                &key_path,
                SystemTime::now(),
            )
            .unwrap();
            Reloader::new(
                PathBuf::from(cert),
                PathBuf::from(key),
                &initial,
                Arc::new(SwappableResolver::new(initial.key.clone())),
                Arc::new(Metrics::new()),
                Arc::new(Health::default()),
            )
            .directories()
        };
        assert_eq!(
            reloader_dirs("/certs/tls.crt", "/certs/tls.key"),
            vec![PathBuf::from("/certs")]
        );
        assert_eq!(
            reloader_dirs("tls.crt", "/keys/tls.key"),
            vec![PathBuf::from("."), PathBuf::from("/keys")]
        );
    }
}
