//! Heap allocations per `track` build and parse, SDK vs the bare-serde
//! baseline, counted by a wrapping global allocator.
//!
//! `cargo bench -p authsignal-benches --bench allocs`
// The one place in the workspace with `unsafe`: a `GlobalAlloc` impl must be
// an `unsafe impl`. It only forwards to `System` and counts.
#![allow(unsafe_code)]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    hint::black_box,
    sync::atomic::{AtomicUsize, Ordering},
};

use authsignal_benches::{Mode, baseline::BaselineTrack, fixtures};
use authsignal_core::Endpoint;

/// `System`, counting allocations (reallocations separately) and bytes.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static REALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds the `GlobalAlloc` contract; the counters have no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        REALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size.saturating_sub(layout.size()), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Debug, Clone, Copy)]
struct PerCall {
    allocs: f64,
    reallocs: f64,
    bytes: f64,
}

/// Runs `routine` on `n` fresh inputs from `setup` (after a few warm-up
/// calls) and averages the counters over the routine alone: the setup (the
/// response a transport would hand over) and dropping the output are not
/// counted.
fn measure<I, O>(n: u64, mut setup: impl FnMut() -> I, mut routine: impl FnMut(I) -> O) -> PerCall {
    for _ in 0..10 {
        drop(black_box(routine(setup())));
    }
    let mut total = (0, 0, 0);
    for _ in 0..n {
        let input = setup();
        let (a0, r0, b0) = counters();
        let output = black_box(routine(input));
        let (a1, r1, b1) = counters();
        drop(output);
        total = (total.0 + a1 - a0, total.1 + r1 - r0, total.2 + b1 - b0);
    }
    let per = |x: usize| x as f64 / n as f64;
    PerCall {
        allocs: per(total.0),
        reallocs: per(total.1),
        bytes: per(total.2),
    }
}

fn counters() -> (usize, usize, usize) {
    (
        ALLOCS.load(Ordering::Relaxed),
        REALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    )
}

fn main() {
    let n = Mode::from_args().iterations(10_000);
    let config = fixtures::config();
    let request = fixtures::track_request();
    let plain = BaselineTrack::new(&config);
    let answer = fixtures::TRACK_RESPONSE.as_bytes();

    let response = || fixtures::ok_response(answer);
    let rows = [
        (
            "track sdk: build",
            measure(n, || (), |()| request.build_request(&config).unwrap()),
        ),
        (
            "track sdk: parse",
            measure(n, response, |r| request.parse_response(r).unwrap()),
        ),
        (
            "track sdk: build+parse",
            measure(n, response, |r| {
                drop(black_box(request.build_request(&config).unwrap()));
                request.parse_response(r).unwrap()
            }),
        ),
        (
            "track baseline: build",
            measure(n, || (), |()| plain.build()),
        ),
        (
            "track baseline: parse",
            measure(n, response, |r| plain.parse(r).unwrap()),
        ),
        (
            "track baseline: build+parse",
            measure(n, response, |r| {
                drop(black_box(plain.build()));
                plain.parse(r).unwrap()
            }),
        ),
    ];

    println!(
        "heap allocations per call, mean of {n} calls (making the response and dropping the output not counted)"
    );
    println!(
        "{:<30} {:>8} {:>9} {:>12}",
        "", "allocs", "reallocs", "bytes"
    );
    for (name, per) in rows {
        println!(
            "{name:<30} {:>8.1} {:>9.1} {:>12.0}",
            per.allocs, per.reallocs, per.bytes
        );
    }
}
