//! CPU time of the client side of a loopback benchmark: every thread of this
//! process except the in-process server's (`bench-server-*`), read from
//! Linux's `/proc/self/task/*/schedstat` (nanoseconds on CPU). Elsewhere it
//! reads zero and the benchmark prints no CPU column.

use std::{fs, time::Duration};

/// CPU time used so far by the threads that are not the benchmark server's.
pub fn client_cpu() -> Duration {
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let mut total = 0u64;
    for task in tasks.flatten() {
        let path = task.path();
        let name = fs::read_to_string(path.join("comm")).unwrap_or_default();
        if name.starts_with("bench-server") {
            continue;
        }
        let on_cpu = fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        total += on_cpu;
    }
    Duration::from_nanos(total)
}
