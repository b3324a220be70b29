//! The BSP's half of stopping the APs before the handoff (steps 1-3 of the
//! takeover in docs/ARCHITECTURE.md), as a state machine over a `StopControl` so that
//! it runs on the host against threads. The AP's half (interrupts off,
//! WBINVD, and only then its bit cleared) is `machine::stopping::stop_this_cpu`.
//!
//! 1. Every AP still in `stop_mask` gets the stop request (its control
//!    word, plus a wake IPI where it HLTs).
//! 2. Wait until the mask is empty, at most `wait_us`.
//! 3. Each AP still in the mask gets its own NMI (never a broadcast): its
//!    NMI handler runs the same, idempotent stop path. Wait `after_nmi_us`.
//! 4. Whatever is still in the mask is reported by the caller.

use alloc::vec::Vec;

use crate::smp::cpumask::CpuMask;

/// What the sequence needs from the machine.
pub trait StopControl {
    /// Posts the stop request to the AP in `slot` and wakes it.
    fn request_stop(&self, slot: usize);
    /// Posts the stop request to every AP in `slots` and wakes them; a
    /// machine may wake them in one round.
    fn request_stop_all(&self, slots: &[usize]) {
        for &slot in slots {
            self.request_stop(slot);
        }
    }
    /// Sends the AP in `slot` an NMI.
    fn send_nmi(&self, slot: usize);
    /// Microseconds since the sequence began.
    fn elapsed_us(&self) -> u64;
    /// Called while waiting (a pause, or a yield on the host).
    fn relax(&self) {}
}

/// How long `stop_aps` waits for the APs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopTimeouts {
    /// How long the APs get to stop on request.
    pub wait_us: u64,
    /// How long after the NMIs.
    pub after_nmi_us: u64,
}

impl Default for StopTimeouts {
    fn default() -> Self {
        Self {
            wait_us: 1_000_000,
            after_nmi_us: 1_000_000,
        }
    }
}

/// What `stop_aps` came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StopReport {
    /// APs asked to stop.
    pub requested: usize,
    /// Slots that needed an NMI.
    pub nmi: Vec<usize>,
    /// Slots still in the mask at the end: they did not confirm.
    pub missing: Vec<usize>,
    /// When the mask became empty (or the sequence gave up), in us.
    pub took_us: u64,
    /// When the last stop request had been sent, in us.
    pub sent_us: u64,
}

