//! Multiboot1 and Multiboot2 entries: the loader's information structure
//! into a `BootInfo`. Multiboot1's `multiboot_info` points elsewhere for
//! its memory map, modules and strings (all below 4 GiB), so it is read
//! field by field through `PhysMemory`; a Multiboot2 MBI is one
//! self-contained block, copied out and decoded by payload-loader's
//! decoder (the same one the probe test kernel checks baton's MBI with).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::entry::{BootInfo, BootInfoError, EntryProtocol, Module, Platform, read_c_string};
use crate::support::phys::{PhysMemory, le_u32, le_u64};
use payload_loader::{MemoryKind, MemoryMap, Range, RawEntry};

/// EAX at a Multiboot1 entry.
pub const MB1_MAGIC: u32 = 0x2bad_b002;
/// EAX at a Multiboot2 entry.
pub const MB2_MAGIC: u32 = 0x36d7_6289;

/// `multiboot_info` up to the framebuffer fields.
const MB1_INFO_SIZE: usize = 116;
const MB1_MODULE_SIZE: u64 = 16;
/// More modules than this is a corrupt count.
pub const MAX_MODULES: u32 = 64;
/// A larger MBI is corrupt (GRUB's are a few KiB).
pub const MAX_MBI: u32 = 64 * 1024;

fn unreadable(what: &'static str) -> impl Fn(crate::support::phys::Unreadable) -> BootInfoError {
    move |at| BootInfoError::Unreadable { what, at }
}

fn string(bytes: &[u8]) -> String {
    crate::support::text::lossy(bytes)
}

