//! Time from the TSC. Its frequency comes from CPUID leaf 0x15 (crystal
//! ratio) or 0x16 (base MHz) where present, else from PIT channel 2; with
//! neither, an assumed clock (waits are then only approximate).

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::instructions::port::Port;

const PIT_HZ: u64 = 1_193_182;
/// Long enough for a few hundred ppm even when TCG stalls the vCPU a little.
const PIT_WINDOW_US: u64 = 10_000;
const ASSUMED_KHZ: u64 = 2_000_000;
/// Below 100 MHz is no x86_64 TSC: the measurement went wrong.
const MIN_KHZ: u64 = 100_000;

const PIT_GATE: u16 = 0x61;
const PIT_COMMAND: u16 = 0x43;
const PIT_CHANNEL2: u16 = 0x42;
const GATE_ON: u8 = 0x01;
const SPEAKER: u8 = 0x02;
const OUT2: u8 = 0x20;
/// Channel 2, lobyte/hibyte, mode 0 (one-shot), binary.
const CHANNEL2_ONESHOT: u8 = 0b1011_0000;

static TSC_KHZ: AtomicU64 = AtomicU64::new(ASSUMED_KHZ);

pub fn now() -> u64 {
    // SAFETY: RDTSC has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

pub fn khz() -> u64 {
    TSC_KHZ.load(Ordering::Relaxed)
}

/// The TSC value `ms` milliseconds from now.
pub fn deadline_ms(ms: u64) -> u64 {
    now().saturating_add(ms.saturating_mul(khz()))
}

pub fn delay_us(us: u64) {
    let end = now().saturating_add(us.saturating_mul(khz()) / 1000);
    while now() < end {
        core::hint::spin_loop();
    }
}

pub fn ticks_to_ms(ticks: u64) -> u64 {
    ticks / khz().max(1)
}

/// Calibrates; returns where the frequency came from, for the log.
pub fn calibrate() -> &'static str {
    let cpuid = raw_cpuid::CpuId::new();
    let (khz, source) = if let Some(hz) = cpuid.get_tsc_info().and_then(|t| t.tsc_frequency()) {
        (hz / 1000, "CPUID 0x15")
    } else if let Some(mhz) = cpuid
        .get_processor_frequency_info()
        .map(|f| f.processor_base_frequency())
        .filter(|&m| m != 0)
    {
        (u64::from(mhz) * 1000, "CPUID 0x16")
    } else if let Some(khz) = pit_khz() {
        (khz, "PIT channel 2")
    } else {
        (ASSUMED_KHZ, "assumed")
    };
    TSC_KHZ.store(khz.max(MIN_KHZ), Ordering::Relaxed);
    source
}

/// TSC ticks over a PIT channel 2 one-shot; None if the PIT does not count.
fn pit_khz() -> Option<u64> {
    let count = PIT_HZ * PIT_WINDOW_US / 1_000_000;
    let mut gate: Port<u8> = Port::new(PIT_GATE);
    let mut command: Port<u8> = Port::new(PIT_COMMAND);
    let mut channel2: Port<u8> = Port::new(PIT_CHANNEL2);
    // SAFETY: legacy PIT ports; channel 2 drives only the speaker, whose
    // output stays disabled.
    unsafe {
        let saved = gate.read();
        gate.write((saved & !SPEAKER) | GATE_ON);
        command.write(CHANNEL2_ONESHOT);
        channel2.write((count & 0xff) as u8);
        channel2.write((count >> 8) as u8);
        if gate.read() & OUT2 != 0 {
            // OUT2 must be low right after a mode-0 write: no PIT here.
            gate.write(saved);
            return None;
        }
        let start = now();
        // A 100 GHz TSC would still not reach this bound within the window.
        let bound = start + PIT_WINDOW_US * 100_000;
        let result = loop {
            if gate.read() & OUT2 != 0 {
                break Some((now() - start) * 1000 / PIT_WINDOW_US);
            }
            if now() > bound {
                break None;
            }
        };
        gate.write(saved);
        result.filter(|&khz| khz > MIN_KHZ)
    }
}
