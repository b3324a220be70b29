//! PVH entry: `struct hvm_start_info` (Xen's arch-x86/hvm/start_info.h),
//! handed over in EBX. QEMU places it, its memory map, module list and
//! strings in memory the map itself calls usable, and on microvm aligns
//! them only to 4 bytes: everything is copied out with unaligned reads.

use alloc::format;
use alloc::vec::Vec;

use crate::entry::{BootInfo, BootInfoError, EntryProtocol, Module, read_c_string};
use crate::support::phys::{PhysMemory, le_u32, le_u64};
use payload_loader::{MemoryKind, MemoryMap, Range, RawEntry};

/// `hvm_start_info.magic`.
pub const START_INFO_MAGIC: u32 = 0x336e_c578;
/// Size of the version-1 structure (the memmap fields came with version 1).
pub const START_INFO_SIZE: usize = 56;
/// Bytes in a module-list entry.
pub const MODLIST_ENTRY_SIZE: u64 = 32;
/// Bytes in a memory-map entry.
pub const MEMMAP_ENTRY_SIZE: u64 = 24;
/// More modules than this is a corrupt count.
pub const MAX_MODULES: u32 = 64;

/// The fixed part of `hvm_start_info`, copied out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartInfo {
    /// Where the structure itself is.
    pub addr: u64,
    /// Structure version (baton needs 1: the memory map).
    pub version: u32,
    /// SIF_* flags.
    pub flags: u32,
    /// Entries in the module list.
    pub nr_modules: u32,
    /// Physical address of the module list.
    pub modlist_paddr: u64,
    /// Physical address of the command line (0: none).
    pub cmdline_paddr: u64,
    /// Physical address of the RSDP (0: none).
    pub rsdp_paddr: u64,
    /// Physical address of the memory map.
    pub memmap_paddr: u64,
    /// Entries in the memory map.
    pub memmap_entries: u32,
}

impl StartInfo {
    /// Reads and checks the header at `addr`.
    pub fn read(mem: &impl PhysMemory, addr: u64) -> Result<Self, BootInfoError> {
        let mut raw = [0u8; START_INFO_SIZE];
        mem.read(addr, &mut raw)
            .map_err(|at| BootInfoError::Unreadable {
                what: "hvm_start_info",
                at,
            })?;
        let magic = le_u32(&raw, 0);
        if magic != START_INFO_MAGIC {
            return Err(BootInfoError::BadMagic {
                what: "hvm_start_info",
                found: magic.into(),
                expected: START_INFO_MAGIC.into(),
            });
        }
        let version = le_u32(&raw, 4);
        if version == 0 {
            // Version 0 has no memory map, and baton has no other source of one.
            return Err(BootInfoError::UnsupportedVersion {
                what: "hvm_start_info",
                version,
                reason: "version 0 carries no memory map (version 1 or later is needed)",
            });
        }
        Ok(Self {
            addr,
            version,
            flags: le_u32(&raw, 8),
            nr_modules: le_u32(&raw, 12),
            modlist_paddr: le_u64(&raw, 16),
            cmdline_paddr: le_u64(&raw, 24),
            rsdp_paddr: le_u64(&raw, 32),
            memmap_paddr: le_u64(&raw, 40),
            memmap_entries: le_u32(&raw, 48),
        })
    }

    /// Reads and sanitizes the memory map.
    pub fn memory_map(&self, mem: &impl PhysMemory) -> Result<MemoryMap, BootInfoError> {
        let count = u64::from(self.memmap_entries);
        if count > payload_loader::memory_map::MAX_ENTRIES as u64 {
            return Err(BootInfoError::TooMany {
                what: "hvm_start_info memmap_entries",
                count,
                max: payload_loader::memory_map::MAX_ENTRIES as u64,
            });
        }
        let mut raw = alloc::vec![0u8; (count * MEMMAP_ENTRY_SIZE) as usize];
        mem.read(self.memmap_paddr, &mut raw)
            .map_err(|at| BootInfoError::Unreadable {
                what: "hvm_start_info memmap",
                at,
            })?;
        let entries: Vec<RawEntry> = raw
            .chunks_exact(MEMMAP_ENTRY_SIZE as usize)
            .map(|e| RawEntry {
                base: le_u64(e, 0),
                size: le_u64(e, 8),
                kind: MemoryKind::from_e820_type(le_u32(e, 16)),
            })
            // microvm ends its map with an all-zero entry: size 0, dropped.
            .collect();
        let map = MemoryMap::from_entries(&entries)?;
        if !map.covers(self.memmap_paddr, raw.len() as u64, MemoryKind::is_readable) {
            return Err(BootInfoError::OutsideRam {
                what: "hvm_start_info memmap".into(),
                start: self.memmap_paddr,
                len: raw.len() as u64,
            });
        }
        Ok(map)
    }

