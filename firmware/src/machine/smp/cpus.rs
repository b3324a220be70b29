//! The CPUs baton runs, as the BSP and the APs share them: each AP's
//! memory and mailbox, the online and started masks, how an AP parks. The
//! bring-up that fills it and the BSP's commands are `smp`; the AP's own
//! side is `park`: both use this, neither the other's way back.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use baton::smp::cpumask::CpuMask;
use baton::smp::mailbox::Mailbox;
use payload_loader::Range as PhysRange;
use spin::Once;

use crate::machine::platform::gdt::{CpuTables, IST_COUNT};
use crate::machine::platform::lapic::Lapic;

/// Each AP's own memory, in this order: its GDT and TSS, three IST stacks
/// (NMI, #DF, #MC), its stack.
const TABLES_SIZE: u64 = 4096;
const AP_IST_SIZE: u64 = 8 * 1024;
const AP_STACK_SIZE: u64 = 32 * 1024;
pub(super) const AREA_SIZE: u64 = TABLES_SIZE + IST_COUNT as u64 * AP_IST_SIZE + AP_STACK_SIZE;
const _: () = assert!(core::mem::size_of::<CpuTables>() as u64 <= TABLES_SIZE);

/// How a parked AP waits for its next command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitMode {
    /// MONITOR on its control line, MWAIT: a store to the line wakes it.
    Mwait,
    /// HLT with interrupts on: the BSP sends `WAKE_VECTOR` after posting.
    Hlt,
}

impl core::fmt::Display for WaitMode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            WaitMode::Mwait => "Mwait",
            WaitMode::Hlt => "Hlt",
        })
    }
}

/// An AP baton knows: from the MADT, with its own memory.
pub struct Ap {
    pub apic_id: u32,
    pub uid: u32,
    pub(super) area: u64,
}

impl Ap {
    pub fn tables(&self) -> *mut CpuTables {
        self.area as *mut CpuTables
    }

    pub fn ist_tops(&self) -> [u64; IST_COUNT] {
        core::array::from_fn(|i| self.area + TABLES_SIZE + (i as u64 + 1) * AP_IST_SIZE)
    }

    pub fn stack(&self) -> PhysRange {
        let top = self.area + AREA_SIZE;
        PhysRange::new(top - AP_STACK_SIZE, top)
    }
}

/// Every CPU baton runs, as the BSP and the APs share it.
pub struct Cpus {
    pub lapic: &'static Lapic,
    pub wait_mode: WaitMode,
    /// Indexed by slot number.
    pub aps: Vec<Ap>,
    pub(super) mailboxes: Vec<Mailbox>,
    /// APs that reached their park loop.
    pub online: CpuMask,
    /// APs that were sent a SIPI (the takeover INITs every one of them).
    pub started: CpuMask,
    /// What each AP found itself to be on arrival (before its online bit).
    pub(super) arrivals: Vec<Arrival>,
    pub(super) timeout_ms: u64,
    /// The MADT's LAPIC NMI entries: each AP programs its LINT pins.
    pub nmis: Vec<baton::acpi::madt::LapicNmi>,
    /// `inject=late-ap:ID`: this AP comes online only once the stop began.
    pub late_ap: Option<u32>,
}

/// An AP's own report as it comes online: its APIC ID and its stack
/// pointer, so the BSP can check both without a round trip.
#[derive(Default)]
pub(super) struct Arrival {
    pub(super) apic_id: AtomicU64,
    pub(super) rsp: AtomicU64,
}

pub(super) static CPUS: Once<Cpus> = Once::new();

pub fn cpus() -> Option<&'static Cpus> {
    CPUS.get()
}

impl Cpus {
    /// Called by the AP in `slot` on arrival, before it sets its online bit.
    pub fn arrive(&self, slot: usize, apic_id: u32, rsp: u64) {
        if let Some(a) = self.arrivals.get(slot) {
            a.apic_id.store(apic_id.into(), Ordering::Relaxed);
            a.rsp.store(rsp, Ordering::Relaxed);
        }
    }

    pub fn mailbox(&self, slot: usize) -> &Mailbox {
        &self.mailboxes[slot]
    }

    /// The APIC IDs of the APs in `slots`. One function (a loop, not a
    /// `collect`) for the IPI rounds and the stop's lines.
    pub fn apic_ids(&self, slots: &[usize]) -> Vec<u32> {
        let mut ids = Vec::with_capacity(slots.len());
        for &slot in slots {
            ids.push(self.aps[slot].apic_id);
        }
        ids
    }
}
