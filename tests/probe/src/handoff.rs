//! Step 1: the entry state of this build's protocol and its boot
//! information, decoded with payload-loader and checked. Everything kept is
//! copied to the heap: the originals lie in memory the probe overwrites.

use alloc::vec::Vec;

use payload_loader::display::MultibootFramebuffer;
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
    /// The framebuffer (or EGA text) fields, where the protocol has them.
    pub screen: Option<MultibootFramebuffer>,
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
    check_screen(&handoff);
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
    check_file_names(&handoff);
    say!("protocol {} ok", FLAVOUR.name());
    handoff
}

/// Multiboot strings begin with the file's name, as GRUB and QEMU give
/// them (kernels like Xen drop that first word): the kernel's is
/// `opt/baton/kernel` (or `kernel`, a boot module's), a module's a name
/// without `=`. PVH and ELF64 kernels get their arguments alone.
fn check_file_names(handoff: &Handoff) {
    let first = |s: &[u8]| -> Vec<u8> {
        s.split(|b| b.is_ascii_whitespace())
            .find(|w| !w.is_empty())
            .unwrap_or(&[])
            .to_vec()
    };
    let kernel_word = first(&handoff.cmdline);
    let named = kernel_word.ends_with(b"kernel");
    match FLAVOUR {
        Flavour::Multiboot1 | Flavour::Multiboot2 => {
            if !named {
                fail!(
                    "cmdline \"{}\": the first word is not the kernel file's name",
                    Printable(&handoff.cmdline)
                );
            }
            for (i, m) in handoff.modules.iter().enumerate() {
                let word = first(&m.cmdline);
                if word.is_empty() || word.contains(&b'=') {
                    fail!(
                        "module {i}'s string \"{}\" does not begin with a file name",
                        Printable(&m.cmdline)
                    );
                }
            }
            say!(
                "file names first: kernel \"{}\", {} module(s) named",
                Printable(&kernel_word),
                handoff.modules.len()
            );
        }
        Flavour::Pvh | Flavour::Elf64 => {
            if named {
                fail!(
                    "cmdline \"{}\" begins with a file name: only Multiboot kernels get one",
                    Printable(&handoff.cmdline)
                );
            }
        }
    }
}

/// The machine state baton's handoff contract (docs/HANDOFF.md) gives at
/// entry, register by register; stricter than the protocols' own
/// specifications, which it meets.
mod contract {
    /// 32-bit protocols: PE and ET (PVH: every other bit clear).
    pub const CR0_32: u64 = 0x11;
    /// Plain ELF64: PG, WP, NE, ET, MP, PE.
    pub const CR0_64: u64 = 0x8001_0033;
    /// Plain ELF64: PAE, OSFXSR, OSXMMEXCPT (32-bit protocols: 0).
    pub const CR4_64: u64 = 0x620;
    /// Plain ELF64: LME and LMA (32-bit protocols: 0).
    pub const EFER_64: u64 = 0x500;
    /// The reserved bit alone: IF, TF, DF, VM and the rest clear.
    pub const FLAGS: u64 = 0x2;
    pub const CODE64: u16 = 0x08;
    pub const DATA: u16 = 0x10;
    pub const CODE32: u16 = 0x18;
    /// A 32-bit TSS with base 0 and limit 0x67, as PVH requires.
    pub const TSS32: u16 = 0x20;
    pub const TSS32_LIMIT: u64 = 0x67;
    /// Boot information lies below 1 MiB wherever it fits (and in the
    /// probe's machines it always does).
    pub const INFO_BELOW: u64 = 0x10_0000;
}

fn check_registers(s: &EntryState) {
    say!(
        "entry: eax={:#x} info={:#x} cr0={:#x} cr4={:#x} efer={:#x} flags={:#x} cs={:#x} ds={:#x} es={:#x} fs={:#x} gs={:#x} ss={:#x} tr={:#x} ldtr={:#x}",
        s.eax,
        s.info,
        s.cr0,
        s.cr4,
        s.efer,
        s.flags,
        s.cs,
        s.ds,
        s.es,
        s.fs,
        s.gs,
        s.ss,
        s.tr,
        s.ldtr
    );
    let want = |what: &str, got: u64, want: u64| {
        if got != want {
            fail!("entry: {what}={got:#x}, the handoff contract gives {want:#x}");
        }
    };
    if s.flags & FLAGS_IF != 0 {
        fail!("entered with interrupts enabled (flags={:#x})", s.flags);
    }
    want("EFLAGS", s.flags, contract::FLAGS);
    let magic = match FLAVOUR {
        Flavour::Multiboot1 => u64::from(multiboot1::BOOTLOADER_MAGIC),
        Flavour::Multiboot2 => u64::from(multiboot2::BOOTLOADER_MAGIC),
        Flavour::Pvh | Flavour::Elf64 => 0,
    };
    if s.eax & 0xffff_ffff != magic {
        fail!("EAX={:#x}, expected the magic {magic:#x}", s.eax);
    }
    if s.info == 0 {
        fail!("no boot information pointer (EBX/RDI = 0)");
    }
    if s.info >= contract::INFO_BELOW {
        fail!(
            "boot information at {:#x}: not below {:#x}, where it fits",
            s.info,
            contract::INFO_BELOW
        );
    }
    for (name, value) in [
        ("ECX", s.ecx),
        ("EDX", s.edx),
        ("ESI", s.esi),
        ("EBP", s.ebp),
    ] {
        want(name, value, 0);
    }
    if s.bss_nonzero != 0 {
        fail!(
            "{} dwords of .bss were not zero at entry: the loader did not zero the segment's tail",
            s.bss_nonzero
        );
    }
    say!(".bss was zero at entry");
    let data = [
        ("DS", s.ds),
        ("ES", s.es),
        ("FS", s.fs),
        ("GS", s.gs),
        ("SS", s.ss),
    ];
    if FLAVOUR == Flavour::Elf64 {
        if s.efer & EFER_LMA == 0 {
            fail!("elf64 entered outside long mode (EFER={:#x})", s.efer);
        }
        want("RBX", s.ebx, 0);
        want("RDI", s.edi, s.info);
        want("CR0", s.cr0, contract::CR0_64);
        want("CR4", s.cr4, contract::CR4_64);
        want("EFER", s.efer, contract::EFER_64);
        want("CS", s.cs.into(), contract::CODE64.into());
        for (name, sel) in data {
            want(name, sel.into(), contract::DATA.into());
        }
        say!(
            "entry: long mode, CR0={:#x} CR4={:#x} EFER={:#x} EFLAGS=0x2, RAX-RBP 0, CS 64-bit, data selectors {:#x}: as the contract gives",
            s.cr0,
            s.cr4,
            s.efer,
            contract::DATA
        );
        return;
    }
    if s.cr0 & CR0_PE == 0 || s.cr0 & CR0_PG != 0 {
        fail!(
            "CR0={:#x}: want protected mode (PE=1) with paging off (PG=0)",
            s.cr0
        );
    }
    want("CR0", s.cr0, contract::CR0_32);
    want("CR4", s.cr4, 0);
    want("EFER", s.efer, 0);
    want("EDI", s.edi, crate::entry::entry_address());
    want("CS", s.cs.into(), contract::CODE32.into());
    want("LDTR", s.ldtr.into(), 0);
    check_flat_segments(s, &data);
    check_tss(s);
    say!(
        "entry: CR0=0x11 (PE, ET), CR4=0, EFER=0, EFLAGS=0x2, ECX/EDX/ESI/EBP 0, EDI = entry, flat 4 GiB CS DS ES FS GS SS, TR = 32-bit TSS base 0 limit 0x67, LDTR 0"
    );
}

