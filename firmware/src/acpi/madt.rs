//! The MADT, entry by entry: each entry's length is checked (at least 2,
//! inside the table, at least its structure's size) before it is read.
//! The result is the CPU topology: every Local APIC and Local x2APIC with
//! its UID, APIC ID and flags, the BSP found by its own APIC ID, plus the
//! I/O APICs, interrupt source overrides and LAPIC NMI entries.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::error::{AcpiError, Signature};
use super::sdt::HEADER_SIZE;
use crate::support::phys::{le_u32, le_u64};

/// Bytes before the first entry: header, LAPIC address, flags.
pub const ENTRIES_OFFSET: usize = HEADER_SIZE + 8;

const LOCAL_APIC: u8 = 0;
const IO_APIC: u8 = 1;
const INTERRUPT_OVERRIDE: u8 = 2;
const LAPIC_NMI: u8 = 4;
const LAPIC_ADDRESS_OVERRIDE: u8 = 5;
const LOCAL_X2APIC: u8 = 9;
const X2APIC_NMI: u8 = 10;

/// The size of each structure baton reads; other types are skipped by length.
fn min_length(kind: u8) -> u8 {
    match kind {
        LOCAL_APIC => 8,
        IO_APIC => 12,
        INTERRUPT_OVERRIDE => 10,
        LAPIC_NMI => 6,
        LAPIC_ADDRESS_OVERRIDE => 12,
        LOCAL_X2APIC => 16,
        X2APIC_NMI => 12,
        _ => 2,
    }
}

const FLAG_ENABLED: u32 = 1;
const FLAG_ONLINE_CAPABLE: u32 = 2;

/// One processor of the MADT (Local APIC or Local x2APIC entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cpu {
    /// ACPI processor UID.
    pub uid: u32,
    /// Local APIC ID.
    pub apic_id: u32,
    /// Enabled at boot.
    pub enabled: bool,
    /// Not enabled, but may be brought online.
    pub online_capable: bool,
    /// Listed by a Local x2APIC entry (type 9) rather than a Local APIC (type 0).
    pub x2apic_entry: bool,
    /// The CPU baton runs on.
    pub is_bsp: bool,
}

/// An I/O APIC of the MADT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoApic {
    /// I/O APIC ID.
    pub id: u8,
    /// Physical address of its registers.
    pub address: u32,
    /// The first global system interrupt it serves.
    pub gsi_base: u32,
}

/// An interrupt source override of the MADT (an ISA IRQ routed elsewhere).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterruptOverride {
    /// The bus (0: ISA).
    pub bus: u8,
    /// The bus-relative IRQ.
    pub source: u8,
    /// The global system interrupt it arrives as.
    pub gsi: u32,
    /// MPS INTI flags (polarity, trigger mode).
    pub flags: u16,
}

/// A Local APIC NMI entry of the MADT: which LINT pin is NMI, for whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LapicNmi {
    /// ACPI processor UID, or `u32::MAX` for all processors.
    pub uid: u32,
    /// The LINT pin (0 or 1).
    pub lint: u8,
    /// MPS INTI flags (polarity, trigger mode).
    pub flags: u16,
}

impl LapicNmi {
    /// LVT delivery mode NMI.
    const LVT_NMI: u32 = 0x400;
    /// LVT input pin polarity: active low.
    const LVT_ACTIVE_LOW: u32 = 1 << 13;

    /// Whether the entry is for the processor with ACPI UID `uid`.
    pub fn applies_to(&self, uid: u32) -> bool {
        self.uid == u32::MAX || self.uid == uid
    }

    /// The value for LVT LINT0 or LINT1 (`lint`): NMI delivery, the
    /// polarity the MPS INTI flags give (bits 0-1: 3 is active low; 0,
    /// "conforming", is active high for LINT), unmasked. The trigger mode
    /// is left edge: the SDM has NMI delivery always edge-sensitive.
    pub fn lvt(&self) -> u32 {
        match self.flags & 0b11 {
            0b11 => Self::LVT_NMI | Self::LVT_ACTIVE_LOW,
            _ => Self::LVT_NMI,
        }
    }
}

/// The CPU topology and interrupt controllers the MADT describes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    /// Physical address of the local APICs (the MADT's, or its 64-bit override).
    pub lapic_address: u64,
    /// The 8259 PICs are present too (MADT flag PCAT_COMPAT).
    pub pcat_compat: bool,
    /// Every processor entry, in MADT order.
    pub cpus: Vec<Cpu>,
    /// The I/O APICs.
    pub io_apics: Vec<IoApic>,
    /// The interrupt source overrides.
    pub overrides: Vec<InterruptOverride>,
    /// The Local APIC NMI entries.
    pub nmis: Vec<LapicNmi>,
    /// Problems that do not stop the boot, each naming the CPU and numbers.
    pub warnings: Vec<String>,
}

impl Topology {
    /// CPUs the MADT lists, usable or not (QEMU lists `maxcpus` of them).
    pub fn present(&self) -> usize {
        self.cpus.len()
    }

    /// How many CPUs the MADT marks enabled.
    pub fn enabled(&self) -> usize {
        self.cpus.iter().filter(|c| c.enabled).count()
    }

    /// The boot processor, if the topology knows which it is.
    pub fn bsp(&self) -> Option<&Cpu> {
        self.cpus.iter().find(|c| c.is_bsp)
    }
}

