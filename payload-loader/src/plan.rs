//! Protocol detection and the load plan: where every segment goes, whether it overlaps the
//! firmware, the entry point, and a free-memory allocator for modules, boot info and staging.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use goblin::elf::program_header::{PF_R, PF_W, PF_X};

use crate::bzimage::{self, SetupHeader};
use crate::elf::{self, ElfClass, ElfImage, ElfType};
use crate::error::{Error, Result};
use crate::memory::{self, MemoryRegion, Range};
use crate::multiboot1::{self, AddressLoad, Mb1Header};
use crate::multiboot2::{self, Mb2Header};
use crate::pvh::{self, PvhNote};

/// An entry protocol (what the kernel is handed; docs/HANDOFF.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Xen's PVH entry (ELF note type 18): 32-bit, EBX = `hvm_start_info`.
    Pvh,
    /// Multiboot2 (header magic 0xE85250D6): 32-bit, EBX = the MBI.
    Multiboot2,
    /// Multiboot1 (header magic 0x1BADB002): 32-bit, EBX = `multiboot_info`.
    Multiboot1,
    /// Plain ELF64: long mode, identity map, RDI = Multiboot2-format info.
    Elf64,
    /// The Linux x86 boot protocol for a bzImage: RSI = `boot_params` (the "zero page").
    Linux,
}

impl Protocol {
    /// Detection order of the ELF protocols without an override. A bzImage is recognised by
    /// its setup header before any of these (it is not ELF).
    pub const PRECEDENCE: [Protocol; 4] = [
        Protocol::Pvh,
        Protocol::Multiboot2,
        Protocol::Multiboot1,
        Protocol::Elf64,
    ];

    /// Parses a config value: `pvh`, `multiboot2`, `multiboot1` (or `multiboot`), `elf64` (or
    /// `elf`), `linux`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "pvh" => Some(Protocol::Pvh),
            "multiboot2" | "mb2" => Some(Protocol::Multiboot2),
            "multiboot1" | "multiboot" | "mb1" => Some(Protocol::Multiboot1),
            "elf64" | "elf" => Some(Protocol::Elf64),
            "linux" => Some(Protocol::Linux),
            _ => None,
        }
    }

    /// The string the kernel is given for a file `name` with arguments `args` (its own command
    /// line, or a module's). Multiboot kernels get the name first, as GRUB and QEMU give the
    /// image's path: kernels of that era (Xen, tboot) drop the first word unless the loader calls
    /// itself GRUB 2, and would otherwise lose their first option. The other protocols have no
    /// such convention: their kernels get `args` alone.
    pub fn command_line(self, name: &str, args: &str) -> String {
        match self {
            Protocol::Multiboot1 | Protocol::Multiboot2 if args.is_empty() => name.into(),
            Protocol::Multiboot1 | Protocol::Multiboot2 => alloc::format!("{name} {args}"),
            Protocol::Pvh | Protocol::Elf64 | Protocol::Linux => args.into(),
        }
    }

    /// Whether the kernel is entered in 32-bit protected mode (entry and boot info below 4 GiB).
    /// Linux: false here, the image decides ([`LoadPlan::enters_long_mode`]).
    pub fn is_32bit(self) -> bool {
        !matches!(self, Protocol::Elf64 | Protocol::Linux)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Pvh => "PVH",
            Protocol::Multiboot2 => "Multiboot2",
            Protocol::Multiboot1 => "Multiboot1",
            Protocol::Elf64 => "plain ELF64",
            Protocol::Linux => "Linux boot protocol",
        })
    }
}

/// The detected protocol with its parsed header data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootProtocol {
    /// A PVH note, with its entry point.
    Pvh(PvhNote),
    /// A Multiboot2 header, with its tags.
    Multiboot2(Mb2Header),
    /// A Multiboot1 header, with its flags and address fields.
    Multiboot1(Mb1Header),
    /// No header: baton's own plain ELF64 contract.
    Elf64,
    /// A bzImage's setup header.
    Linux(SetupHeader),
}

