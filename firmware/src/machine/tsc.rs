//! Time: the TSC, counted from the entry stamp. Its frequency comes from
//! CPUID leaf 0x15 (crystal ratio) or 0x16 (base MHz) where present, else
//! from a short PIT channel 2 measurement; without either (microvm has no
//! PIT) times are printed on an assumed clock, and the log says so.

use core::sync::atomic::{AtomicU64, Ordering};

use baton::timeline::{Stage, Timeline};
use x86_64::instructions::port::Port;

const PIT_HZ: u64 = 1_193_182;
/// The PIT window: long enough for a few hundred ppm, short for boot time.
const PIT_WINDOW_US: u64 = 2000;
/// Used when nothing measures the TSC; times are then approximate.
const ASSUMED_KHZ: u64 = 2_000_000;

static TSC_KHZ: AtomicU64 = AtomicU64::new(ASSUMED_KHZ);

pub fn now() -> u64 {
    // SAFETY: RDTSC has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

pub fn khz() -> u64 {
    TSC_KHZ.load(Ordering::Relaxed)
}

pub fn ticks_to_micros(ticks: u64) -> u64 {
    (u128::from(ticks) * 1000 / u128::from(khz().max(1))) as u64
}

pub fn micros_since_entry() -> u64 {
    ticks_to_micros(now().saturating_sub(super::entry::entry_tsc()))
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

pub fn calibrate() -> Source {
    let cpuid = raw_cpuid::CpuId::new();
    let (khz, source) = if let Some(hz) = cpuid.get_tsc_info().and_then(|t| t.tsc_frequency()) {
        (hz / 1000, Source::CpuidCrystal)
    } else if let Some(mhz) = cpuid
        .get_processor_frequency_info()
        .map(|f| f.processor_base_frequency())
        .filter(|&m| m != 0)
    {
        (u64::from(mhz) * 1000, Source::CpuidBase)
    } else if let Some(khz) = pit_khz() {
        (khz, Source::Pit)
    } else {
        (ASSUMED_KHZ, Source::Assumed)
    };
    TSC_KHZ.store(khz, Ordering::Relaxed);
    source
}

/// Counts TSC ticks over a PIT channel 2 one-shot. None when the PIT does
/// not count (its output never rises within a generous TSC bound).
fn pit_khz() -> Option<u64> {
    let count = PIT_HZ * PIT_WINDOW_US / 1_000_000;
    let mut gate: Port<u8> = Port::new(0x61);
    let mut command: Port<u8> = Port::new(0x43);
    let mut channel2: Port<u8> = Port::new(0x42);
    // SAFETY: legacy PIT ports; channel 2 drives only the speaker, whose
    // output is disabled here (bit 1 clear).
    unsafe {
        let saved = gate.read();
        gate.write((saved & !0x02) | 0x01);
        command.write(0b1011_0000); // channel 2, lobyte/hibyte, mode 0, binary
        channel2.write((count & 0xff) as u8);
        channel2.write((count >> 8) as u8);
        if gate.read() & 0x20 != 0 {
            // OUT2 must be low right after a mode-0 write: no PIT here.
            gate.write(saved);
            return None;
        }
        let start = now();
        // A 100 GHz TSC would still not reach this bound in a real window.
        let bound = start + PIT_WINDOW_US * 100_000;
        let result = loop {
            if gate.read() & 0x20 != 0 {
                break Some((now() - start) * 1000 / PIT_WINDOW_US);
            }
            if now() > bound {
                break None;
            }
        };
        gate.write(saved);
        // Below 100 MHz is no x86_64 TSC: the PIT did not count honestly.
        result.filter(|&khz| khz > 100_000)
    }
}

static TIMELINE: spin::Mutex<Timeline> = spin::Mutex::new(Timeline::new());

/// Marks the end of `stage` on the boot timeline (the heap must be up).
pub fn stamp(stage: Stage) {
    let at = match stage {
        Stage::Entry => super::entry::entry_tsc(),
        _ => now(),
    };
    TIMELINE.lock().record(stage, at);
}

/// Prints the timeline: a table, then one machine-readable line.
pub fn report_timeline() {
    let timeline = TIMELINE.lock();
    log::info!("boot timeline (us since entry):");
    log::info!("  {:<10} {:>10} {:>10}", "stage", "at", "took");
    for (stage, at, took) in timeline.rows(khz()) {
        log::info!("  {stage:<10} {at:>10} {took:>10}");
    }
    log::info!("{}", timeline.machine_line(khz()));
}
