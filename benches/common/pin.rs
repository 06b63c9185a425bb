//! Pinning a benchmark's threads to CPUs of their own.
//!
//! Two threads on one lock are a contended lock only if they run on two cores at once. Left
//! to the scheduler on a small machine they sometimes share one core, taking turns, and the
//! lock is then never contended: a run's figures depend on where its threads landed (the
//! same parking_lot build once measured 1.83x against itself). `LOCKWATCH_BENCH_PIN=0` leaves
//! the threads to the scheduler.

/// Pins the calling thread to the `n`th CPU this process may run on (counting from 0), if
/// there are at least `of` of them; does nothing otherwise, or where pinning is not
/// supported.
pub fn pin_to_nth(n: usize, of: usize) {
    if std::env::var_os("LOCKWATCH_BENCH_PIN").is_some_and(|v| v == "0") {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let allowed = allowed_cpus();
        if allowed.len() < of {
            return;
        }
        // SAFETY: A zeroed `cpu_set_t` is an empty set; the call reads the set it is given.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(allowed[n % allowed.len()], &mut set);
            // A failure leaves the thread where it was: the figures are then the scheduler's.
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (n, of);
}

/// The CPUs this process may run on, in order.
#[cfg(target_os = "linux")]
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: A zeroed `cpu_set_t` is an empty set, filled in by the call.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

/// Where the two-thread rows run, for the table's header.
pub fn describe() -> String {
    #[cfg(target_os = "linux")]
    {
        let allowed = allowed_cpus();
        if std::env::var_os("LOCKWATCH_BENCH_PIN").is_some_and(|v| v == "0") || allowed.len() < 2 {
            return "threads not pinned".into();
        }
        format!(
            "two-thread rows pinned to CPUs {} and {}",
            allowed[0], allowed[1]
        )
    }
    #[cfg(not(target_os = "linux"))]
    "threads not pinned".into()
}