impl BootProtocol {
    /// The protocol without its header data.
    pub fn kind(&self) -> Protocol {
        match self {
            BootProtocol::Pvh(_) => Protocol::Pvh,
            BootProtocol::Multiboot2(_) => Protocol::Multiboot2,
            BootProtocol::Multiboot1(_) => Protocol::Multiboot1,
            BootProtocol::Elf64 => Protocol::Elf64,
            BootProtocol::Linux(_) => Protocol::Linux,
        }
    }
}

/// Picks the entry protocol. With `override_` only that protocol is tried (and must be present);
/// otherwise [`Protocol::PRECEDENCE`]: PVH note > Multiboot2 > Multiboot1 > plain ELF64.
/// A malformed header of a protocol that is tried is an error even if a later one would fit.
pub fn detect(image: &ElfImage<'_>, override_: Option<Protocol>) -> Result<BootProtocol> {
    let one;
    let order: &[Protocol] = match override_ {
        Some(p) => {
            one = [p];
            &one
        }
        None => &Protocol::PRECEDENCE,
    };
    for p in order {
        match p {
            Protocol::Pvh => {
                if let Some(n) = pvh::find_note(&image.notes()?)? {
                    return Ok(BootProtocol::Pvh(n));
                }
            }
            Protocol::Multiboot2 => {
                if let Some(h) = multiboot2::find_header(image.bytes)? {
                    return Ok(BootProtocol::Multiboot2(h));
                }
            }
            Protocol::Multiboot1 => {
                if let Some(h) = multiboot1::find_header(image.bytes)? {
                    return Ok(BootProtocol::Multiboot1(h));
                }
            }
            Protocol::Elf64 => {
                if image.class == ElfClass::Elf64 {
                    return Ok(BootProtocol::Elf64);
                }
                return Err(Box::new(Error::PlainElfNeeds64 {
                    class_bits: image.class.bits(),
                }));
            }
            // An ELF file has no setup header.
            Protocol::Linux => {}
        }
    }
    match override_ {
        Some(protocol) => Err(Box::new(Error::ProtocolNotPresent { protocol })),
        None => Err(Box::new(Error::PlainElfNeeds64 {
            class_bits: image.class.bits(),
        })),
    }
}

/// [`LoadPlan::allocate_low`] never places anything below this: page 0 holds the real-mode
/// interrupt vectors and the BIOS data area.
pub const LOW_ALLOC_MIN: u64 = 0x1000;
/// [`LoadPlan::allocate_low`] never places anything at or above this (the first GiB).
pub const LOW_ALLOC_MAX: u64 = 1 << 30;

#[derive(Clone, Copy)]
enum Placement {
    TopDown,
    Low,
}

/// Inputs of [`plan`] besides the kernel bytes.
#[derive(Debug, Clone, Copy)]
pub struct PlanConfig<'a> {
    /// The machine's memory map.
    pub memory_map: &'a [MemoryRegion],
    /// Memory the firmware occupies now (image, stacks, heap, page tables, boot info it still
    /// reads). Kernel destinations may overlap it (marked), allocations never do.
    pub firmware: &'a [Range],
    /// baton config's protocol override.
    pub protocol: Option<Protocol>,
    /// A bzImage is entered at its 32-bit entry even where it has the 64-bit one.
    pub linux_entry_32: bool,
    /// Allocations stay at or above this address (default 1 MiB).
    pub alloc_min: u64,
    /// Allocations end at or below this address (default 4 GiB: 32-bit protocols need it).
    pub alloc_max: u64,
}

impl<'a> PlanConfig<'a> {
    /// A config for `memory_map` with the firmware in `firmware`, no override, allocations in [1 MiB, 4 GiB).
    pub fn new(memory_map: &'a [MemoryRegion], firmware: &'a [Range]) -> Self {
        Self {
            memory_map,
            firmware,
            protocol: None,
            linux_entry_32: false,
            alloc_min: 0x10_0000,
            alloc_max: 1 << 32,
        }
    }
}

