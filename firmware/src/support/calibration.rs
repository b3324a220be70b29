//! TSC calibration against the PIT, as arithmetic: the PIT's channel 2 is
//! started at entry and read once boot work has gone by (so on a slow or
//! emulated machine the window costs nothing), and this turns two readings
//! of it into a frequency. The port access is `machine::tsc`.
//!
//! Each reading brackets the PIT latch between two TSC reads, and a window
//! counts only when those brackets are narrow beside it: a CPU that stalls
//! next to a latch (an SMI; a vCPU the host descheduled) would otherwise
//! put the stall into the TSC count and not the PIT's. Seen under TCG on a
//! loaded host: some 400 ms lost between the TSC read and the PIT start made
//! baton's clock 95 times too fast (248 GHz) and its 4 s AP timeout 6
//! minutes. Linux's quick PIT calibration bounds its reads the same way.

/// The PIT's input clock.
pub const PIT_HZ: u64 = 1_193_182;

/// The count channel 2 starts from (mode 0 counts down; about 54.9 ms).
pub const PIT_START_COUNT: u16 = 0xffff;

/// Below this many PIT ticks the window is too short to trust: 597 ticks
/// is 0.5 ms, where one tick of reading jitter is 0.17 %.
pub const MIN_WINDOW_TICKS: u64 = PIT_HZ / 2000;

/// PIT ticks gone by since the start, from the counter as read now; None
/// once the count has run out (OUT2 high: the counter wrapped, so the
/// window is unknown).
pub fn pit_ticks_elapsed(counter: u16, out2_high: bool) -> Option<u64> {
    if out2_high {
        return None;
    }
    Some(u64::from(PIT_START_COUNT - counter))
}

/// One look at channel 2: its ticks since the start, and the TSC read
/// just before and just after the latch that froze them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    /// PIT ticks since the start.
    pub ticks: u64,
    /// TSC just before the latch.
    pub tsc_before: u64,
    /// TSC just after the latch.
    pub tsc_after: u64,
}

impl Reading {
    fn spread(&self) -> u64 {
        self.tsc_after.saturating_sub(self.tsc_before)
    }

    fn middle(&self) -> u64 {
        self.tsc_before + self.spread() / 2
    }
}

/// The most the two readings' brackets together may be of the window, in
/// thousandths (1 %: beyond that the window's ends are not known well).
pub const MAX_SPREAD_PER_MILLE: u64 = 10;

/// The TSC frequency in kHz over the window from `start` to `end`; None
/// when the window is too short or implausible (see `tsc_khz`) or the
/// readings' brackets are too wide for it (`MAX_SPREAD_PER_MILLE`).
pub fn khz_between(start: Reading, end: Reading) -> Option<u64> {
    let pit_ticks = end.ticks.checked_sub(start.ticks)?;
    let tsc_ticks = end.middle().checked_sub(start.middle())?;
    let spread = start.spread().saturating_add(end.spread());
    if u128::from(spread) * 1000 > u128::from(tsc_ticks) * u128::from(MAX_SPREAD_PER_MILLE) {
        return None;
    }
    tsc_khz(tsc_ticks, pit_ticks)
}

/// The TSC frequency in kHz from `tsc_ticks` counted over `pit_ticks`;
/// None for a window below `MIN_WINDOW_TICKS` or a result no x86_64 TSC
/// has (below 100 MHz: the PIT did not count honestly).
pub fn tsc_khz(tsc_ticks: u64, pit_ticks: u64) -> Option<u64> {
    if pit_ticks < MIN_WINDOW_TICKS {
        return None;
    }
    let khz = u128::from(tsc_ticks) * u128::from(PIT_HZ) / (u128::from(pit_ticks) * 1000);
    u64::try_from(khz).ok().filter(|&k| k > 100_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_become_a_frequency() {
        // 2.5 GHz over 5 ms: 5965 PIT ticks, 12.5 M TSC ticks.
        let pit = PIT_HZ * 5 / 1000;
        let khz = tsc_khz(12_500_000, pit).unwrap();
        assert!((2_499_000..=2_501_000).contains(&khz), "{khz}");
    }

    #[test]
    fn short_windows_and_slow_clocks_are_refused() {
        assert_eq!(tsc_khz(1_000_000, MIN_WINDOW_TICKS - 1), None);
        assert_eq!(tsc_khz(1000, 60_000), None);
        assert_eq!(tsc_khz(u64::MAX, MIN_WINDOW_TICKS), None);
    }

    /// A reading `ticks` PIT ticks into the window of a 2.5 GHz TSC, its
    /// latch bracketed by `spread` TSC ticks.
    fn reading(ticks: u64, spread: u64) -> Reading {
        let tsc = 1_000_000_000_000 + ticks * 2_500_000_000 / PIT_HZ;
        Reading {
            ticks,
            tsc_before: tsc - spread / 2,
            tsc_after: tsc + spread / 2,
        }
    }

    #[test]
    fn two_readings_become_a_frequency() {
        // 4 ms of window, each latch bracketed by 2 us.
        let khz = khz_between(reading(100, 5000), reading(100 + 4773, 5000)).unwrap();
        assert!((2_499_000..=2_501_000).contains(&khz), "{khz}");
    }

    #[test]
    fn a_stall_beside_either_latch_is_refused() {
        // 380 ms stalled beside the first latch (2.5 GHz): without the bracket test
        // the window read 95 times too fast.
        let stalled = 950_000_000;
        assert_eq!(
            khz_between(reading(100, stalled), reading(4873, 5000)),
            None
        );
        assert_eq!(
            khz_between(reading(100, 5000), reading(4873, stalled)),
            None
        );
        // 1 % of a 4 ms window is 100 000 TSC ticks: just inside, just outside.
        assert!(khz_between(reading(100, 49_000), reading(4873, 49_000)).is_some());
        assert_eq!(
            khz_between(reading(100, 51_000), reading(4873, 51_000)),
            None
        );
    }

    #[test]
    fn readings_out_of_order_or_too_close_are_refused() {
        assert_eq!(khz_between(reading(4873, 5000), reading(100, 5000)), None);
        assert_eq!(
            khz_between(reading(100, 0), reading(100 + MIN_WINDOW_TICKS - 1, 0)),
            None
        );
    }

    #[test]
    fn elapsed_ticks_from_the_counter() {
        assert_eq!(pit_ticks_elapsed(0xffff, false), Some(0));
        assert_eq!(pit_ticks_elapsed(0xffff - 600, false), Some(600));
        assert_eq!(pit_ticks_elapsed(0, false), Some(0xffff));
        assert_eq!(pit_ticks_elapsed(0x1234, true), None);
    }
}
