//! Step 2: the MADT, found from the RSDP through the XSDT (revision >= 2)
//! or the RSDT. Minimal and bounded: every table's length and checksum is
//! checked before its entries are read.

use alloc::vec::Vec;

use crate::phys;
use crate::{fail, say};

const SDT_HEADER: u64 = 36;
/// Bounds: no real table is larger, no real root table points at more.
const MAX_TABLE: u32 = 1 << 20;
const MAX_ROOT_ENTRIES: usize = 256;
const MADT_ENTRIES_AT: usize = 44;
const MADT_LAPIC_ADDR_AT: usize = 36;
const ENTRY_LAPIC: u8 = 0;
const ENTRY_LAPIC_OVERRIDE: u8 = 5;
const ENTRY_X2APIC: u8 = 9;
const FLAG_ENABLED: u32 = 1;

pub struct Madt {
    /// The xAPIC MMIO base (the 64-bit override if the MADT has one).
    pub lapic_addr: u64,
    /// APIC IDs of the enabled processors (the BSP among them).
    pub apic_ids: Vec<u32>,
}

/// A checked table: its bytes, length from its header, checksum 0.
fn table(addr: u64) -> &'static [u8] {
    let Some(len) = phys::slice(addr, SDT_HEADER).and_then(|h| phys::u32_at(h, 4)) else {
        fail!("ACPI table at {addr:#x} is outside the identity map");
    };
    if u64::from(len) < SDT_HEADER || len > MAX_TABLE {
        fail!("ACPI table at {addr:#x}: length {len} out of range");
    }
    let Some(t) = phys::slice(addr, u64::from(len)) else {
        fail!("ACPI table [{addr:#x}..+{len:#x}) is outside the identity map");
    };
    let sum = phys::sum(t);
    if sum != 0 {
        fail!(
            "ACPI table {} at {addr:#x}: checksum {sum:#x}, not 0",
            phys::Printable(&t[..4])
        );
    }
    t
}

pub fn madt(rsdp: &[u8]) -> Madt {
    let xsdt = if rsdp.get(15).copied().unwrap_or(0) >= 2 {
        phys::u64_at(rsdp, 24).unwrap_or(0)
    } else {
        0
    };
    let (root_addr, width) = if xsdt != 0 {
        (xsdt, 8)
    } else {
        (u64::from(phys::u32_at(rsdp, 16).unwrap_or(0)), 4)
    };
    let root = table(root_addr);
    let entries = root.get(SDT_HEADER as usize..).unwrap_or(&[]);
    let mut madt_addr = None;
    for e in entries.chunks_exact(width).take(MAX_ROOT_ENTRIES) {
        let addr = if width == 8 {
            phys::u64_at(e, 0).unwrap_or(0)
        } else {
            u64::from(phys::u32_at(e, 0).unwrap_or(0))
        };
        if phys::slice(addr, 4) == Some(b"APIC".as_slice()) {
            madt_addr = Some(addr);
            break;
        }
    }
    let Some(addr) = madt_addr else {
        fail!(
            "no MADT (\"APIC\") among the {} entries of the {} at {root_addr:#x}",
            entries.len() / width,
            if width == 8 { "XSDT" } else { "RSDT" }
        );
    };
    let t = table(addr);
    let mut lapic_addr = u64::from(phys::u32_at(t, MADT_LAPIC_ADDR_AT).unwrap_or(0));
    let mut apic_ids = Vec::new();
    let mut at = MADT_ENTRIES_AT;
    while at + 2 <= t.len() {
        let kind = t[at];
        let len = usize::from(t[at + 1]);
        let Some(e) = t.get(at..at + len).filter(|_| len >= 2) else {
            fail!("MADT at {addr:#x}: entry at offset {at} has length {len}");
        };
        match kind {
            ENTRY_LAPIC if len >= 8 && phys::u32_at(e, 4).unwrap_or(0) & FLAG_ENABLED != 0 => {
                apic_ids.push(u32::from(e[3]));
            }
            ENTRY_X2APIC if len >= 16 && phys::u32_at(e, 8).unwrap_or(0) & FLAG_ENABLED != 0 => {
                apic_ids.push(phys::u32_at(e, 4).unwrap_or(0));
            }
            ENTRY_LAPIC_OVERRIDE if len >= 12 => {
                lapic_addr = phys::u64_at(e, 4).unwrap_or(lapic_addr);
            }
            _ => {}
        }
        at += len;
    }
    say!(
        "MADT at {addr:#x}: {} enabled CPUs, LAPIC at {lapic_addr:#x}, APIC IDs {:?}",
        apic_ids.len(),
        apic_ids
    );
    Madt {
        lapic_addr,
        apic_ids,
    }
}