/// The GDT descriptor `sel` names in the GDT the loader left.
fn descriptor(s: &EntryState, name: &str, sel: u16) -> u64 {
    let limit = u64::from(u16::from_le_bytes([s.gdtr[0], s.gdtr[1]]));
    let base = u64::from(u32::from_le_bytes([
        s.gdtr[2], s.gdtr[3], s.gdtr[4], s.gdtr[5],
    ]));
    let index = u64::from(sel & !7);
    if sel & 4 != 0 || index == 0 || index + 7 > limit {
        fail!("{name}={sel:#x} is not a GDT selector (GDT limit {limit:#x})");
    }
    match phys::slice(base + index, 8).and_then(|b| phys::u64_at(b, 0)) {
        Some(d) => d,
        None => fail!("{name}: GDT at {base:#x} is not readable"),
    }
}

/// A descriptor's base and limit (in bytes, granularity applied).
fn base_and_limit(d: u64) -> (u64, u64) {
    let base = ((d >> 16) & 0xff_ffff) | ((d >> 56) << 24);
    let raw_limit = (d & 0xffff) | (((d >> 48) & 0xf) << 16);
    let limit = if d & (1 << 55) != 0 {
        (raw_limit << 12) | 0xfff
    } else {
        raw_limit
    };
    (base, limit)
}

/// CS and every data segment must be flat 4 GiB (base 0, limit
/// 0xffffffff), CS 32-bit code, the others writable data.
fn check_flat_segments(s: &EntryState, data: &[(&str, u16)]) {
    for &(name, sel) in core::iter::once(&("CS", s.cs)).chain(data) {
        let d = descriptor(s, name, sel);
        let (seg_base, seg_limit) = base_and_limit(d);
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
}

/// TR: a present 32-bit TSS (busy once loaded), base 0, limit 0x67.
fn check_tss(s: &EntryState) {
    want_selector("TR", s.tr, contract::TSS32);
    let d = descriptor(s, "TR", s.tr);
    let (base, limit) = base_and_limit(d);
    let kind = (d >> 40) & 0x1f; // S bit and type: 0x09 available, 0x0b busy
    if d & (1 << 47) == 0 || kind != 0x0b || base != 0 || limit != contract::TSS32_LIMIT {
        fail!(
            "TR={:#x}: descriptor {d:#018x} is not a busy 32-bit TSS with base 0 and limit {:#x} (type {kind:#x}, base {base:#x}, limit {limit:#x})",
            s.tr,
            contract::TSS32_LIMIT
        );
    }
}

fn want_selector(name: &str, got: u16, want: u16) {
    if got != want {
        fail!("entry: {name}={got:#x}, the handoff contract gives {want:#x}");
    }
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
            // PVH's start_info has no field for the screen.
            screen: None,
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
            screen: mbi.framebuffer,
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
            screen: mbi.framebuffer,
        },
        None,
    )
}

/// The screen the loader described (the row checks the mode against the one the firmware
/// set): its memory must not be usable RAM in the map.
fn check_screen(handoff: &Handoff) {
    let Some(fb) = handoff.screen else {
        say!("screen: none described");
        return;
    };
    say!("screen: {fb}");
    let (start, end) = (
        fb.addr,
        fb.addr + u64::from(fb.pitch) * u64::from(fb.height),
    );
    if let Some(r) = handoff
        .memory_map
        .iter()
        .find(|r| r.kind == MemoryKind::Usable && r.start < end && start < r.end)
    {
        fail!(
            "the screen's memory [{start:#x}..{end:#x}) overlaps usable RAM [{:#x}..{:#x}) in the map",
            r.start,
            r.end
        );
    }
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