/// Segment permission bits (ELF `PF_*`).
pub const FLAG_R: u32 = PF_R;
/// Segment is writable (`PF_W`).
pub const FLAG_W: u32 = PF_W;
/// Segment is executable (`PF_X`).
pub const FLAG_X: u32 = PF_X;

/// One segment to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedSegment {
    /// Program header index; `None` for a load built from Multiboot address fields or a bzImage.
    pub phdr: Option<usize>,
    /// Where the segment's bytes begin in the file.
    pub file_offset: u64,
    /// How many bytes the file holds for it.
    pub file_size: u64,
    /// Physical destination.
    pub dest: u64,
    /// Bytes at `dest`; `[file_size, mem_size)` is zeroed.
    pub mem_size: u64,
    /// `PF_R | PF_W | PF_X` bits.
    pub flags: u32,
    /// The destination overlaps firmware memory: stage it and copy it in the takeover.
    pub overlaps_firmware: bool,
}

impl PlannedSegment {
    /// `[dest, dest + mem_size)`.
    pub fn dest_range(&self) -> Range {
        Range::new(self.dest, self.dest + self.mem_size)
    }
    /// The segment's file bytes in `kernel` (the same bytes the plan was made from).
    pub fn file_bytes<'k>(&self, kernel: &'k [u8]) -> Option<&'k [u8]> {
        let start = usize::try_from(self.file_offset).ok()?;
        let len = usize::try_from(self.file_size).ok()?;
        kernel.get(start..start.checked_add(len)?)
    }
}

/// An `R_X86_64_RELATIVE` fix-up: write `value` (little-endian u64) at `offset` inside
/// `segment` (an index into [`LoadPlan::segments`]) after copying and zeroing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relocation {
    /// Index into [`LoadPlan::segments`].
    pub segment: usize,
    /// Offset of the fix-up inside the segment.
    pub offset: u64,
    /// The value written there.
    pub value: u64,
}

/// Everything the firmware needs to load and enter the kernel.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The protocol and its header data.
    pub protocol: BootProtocol,
    /// ELF32 or ELF64; a bzImage (not ELF): ELF64 when it is entered at its 64-bit entry.
    pub class: ElfClass,
    /// ET_EXEC or ET_DYN; ET_EXEC for a bzImage.
    pub elf_type: ElfType,
    /// Physical address to jump to.
    pub entry: u64,
    /// What to load, in program-header order.
    pub segments: Vec<PlannedSegment>,
    /// ET_DYN: chosen address minus linked address (0 for ET_EXEC).
    pub load_bias: u64,
    /// `R_X86_64_RELATIVE` fix-ups, applied after the copy.
    pub relocations: Vec<Relocation>,
    /// Alignment for modules (initrd): always at least a page.
    pub module_align: u64,
    pub(crate) usable: Vec<Range>,
    pub(crate) taken: Vec<Range>,
    pub(crate) allocated: Vec<Range>,
    pub(crate) alloc_min: u64,
    pub(crate) alloc_max: u64,
}

