//! What bring-up will do, decided before any IPI: which CPUs to start, the
//! page the trampoline goes in, and the INIT-SIPI-SIPI delays.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use payload_loader::Range;

use super::apic::{Mode, XAPIC_MAX_ID};
use crate::acpi::madt::Topology;
use payload_loader::{MemoryKind, MemoryMap};

/// An AP to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its local APIC ID.
    pub apic_id: u32,
    /// Its ACPI processor UID.
    pub uid: u32,
}

/// The APs to start, and the enabled CPUs left out with the reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Targets {
    /// The APs to start, in MADT order.
    pub aps: Vec<Target>,
    /// CPUs the MADT lists as enabled that will not be started, and why.
    pub left_out: Vec<String>,
}

/// The enabled APs of `topology` that `mode` can address, each once.
pub fn targets(topology: &Topology, bsp_apic_id: u32, mode: Mode) -> Targets {
    let mut t = Targets::default();
    for cpu in topology.cpus.iter().filter(|c| c.enabled) {
        let id = cpu.apic_id;
        if id == bsp_apic_id {
            continue;
        }
        let problem = if t.aps.iter().any(|a| a.apic_id == id) {
            Some("listed twice in the MADT")
        } else if mode == Mode::XApic && id > XAPIC_MAX_ID {
            Some("above 0xfe, which xAPIC mode cannot address (this CPU has no x2APIC)")
        } else if id == u32::MAX {
            Some("the x2APIC broadcast ID")
        } else {
            None
        };
        match problem {
            Some(why) => t.left_out.push(format!(
                "CPU UID {} APIC ID {id:#x} is not started: {why}",
                cpu.uid
            )),
            None => t.aps.push(Target {
                apic_id: id,
                uid: cpu.uid,
            }),
        }
    }
    t
}

/// The SIPI vector is a page number below 1 MiB; page 0 holds the real-mode
/// interrupt table, and the trampoline needs one page.
const TRAMPOLINE_LOWEST: u64 = 0x1000;
const TRAMPOLINE_END: u64 = 0x10_0000;
const PAGE: u64 = 0x1000;

/// The highest page below 1 MiB that the memory map calls usable and that
/// no range in `reserved` touches. High, because low memory holds the BIOS
/// data area and coreboot's forward table at 0x500.
pub fn trampoline_page(map: &MemoryMap, reserved: &[Range]) -> Option<u64> {
    (TRAMPOLINE_LOWEST / PAGE..TRAMPOLINE_END / PAGE)
        .rev()
        .map(|p| p * PAGE)
        .find(|&page| {
            map.covers(page, PAGE, |k| k == MemoryKind::Usable)
                && reserved
                    .iter()
                    .all(|r| r.end <= page || page + PAGE <= r.start)
        })
}

/// Delays of the INIT-SIPI-SIPI sequence, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipiTiming {
    /// After INIT, before the first SIPI.
    pub after_init_us: u64,
    /// After each SIPI.
    pub after_sipi_us: u64,
}

impl SipiTiming {
    /// The MultiProcessor Specification's delays (10 ms, 200 us), for old
    /// machines and for comparison.
    pub const LEGACY: Self = Self {
        after_init_us: 10_000,
        after_sipi_us: 200,
    };
    /// What Linux uses on CPUs from the P6 family on: no wait after INIT,
    /// 10 us after each SIPI.
    pub const MODERN: Self = Self {
        after_init_us: 0,
        after_sipi_us: 10,
    };
}

impl core::fmt::Display for SipiTiming {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = match *self {
            Self::LEGACY => "legacy",
            Self::MODERN => "modern",
            _ => "custom",
        };
        write!(
            f,
            "{name} timing: INIT, {} us, SIPI, {} us, SIPI, {} us",
            self.after_init_us, self.after_sipi_us, self.after_sipi_us
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acpi::madt::Cpu;
    use payload_loader::RawEntry;

    fn cpu(uid: u32, apic_id: u32, enabled: bool) -> Cpu {
        Cpu {
            uid,
            apic_id,
            enabled,
            online_capable: !enabled,
            x2apic_entry: apic_id > 0xfe,
            is_bsp: apic_id == 0,
        }
    }

    #[test]
    fn targets_skip_bsp_disabled_duplicates_and_unaddressable() {
        let topology = Topology {
            cpus: alloc::vec![
                cpu(0, 0, true),
                cpu(1, 1, true),
                cpu(2, 2, false),
                cpu(3, 1, true),
                cpu(4, 0x100, true),
            ],
            ..Topology::default()
        };
        let x = targets(&topology, 0, Mode::XApic);
        assert_eq!(x.aps, [Target { apic_id: 1, uid: 1 }]);
        assert_eq!(x.left_out.len(), 2, "{:?}", x.left_out);
        assert!(x.left_out[0].contains("UID 3 APIC ID 0x1") && x.left_out[0].contains("twice"));
        assert!(x.left_out[1].contains("APIC ID 0x100") && x.left_out[1].contains("xAPIC"));
        let x2 = targets(&topology, 0, Mode::X2Apic);
        assert_eq!(x2.aps.len(), 2);
        assert_eq!(x2.aps[1].apic_id, 0x100);
    }

    fn map(entries: &[(u64, u64, MemoryKind)]) -> MemoryMap {
        let raw: Vec<RawEntry> = entries
            .iter()
            .map(|&(base, size, kind)| RawEntry { base, size, kind })
            .collect();
        MemoryMap::from_entries(&raw).unwrap()
    }

    #[test]
    fn trampoline_takes_the_highest_free_low_page() {
        // QEMU's map: usable 0..0x9fc00, reserved EBDA, ROM area, RAM from 1 MiB.
        let m = map(&[
            (0, 0x9fc00, MemoryKind::Usable),
            (0x9fc00, 0x400, MemoryKind::Reserved),
            (0xf0000, 0x10000, MemoryKind::Reserved),
            (0x10_0000, 0x700_0000, MemoryKind::Usable),
        ]);
        assert_eq!(trampoline_page(&m, &[]), Some(0x9e000));
        // A boot structure in that page pushes it down.
        let boot_structure = Range::new(0x9e800, 0x9e810);
        assert_eq!(
            trampoline_page(&m, core::slice::from_ref(&boot_structure)),
            Some(0x9d000)
        );
        // A map with nothing usable below 1 MiB but page 0 leaves none.
        let none = map(&[
            (0, 0x1000, MemoryKind::Usable),
            (0x10_0000, 0x10_0000, MemoryKind::Usable),
        ]);
        assert_eq!(trampoline_page(&none, &[]), None);
    }
}