/// Multiboot loaders start the command line with the image's own name
/// (QEMU: the -kernel path, GRUB: the file name): baton's options follow it.
pub fn options_part(cmdline: &str) -> &str {
    let s = cmdline.trim_start();
    let (first, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
    match first.contains('/') && !first.contains('=') {
        true => rest.trim_start(),
        false => s,
    }
}

/// The map both Multiboot versions imply without a memory map: `lower`
/// KiB from 0 and `upper` KiB from 1 MiB.
fn lower_upper(lower_kib: u32, upper_kib: u32) -> [RawEntry; 2] {
    let usable = |base, kib: u32| RawEntry {
        base,
        size: u64::from(kib) * 1024,
        kind: MemoryKind::Usable,
    };
    [usable(0, lower_kib), usable(1 << 20, upper_kib)]
}

/// Multiboot1: `info` is EBX.
pub fn multiboot1(mem: &impl PhysMemory, info: u64) -> Result<BootInfo, BootInfoError> {
    let mut raw = [0u8; MB1_INFO_SIZE];
    mem.read(info, &mut raw)
        .map_err(unreadable("multiboot_info"))?;
    let flags = le_u32(&raw, 0);
    let has = |bit: u32| flags & (1 << bit) != 0;
    let mut structures = alloc::vec![Range::new(info, info + MB1_INFO_SIZE as u64)];

    // The memory map (flag 6), or else mem_lower/mem_upper (flag 0).
    let mut entries = Vec::new();
    if has(6) {
        let (len, addr) = (u64::from(le_u32(&raw, 44)), u64::from(le_u32(&raw, 48)));
        if len > 64 * 1024 {
            return Err(BootInfoError::TooMany {
                what: "multiboot_info mmap_length",
                count: len,
                max: 64 * 1024,
            });
        }
        let mut mmap = alloc::vec![0u8; len as usize];
        mem.read(addr, &mut mmap)
            .map_err(unreadable("multiboot mmap"))?;
        structures.push(Range::new(addr, addr + len));
        let mut at = 0usize;
        // Each entry: u32 size (not counting itself), u64 base, u64 length, u32 type.
        while at + 24 <= mmap.len() {
            let size = le_u32(&mmap, at) as usize;
            if size < 20 {
                return Err(BootInfoError::UnsupportedVersion {
                    what: "multiboot mmap entry",
                    version: size as u32,
                    reason: "an entry's size field is below 20 bytes",
                });
            }
            entries.push(RawEntry {
                base: le_u64(&mmap, at + 4),
                size: le_u64(&mmap, at + 12),
                kind: MemoryKind::from_e820_type(le_u32(&mmap, at + 20)),
            });
            at += size + 4;
        }
    } else if has(0) {
        entries.extend_from_slice(&lower_upper(le_u32(&raw, 4), le_u32(&raw, 8)));
    }
    let memory_map = MemoryMap::from_entries(&entries)?;
    let map = &memory_map;

    let cmdline = match (has(2), le_u32(&raw, 16)) {
        (true, addr) if addr != 0 => {
            read_c_string(mem, map, addr.into(), &|| "multiboot cmdline".into())?
        }
        _ => String::new(),
    };
    let cmdline = options_part(&cmdline).into();
    let loader = match (has(9), le_u32(&raw, 64)) {
        (true, addr) if addr != 0 => Some(read_c_string(mem, map, addr.into(), &|| {
            "multiboot boot_loader_name".into()
        })?),
        _ => None,
    };
    let mut modules = Vec::new();
    if has(3) {
        let (count, addr) = (le_u32(&raw, 20), u64::from(le_u32(&raw, 24)));
        if count > MAX_MODULES {
            return Err(BootInfoError::TooMany {
                what: "multiboot mods_count",
                count: count.into(),
                max: MAX_MODULES.into(),
            });
        }
        if count > 0 {
            structures.push(Range::new(addr, addr + u64::from(count) * MB1_MODULE_SIZE));
        }
        for i in 0..u64::from(count) {
            let mut e = [0u8; MB1_MODULE_SIZE as usize];
            mem.read(addr + i * MB1_MODULE_SIZE, &mut e)
                .map_err(unreadable("multiboot module list"))?;
            let (start, end, s) = (le_u32(&e, 0), le_u32(&e, 4), le_u32(&e, 8));
            let len = module_len(map, i, start.into(), end.into())?;
            let cmdline = match s {
                0 => String::new(),
                s => read_c_string(mem, map, s.into(), &|| format!("module {i} string"))?,
            };
            modules.push(Module {
                start: start.into(),
                len,
                cmdline,
            });
        }
    }
    Ok(BootInfo {
        protocol: EntryProtocol::Multiboot1,
        memory_map,
        rsdp: None,
        cmdline,
        modules,
        boot_structures: structures,
        platform: Platform {
            firmware: loader,
            ..Default::default()
        },
    })
}

/// A module's length, once it is known to lie in readable memory. Its
/// command line is read by the caller afterwards (one copy of these checks
/// for both Multiboot versions instead of one per command-line closure:
/// saves 128 bytes).
fn module_len(map: &MemoryMap, index: u64, start: u64, end: u64) -> Result<u64, BootInfoError> {
    let len = end
        .checked_sub(start)
        .ok_or_else(|| BootInfoError::OutsideRam {
            what: format!("module {index} (its end {end:#x} is below its start)").into(),
            start,
            len: 0,
        })?;
    if !map.covers(start, len, MemoryKind::is_readable) {
        return Err(BootInfoError::OutsideRam {
            what: format!("module {index}").into(),
            start,
            len,
        });
    }
    Ok(len)
}

/// Multiboot2: `info` is EBX (8-byte aligned, `total_size` first).
pub fn multiboot2(mem: &impl PhysMemory, info: u64) -> Result<BootInfo, BootInfoError> {
    let mut head = [0u8; 8];
    mem.read(info, &mut head)
        .map_err(unreadable("Multiboot2 MBI"))?;
    let total = le_u32(&head, 0);
    if !(16..=MAX_MBI).contains(&total) {
        return Err(BootInfoError::TooMany {
            what: "Multiboot2 MBI total_size",
            count: total.into(),
            max: MAX_MBI.into(),
        });
    }
    let mut mbi = alloc::vec![0u8; total as usize];
    mem.read(info, &mut mbi)
        .map_err(unreadable("Multiboot2 MBI"))?;
    let decoded = payload_loader::multiboot2::decode_info(&mbi, info).map_err(|e| {
        BootInfoError::Malformed {
            what: "Multiboot2 MBI",
            reason: format!("{e}").into(),
        }
    })?;
    let entries: Vec<RawEntry> = decoded
        .memory_map
        .iter()
        .map(|r| RawEntry {
            base: r.start,
            size: r.end - r.start,
            kind: MemoryKind::from_e820_type(r.kind.e820_type()),
        })
        .collect();
    let memory_map = if entries.is_empty() {
        // No memory-map tag: the basic meminfo.
        let (lower, upper) = (decoded.mem_lower, decoded.mem_upper);
        MemoryMap::from_entries(&lower_upper(lower.unwrap_or(0), upper.unwrap_or(0)))?
    } else {
        MemoryMap::from_entries(&entries)?
    };
    if decoded.modules.len() > MAX_MODULES as usize {
        return Err(BootInfoError::TooMany {
            what: "Multiboot2 module tags",
            count: decoded.modules.len() as u64,
            max: MAX_MODULES.into(),
        });
    }
    let mut modules = Vec::new();
    for (i, m) in decoded.modules.iter().enumerate() {
        modules.push(Module {
            start: m.addr,
            len: module_len(&memory_map, i as u64, m.addr, m.addr + m.size)?,
            cmdline: string(&m.cmdline),
        });
    }
    Ok(BootInfo {
        protocol: EntryProtocol::Multiboot2,
        memory_map,
        // The MBI carries a copy of the RSDP, not its address: the ACPI
        // code finds the original by the BIOS-area scan.
        rsdp: None,
        cmdline: options_part(&decoded.cmdline.as_deref().map(string).unwrap_or_default()).into(),
        modules,
        boot_structures: alloc::vec![Range::new(info, info + u64::from(total))],
        platform: Platform {
            firmware: decoded.loader_name.as_deref().map(string),
            ..Default::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::phys::FakeMemory;
    use payload_loader::memory::{MemoryKind as LoaderKind, MemoryRegion};
    use payload_loader::{BootInfoInput, Module as LoaderModule};

    fn input<'a>(map: &'a [MemoryRegion], modules: &'a [LoaderModule<'a>]) -> BootInfoInput<'a> {
        BootInfoInput {
            memory_map: map,
            machine_map: &[],
            cmdline: "log=debug smp=sequential",
            modules,
            rsdp: None,
            display: None,
            loader_name: "test loader",
        }
    }

    fn map() -> Vec<MemoryRegion> {
        alloc::vec![
            MemoryRegion {
                start: 0,
                end: 0x9f000,
                kind: LoaderKind::Usable
            },
            MemoryRegion {
                start: 0x100000,
                end: 0x800_0000,
                kind: LoaderKind::Usable
            },
        ]
    }

    /// payload-loader builds the info blobs baton hands to kernels: baton
    /// must read back what it would write.
    #[test]
    fn reads_what_payload_loaders_builders_write() {
        let regions = map();
        let mods = [LoaderModule {
            addr: 0x200000,
            size: 0x1234,
            cmdline: "kernel console=ttyS0",
        }];
        for mb2 in [false, true] {
            let base = 0x10000;
            let blob = if mb2 {
                payload_loader::multiboot2::build_info(&input(&regions, &mods), base)
            } else {
                payload_loader::multiboot1::build_info(&input(&regions, &mods), base)
            }
            .unwrap();
            let mut mem = FakeMemory::new(0, 0x30_0000);
            mem.write(base, &blob);
            let info = if mb2 {
                multiboot2(&mem, base)
            } else {
                multiboot1(&mem, base)
            }
            .unwrap();
            assert_eq!(info.cmdline, "log=debug smp=sequential");
            assert_eq!(info.modules.len(), 1);
            assert_eq!(info.modules[0].start, 0x200000);
            assert_eq!(info.modules[0].len, 0x1234);
            assert_eq!(info.modules[0].cmdline, "kernel console=ttyS0");
            assert_eq!(info.memory_map.usable_bytes(), 0x9f000 + 0x7f0_0000);
            assert_eq!(info.platform.firmware.as_deref(), Some("test loader"));
        }
    }

    #[test]
    fn a_module_outside_ram_is_refused() {
        let regions = map();
        let mods = [LoaderModule {
            addr: 0x900_0000,
            size: 0x1000,
            cmdline: "",
        }];
        let blob =
            payload_loader::multiboot1::build_info(&input(&regions, &mods), 0x10000).unwrap();
        let mut mem = FakeMemory::new(0, 0x30_0000);
        mem.write(0x10000, &blob);
        let e = multiboot1(&mem, 0x10000).unwrap_err();
        assert!(e.to_string().contains("module 0"), "{e}");
    }

    #[test]
    fn without_a_memory_map_mem_lower_and_upper_give_the_map() {
        let mut info = [0u8; MB1_INFO_SIZE];
        info[0..4].copy_from_slice(&1u32.to_le_bytes()); // flags: mem_* only
        info[4..8].copy_from_slice(&639u32.to_le_bytes());
        info[8..12].copy_from_slice(&(63 * 1024u32).to_le_bytes());
        let mut mem = FakeMemory::new(0, 0x2000);
        mem.write(0x1000, &info);
        let bi = multiboot1(&mem, 0x1000).unwrap();
        assert_eq!(bi.memory_map.usable_bytes(), 639 * 1024 + (63 << 20));
        assert_eq!(bi.memory_map.regions()[1].start, 1 << 20);
    }

    #[test]
    fn the_image_name_is_not_an_option() {
        assert_eq!(options_part("/boot/baton log=debug"), "log=debug");
        assert_eq!(options_part("  (hd0)/baton"), "");
        assert_eq!(options_part("log=debug smp=off"), "log=debug smp=off");
        assert_eq!(options_part("inject=x:/y log=info"), "inject=x:/y log=info");
    }

    #[test]
    fn a_huge_mbi_is_refused() {
        let mut mem = FakeMemory::new(0, 0x2000);
        mem.write(0x1000, &0x1000_0000u32.to_le_bytes());
        assert!(matches!(
            multiboot2(&mem, 0x1000),
            Err(BootInfoError::TooMany { .. })
        ));
    }
}
