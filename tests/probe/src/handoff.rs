//! Step 1: the entry state of this build's protocol and its boot
//! information, decoded with payload-loader and checked. Everything kept is
//! copied to the heap: the originals lie in memory the probe overwrites.

use alloc::vec::Vec;

use payload_loader::{DecodedModule, MemoryKind, MemoryRegion, multiboot1, multiboot2, pvh};

use crate::entry::{EntryState, FLAVOUR, Flavour, entry_state};
use crate::gather::Gather;
use crate::phys::{self, Printable};
use crate::{fail, say};

/// What the rest of the probe needs from the handoff.
pub struct Handoff {
    pub memory_map: Vec<MemoryRegion>,
    pub cmdline: Vec<u8>,
    pub modules: Vec<DecodedModule>,
    /// A copy of the RSDP's bytes (its revision's length).
    pub rsdp: Vec<u8>,
}

const CR0_PE: u64 = 1 << 0;
const CR0_PG: u64 = 1 << 31;
const FLAGS_IF: u64 = 1 << 9;
const EFER_LMA: u64 = 1 << 10;
/// Bounds on what a loader may hand over (the probe reads nothing larger).
const MAX_MODULES: u64 = 64;
const MAX_MBI: u64 = 1 << 20;
const MAX_MEMMAP: u64 = 1024;
const MAX_MB1_MMAP: u64 = 64 * 1024;
const PVH_MEMMAP_ENTRY: u64 = 24;
const PVH_MODLIST_ENTRY: u64 = 32;
const MB1_MODULE: u64 = 16;
const RSDP_SIGNATURE: &[u8; 8] = b"RSD PTR ";
const RSDP_V1_LEN: usize = 20;
const RSDP_V2_MIN_LEN: u32 = 36;
const RSDP_MAX_LEN: u32 = 4096;
/// Multiboot1 gives no RSDP: it is in the BIOS area, 16-byte aligned.
const BIOS_AREA: (u64, u64) = (0xe0000, 0x100000);

pub fn check(image: (u64, u64)) -> Handoff {
    let state = entry_state();
    check_registers(state);
    let info = state.info;
    let (handoff, rsdp_at) = match FLAVOUR {
        Flavour::Pvh => decode_pvh(info),
        Flavour::Multiboot1 => decode_mb1(info),
        Flavour::Multiboot2 | Flavour::Elf64 => decode_mb2(info),
    };
    check_memory_map(&handoff.memory_map, image);
    check_rsdp(&handoff.rsdp, rsdp_at);
    say!("cmdline \"{}\"", Printable(&handoff.cmdline));
    say!("{} module(s)", handoff.modules.len());
    for (i, m) in handoff.modules.iter().enumerate() {
        say!(
            "module {i}: [{:#x}..{:#x}) size {:#x} cmdline \"{}\"",
            m.addr,
            m.addr.saturating_add(m.size),
            m.size,
            Printable(&m.cmdline)
        );
    }
    say!("protocol {} ok", FLAVOUR.name());
    handoff
}

fn check_registers(s: &EntryState) {
    say!(
        "entry: eax={:#x} info={:#x} cr0={:#x} cr4={:#x} efer={:#x} flags={:#x} cs={:#x} ds={:#x} es={:#x} ss={:#x}",
        s.eax,
        s.info,
        s.cr0,
        s.cr4,
        s.efer,
        s.flags,
        s.cs,
        s.ds,
        s.es,
        s.ss
    );
    if s.flags & FLAGS_IF != 0 {
        fail!("entered with interrupts enabled (flags={:#x})", s.flags);
    }
    let magic = match FLAVOUR {
        Flavour::Multiboot1 => Some(multiboot1::BOOTLOADER_MAGIC),
        Flavour::Multiboot2 => Some(multiboot2::BOOTLOADER_MAGIC),
        Flavour::Pvh | Flavour::Elf64 => None,
    };
    if let Some(m) = magic
        && s.eax as u32 != m
    {
        fail!("EAX={:#x}, expected the magic {m:#x}", s.eax);
    }
    if s.info == 0 {
        fail!("no boot information pointer (EBX/RDI = 0)");
    }
    if s.bss_nonzero != 0 {
        fail!(
            "{} dwords of .bss were not zero at entry: the loader did not zero the segment's tail",
            s.bss_nonzero
        );
    }
    say!(".bss was zero at entry");
    if FLAVOUR == Flavour::Elf64 {
        if s.efer & EFER_LMA == 0 {
            fail!("elf64 entered outside long mode (EFER={:#x})", s.efer);
        }
        return;
    }
    if s.cr0 & CR0_PE == 0 || s.cr0 & CR0_PG != 0 {
        fail!(
            "CR0={:#x}: want protected mode (PE=1) with paging off (PG=0)",
            s.cr0
        );
    }
    check_flat_segments(s);
}