    /// Copies out the command line and the module list, checking that each
    /// lies in memory the map covers.
    pub fn boot_info(
        &self,
        mem: &impl PhysMemory,
        memory_map: MemoryMap,
    ) -> Result<BootInfo, BootInfoError> {
        let map = &memory_map;
        let cmdline = match self.cmdline_paddr {
            0 => alloc::string::String::new(),
            addr => read_c_string(mem, map, addr, &|| "hvm_start_info cmdline".into())?,
        };
        if self.nr_modules > MAX_MODULES {
            return Err(BootInfoError::TooMany {
                what: "hvm_start_info nr_modules",
                count: self.nr_modules.into(),
                max: MAX_MODULES.into(),
            });
        }
        let list_len = u64::from(self.nr_modules) * MODLIST_ENTRY_SIZE;
        if self.nr_modules > 0 && !map.covers(self.modlist_paddr, list_len, MemoryKind::is_readable)
        {
            return Err(BootInfoError::OutsideRam {
                what: "hvm_start_info modlist".into(),
                start: self.modlist_paddr,
                len: list_len,
            });
        }
        let mut modules = Vec::with_capacity(self.nr_modules as usize);
        for index in 0..u64::from(self.nr_modules) {
            let mut e = [0u8; MODLIST_ENTRY_SIZE as usize];
            mem.read(self.modlist_paddr + index * MODLIST_ENTRY_SIZE, &mut e)
                .map_err(|at| BootInfoError::Unreadable {
                    what: "hvm_start_info modlist",
                    at,
                })?;
            // The fourth field (`reserved`) is garbage on microvm: ignored.
            let (start, len, cmdline_paddr) = (le_u64(&e, 0), le_u64(&e, 8), le_u64(&e, 16));
            if !map.covers(start, len, MemoryKind::is_readable) {
                return Err(BootInfoError::OutsideRam {
                    what: format!("module {index}").into(),
                    start,
                    len,
                });
            }
            let cmdline = match cmdline_paddr {
                0 => alloc::string::String::new(),
                addr => read_c_string(mem, map, addr, &|| format!("module {index} cmdline"))?,
            };
            modules.push(Module {
                start,
                len,
                cmdline,
            });
        }
        let mut boot_structures =
            alloc::vec![Range::new(self.addr, self.addr + START_INFO_SIZE as u64)];
        let memmap_len = u64::from(self.memmap_entries) * MEMMAP_ENTRY_SIZE;
        boot_structures.push(Range::new(
            self.memmap_paddr,
            self.memmap_paddr + memmap_len,
        ));
        if self.nr_modules > 0 {
            boot_structures.push(Range::new(
                self.modlist_paddr,
                self.modlist_paddr + list_len,
            ));
        }
        Ok(BootInfo {
            protocol: EntryProtocol::Pvh {
                version: self.version,
            },
            boot_structures,
            memory_map,
            rsdp: (self.rsdp_paddr != 0).then_some(self.rsdp_paddr),
            cmdline,
            modules,
            platform: Default::default(),
        })
    }
}

