//! Step 4: start every enabled AP of the MADT, first with a bare SIPI (only
//! an AP in wait-for-SIPI answers one), then with INIT-SIPI-SIPI. Each AP
//! runs `ap.s` from a page below 1 MiB: one locked increment, then halt.

use core::arch::global_asm;
use core::sync::atomic::{AtomicU32, Ordering};

use payload_loader::{MemoryKind, MemoryRegion};
use x86_64::registers::model_specific::Msr;

use crate::acpi::Madt;
use crate::entry::PAGE_SIZE;
use crate::options::SipiOnly;
use crate::{fail, say, time};

global_asm!(include_str!("ap.s"), options(att_syntax));

unsafe extern "C" {
    static probe_ap_start: u8;
    static probe_ap_counter: u8;
    static probe_ap_end: u8;
}

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_BASE_X2APIC: u64 = 1 << 10;
const APIC_BASE_ENABLE: u64 = 1 << 11;
const X2APIC_MSR_BASE: u32 = 0x800;
/// xAPIC register offsets; x2APIC MSR = 0x800 + offset / 16.
const REG_ID: u64 = 0x20;
const REG_SVR: u64 = 0xf0;
const REG_ICR_LOW: u64 = 0x300;
const REG_ICR_HIGH: u64 = 0x310;
const SVR_ENABLE: u32 = 1 << 8;
const SPURIOUS_VECTOR: u32 = 0xff;
const ICR_INIT: u32 = 0x500;
const ICR_STARTUP: u32 = 0x600;
const ICR_NMI: u32 = 0x400;
/// How long APs get after their NMI to go wrong (fault, reset the machine)
/// before the rounds begin.
const NMI_SETTLE_US: u64 = 50_000;
const ICR_LEVEL_ASSERT: u32 = 1 << 14;
const ICR_TRIGGER_LEVEL: u32 = 1 << 15;
const ICR_PENDING: u32 = 1 << 12;
/// SIPI vectors address pages below 1 MiB.
const SIPI_LIMIT: u64 = 0x10_0000;
/// Spec delays (Intel SDM MP init): 10 ms after INIT, 200 us between SIPIs.
const INIT_DELAY_US: u64 = 10_000;
const SIPI_DELAY_US: u64 = 200;
const ICR_SPIN_LIMIT: u32 = 1_000_000;

enum Lapic {
    X1(u64),
    X2,
}

impl Lapic {
    fn read(&self, reg: u64) -> u32 {
        match self {
            // SAFETY: LAPIC MMIO inside the identity map.
            Lapic::X1(base) => unsafe { core::ptr::read_volatile((base + reg) as *const u32) },
            // SAFETY: x2APIC mode is on, so its MSRs exist.
            Lapic::X2 => unsafe { Msr::new(X2APIC_MSR_BASE + (reg >> 4) as u32).read() as u32 },
        }
    }

    fn write(&self, reg: u64, value: u32) {
        match self {
            // SAFETY: LAPIC MMIO inside the identity map.
            Lapic::X1(base) => unsafe {
                core::ptr::write_volatile((base + reg) as *mut u32, value)
            },
            // SAFETY: x2APIC mode is on, so its MSRs exist.
            Lapic::X2 => unsafe {
                Msr::new(X2APIC_MSR_BASE + (reg >> 4) as u32).write(u64::from(value))
            },
        }
    }

    fn id(&self) -> u32 {
        match self {
            Lapic::X1(_) => self.read(REG_ID) >> 24,
            Lapic::X2 => self.read(REG_ID),
        }
    }

    fn ipi(&self, apic_id: u32, command: u32) {
        match self {
            Lapic::X1(_) => {
                self.write(REG_ICR_HIGH, apic_id << 24);
                self.write(REG_ICR_LOW, command);
                for _ in 0..ICR_SPIN_LIMIT {
                    if self.read(REG_ICR_LOW) & ICR_PENDING == 0 {
                        return;
                    }
                    core::hint::spin_loop();
                }
                fail!("IPI {command:#x} to APIC ID {apic_id} still pending");
            }
            // SAFETY: x2APIC ICR: one 64-bit write, destination in the top half.
            Lapic::X2 => unsafe {
                Msr::new(X2APIC_MSR_BASE + (REG_ICR_LOW >> 4) as u32)
                    .write((u64::from(apic_id) << 32) | u64::from(command))
            },
        }
    }
}

/// The AP page: its counter, as the APs and the BSP share it.
struct ApPage {
    page: u64,
    counter: &'static AtomicU32,
}

impl ApPage {
    /// Copies the AP code to the lowest page below 1 MiB that the map calls
    /// usable (the probe overwrote it already; nothing else lives there).
    fn install(map: &[MemoryRegion]) -> Self {
        let start = &raw const probe_ap_start as u64;
        let len = &raw const probe_ap_end as u64 - start;
        let counter_at = &raw const probe_ap_counter as u64 - start;
        let page = map
            .iter()
            .filter(|r| r.kind == MemoryKind::Usable)
            .map(|r| (r.start.max(PAGE_SIZE).next_multiple_of(PAGE_SIZE), r.end))
            .find(|&(p, end)| p + PAGE_SIZE <= end.min(SIPI_LIMIT))
            .map(|(p, _)| p);
        let Some(page) = page else {
            fail!("no usable page below 1 MiB for the AP code");
        };
        // SAFETY: the page is usable RAM (not the probe's, not page 0) in
        // the identity map; the code is `len` bytes of .rodata.
        unsafe {
            core::ptr::copy_nonoverlapping(start as *const u8, page as *mut u8, len as usize);
        }
        // SAFETY: 4-aligned u32 inside the page just written; the APs only
        // touch it with locked instructions.
        let counter = unsafe { AtomicU32::from_ptr((page + counter_at) as *mut u32) };
        say!(
            "AP code at {page:#x} ({len} bytes), counter at {:#x}",
            page + counter_at
        );
        Self { page, counter }
    }