/// CS, DS, ES, SS must be flat 4 GiB (base 0, limit 0xffffffff), CS 32-bit
/// code, the others writable data. Read from the GDT the loader left.
fn check_flat_segments(s: &EntryState) {
    let limit = u64::from(u16::from_le_bytes([s.gdtr[0], s.gdtr[1]]));
    let base = u64::from(u32::from_le_bytes([
        s.gdtr[2], s.gdtr[3], s.gdtr[4], s.gdtr[5],
    ]));
    for (name, sel) in [("CS", s.cs), ("DS", s.ds), ("ES", s.es), ("SS", s.ss)] {
        let index = u64::from(sel & !7);
        if sel & 4 != 0 || index == 0 || index + 7 > limit {
            fail!("{name}={sel:#x} is not a GDT selector (GDT limit {limit:#x})");
        }
        let Some(d) = phys::slice(base + index, 8).and_then(|b| phys::u64_at(b, 0)) else {
            fail!("{name}: GDT at {base:#x} is not readable");
        };
        let seg_base = ((d >> 16) & 0xff_ffff) | ((d >> 56) << 24);
        let raw_limit = (d & 0xffff) | (((d >> 48) & 0xf) << 16);
        let granular = d & (1 << 55) != 0;
        let seg_limit = if granular {
            (raw_limit << 12) | 0xfff
        } else {
            raw_limit
        };
        let code = d & (1 << 43) != 0;
        let writable_or_readable = d & (1 << 41) != 0;
        let big = d & (1 << 54) != 0;
        let present = d & (1 << 47) != 0;
        let kind_ok = if name == "CS" {
            code && big
        } else {
            !code && writable_or_readable
        };
        if !present || seg_base != 0 || seg_limit != 0xffff_ffff || !kind_ok {
            fail!(
                "{name}={sel:#x}: descriptor {d:#018x} is not flat 4 GiB (base {seg_base:#x}, limit {seg_limit:#x})"
            );
        }
    }
    say!("entry: CR0.PE=1 PG=0, IF=0, flat 4 GiB segments");
}

fn decode_pvh(info: u64) -> (Handoff, Option<u64>) {
    let mut g = Gather::new(info, pvh::START_INFO_SIZE as u64, "hvm_start_info");
    // Offsets in hvm_start_info (Xen's start_info.h).
    let nr_modules = u64::from(g.u32(12));
    let (modlist, cmdline, memmap) = (g.u64(16), g.u64(24), g.u64(40));
    let memmap_entries = u64::from(g.u32(48));
    if nr_modules > MAX_MODULES || memmap_entries > MAX_MEMMAP {
        fail!(
            "hvm_start_info at {info:#x}: {nr_modules} modules, {memmap_entries} memmap entries: too many"
        );
    }
    if cmdline != 0 {
        let (_, at) = g.append_cstr(cmdline, "PVH cmdline");
        g.put_u64(24, at);
    }
    if memmap_entries != 0 {
        let (_, at) = g.append(memmap, memmap_entries * PVH_MEMMAP_ENTRY, "PVH memmap");
        g.put_u64(40, at);
    }
    if nr_modules != 0 {
        let (list, at) = g.append(modlist, nr_modules * PVH_MODLIST_ENTRY, "PVH modlist");
        g.put_u64(16, at);
        for i in 0..nr_modules as usize {
            let field = list + i * PVH_MODLIST_ENTRY as usize + 16;
            let s = g.u64(field);
            if s != 0 {
                let (_, at) = g.append_cstr(s, "PVH module cmdline");
                g.put_u64(field, at);
            }
        }
    }
    let si = match pvh::decode_start_info(&g.buf, info) {
        Ok(si) => si,
        Err(e) => fail!("hvm_start_info at {info:#x}: {e}"),
    };
    say!(
        "pvh: start_info at {info:#x}, version {}, {} memmap entries, rsdp {:#x}",
        si.version,
        si.memory_map.len(),
        si.rsdp_paddr
    );
    if si.rsdp_paddr == 0 {
        fail!("PVH start_info gives no RSDP (rsdp_paddr = 0)");
    }
    let rsdp = rsdp_at(si.rsdp_paddr);
    (
        Handoff {
            memory_map: si.memory_map,
            cmdline: si.cmdline,
            modules: si.modules,
            rsdp,
        },
        Some(si.rsdp_paddr),
    )
}