/// Validates `kernel`, detects its protocol and plans its load against `config`.
pub fn plan(kernel: &[u8], config: &PlanConfig<'_>) -> Result<LoadPlan> {
    memory::validate_regions(config.memory_map)?;
    memory::validate_ranges("firmware range", config.firmware)?;
    if let Some(header) = bzimage::find_header(kernel)? {
        return match config.protocol {
            None | Some(Protocol::Linux) => bzimage::plan(kernel, header, config),
            Some(protocol) => Err(Box::new(Error::ProtocolNotPresent { protocol })),
        };
    }
    let image = elf::parse(kernel)?;
    let protocol = detect(&image, config.protocol)?;
    let kind = protocol.kind();
    let usable = memory::usable_ram(config.memory_map);
    let mut taken: Vec<Range> = config.firmware.to_vec();

    // Address fields (Multiboot1 flag 16, Multiboot2 address tag) replace the program headers.
    let address_load = match &protocol {
        BootProtocol::Multiboot1(h) => h.address_load(kernel.len())?,
        BootProtocol::Multiboot2(h) => h.address_load(kernel.len())?,
        _ => None,
    };
    let relocatable = match &protocol {
        BootProtocol::Elf64 => true,
        BootProtocol::Multiboot2(h) => h.relocatable.is_some(),
        _ => false,
    };
    if image.elf_type == ElfType::Dyn && (!relocatable || address_load.is_some()) {
        return Err(Box::new(Error::DynNotAllowed { protocol: kind }));
    }

    let mut segments = Vec::new();
    let mut load_bias = 0u64;
    let mut relocations = Vec::new();
    let entry;
    if let Some(AddressLoad {
        file_offset,
        file_len,
        load_addr,
        mem_len,
        entry: e,
    }) = address_load
    {
        segments.push(PlannedSegment {
            phdr: None,
            file_offset,
            file_size: file_len,
            dest: load_addr,
            mem_size: mem_len,
            flags: FLAG_R | FLAG_W | FLAG_X,
            overlaps_firmware: false,
        });
        entry = match (&protocol, e) {
            (BootProtocol::Multiboot2(h), _) if h.entry.is_none() => {
                image.entry_physical(image.entry)
            }
            _ => Some(e),
        };
    } else {
        if image.elf_type == ElfType::Dyn {
            load_bias = choose_bias(&image, &protocol, &usable, &taken, config)?;
        }
        for p in image.loads() {
            // ET_EXEC loads at p_paddr; ET_DYN at p_vaddr + bias (modular: the bias may be
            // "negative", choose_bias placed the whole span in free memory).
            let dest = match image.elf_type {
                ElfType::Dyn => p.vaddr.wrapping_add(load_bias),
                ElfType::Exec => p.paddr,
            };
            if dest.checked_add(p.memsz).is_none() {
                return Err(Box::new(Error::SegmentWraps {
                    segment: p.index,
                    addr: dest,
                    memsz: p.memsz,
                }));
            }
            segments.push(PlannedSegment {
                phdr: Some(p.index),
                file_offset: p.offset,
                file_size: p.filesz,
                dest,
                mem_size: p.memsz,
                flags: p.flags & (FLAG_R | FLAG_W | FLAG_X),
                overlaps_firmware: false,
            });
        }
        let elf_entry = || match image.elf_type {
            ElfType::Exec => image.entry_physical(image.entry),
            ElfType::Dyn => Some(image.entry.wrapping_add(load_bias)),
        };
        entry = match &protocol {
            BootProtocol::Pvh(n) => Some(u64::from(n.entry)),
            BootProtocol::Multiboot2(Mb2Header { entry: Some(e), .. }) => Some(u64::from(*e)),
            _ => elf_entry(),
        };
        if image.elf_type == ElfType::Dyn {
            for (index, (r_offset, addend)) in image.relative_relocations()?.into_iter().enumerate()
            {
                let found = image.loads().enumerate().find(|(_, p)| {
                    r_offset >= p.vaddr && p.memsz >= 8 && r_offset - p.vaddr <= p.memsz - 8
                });
                let Some((segment, p)) = found else {
                    return Err(Box::new(Error::RelocationOutOfSegment { index, r_offset }));
                };
                relocations.push(Relocation {
                    segment,
                    offset: r_offset - p.vaddr,
                    value: (addend as u64).wrapping_add(load_bias),
                });
            }
        }
    }

    // The entry must lie in an executable segment (or the address-field load).
    let entry = entry
        .filter(|&e| {
            segments
                .iter()
                .any(|s| s.flags & FLAG_X != 0 && s.dest <= e && e - s.dest < s.mem_size)
        })
        .ok_or(Error::EntryOutsideSegments {
            entry: entry.unwrap_or(image.entry),
        })?;
    if kind.is_32bit() && entry >= 1 << 32 {
        return Err(Box::new(Error::EntryAbove4G {
            protocol: kind,
            entry,
        }));
    }

    for (i, s) in segments.iter_mut().enumerate() {
        let segment = s.phdr.unwrap_or(i);
        check_destination(config, &usable, segment, s)?;
    }
    taken.extend(segments.iter().map(|s| s.dest_range()));

    Ok(LoadPlan {
        protocol,
        class: image.class,
        elf_type: image.elf_type,
        entry,
        segments,
        load_bias,
        relocations,
        module_align: 4096,
        usable,
        taken,
        allocated: Vec::new(),
        alloc_min: config.alloc_min,
        alloc_max: config.alloc_max,
    })
}

