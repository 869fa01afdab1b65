//! Shared pieces of the `authsignal-benches` benchmarks (not published):
//!
//! - [`fixtures`]: realistic requests and response bodies;
//! - [`baseline`]: the same `track` work done by hand with bare serde and
//!   `http`, which the SDK is compared against;
//! - [`server`]: a small keep-alive HTTP/1.1 server on loopback for the
//!   end-to-end benchmark;
//! - [`Mode`]: full runs under `cargo bench`, short smoke runs otherwise.
//!
//! See `BENCHMARKS.md` at the repository root for how to run them and the
//! latest figures.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod baseline;
pub mod cpu;
pub mod fixtures;
pub mod server;

use std::time::Duration;

/// How long the hand-written benchmark binaries (`allocs`, `loopback`) run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `cargo bench`: full measurement.
    Bench,
    /// Run as a test (`cargo test --benches`) or by hand without `--bench`:
    /// a few iterations, to check that everything still works.
    Smoke,
}

impl Mode {
    /// `Bench` when the process was started with `--bench` (as `cargo bench`
    /// does), `Smoke` otherwise.
    pub fn from_args() -> Self {
        if std::env::args().any(|arg| arg == "--bench") {
            Mode::Bench
        } else {
            Mode::Smoke
        }
    }

    /// `full` in bench mode, a short slice of it in smoke mode.
    pub fn duration(self, full: Duration) -> Duration {
        match self {
            Mode::Bench => full,
            Mode::Smoke => full.min(Duration::from_millis(50)),
        }
    }

    /// `full` in bench mode, a few iterations in smoke mode.
    pub fn iterations(self, full: u64) -> u64 {
        match self {
            Mode::Bench => full,
            Mode::Smoke => full.min(20),
        }
    }
}

/// Runs the calling thread on CPU `core` only, where the platform allows it
/// (a no-op elsewhere). A ping-pong benchmark with the client on one core
/// and the server on the other measures the code, not where the scheduler
/// happened to put the two threads.
pub fn pin_current_thread(core: usize) {
    if let Some(id) = core_affinity::get_core_ids().and_then(|ids| ids.into_iter().nth(core)) {
        core_affinity::set_for_current(id);
    }
}