/// Stops every AP in `stop_mask` (the caller fills it with the APs that
/// are online). Returns what happened; it never waits past the timeouts.
pub fn stop_aps(
    stop_mask: &CpuMask,
    control: &impl StopControl,
    timeouts: StopTimeouts,
) -> StopReport {
    let targets: Vec<usize> = stop_mask.slots().collect();
    control.request_stop_all(&targets);
    let sent_us = control.elapsed_us();
    let wait_until = |deadline: u64| {
        while !stop_mask.is_empty() && control.elapsed_us() < deadline {
            control.relax();
        }
    };
    wait_until(timeouts.wait_us);
    let nmi: Vec<usize> = stop_mask.slots().collect();
    if !nmi.is_empty() {
        for &slot in &nmi {
            control.send_nmi(slot);
        }
        let now = control.elapsed_us();
        wait_until(now.saturating_add(timeouts.after_nmi_us));
    }
    StopReport {
        requested: targets.len(),
        nmi,
        missing: stop_mask.slots().collect(),
        took_us: control.elapsed_us(),
        sent_us,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    /// How a simulated AP behaves.
    #[derive(Clone, Copy, PartialEq)]
    enum Ap {
        /// Stops on request.
        Obedient,
        /// Stops on request, but its stop path takes this long.
        Slow(Duration),
        /// Ignores requests; only an NMI stops it.
        Wedged,
        /// Never stops (no NMI reaches it either).
        Dead,
    }

    struct Sim {
        start: Instant,
        request: Vec<AtomicBool>,
        nmi: Vec<AtomicBool>,
    }

    impl StopControl for Sim {
        fn request_stop(&self, slot: usize) {
            self.request[slot].store(true, Ordering::Release);
        }
        fn send_nmi(&self, slot: usize) {
            self.nmi[slot].store(true, Ordering::Release);
        }
        fn elapsed_us(&self) -> u64 {
            self.start.elapsed().as_micros() as u64
        }
        fn relax(&self) {
            std::thread::yield_now();
        }
    }

    fn run(aps: &[Ap], timeouts: StopTimeouts) -> StopReport {
        let mask = Arc::new(CpuMask::new(aps.len()));
        (0..aps.len()).for_each(|s| mask.set(s));
        let sim = Arc::new(Sim {
            start: Instant::now(),
            request: aps.iter().map(|_| AtomicBool::new(false)).collect(),
            nmi: aps.iter().map(|_| AtomicBool::new(false)).collect(),
        });
        let done = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = aps
            .iter()
            .enumerate()
            .map(|(slot, &kind)| {
                let (mask, sim, done) = (mask.clone(), sim.clone(), done.clone());
                std::thread::spawn(move || {
                    while !done.load(Ordering::Acquire) {
                        let asked = sim.request[slot].load(Ordering::Acquire);
                        let nmi = sim.nmi[slot].load(Ordering::Acquire);
                        let stop = match kind {
                            Ap::Obedient | Ap::Slow(_) => asked || nmi,
                            Ap::Wedged => nmi,
                            Ap::Dead => false,
                        };
                        if stop {
                            if let Ap::Slow(d) = kind {
                                std::thread::sleep(d);
                            }
                            mask.clear(slot);
                            return;
                        }
                        std::thread::yield_now();
                    }
                })
            })
            .collect();
        let report = stop_aps(&mask, &*sim, timeouts);
        done.store(true, Ordering::Release);
        threads.into_iter().for_each(|t| t.join().unwrap());
        report
    }

    const SHORT: StopTimeouts = StopTimeouts {
        wait_us: 300_000,
        after_nmi_us: 100_000,
    };

    #[test]
    fn obedient_aps_need_no_nmi() {
        let r = run(&[Ap::Obedient; 5], SHORT);
        assert_eq!((r.requested, r.nmi.len(), r.missing.len()), (5, 0, 0));
        assert!(r.took_us < SHORT.wait_us, "{r:?}");
    }

    #[test]
    fn a_slow_stop_is_waited_for_not_hit_with_an_nmi() {
        let r = run(&[Ap::Obedient, Ap::Slow(Duration::from_millis(50))], SHORT);
        assert_eq!(r.nmi, Vec::<usize>::new());
        assert!(r.missing.is_empty());
        assert!(r.took_us >= 50_000, "{r:?}");
    }

    #[test]
    fn a_wedged_ap_is_stopped_by_its_own_nmi() {
        let r = run(&[Ap::Obedient, Ap::Wedged, Ap::Obedient], SHORT);
        assert_eq!(r.nmi, [1]);
        assert!(r.missing.is_empty(), "{r:?}");
        assert!(r.took_us >= SHORT.wait_us);
    }

    #[test]
    fn a_dead_ap_is_reported_after_both_timeouts() {
        let r = run(&[Ap::Dead, Ap::Obedient, Ap::Wedged], SHORT);
        assert_eq!(r.nmi, [0, 2]);
        assert_eq!(r.missing, [0]);
        assert!(r.took_us >= SHORT.wait_us + SHORT.after_nmi_us, "{r:?}");
    }

    #[test]
    fn no_aps_is_immediate() {
        let r = run(&[], SHORT);
        assert_eq!(
            r,
            StopReport {
                took_us: r.took_us,
                sent_us: r.sent_us,
                ..StopReport::default()
            }
        );
    }
}
