//! The open connections of one port: how many there are against the port's cap, which of them
//! are busy, idle or silent, and evicting a silent one to make room. Shared state only; the
//! accept loop and the connection tasks in [`super::listener`] do the I/O.
//!
//! A connection is *silent* until its first request starts: it is still handshaking, or it was
//! opened and nothing was asked on it. At the cap, a new connection takes the place of the oldest
//! silent one, so that clients which open connections and say nothing cannot lock others out;
//! a connection that has served a request is never evicted (closing it could race a request the
//! client is sending on it).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use super::metrics::PortMetrics;
use tokio::time::Instant;

/// Requests in flight on one connection, when it was last busy, and whether it must give up its
/// place.
#[derive(Debug)]
pub(crate) struct Activity {
    in_flight: AtomicUsize,
    started: AtomicBool,
    /// Set (under the [`Slots`] lock) when the connection has been told to make room.
    evicting: AtomicBool,
    last_active: Mutex<Instant>,
    evicted: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            started: AtomicBool::new(false),
            evicting: AtomicBool::new(false),
            last_active: Mutex::new(Instant::now()),
            evicted: Notify::new(),
        }
    }

    /// Marks a request as started; the guard marks it finished.
    pub(crate) fn begin(self: &Arc<Self>) -> Busy {
        self.started.store(true, Ordering::SeqCst);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.touch();
        Busy {
            activity: self.clone(),
        }
    }

    /// Whether a request has ever started on this connection.
    pub(crate) fn has_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    /// Resolves when the accept loop takes this (silent) connection's place for a new one.
    pub(crate) async fn evicted(&self) {
        self.evicted.notified().await;
    }

    fn touch(&self) {
        *lock(&self.last_active) = Instant::now();
    }

    fn last_active(&self) -> Instant {
        *lock(&self.last_active)
    }

    /// When to check next whether the connection is idle: `idle` after it was last busy, or
    /// `idle` from now while a request is in flight.
    pub(crate) fn idle_deadline(&self, idle: Duration) -> Instant {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            Instant::now() + idle
        } else {
            self.last_active() + idle
        }
    }

    /// Whether no request has been in flight for `idle`.
    pub(crate) fn is_idle_for(&self, idle: Duration) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0 && self.last_active().elapsed() >= idle
    }
}

/// A request in flight on a connection.
#[derive(Debug)]
pub(crate) struct Busy {
    activity: Arc<Activity>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.activity.touch();
        self.activity.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The open connections of a port, in the order they were accepted, against the port's cap.
#[derive(Debug)]
pub(crate) struct Slots {
    max: usize,
    inner: Mutex<Inner>,
    metrics: PortMetrics,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    /// Every open connection, including one evicted but not closed yet.
    open: BTreeMap<u64, Arc<Activity>>,
}

impl Inner {
    /// The oldest silent connection, unless a silent connection is already being evicted. (One
    /// whose first request started just as it was evicted keeps serving it and no longer blocks
    /// evictions: the port is then one more over its cap, a rare race.)
    fn evictable(&self) -> Option<Arc<Activity>> {
        if self
            .open
            .values()
            .any(|activity| activity.evicting.load(Ordering::SeqCst) && !activity.has_started())
        {
            return None;
        }
        self.open
            .values()
            .find(|activity| !activity.has_started() && !activity.evicting.load(Ordering::SeqCst))
            .cloned()
    }
}

/// What the accept loop may do with a connection it has just accepted.
#[derive(Debug)]
pub(crate) enum Admission {
    /// Serve it; the slot is released when the guard is dropped.
    Admitted(Slot),
    /// Serve it in the place of the oldest silent connection, which has been told to close.
    Evicted(Slot),
    /// The port is full of connections that have served requests: close this one.
    Full,
}

impl Slots {
    /// Room for `max` connections (at least one), counted in `metrics`.
    pub(crate) fn new(max: usize, metrics: PortMetrics) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            inner: Mutex::new(Inner::default()),
            metrics,
        })
    }

    /// How many connections are open.
    pub(crate) fn open(&self) -> usize {
        lock(&self.inner).open.len()
    }

    /// Whether a new connection could be served now: below the cap, or a silent connection can
    /// make room. While an evicted connection is still closing it counts as open and no other
    /// is evicted, so the port never holds more than one connection over its cap.
    pub(crate) fn has_room(&self) -> bool {
        let inner = lock(&self.inner);
        inner.open.len() < self.max || inner.evictable().is_some()
    }

    /// Takes a slot for a connection just accepted, evicting the oldest silent connection when
    /// the port is at its cap.
    pub(crate) fn admit(self: &Arc<Self>) -> Admission {
        let mut inner = lock(&self.inner);
        let evicted = if inner.open.len() >= self.max {
            match inner.evictable() {
                Some(activity) => {
                    self.metrics.evicted.inc();
                    activity.evicting.store(true, Ordering::SeqCst);
                    // `notify_one` keeps the notification if the task is not waiting yet.
                    activity.evicted.notify_one();
                    true
                }
                None => {
                    self.metrics.refused.inc();
                    return Admission::Full;
                }
            }
        } else {
            false
        };
        let id = inner.next_id;
        inner.next_id = inner.next_id.wrapping_add(1);
        let activity = Arc::new(Activity::new());
        inner.open.insert(id, activity.clone());
        self.metrics.open.set(inner.open.len() as i64);
        let slot = Slot {
            slots: self.clone(),
            id,
            activity,
        };
        if evicted {
            Admission::Evicted(slot)
        } else {
            Admission::Admitted(slot)
        }
    }
}

