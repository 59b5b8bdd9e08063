//! Both Go-duration parsers: `bgppeer::duration` (Go's `time.ParseDuration`, exact, for
//! `keepaliveTime` and `maxRestartTime`) and `server::duration` (flags and the apiserver's
//! `?timeout=`, which rejects negative durations). Where both accept an input they must agree to
//! the nanosecond, and `server::duration` must accept every non-negative duration Go accepts.

#![no_main]

use std::time::Duration;

use bgppeer_core::bgppeer::duration as go;
use bgppeer_webhook::server::duration as server;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let exact = go::parse(input);
    if let Err(err) = &exact {
        assert!(!err.to_string().is_empty());
    }
    let served = server::parse(input);
    if let Err(err) = &served {
        assert!(!err.to_string().is_empty());
    }
    let expected = exact
        .ok()
        .and_then(|nanos| u64::try_from(nanos).ok())
        .map(Duration::from_nanos);
    assert_eq!(
        served.ok(),
        expected,
        "the two parsers disagree on {input:?}"
    );
});
