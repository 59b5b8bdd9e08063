//! The open-files limit (`RLIMIT_NOFILE`): raised at start-up from the soft limit to the hard
//! limit, as Go's runtime does, and checked against the connection caps. Does I/O (system
//! calls) in [`raise`]; [`check`] is pure.

/// File descriptors the process needs besides connections: the two listening sockets, the
/// certificate files and their watch, the cluster checks' API connections, logs, the runtime.
pub(crate) const RESERVED_DESCRIPTORS: u64 = 64;

/// The open-files limit after [`raise`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    /// The soft limit before (`None`: unlimited).
    pub(crate) before: Option<u64>,
    /// The soft limit in force now (`None`: unlimited).
    pub(crate) now: Option<u64>,
}

/// Raises the soft open-files limit to the hard limit if it is lower. On failure the limit is
/// left as it was and the error says why.
pub(crate) fn raise() -> std::io::Result<Limit> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let current = getrlimit(Resource::Nofile);
    let before = current.current;
    let lower = match (current.current, current.maximum) {
        (Some(soft), Some(hard)) => soft < hard,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if lower {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: current.maximum,
                maximum: current.maximum,
            },
        )?;
    }
    Ok(Limit {
        before,
        now: getrlimit(Resource::Nofile).current,
    })
}

/// `Err` with the descriptors needed when both ports full (plus [`RESERVED_DESCRIPTORS`]) would
/// not fit in the soft limit `soft` (`None`: unlimited).
pub(crate) fn check(
    soft: Option<u64>,
    max_connections: usize,
    metrics_max_connections: usize,
) -> Result<(), u64> {
    let needed = (max_connections as u64)
        .saturating_add(metrics_max_connections as u64)
        .saturating_add(RESERVED_DESCRIPTORS);
    match soft {
        Some(soft) if soft < needed => Err(needed),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_must_fit_in_the_limit_with_room_to_spare() {
        assert_eq!(check(None, usize::MAX, usize::MAX), Ok(()));
        assert_eq!(check(Some(1024 + 64 + 64), 1024, 64), Ok(()));
        assert_eq!(check(Some(256), 1024, 64), Err(1024 + 64 + 64));
        assert_eq!(
            check(Some(u64::MAX - 1), usize::MAX, usize::MAX),
            Err(u64::MAX),
            "saturates"
        );
    }

    #[test]
    fn raising_leaves_the_soft_limit_at_the_hard_limit() {
        let limit = raise().unwrap();
        let now = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        assert_eq!(limit.now, now.current);
        assert_eq!(now.current, now.maximum);
    }
}