/// One connection's place on its port; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Slots>,
    id: u64,
    activity: Arc<Activity>,
}

impl Slot {
    /// The connection's activity.
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut inner = lock(&self.slots.inner);
        inner.open.remove(&self.id);
        self.slots.metrics.open.set(inner.open.len() as i64);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(admission: Admission) -> Slot {
        match admission {
            Admission::Admitted(slot) | Admission::Evicted(slot) => slot,
            Admission::Full => panic!("full"),
        }
    }

    #[tokio::test]
    async fn at_the_cap_the_oldest_silent_connection_makes_room() {
        let metrics = PortMetrics::default();
        let slots = Slots::new(2, metrics.clone());
        let first = slot(slots.admit());
        let second = slot(slots.admit());
        assert_eq!(slots.open(), 2);
        // The first has served a request: it keeps its place; the second, silent, gives way.
        drop(first.activity().begin());
        assert!(slots.has_room());
        let third = match slots.admit() {
            Admission::Evicted(slot) => slot,
            other => panic!("{other:?}"),
        };
        tokio::time::timeout(Duration::from_secs(1), second.activity().evicted())
            .await
            .expect("the silent connection was not told to close");
        // Until it has closed, it counts, and no other silent connection is evicted.
        assert_eq!(slots.open(), 3);
        assert!(!slots.has_room());
        drop(second);
        assert_eq!(slots.open(), 2);
        assert!(slots.has_room(), "the third is still silent");
        // Both open connections have served requests: no room.
        drop(third.activity().begin());
        assert!(!slots.has_room());
        assert!(matches!(slots.admit(), Admission::Full));
        assert_eq!(
            (
                metrics.open.get(),
                metrics.evicted.get(),
                metrics.refused.get()
            ),
            (2, 1, 1)
        );
        // A closing connection frees its place.
        drop(first);
        assert!(slots.has_room());
        assert!(matches!(slots.admit(), Admission::Admitted(_)));
    }

    #[test]
    fn idle_only_without_requests_in_flight() {
        let activity = Arc::new(Activity::new());
        let busy = activity.begin();
        assert!(!activity.is_idle_for(Duration::ZERO));
        drop(busy);
        assert!(activity.is_idle_for(Duration::ZERO));
        assert!(!activity.is_idle_for(Duration::from_secs(60)));
    }
}