/// A segment's destination must lie in usable RAM (`segment` names it in
/// the error); overlapping the firmware is allowed and marked.
pub(crate) fn check_destination(
    config: &PlanConfig<'_>,
    usable: &[Range],
    segment: usize,
    s: &mut PlannedSegment,
) -> Result<()> {
    let r = s.dest_range();
    memory::check_usable(config.memory_map, usable, r).map_err(|region| {
        Error::SegmentNotInUsableRam {
            segment,
            start: r.start,
            end: r.end,
            region,
        }
    })?;
    s.overlaps_firmware = config.firmware.iter().any(|f| f.overlaps(&r));
    Ok(())
}

/// ET_DYN: place the whole image span in free memory (Multiboot2's relocatable tag bounds and
/// preference honoured) and return the bias.
fn choose_bias(
    image: &ElfImage<'_>,
    protocol: &BootProtocol,
    usable: &[Range],
    taken: &[Range],
    config: &PlanConfig<'_>,
) -> Result<u64> {
    let lo = image.loads().map(|p| p.vaddr).min().unwrap_or(0);
    let hi = image.loads().map(|p| p.vaddr + p.memsz).max().unwrap_or(0);
    let span = hi - lo;
    let p_align = image.loads().map(|p| p.align).max().unwrap_or(0).max(4096);
    let mut align = p_align;
    let (mut min, mut max, mut top_down) = (config.alloc_min, config.alloc_max, false);
    if let BootProtocol::Multiboot2(Mb2Header {
        relocatable: Some(r),
        ..
    }) = protocol
    {
        min = min.max(u64::from(r.min_addr));
        max = max.min(u64::from(r.max_addr).saturating_add(1));
        if r.align.is_power_of_two() {
            align = align.max(u64::from(r.align));
        }
        top_down = r.preference == 2;
    }
    if !align.is_power_of_two() {
        return Err(Box::new(Error::BadAllocAlign { align }));
    }
    // `lo % p_align` may be non-zero: keep it, so every segment keeps its p_align congruence.
    // (p_align was checked to be a power of two, so `p_align - 1` is a mask.)
    let pad = lo & (p_align - 1);
    let size = span.checked_add(pad).ok_or(Error::SegmentWraps {
        segment: 0,
        addr: lo,
        memsz: span,
    })?;
    let free = memory::free_ranges(usable, taken);
    let at = if top_down {
        memory::alloc_top_down(&free, size, align, min, max)
    } else {
        memory::alloc_bottom_up(&free, size, align, min, max)
    };
    let at = at.ok_or(Error::OutOfMemory {
        what: "relocatable kernel",
        size,
        align,
        below: max,
    })?;
    Ok((at + pad).wrapping_sub(lo))
}

impl LoadPlan {
    /// The protocol without its header data.
    pub fn kind(&self) -> Protocol {
        self.protocol.kind()
    }

    /// True if any segment must be staged because it overlaps firmware memory.
    pub fn needs_relocation(&self) -> bool {
        self.segments.iter().any(|s| s.overlaps_firmware)
    }

    /// `[lowest dest, highest dest end)` over all segments.
    pub fn kernel_range(&self) -> Range {
        let start = self.segments.iter().map(|s| s.dest).min().unwrap_or(0);
        let end = self
            .segments
            .iter()
            .map(|s| s.dest + s.mem_size)
            .max()
            .unwrap_or(0);
        Range::new(start, end)
    }