fn decode_mb1(info: u64) -> (Handoff, Option<u64>) {
    let mut g = Gather::new(info, multiboot1::INFO_SIZE as u64, "multiboot_info");
    // Offsets in multiboot_info (Multiboot 0.6.96 section 3.3).
    let flags = g.u32(0);
    let has = |bit: u32| flags & (1 << bit) != 0;
    if has(2) {
        let (_, at) = g.append_cstr(u64::from(g.u32(16)), "Multiboot1 cmdline");
        let at = g.addr32(at, "cmdline");
        g.put_u32(16, at);
    }
    if has(3) && g.u32(20) != 0 {
        let count = u64::from(g.u32(20));
        if count > MAX_MODULES {
            fail!("multiboot_info at {info:#x}: {count} modules: too many");
        }
        let (list, at) = g.append(u64::from(g.u32(24)), count * MB1_MODULE, "Multiboot1 mods");
        let at = g.addr32(at, "mods");
        g.put_u32(24, at);
        for i in 0..count as usize {
            let field = list + i * MB1_MODULE as usize + 8;
            let s = g.u32(field);
            if s != 0 {
                let (_, at) = g.append_cstr(u64::from(s), "Multiboot1 module string");
                let at = g.addr32(at, "module string");
                g.put_u32(field, at);
            }
        }
    }
    if has(6) {
        let len = u64::from(g.u32(44));
        if len > MAX_MB1_MMAP {
            fail!("multiboot_info at {info:#x}: mmap_length {len:#x} too large");
        }
        let (_, at) = g.append(u64::from(g.u32(48)), len, "Multiboot1 mmap");
        let at = g.addr32(at, "mmap");
        g.put_u32(48, at);
    }
    if has(9) {
        let (_, at) = g.append_cstr(u64::from(g.u32(64)), "Multiboot1 boot_loader_name");
        let at = g.addr32(at, "boot_loader_name");
        g.put_u32(64, at);
    }
    let mbi = match multiboot1::decode_info(&g.buf, info) {
        Ok(m) => m,
        Err(e) => fail!("multiboot_info at {info:#x}: {e}"),
    };
    say!(
        "mb1: info at {info:#x}, flags {flags:#x}, loader \"{}\", {} mmap entries",
        Printable(mbi.loader_name.as_deref().unwrap_or(b"")),
        mbi.memory_map.len()
    );
    let (addr, rsdp) = scan_rsdp();
    (
        Handoff {
            memory_map: mbi.memory_map,
            cmdline: mbi.cmdline.unwrap_or_default(),
            modules: mbi.modules,
            rsdp,
        },
        Some(addr),
    )
}

fn decode_mb2(info: u64) -> (Handoff, Option<u64>) {
    let Some(total) = phys::read_u32(info).map(u64::from) else {
        fail!("Multiboot2 information at {info:#x} is outside the identity map");
    };
    if !(8..=MAX_MBI).contains(&total) {
        fail!(
            "Multiboot2 information at {info:#x}: total_size {total:#x} out of [8, {MAX_MBI:#x}]"
        );
    }
    let Some(bytes) = phys::slice(info, total) else {
        fail!("Multiboot2 information [{info:#x}..+{total:#x}) is outside the identity map");
    };
    let mbi = match multiboot2::decode_info(bytes, info) {
        Ok(m) => m,
        Err(e) => fail!("Multiboot2 information at {info:#x}: {e}"),
    };
    say!(
        "mb2: info at {info:#x}, {total} bytes, loader \"{}\", {} mmap entries, other tags {:?}",
        Printable(mbi.loader_name.as_deref().unwrap_or(b"")),
        mbi.memory_map.len(),
        mbi.other_tags
    );
    let Some(rsdp) = mbi.rsdp_new.or(mbi.rsdp_old) else {
        fail!("no ACPI RSDP tag (14 or 15) in the Multiboot2 information");
    };
    (
        Handoff {
            memory_map: mbi.memory_map,
            cmdline: mbi.cmdline.unwrap_or_default(),
            modules: mbi.modules,
            rsdp,
        },
        None,
    )
}

