//! At most N admission decisions at once (`--max-concurrent-reviews`).
//!
//! Every CPU-bound step of a review (decoding the body, deciding) runs through
//! [`ReviewSlots::run`]. It first waits for one of N slots, but never past the request's
//! deadline, and runs the work where its [`Placement`] says:
//!
//! - short work (a small body: microseconds) runs right on the async worker
//!   ([`ReviewSlots::run_here`]), holding its slot while it runs: a hop to the blocking pool
//!   (waking a thread, two context switches) would cost several times the work itself;
//! - long work runs on tokio's blocking pool ([`ReviewSlots::run_blocking`]), so that it never
//!   stalls the async workers; the slot is moved into the blocking work itself and freed only
//!   when that work returns, so the bound counts work actually running: a decision that
//!   outlives its request (the client gave up, the budget ran out) still occupies its slot until
//!   it finishes.
//!
//! Work whose deadline has passed by the time it would start is not started at all.
//!
//! Waiting is fair (first come, first served: tokio's [`Semaphore`] is FIFO) and is gauged in
//! the metrics: `bgppeer_webhook_reviews_waiting`, `bgppeer_webhook_reviews_running`, and
//! `bgppeer_webhook_reviews_rejected_total` for waits that outlasted their budget.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::metrics::Metrics;

/// The default `--max-concurrent-reviews`: the number of CPUs this process may use (at least 1).
pub(crate) fn default_limit() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Where a step of a review runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// On the async worker that handles the request: short work (a small body).
    Here,
    /// On tokio's blocking pool: work that may take long (a large body, a test hook).
    BlockingPool,
}

/// Why a step of a review produced nothing.
pub(crate) enum StepError {
    /// Every slot stayed busy until the deadline: the webhook is at its concurrency limit.
    Busy,
    /// The deadline had passed when the work could have started, so it was not started.
    Expired,
    /// The work started but did not finish by the deadline (it keeps its slot until it does).
    TimedOut,
    /// The work panicked; the panic's payload.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The runtime is shutting down and cancelled the work.
    Cancelled,
}

impl fmt::Debug for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepError::Busy => "Busy",
            StepError::Expired => "Expired",
            StepError::TimedOut => "TimedOut",
            StepError::Panicked(_) => "Panicked",
            StepError::Cancelled => "Cancelled",
        })
    }
}

/// The decision slots shared by every request of one server.
#[derive(Debug, Clone)]
pub(crate) struct ReviewSlots {
    semaphore: Arc<Semaphore>,
    limit: usize,
    metrics: Arc<Metrics>,
}

impl ReviewSlots {
    /// `limit` slots (clamped to at least 1 and at most what a semaphore can hold), gauged in
    /// `metrics`.
    pub(crate) fn new(limit: usize, metrics: Arc<Metrics>) -> Self {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        metrics.set_review_slots(limit);
        Self {
            semaphore: Arc::new(Semaphore::new(limit)),
            limit,
            metrics,
        }
    }