/// The whole parse in one call (the firmware splits it to extend its
/// identity map between the memory map and the rest).
pub fn parse(mem: &impl PhysMemory, start_info: u64) -> Result<BootInfo, BootInfoError> {
    let info = StartInfo::read(mem, start_info)?;
    let map = info.memory_map(mem)?;
    info.boot_info(mem, map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::phys::FakeMemory;
    use alloc::string::ToString;
    use payload_loader::MemoryRegion as Region;

    const INFO: u64 = 0x1000;
    const MEMMAP: u64 = 0x2000;
    const CMDLINE: u64 = 0x3000;
    const MODLIST: u64 = 0x4000;

    /// A 1 MiB fake machine whose memmap says: [0, 0x9fc00) usable,
    /// [0xf0000, 0x100000) reserved, and 0x100000.. up to 64 MiB usable.
    fn machine() -> FakeMemory {
        let mut m = FakeMemory::new(0, 0x10_0000);
        let mut info = [0u8; START_INFO_SIZE];
        info[0..4].copy_from_slice(&START_INFO_MAGIC.to_le_bytes());
        info[4..8].copy_from_slice(&1u32.to_le_bytes());
        info[24..32].copy_from_slice(&CMDLINE.to_le_bytes());
        info[32..40].copy_from_slice(&0xf5a40u64.to_le_bytes());
        info[40..48].copy_from_slice(&MEMMAP.to_le_bytes());
        info[48..52].copy_from_slice(&3u32.to_le_bytes());
        m.write(INFO, &info);
        set_memmap(
            &mut m,
            &[
                (0, 0x9fc00, 1),
                (0xf0000, 0x10000, 2),
                (0x10_0000, 0x3f0_0000, 1),
            ],
        );
        m.write(CMDLINE, b"log=debug test=panic\0");
        m
    }

    fn set_memmap(m: &mut FakeMemory, entries: &[(u64, u64, u32)]) {
        for (i, (base, size, kind)) in entries.iter().enumerate() {
            let at = MEMMAP + i as u64 * MEMMAP_ENTRY_SIZE;
            m.write(at, &base.to_le_bytes());
            m.write(at + 8, &size.to_le_bytes());
            m.write(at + 16, &kind.to_le_bytes());
        }
        m.write(INFO + 48, &(entries.len() as u32).to_le_bytes());
    }

    fn set_modules(m: &mut FakeMemory, modules: &[(u64, u64, u64)]) {
        for (i, (paddr, size, cmdline)) in modules.iter().enumerate() {
            let at = MODLIST + i as u64 * MODLIST_ENTRY_SIZE;
            m.write(at, &paddr.to_le_bytes());
            m.write(at + 8, &size.to_le_bytes());
            m.write(at + 16, &cmdline.to_le_bytes());
            m.write(at + 24, &0xdead_beef_u64.to_le_bytes()); // microvm's garbage
        }
        m.write(INFO + 12, &(modules.len() as u32).to_le_bytes());
        m.write(INFO + 16, &MODLIST.to_le_bytes());
    }

    #[test]
    fn parses_a_qemu_like_start_info() {
        let mut m = machine();
        set_modules(&mut m, &[(0x8_0000, 0x1000, 0x3100), (0x9_0000, 0x10, 0)]);
        m.write(0x3100, b"initrd\0");
        let info = parse(&m, INFO).unwrap();
        assert_eq!(info.protocol, EntryProtocol::Pvh { version: 1 });
        assert_eq!(info.cmdline, "log=debug test=panic");
        assert_eq!(info.rsdp, Some(0xf5a40));
        assert_eq!(info.memory_map.regions().len(), 3);
        assert_eq!(info.modules.len(), 2);
        assert_eq!(
            info.modules[0],
            Module {
                start: 0x8_0000,
                len: 0x1000,
                cmdline: "initrd".into()
            }
        );
        assert_eq!(info.modules[1].cmdline, "");
    }

    #[test]
    fn reads_structures_at_odd_alignment() {
        let mut m = machine();
        let odd = INFO + 4 + 0x200;
        let mut copy = [0u8; START_INFO_SIZE];
        m.read(INFO, &mut copy).unwrap();
        m.write(odd, &copy);
        assert_eq!(parse(&m, odd).unwrap().cmdline, "log=debug test=panic");
    }

    #[test]
    fn bad_magic() {
        let mut m = machine();
        m.write(INFO, &0x1234_5678u32.to_le_bytes());
        let err = parse(&m, INFO).unwrap_err();
        assert!(matches!(
            err,
            BootInfoError::BadMagic {
                found: 0x1234_5678,
                ..
            }
        ));
        assert!(err.to_string().contains("0x12345678"));
    }

    #[test]
    fn version_zero_has_no_memmap() {
        let mut m = machine();
        m.write(INFO + 4, &0u32.to_le_bytes());
        assert!(matches!(
            parse(&m, INFO),
            Err(BootInfoError::UnsupportedVersion { version: 0, .. })
        ));
    }

    #[test]
    fn later_versions_are_compatible() {
        let mut m = machine();
        m.write(INFO + 4, &2u32.to_le_bytes());
        assert_eq!(
            parse(&m, INFO).unwrap().protocol,
            EntryProtocol::Pvh { version: 2 }
        );
    }

    #[test]
    fn start_info_outside_memory() {
        let m = machine();
        assert!(matches!(
            parse(&m, 0xffff_fff0),
            Err(BootInfoError::Unreadable {
                what: "hvm_start_info",
                ..
            })
        ));
    }

    #[test]
    fn overlapping_and_zero_size_memmap_entries_are_sanitized() {
        let mut m = machine();
        set_memmap(
            &mut m,
            &[
                (0x10_0000, 0x3f0_0000, 1),
                (0, 0x9fc00, 1),
                (0x20_0000, 0x1000, 2),
                (0x50_0000, 0, 2),
                (0, 0, 0),
            ],
        );
        let map = parse(&m, INFO).unwrap().memory_map;
        assert_eq!(
            map.regions(),
            &[
                Region {
                    start: 0,
                    end: 0x9fc00,
                    kind: MemoryKind::Usable
                },
                Region {
                    start: 0x10_0000,
                    end: 0x20_0000,
                    kind: MemoryKind::Usable
                },
                Region {
                    start: 0x20_0000,
                    end: 0x20_1000,
                    kind: MemoryKind::Reserved
                },
                Region {
                    start: 0x20_1000,
                    end: 0x400_0000,
                    kind: MemoryKind::Usable
                },
            ]
        );
    }

    #[test]
    fn absurd_memmap_count() {
        let mut m = machine();
        m.write(INFO + 48, &u32::MAX.to_le_bytes());
        assert!(matches!(
            parse(&m, INFO),
            Err(BootInfoError::TooMany {
                count: 0xffff_ffff,
                ..
            })
        ));
    }

    #[test]
    fn memmap_pointer_outside_memory() {
        let mut m = machine();
        m.write(INFO + 40, &0x7_0000_0000u64.to_le_bytes());
        assert!(matches!(
            parse(&m, INFO),
            Err(BootInfoError::Unreadable {
                what: "hvm_start_info memmap",
                ..
            })
        ));
    }

    #[test]
    fn memmap_in_a_hole_of_its_own_map() {
        let mut m = machine();
        // The map itself says [0x1000, 0x3000) is not RAM.
        set_memmap(&mut m, &[(0x10_0000, 0x100_0000, 1)]);
        assert!(matches!(
            parse(&m, INFO),
            Err(BootInfoError::OutsideRam { .. })
        ));
    }

    #[test]
    fn cmdline_outside_ram() {
        let mut m = machine();
        m.write(INFO + 24, &0xa_0000u64.to_le_bytes()); // the VGA hole
        let err = parse(&m, INFO).unwrap_err();
        assert!(
            matches!(&err, BootInfoError::OutsideRam { what, start: 0xa_0000, .. } if &**what == "hvm_start_info cmdline")
        );
    }

    #[test]
    fn unterminated_cmdline_stops_at_its_region() {
        let mut m = machine();
        m.write(INFO + 24, &0x9fb00u64.to_le_bytes());
        m.write(0x9fb00, &[b'x'; 0x100]);
        let err = parse(&m, INFO).unwrap_err();
        assert!(
            matches!(
                err,
                BootInfoError::Unterminated {
                    addr: 0x9fb00,
                    max: 0x100,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn modlist_outside_ram() {
        let mut m = machine();
        set_modules(&mut m, &[(0x8_0000, 0x1000, 0)]);
        m.write(INFO + 16, &0xc_0000u64.to_le_bytes());
        assert!(
            matches!(parse(&m, INFO), Err(BootInfoError::OutsideRam { what, .. }) if &*what == "hvm_start_info modlist")
        );
    }

    #[test]
    fn module_outside_ram() {
        let mut m = machine();
        set_modules(&mut m, &[(0x8_0000, 0x1000, 0), (0x9f000, 0x2000, 0)]);
        let err = parse(&m, INFO).unwrap_err();
        assert!(
            matches!(&err, BootInfoError::OutsideRam { what, start: 0x9f000, len: 0x2000 } if &**what == "module 1")
        );
        assert_eq!(
            err.to_string(),
            "module 1 [0x9f000..0xa1000) lies outside the memory map"
        );
    }

    #[test]
    fn module_wrapping_past_2_64() {
        let mut m = machine();
        set_modules(&mut m, &[(0x8_0000, u64::MAX, 0)]);
        assert!(matches!(
            parse(&m, INFO),
            Err(BootInfoError::OutsideRam { .. })
        ));
    }

    #[test]
    fn absurd_module_count() {
        let mut m = machine();
        m.write(INFO + 12, &100_000u32.to_le_bytes());
        assert!(matches!(
            parse(&m, INFO),
            Err(BootInfoError::TooMany { count: 100_000, .. })
        ));
    }
}
