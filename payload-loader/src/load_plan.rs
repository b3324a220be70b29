//! The load plan: where every segment goes, whether it overlaps the
//! firmware, the entry point, and a free-memory allocator for modules, boot info and staging.

use alloc::boxed::Box;
use alloc::vec::Vec;

use goblin::elf::program_header::{PF_R, PF_W, PF_X};

use crate::bzimage::SetupHeader;
use crate::elf::{ElfClass, ElfType};
use crate::error::{Error, Result};
use crate::memory::{self, MemoryRegion, Range};
use crate::multiboot1::Mb1Header;
use crate::multiboot2::Mb2Header;
use crate::protocol::Protocol;
use crate::pvh::PvhNote;

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

/// Inputs of [`crate::plan`] besides the kernel bytes.
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

/// What a new plan's allocations must avoid: the firmware and the kernel's destinations.
/// (One function for the ELF and the bzImage planner.)
pub(crate) fn taken_by(config: &PlanConfig<'_>, segments: &[PlannedSegment]) -> Vec<Range> {
    let mut taken = config.firmware.to_vec();
    taken.extend(segments.iter().map(|s| s.dest_range()));
    taken
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