/// Walks the validated MADT `table` (header included). `bsp_apic_id` is
/// the running CPU's own APIC ID; `x2apic` says whether it can address IDs
/// above 0xfe.
pub fn parse(table: &[u8], bsp_apic_id: u32, x2apic: bool) -> Result<Topology, AcpiError> {
    if table.len() < ENTRIES_OFFSET {
        return Err(AcpiError::TableTooShort {
            signature: Signature(*b"APIC"),
            addr: 0,
            length: table.len() as u32,
            min: ENTRIES_OFFSET as u32,
        });
    }
    let mut t = Topology {
        lapic_address: le_u32(table, HEADER_SIZE).into(),
        pcat_compat: le_u32(table, HEADER_SIZE + 4) & 1 != 0,
        ..Topology::default()
    };
    let mut offset = ENTRIES_OFFSET;
    let mut index = 0;
    while offset < table.len() {
        let kind = table[offset];
        let err = |length: u8, reason| AcpiError::MadtEntry {
            index,
            offset,
            kind,
            length,
            reason,
        };
        let Some(&length) = table.get(offset + 1) else {
            return Err(err(0, "the length byte lies past the end of the table"));
        };
        if length < 2 {
            return Err(err(
                length,
                "length below 2 (a zero length would loop forever)",
            ));
        }
        if offset + usize::from(length) > table.len() {
            return Err(err(length, "runs past the end of the table"));
        }
        if length < min_length(kind) {
            return Err(err(length, "shorter than its structure"));
        }
        // The entry's first 16 bytes (every structure read here fits, and
        // `min_length` was checked): fields at fixed offsets of an array
        // need no bounds checks (saves 192 bytes).
        let mut e = [0u8; 16];
        let n = usize::from(length).min(e.len());
        e[..n].copy_from_slice(&table[offset..offset + n]);
        match kind {
            LOCAL_APIC => {
                let flags = le_u32(&e, 4);
                t.cpus.push(Cpu {
                    uid: e[2].into(),
                    apic_id: e[3].into(),
                    enabled: flags & FLAG_ENABLED != 0,
                    online_capable: flags & FLAG_ONLINE_CAPABLE != 0,
                    x2apic_entry: false,
                    is_bsp: false,
                });
            }
            LOCAL_X2APIC => {
                let flags = le_u32(&e, 8);
                t.cpus.push(Cpu {
                    uid: le_u32(&e, 12),
                    apic_id: le_u32(&e, 4),
                    enabled: flags & FLAG_ENABLED != 0,
                    online_capable: flags & FLAG_ONLINE_CAPABLE != 0,
                    x2apic_entry: true,
                    is_bsp: false,
                });
            }
            IO_APIC => t.io_apics.push(IoApic {
                id: e[2],
                address: le_u32(&e, 4),
                gsi_base: le_u32(&e, 8),
            }),
            INTERRUPT_OVERRIDE => t.overrides.push(InterruptOverride {
                bus: e[2],
                source: e[3],
                gsi: le_u32(&e, 4),
                flags: u16::from_le_bytes([e[8], e[9]]),
            }),
            LAPIC_NMI => t.nmis.push(LapicNmi {
                uid: if e[2] == 0xff { u32::MAX } else { e[2].into() },
                flags: u16::from_le_bytes([e[3], e[4]]),
                lint: e[5],
            }),
            X2APIC_NMI => t.nmis.push(LapicNmi {
                flags: u16::from_le_bytes([e[2], e[3]]),
                uid: le_u32(&e, 4),
                lint: e[8],
            }),
            LAPIC_ADDRESS_OVERRIDE => t.lapic_address = le_u64(&e, 4),
            _ => {}
        }
        offset += usize::from(length);
        index += 1;
    }
    check(&mut t, bsp_apic_id, x2apic);
    Ok(t)
}

/// Marks the BSP and reports duplicates, unreachable IDs and a missing BSP.
fn check(t: &mut Topology, bsp_apic_id: u32, x2apic: bool) {
    let listed = |c: &Cpu| c.enabled || c.online_capable;
    for i in 0..t.cpus.len() {
        // The IDs seen are those of the earlier entries still listed (a
        // duplicate is unlisted below): no vector of them (saves 64 bytes).
        let (earlier, rest) = t.cpus.split_at_mut(i);
        let Some((cpu, _)) = rest.split_first_mut() else {
            break;
        };
        if !listed(cpu) {
            continue;
        }
        if earlier
            .iter()
            .any(|c| listed(c) && c.apic_id == cpu.apic_id)
        {
            t.warnings.push(format!(
                "APIC ID {:#x} (UID {}) is listed twice; the second entry is ignored",
                cpu.apic_id, cpu.uid
            ));
            cpu.enabled = false;
            cpu.online_capable = false;
            continue;
        }
        if cpu.apic_id == 0xff && !cpu.x2apic_entry {
            t.warnings.push(format!(
                "UID {} has APIC ID 0xff, the xAPIC broadcast ID: unusable",
                cpu.uid
            ));
        } else if cpu.apic_id > 0xfe && !x2apic {
            t.warnings.push(format!(
                "APIC ID {:#x} (UID {}) needs x2APIC, which this CPU lacks: it cannot be started",
                cpu.apic_id, cpu.uid
            ));
        }
        cpu.is_bsp = cpu.apic_id == bsp_apic_id;
    }
    if !t.cpus.iter().any(|c| c.is_bsp) {
        t.warnings.push(format!(
            "the running CPU (APIC ID {bsp_apic_id:#x}) is not in the MADT"
        ));
    }
}
