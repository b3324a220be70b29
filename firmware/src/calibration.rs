//! TSC calibration against the PIT, as arithmetic: the PIT's channel 2 is
//! started at entry and read once boot work has gone by (so on a slow or
//! emulated machine the window costs nothing), and this turns the two
//! counts into a frequency. The port access is `machine::tsc`.

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

    #[test]
    fn elapsed_ticks_from_the_counter() {
        assert_eq!(pit_ticks_elapsed(0xffff, false), Some(0));
        assert_eq!(pit_ticks_elapsed(0xffff - 600, false), Some(600));
        assert_eq!(pit_ticks_elapsed(0, false), Some(0xffff));
        assert_eq!(pit_ticks_elapsed(0x1234, true), None);
    }
}
