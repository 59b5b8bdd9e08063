//! At most one log line per interval for events any client can cause at will (a malformed
//! request, a request refused at a limit), so that nobody can flood the log; the next line that
//! is written says how many were left out. The metrics still count every event.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a throttled kind of line is written at most.
pub(crate) const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// One kind of throttled log line.
#[derive(Debug)]
pub(crate) struct LogThrottle {
    interval: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    last: Option<Instant>,
    suppressed: u64,
}

impl LogThrottle {
    /// A throttle writing at most one line per `interval`.
    pub(crate) const fn new(interval: Duration) -> Self {
        Self {
            interval,
            state: Mutex::new(State {
                last: None,
                suppressed: 0,
            }),
        }
    }

    /// `Some(n)` when a line may be written now (`n` lines were left out since the last one),
    /// `None` when this one is left out.
    pub(crate) fn admit(&self) -> Option<u64> {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> Option<u64> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = state
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= self.interval);
        if due {
            state.last = Some(now);
            Some(std::mem::take(&mut state.suppressed))
        } else {
            state.suppressed = state.suppressed.saturating_add(1);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_then_the_count_of_the_rest() {
        let throttle = LogThrottle::new(Duration::from_secs(5));
        let start = Instant::now();
        assert_eq!(throttle.admit_at(start), Some(0));
        for second in 1..5 {
            assert_eq!(throttle.admit_at(start + Duration::from_secs(second)), None);
        }
        assert_eq!(throttle.admit_at(start + Duration::from_secs(5)), Some(4));
        assert_eq!(throttle.admit_at(start + Duration::from_secs(6)), None);
        assert_eq!(throttle.admit_at(start + Duration::from_secs(60)), Some(1));
    }
}
