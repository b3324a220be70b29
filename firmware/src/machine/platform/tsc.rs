//! Time: the TSC, counted from the entry stamp. Its frequency comes from
//! CPUID leaf 0x15 (crystal ratio) or 0x16 (base MHz) where present, else
//! from PIT channel 2, started at entry and read once the boot information
//! is parsed (the window costs no busy wait of its own unless that work took
//! under 0.5 ms); without either (microvm has no PIT) times are printed on
//! an assumed clock, and the log says so.

use core::sync::atomic::{AtomicU64, Ordering};

use baton::support::calibration;
use baton::support::timeline::{Stage, Timeline};
use x86_64::instructions::port::Port;

/// TSC at the first instruction, stored by entry.s. In .data: .bss is
/// cleared after it is taken.
#[unsafe(link_section = ".data.entry_tsc")]
pub static mut ENTRY_TSC: u64 = 0;

/// The TSC at baton's first instruction.
pub fn entry_tsc() -> u64 {
    // SAFETY: written once by entry.s before any Rust code runs.
    unsafe { core::ptr::read_volatile(&raw const ENTRY_TSC) }
}

/// The fallback PIT window, when the one begun at entry ran out or its
/// readings were disturbed.
const PIT_WINDOW_US: u64 = 2000;
/// Used when nothing measures the TSC; times are then approximate.
const ASSUMED_KHZ: u64 = 2_000_000;

static TSC_KHZ: AtomicU64 = AtomicU64::new(ASSUMED_KHZ);
/// Channel 2 read right after `start_calibration` started it (None: not
/// started, no PIT).
static WINDOW_START: spin::Mutex<Option<calibration::Reading>> = spin::Mutex::new(None);

// Out of line, as `ticks_to_micros`: inlined at its ~30 callers it cost
// 128 more bytes.
#[inline(never)]
pub fn now() -> u64 {
    // SAFETY: RDTSC has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

pub fn khz() -> u64 {
    TSC_KHZ.load(Ordering::Relaxed)
}

// Out of line: its 128-bit division was inlined at each caller.
#[inline(never)]
pub fn ticks_to_micros(ticks: u64) -> u64 {
    (u128::from(ticks) * 1000 / u128::from(khz().max(1))) as u64
}

/// The time since the TSC read `started`, for the log: shown in ms with
/// three decimals ("12.345"). One formatter instead of the two arguments
/// and the divisions at each log line that prints a duration.
pub fn since(started: u64) -> Millis {
    Millis(ticks_to_micros(now().saturating_sub(started)))
}

/// A duration in microseconds, shown in ms with three decimals.
pub struct Millis(u64);

impl core::fmt::Display for Millis {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

pub fn micros_since_entry() -> u64 {
    ticks_to_micros(now().saturating_sub(entry_tsc()))
}

/// Spins for `us` microseconds.
pub fn delay_us(us: u64) {
    let end = now().saturating_add(us.saturating_mul(khz()) / 1000);
    while now() < end {
        core::hint::spin_loop();
    }
}

/// Where the frequency came from, for the log.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    CpuidCrystal,
    CpuidBase,
    Pit,
    Assumed,
}

impl core::fmt::Display for Source {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Source::CpuidCrystal => "CPUID crystal clock",
            Source::CpuidBase => "CPUID base frequency",
            Source::Pit => "PIT",
            Source::Assumed => "assumed",
        })
    }
}

/// The legacy PIT ports: the gate/status port (bit 0 gate of channel 2,
/// bit 1 speaker, bit 5 OUT2), the mode/command port, channel 2's counter.
const GATE_PORT: u16 = 0x61;
const COMMAND_PORT: u16 = 0x43;
const CHANNEL2_PORT: u16 = 0x42;
/// Channel 2, lobyte/hibyte, mode 0 (one-shot countdown), binary.
const CHANNEL2_MODE0: u8 = 0b1011_0000;
/// Channel 2's counter latched for reading.
const CHANNEL2_LATCH: u8 = 0b1000_0000;

/// Starts PIT channel 2 counting down from its full count with the speaker
/// off, so that `calibrate` can measure the TSC over the boot work done
/// meanwhile instead of in a busy wait of its own. Does nothing where
/// CPUID gives the frequency or there is no PIT (microvm).
pub fn start_calibration() {
    if cpuid_khz().is_some() {
        return;
    }
    *WINDOW_START.lock() = start_pit().then(read_pit).flatten();
}