    /// Allocates `size` bytes aligned to `align` from free memory, top-down below the
    /// configured limit: usable RAM that no destination, firmware range or earlier allocation
    /// overlaps. Use it for modules, the park page and staging buffers.
    pub fn allocate(&mut self, what: &'static str, size: u64, align: u64) -> Result<u64> {
        self.allocate_in(what, size, align, Placement::TopDown)
    }

    /// Allocates `size` bytes aligned to `align` from the lowest free memory in
    /// [`LOW_ALLOC_MIN`, [`LOW_ALLOC_MAX`]): below 1 MiB wherever it fits, never above the
    /// first GiB. This is where GRUB and QEMU put boot information, and where kernels expect
    /// it: Linux's early PVH code reads `hvm_start_info` through page tables that map only the
    /// first GiB, and tboot places the kernel just above the Multiboot information.
    pub fn allocate_low(&mut self, what: &'static str, size: u64, align: u64) -> Result<u64> {
        self.allocate_in(what, size, align, Placement::Low)
    }

    fn allocate_in(
        &mut self,
        what: &'static str,
        size: u64,
        align: u64,
        placement: Placement,
    ) -> Result<u64> {
        if !align.is_power_of_two() {
            return Err(Box::new(Error::BadAllocAlign { align }));
        }
        let free = memory::free_ranges(&self.usable, &self.taken);
        let (at, below) = match placement {
            Placement::TopDown => (
                memory::alloc_top_down(&free, size, align, self.alloc_min, self.alloc_max),
                self.alloc_max,
            ),
            Placement::Low => {
                let below = self.alloc_max.min(LOW_ALLOC_MAX);
                let at = memory::alloc_bottom_up(&free, size, align, LOW_ALLOC_MIN, below);
                (at, below)
            }
        };
        let at = at.ok_or(Error::OutOfMemory {
            what,
            size,
            align,
            below,
        })?;
        let r = Range::new(at, at + size.max(1));
        self.taken.push(r);
        self.allocated.push(r);
        Ok(at)
    }

    /// As [`LoadPlan::allocate`], ending at or below `limit` as well: an initrd below a Linux
    /// kernel's `initrd_addr_max` ([`LoadPlan::initrd_limit`]).
    pub fn allocate_below(
        &mut self,
        what: &'static str,
        size: u64,
        align: u64,
        limit: u64,
    ) -> Result<u64> {
        let max = self.alloc_max;
        self.alloc_max = max.min(limit);
        let at = self.allocate(what, size, align);
        self.alloc_max = max;
        at
    }

    /// Where an initrd must end: a Linux kernel's `initrd_addr_max + 1` (no limit with
    /// XLF_CAN_BE_LOADED_ABOVE_4G); no limit for the other protocols.
    pub fn initrd_limit(&self) -> u64 {
        match &self.protocol {
            BootProtocol::Linux(header) => header.initrd_limit(),
            _ => u64::MAX,
        }
    }

    /// Marks `range` as used so that later allocations avoid it.
    pub fn reserve(&mut self, range: Range) {
        self.taken.push(range);
    }

    /// Every allocation so far, in order.
    pub fn allocations(&self) -> &[Range] {
        &self.allocated
    }

    /// Free memory left (usable minus destinations, firmware and allocations).
    pub fn free_memory(&self) -> Vec<Range> {
        memory::free_ranges(&self.usable, &self.taken)
    }

    /// Applies this plan's relocations for segment `index` to `buf`, the segment's bytes at
    /// its destination (`mem_size` long, file bytes copied and the tail zeroed).
    pub fn relocate(&self, index: usize, buf: &mut [u8]) {
        for r in self.relocations.iter().filter(|r| r.segment == index) {
            let Ok(off) = usize::try_from(r.offset) else {
                continue;
            };
            if let Some(dst) = off.checked_add(8).and_then(|end| buf.get_mut(off..end)) {
                dst.copy_from_slice(&r.value.to_le_bytes());
            }
        }
    }
}