    /// How many decisions may run at once.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Runs `work` where `placement` says, once a slot is free, if that happens before
    /// `deadline`: [`Placement::Here`] with [`ReviewSlots::run_here`], [`Placement::BlockingPool`]
    /// with [`ReviewSlots::run_blocking`].
    pub(crate) async fn run<T, F>(
        &self,
        deadline: Instant,
        placement: Placement,
        work: F,
    ) -> Result<T, StepError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        match placement {
            Placement::Here => self.run_here(deadline, work).await,
            Placement::BlockingPool => self.run_blocking(deadline, work).await,
        }
    }

    /// [`ReviewSlots::run`] for work that can itself fail: one `Result`, whose error type also
    /// says why the work did not run or finish (`E: From<StepError>`).
    pub(crate) async fn try_run<T, E, F>(
        &self,
        deadline: Instant,
        placement: Placement,
        work: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StepError> + Send + 'static,
        F: FnOnce() -> Result<T, E> + Send + 'static,
    {
        self.run(deadline, placement, work).await.map_err(E::from)?
    }

    /// Runs `work` on the calling task's thread once a slot is free, if that happens before
    /// `deadline`: for work known to be short, where the hop to the blocking pool (a thread
    /// woken, two context switches) would cost more than the work itself.
    ///
    /// The slot is held exactly while `work` runs. `work` runs within one poll, so once started
    /// it finishes (it is never [`StepError::TimedOut`]); it is not started once `deadline` has
    /// passed. A panic in `work` is returned as [`StepError::Panicked`], never propagated.
    pub(crate) async fn run_here<T, F>(&self, deadline: Instant, work: F) -> Result<T, StepError>
    where
        F: FnOnce() -> T,
    {
        let permit = self.acquire(deadline).await?;
        let _slot = (permit, self.metrics.review_running());
        if Instant::now() >= deadline {
            return Err(StepError::Expired);
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(StepError::Panicked)
    }

    /// Waits for a slot until `deadline`, gauged as waiting.
    async fn acquire(&self, deadline: Instant) -> Result<OwnedSemaphorePermit, StepError> {
        if Instant::now() >= deadline {
            return Err(StepError::Expired);
        }
        let _waiting = self.metrics.review_waiting();
        match tokio::time::timeout_at(deadline, self.semaphore.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; treat it as the runtime going away.
            Ok(Err(_closed)) => Err(StepError::Cancelled),
            Err(_elapsed) => {
                self.metrics
                    .observe_review_rejected(super::metrics::LIMIT_CONCURRENT_REVIEWS);
                Err(StepError::Busy)
            }
        }
    }

    /// Runs `work` on the blocking pool once a slot is free, if that happens before `deadline`,
    /// and waits for it until `deadline`.
    ///
    /// The slot is held by the blocking work, not by this future: dropping the future (or
    /// returning [`StepError::TimedOut`]) leaves the work running in its slot until it returns.
    /// A panic in `work` is returned as [`StepError::Panicked`], never propagated.
    pub(crate) async fn run_blocking<T, F>(
        &self,
        deadline: Instant,
        work: F,
    ) -> Result<T, StepError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self.acquire(deadline).await?;
        let running = self.metrics.review_running();
        let handle = tokio::task::spawn_blocking(move || {
            // Both are released when the work returns (or unwinds), whoever waits for it.
            let _slot = (permit, running);
            if Instant::now() >= deadline {
                return None;
            }
            Some(work())
        });
        match tokio::time::timeout_at(deadline, handle).await {
            Ok(Ok(Some(value))) => Ok(value),
            Ok(Ok(None)) => Err(StepError::Expired),
            Ok(Err(join_error)) => match join_error.try_into_panic() {
                Ok(payload) => Err(StepError::Panicked(payload)),
                Err(_cancelled) => Err(StepError::Cancelled),
            },
            Err(_elapsed) => Err(StepError::TimedOut),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    fn slots(limit: usize) -> (ReviewSlots, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new());
        (ReviewSlots::new(limit, metrics.clone()), metrics)
    }

    fn later(millis: u64) -> Instant {
        Instant::now() + Duration::from_millis(millis)
    }

    #[tokio::test]
    async fn runs_work_and_contains_its_panic() {
        let (slots, _) = slots(1);
        assert_eq!(slots.run_blocking(later(5_000), || 7).await.unwrap(), 7);
        let panicked = slots
            .run_blocking(later(5_000), || -> u32 { panic!("injected") })
            .await;
        match panicked {
            Err(StepError::Panicked(payload)) => {
                assert_eq!(payload.downcast_ref::<&str>(), Some(&"injected"));
            }
            other => panic!("expected a panic, got {other:?}"),
        }
        // The panicking work gave its slot back.
        assert_eq!(slots.run_blocking(later(5_000), || 8).await.unwrap(), 8);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wait_longer_than_the_budget_is_refused_and_late_work_is_not_started() {
        let (slots, metrics) = slots(1);
        let busy = slots.clone();
        let holding = tokio::spawn(async move {
            busy.run_blocking(later(5_000), || {
                std::thread::sleep(Duration::from_millis(400))
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Arc::new(AtomicBool::new(false));
        let flag = started.clone();
        let refused = slots
            .run_blocking(later(100), move || flag.store(true, Ordering::SeqCst))
            .await;
        assert!(matches!(refused, Err(StepError::Busy)), "{refused:?}");
        let text = metrics.encode().unwrap();
        assert!(
            text.contains(
                "bgppeer_webhook_reviews_rejected_total{limit=\"max_concurrent_reviews\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("bgppeer_webhook_reviews_running 1"), "{text}");
        holding.await.unwrap().unwrap();
        assert!(!started.load(Ordering::SeqCst), "refused work never runs");
        let expired = slots.run_blocking(Instant::now(), || ()).await;
        assert!(matches!(expired, Err(StepError::Expired)), "{expired:?}");
        let text = metrics.encode().unwrap();
        assert!(text.contains("bgppeer_webhook_reviews_running 0"), "{text}");
        assert!(text.contains("bgppeer_webhook_reviews_waiting 0"), "{text}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_that_outlives_its_request_keeps_its_slot() {
        let (slots, _) = slots(1);
        let timed_out = slots
            .run_blocking(later(50), || std::thread::sleep(Duration::from_millis(300)))
            .await;
        assert!(
            matches!(timed_out, Err(StepError::TimedOut)),
            "{timed_out:?}"
        );
        // The slow work still holds the only slot: a short wait behind it is refused.
        let refused = slots.run_blocking(later(100), || ()).await;
        assert!(matches!(refused, Err(StepError::Busy)), "{refused:?}");
        // Once it has finished, the slot is free again.
        assert!(slots.run_blocking(later(5_000), || ()).await.is_ok());
    }

    #[tokio::test]
    async fn work_in_place_holds_a_slot_while_it_runs_and_its_panic_is_contained() {
        let (slots, metrics) = slots(1);
        let gauged = metrics.clone();
        let value = slots
            .run_here(later(5_000), move || {
                let text = gauged.encode().unwrap();
                assert!(text.contains("bgppeer_webhook_reviews_running 1"), "{text}");
                7
            })
            .await;
        assert_eq!(value.unwrap(), 7);
        let panicked = slots
            .run(later(5_000), Placement::Here, || -> u32 {
                panic!("injected")
            })
            .await;
        match panicked {
            Err(StepError::Panicked(payload)) => {
                assert_eq!(payload.downcast_ref::<&str>(), Some(&"injected"));
            }
            other => panic!("expected a panic, got {other:?}"),
        }
        let text = metrics.encode().unwrap();
        assert!(text.contains("bgppeer_webhook_reviews_running 0"), "{text}");
        let expired = slots.run_here(Instant::now(), || ()).await;
        assert!(matches!(expired, Err(StepError::Expired)), "{expired:?}");
        assert_eq!(slots.run_here(later(5_000), || 8).await.unwrap(), 8);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_in_place_waits_for_a_slot_within_its_budget() {
        let (slots, _) = slots(1);
        let busy = slots.clone();
        let holding = tokio::spawn(async move {
            busy.run_blocking(later(5_000), || {
                std::thread::sleep(Duration::from_millis(300))
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Arc::new(AtomicBool::new(false));
        let flag = started.clone();
        let refused = slots
            .run_here(later(100), move || flag.store(true, Ordering::SeqCst))
            .await;
        assert!(matches!(refused, Err(StepError::Busy)), "{refused:?}");
        assert!(!started.load(Ordering::SeqCst), "refused work never runs");
        holding.await.unwrap().unwrap();
        assert!(
            slots
                .run(later(5_000), Placement::Here, || ())
                .await
                .is_ok()
        );
    }

    #[test]
    fn limits_are_clamped() {
        assert_eq!(slots(0).0.limit(), 1);
        assert!(default_limit() >= 1);
    }
}