    fn vector(&self) -> u32 {
        (self.page / PAGE_SIZE) as u32
    }

    /// Waits until `want` APs counted themselves or the timeout passed.
    fn wait(&self, want: u32, timeout_ms: u64) -> u32 {
        let end = time::deadline_ms(timeout_ms);
        loop {
            let n = self.counter.load(Ordering::SeqCst);
            if n >= want || time::now() >= end {
                return n;
            }
            core::hint::spin_loop();
        }
    }
}

/// Runs both rounds; returns a failure reason, if any, after both ran.
pub fn run(
    madt: &Madt,
    map: &[MemoryRegion],
    timeout_ms: u64,
    sipi_only: SipiOnly,
    nmi_aps: bool,
) -> Option<alloc::string::String> {
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
    let apic_base = unsafe { Msr::new(IA32_APIC_BASE).read() };
    let lapic = if apic_base & APIC_BASE_X2APIC != 0 {
        Lapic::X2
    } else {
        Lapic::X1(madt.lapic_addr)
    };
    let bsp = lapic.id();
    let aps: alloc::vec::Vec<u32> = madt
        .apic_ids
        .iter()
        .copied()
        .filter(|&id| id != bsp)
        .collect();
    say!(
        "LAPIC in {} mode, BSP APIC ID {bsp}, {} APs",
        if matches!(lapic, Lapic::X2) {
            "x2APIC"
        } else {
            "xAPIC"
        },
        aps.len()
    );
    if matches!(lapic, Lapic::X1(_))
        && let Some(id) = aps.iter().find(|&&id| id > 0xfe)
    {
        fail!("APIC ID {id} cannot be addressed in xAPIC mode");
    }
    // The contract: the BSP's LAPIC enabled, software-enabled with
    // baton's spurious vector (baton sent IPIs through it).
    let svr = lapic.read(REG_SVR);
    if apic_base & APIC_BASE_ENABLE == 0 || svr & 0x1ff != SVR_ENABLE | SPURIOUS_VECTOR {
        fail!(
            "LAPIC: IA32_APIC_BASE={apic_base:#x}, SVR={svr:#x}: the handoff contract gives it enabled with SVR 0x1ff"
        );
    }
    say!("LAPIC enabled, SVR={svr:#x}");
    lapic.write(REG_SVR, svr | SVR_ENABLE | SPURIOUS_VECTOR);
    let page = ApPage::install(map);
    let want = aps.len() as u32;
    let mut failure = None;

    if nmi_aps {
        for &id in &aps {
            lapic.ipi(id, ICR_NMI | ICR_LEVEL_ASSERT);
        }
        time::delay_us(NMI_SETTLE_US);
        say!("NMI sent to {} APs", aps.len());
    }

    page.counter.store(0, Ordering::SeqCst);
    for &id in &aps {
        lapic.ipi(id, ICR_STARTUP | ICR_LEVEL_ASSERT | page.vector());
    }
    let n = match sipi_only {
        SipiOnly::All => page.wait(want, timeout_ms),
        // Nobody should answer: wait the whole timeout for a late one.
        SipiOnly::None | SipiOnly::Any => page.wait(want.saturating_add(1), timeout_ms),
    };
    say!("SIPI-only: {n}/{want} APs answered");
    if sipi_only == SipiOnly::All && n < want {
        failure = Some(alloc::format!(
            "SIPI-only: {n}/{want} APs answered within {timeout_ms} ms (not in wait-for-SIPI)"
        ));
    }
    if sipi_only == SipiOnly::None && n != 0 {
        failure = Some(alloc::format!(
            "SIPI-only: {n}/{want} APs answered, expected none (probe.sipi-only=none)"
        ));
    }

    page.counter.store(0, Ordering::SeqCst);
    for &id in &aps {
        lapic.ipi(id, ICR_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
        // x2APIC has no INIT de-assert.
        if matches!(lapic, Lapic::X1(_)) {
            lapic.ipi(id, ICR_INIT | ICR_TRIGGER_LEVEL);
        }
    }
    time::delay_us(INIT_DELAY_US);
    for _ in 0..2 {
        for &id in &aps {
            lapic.ipi(id, ICR_STARTUP | ICR_LEVEL_ASSERT | page.vector());
        }
        time::delay_us(SIPI_DELAY_US);
    }
    let n = page.wait(want, timeout_ms);
    say!("INIT-SIPI-SIPI: {n}/{want} APs answered");
    if n < want && failure.is_none() {
        failure = Some(alloc::format!(
            "INIT-SIPI-SIPI: {n}/{want} APs answered within {timeout_ms} ms"
        ));
    }
    failure
}
