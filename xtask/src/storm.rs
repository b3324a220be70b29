//! An NMI storm: QEMU's monitor `nmi` (which reaches every CPU whose LINT1
//! is programmed for NMI) at random intervals of 2 to 20 ms, from baton's
//! first line of output until QEMU exits. The intervals come from a
//! generator seeded per run and logged, so a failing run can be replayed.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The shortest and longest pause between two NMIs.
const PAUSE_MS: std::ops::RangeInclusive<u64> = 2..=20;

/// xorshift64*: enough to spread the pauses, and repeatable from its seed.
pub struct Pauses(u64);

impl Pauses {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
}

impl Iterator for Pauses {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let span = PAUSE_MS.end() - PAUSE_MS.start() + 1;
        Some(Duration::from_millis(PAUSE_MS.start() + r % span))
    }
}

/// Runs the storm on the monitor at `socket` once `begun` is set, until
/// `done` is set or the monitor goes away; returns how many NMIs it sent.
pub fn run(socket: &Path, seed: u64, begun: &AtomicBool, done: &Arc<AtomicBool>) -> u64 {
    while !begun.load(Ordering::Relaxed) {
        if done.load(Ordering::Relaxed) {
            return 0;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return 0;
    };
    let _ = stream.set_nonblocking(true);
    let mut sent = 0;
    let mut sink = [0u8; 4096];
    for pause in Pauses::new(seed) {
        if done.load(Ordering::Relaxed) {
            break;
        }
        if stream.write_all(b"nmi\n").is_err() {
            break;
        }
        sent += 1;
        // Drain the monitor's echo so its buffer never fills.
        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        std::thread::sleep(pause);
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_stay_in_range_and_repeat_from_the_seed() {
        let a: Vec<_> = Pauses::new(42).take(1000).collect();
        assert!(a.iter().all(|p| PAUSE_MS.contains(&(p.as_millis() as u64))));
        assert_eq!(a, Pauses::new(42).take(1000).collect::<Vec<_>>());
        // Both ends are reached.
        assert!(a.iter().any(|p| p.as_millis() == 2));
        assert!(a.iter().any(|p| p.as_millis() == 20));
    }
}