/// A copy of the RSDP at `addr`, as long as its revision says.
fn rsdp_at(addr: u64) -> Vec<u8> {
    let Some(v1) = phys::slice(addr, RSDP_V1_LEN as u64) else {
        fail!("RSDP at {addr:#x} is outside the identity map");
    };
    let len = if v1[15] >= 2 {
        phys::slice(addr, u64::from(RSDP_V2_MIN_LEN))
            .and_then(|b| phys::u32_at(b, 20))
            .unwrap_or(0)
    } else {
        RSDP_V1_LEN as u32
    };
    if len < RSDP_V1_LEN as u32 || len > RSDP_MAX_LEN {
        fail!("RSDP at {addr:#x}: length {len} out of range");
    }
    match phys::slice(addr, u64::from(len)) {
        Some(b) => b.to_vec(),
        None => fail!("RSDP [{addr:#x}..+{len}) is outside the identity map"),
    }
}

fn scan_rsdp() -> (u64, Vec<u8>) {
    let (start, end) = BIOS_AREA;
    let Some(area) = phys::slice(start, end - start) else {
        fail!("BIOS area is not mapped");
    };
    for off in (0..area.len()).step_by(16) {
        let candidate = &area[off..];
        if candidate.starts_with(RSDP_SIGNATURE)
            && phys::sum(&candidate[..RSDP_V1_LEN.min(candidate.len())]) == 0
        {
            let addr = start + off as u64;
            say!("mb1: RSDP found at {addr:#x} by scanning {start:#x}..{end:#x}");
            return (addr, rsdp_at(addr));
        }
    }
    fail!("no RSDP with a valid checksum in {start:#x}..{end:#x}")
}

fn check_rsdp(rsdp: &[u8], at: Option<u64>) {
    let where_ = at.unwrap_or(0);
    if rsdp.len() < RSDP_V1_LEN || !rsdp.starts_with(RSDP_SIGNATURE) {
        fail!(
            "RSDP at {where_:#x}: no \"RSD PTR \" signature ({} bytes)",
            rsdp.len()
        );
    }
    let sum = phys::sum(&rsdp[..RSDP_V1_LEN]);
    if sum != 0 {
        fail!("RSDP at {where_:#x}: checksum over 20 bytes is {sum:#x}, not 0");
    }
    let revision = rsdp[15];
    if revision >= 2 {
        let len = phys::u32_at(rsdp, 20).unwrap_or(0);
        let Some(all) = rsdp.get(..len as usize).filter(|_| len >= RSDP_V2_MIN_LEN) else {
            fail!(
                "RSDP revision {revision}: length {len} but {} bytes given",
                rsdp.len()
            );
        };
        let sum = phys::sum(all);
        if sum != 0 {
            fail!(
                "RSDP revision {revision}: extended checksum over {len} bytes is {sum:#x}, not 0"
            );
        }
    }
    say!(
        "RSDP at {where_:#x} (0 = copied into the boot information): revision {revision}, checksum ok"
    );
}

fn check_memory_map(map: &[MemoryRegion], (image_start, image_end): (u64, u64)) {
    if map.is_empty() {
        fail!("no memory map");
    }
    let mut usable = 0u64;
    let mut prev: Option<&MemoryRegion> = None;
    for r in map {
        say!(
            "memory [{:#x}..{:#x}) type {}",
            r.start,
            r.end,
            r.kind.e820_type()
        );
        if r.is_empty() {
            continue; // microvm ends its map with an all-zero entry
        }
        if let Some(p) = prev
            && p.end > r.start
        {
            fail!(
                "memory map unsorted or overlapping: [{:#x}..{:#x}) then [{:#x}..{:#x})",
                p.start,
                p.end,
                r.start,
                r.end
            );
        }
        if r.kind == MemoryKind::Usable {
            usable += r.len();
        }
        prev = Some(r);
    }
    if usable == 0 {
        fail!("memory map has no usable RAM");
    }
    // The image must be covered by usable regions (adjacent ones may split it).
    let mut covered = image_start;
    for r in map.iter().filter(|r| r.kind == MemoryKind::Usable) {
        if r.start <= covered && covered < r.end {
            covered = r.end;
        }
    }
    if covered < image_end {
        fail!(
            "probe image [{image_start:#x}..{image_end:#x}) is not in usable RAM (covered up to {covered:#x})"
        );
    }
    say!(
        "memory map: {} entries, sorted, {} MiB usable, image [{image_start:#x}..{image_end:#x}) inside",
        map.len(),
        usable >> 20
    );
}