/// Programs channel 2 for a mode-0 countdown from its full count; false
/// when no PIT answers (OUT2 must be low right after the mode write).
fn start_pit() -> bool {
    let mut gate: Port<u8> = Port::new(GATE_PORT);
    let count = calibration::PIT_START_COUNT;
    // SAFETY: legacy PIT ports; channel 2 drives only the speaker, whose
    // output stays disabled (bit 1 clear).
    unsafe {
        let saved = gate.read();
        gate.write((saved & !0x02) | 0x01);
        Port::<u8>::new(COMMAND_PORT).write(CHANNEL2_MODE0);
        let mut channel2: Port<u8> = Port::new(CHANNEL2_PORT);
        channel2.write(count as u8);
        channel2.write((count >> 8) as u8);
        gate.read() & 0x20 == 0
    }
}

/// Channel 2's ticks since `start_pit`, the latch bracketed by TSC reads;
/// None once the count ran out.
fn read_pit() -> Option<calibration::Reading> {
    // SAFETY: legacy PIT ports, read after a latch command.
    unsafe {
        let tsc_before = now();
        Port::<u8>::new(COMMAND_PORT).write(CHANNEL2_LATCH);
        let tsc_after = now();
        let mut channel2: Port<u8> = Port::new(CHANNEL2_PORT);
        let low = channel2.read();
        let high = channel2.read();
        let out2 = Port::<u8>::new(GATE_PORT).read() & 0x20 != 0;
        let ticks = calibration::pit_ticks_elapsed(u16::from_le_bytes([low, high]), out2)?;
        Some(calibration::Reading {
            ticks,
            tsc_before,
            tsc_after,
        })
    }
}

fn cpuid_khz() -> Option<(u64, Source)> {
    let cpuid = raw_cpuid::CpuId::new();
    if let Some(hz) = cpuid.get_tsc_info().and_then(|t| t.tsc_frequency()) {
        return Some((hz / 1000, Source::CpuidCrystal));
    }
    cpuid
        .get_processor_frequency_info()
        .map(|f| f.processor_base_frequency())
        .filter(|&m| m != 0)
        .map(|mhz| (u64::from(mhz) * 1000, Source::CpuidBase))
}

/// Sets the TSC frequency: CPUID leaf 0x15 or 0x16 where present, else
/// the PIT window begun by `start_calibration` (waiting only if less than
/// `calibration::MIN_WINDOW_TICKS` have gone by), else a fresh 2 ms PIT
/// window, else an assumed clock.
pub fn calibrate() -> Source {
    let (khz, source) = cpuid_khz()
        .or_else(|| pit_window_begun_at_entry().map(|k| (k, Source::Pit)))
        .or_else(|| pit_khz().map(|k| (k, Source::Pit)))
        .unwrap_or((ASSUMED_KHZ, Source::Assumed));
    TSC_KHZ.store(khz, Ordering::Relaxed);
    source
}

fn pit_window_begun_at_entry() -> Option<u64> {
    let start = WINDOW_START.lock().take()?;
    measure_from(start, calibration::MIN_WINDOW_TICKS)
}

/// The frequency over a window from `start` of at least `min_ticks`: an
/// end reading whose bracket is too wide is taken again while the window
/// grows, until the counter runs out. None then, or when the PIT does not
/// count (a 100 GHz TSC passes the bound in 1 ms).
fn measure_from(start: calibration::Reading, min_ticks: u64) -> Option<u64> {
    let bound = now().saturating_add(100_000_000);
    loop {
        let end = read_pit()?;
        if end.ticks >= start.ticks.saturating_add(min_ticks)
            && let Some(khz) = calibration::khz_between(start, end)
        {
            return Some(khz);
        }
        if end.tsc_after > bound {
            return None;
        }
        core::hint::spin_loop();
    }
}

/// A fresh PIT window of `PIT_WINDOW_US`, up to three times (each start
/// reading may be the one a stall spoiled). None when the PIT does not
/// count.
fn pit_khz() -> Option<u64> {
    let window = calibration::PIT_HZ * PIT_WINDOW_US / 1_000_000;
    (0..3).find_map(|_| {
        if !start_pit() {
            return None;
        }
        measure_from(read_pit()?, window)
    })
}

static TIMELINE: spin::Mutex<Timeline> = spin::Mutex::new(Timeline::new());

/// Marks the end of `stage` on the boot timeline (the heap must be up).
pub fn stamp(stage: Stage) {
    let at = match stage {
        Stage::Entry => entry_tsc(),
        _ => now(),
    };
    TIMELINE.lock().record(stage, at);
}

/// Prints the timeline: a table, then one machine-readable line.
pub fn report_timeline() {
    let timeline = TIMELINE.lock();
    info!("boot timeline (us since entry):");
    info!("  {:<10} {:>10} {:>10}", "stage", "at", "took");
    for (stage, at, took) in timeline.rows(khz()) {
        info!("  {stage:<10} {at:>10} {took:>10}");
    }
    info!("{}", timeline.machine_line(khz()));
}
