//! The handoff's arithmetic, kept apart from the registers: baton's memory
//! map in the loader's terms, which memory baton still occupies, and the
//! list of copies the copy stub performs (step 6 of the takeover in
//! docs/ARCHITECTURE.md).

use alloc::vec::Vec;
use core::ops::Range as FileRange;

use payload_loader::{LoadPlan, MemoryKind, MemoryRegion, Range};

/// One copy the stub makes: `len` bytes from `src` to `dst`, then `zero`
/// bytes of zeros after them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct CopyStep {
    /// Source address.
    pub src: u64,
    /// Destination address.
    pub dst: u64,
    /// Bytes to copy.
    pub len: u64,
    /// Bytes to zero after the copy (a .bss tail).
    pub zero: u64,
}

/// Usable RAM that is not free in the frame allocator: baton's image,
/// stacks, heap, the boot structures, the APs' areas, the kernel source's
/// blobs. Kernel destinations may overlap these (the copy stub runs from
/// elsewhere); allocations for the handoff never do.
pub fn busy_ranges(map: &[MemoryRegion], free: &[Range]) -> Vec<Range> {
    let mut busy = Vec::new();
    for r in map.iter().filter(|r| r.kind == MemoryKind::Usable) {
        let mut at = r.start;
        for f in free.iter().filter(|f| f.start < r.end && r.start < f.end) {
            if f.start > at {
                busy.push(Range::new(at, f.start));
            }
            at = at.max(f.end);
        }
        if at < r.end {
            busy.push(Range::new(at, r.end));
        }
    }
    busy
}

/// Whether `r` overlaps where any segment of `plan` goes.
pub fn hits_destination(plan: &LoadPlan, r: Range) -> bool {
    plan.segments.iter().any(|s| s.dest_range().overlaps(&r))
}

/// The copies for `plan`: each segment from the kernel file at `kernel_at`,
/// or whole (`mem_size` bytes, already relocated) from its staging buffer
/// where `staged[i]` names one.
pub fn copies(plan: &LoadPlan, kernel_at: u64, staged: &[Option<u64>]) -> Vec<CopyStep> {
    plan.segments
        .iter()
        .enumerate()
        .map(|(i, s)| match staged.get(i).copied().flatten() {
            Some(buffer) => CopyStep {
                src: buffer,
                dst: s.dest,
                len: s.mem_size,
                zero: 0,
            },
            None => CopyStep {
                src: kernel_at + s.file_offset,
                dst: s.dest,
                len: s.file_size,
                zero: zeroed_tail(plan, s),
            },
        })
        .collect()
}

/// The bytes after a segment's file bytes that the loader zeroes: an ELF
/// segment's bss; for a bzImage none (its `init_size` beyond the file is
/// room the kernel's own decompressor uses, which no loader clears: 38 MiB
/// of zeroes for Debian's, about 100 ms under TCG).
fn zeroed_tail(plan: &LoadPlan, s: &payload_loader::PlannedSegment) -> u64 {
    match plan.kind() {
        payload_loader::Protocol::Linux => 0,
        _ => s.mem_size - s.file_size,
    }
}

/// A segment's file bytes read straight from the kernel's source to their
/// destination (fw_cfg DMA, after the stop) instead of by the copy stub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectRead {
    /// Offset in the kernel file.
    pub file_offset: u64,
    /// Destination address.
    pub dst: u64,
    /// Bytes to read.
    pub len: u64,
}

/// For a kernel file read only in part: whether segment `index` of `plan`
/// is read straight into place after the stop. It is when nothing baton
/// still uses lies at its destination (`!overlaps_firmware`: not baton's
/// image, heap, stacks, sources or the APs' memory; the handoff's own
/// allocations avoid destinations anyway) and it is not relocated.
pub fn reads_directly(plan: &LoadPlan, index: usize) -> bool {
    plan.segments
        .get(index)
        .is_some_and(|s| !s.overlaps_firmware)
        && !plan.relocations.iter().any(|r| r.segment == index)
}

/// The file ranges of the segments that are not read directly: for a
/// kernel file read in part, these must be fetched into its blob before
/// the copies are planned.
pub fn staged_file_ranges(plan: &LoadPlan) -> Vec<FileRange<u64>> {
    // A loop of pushes, not `filter().collect()`: collect's first-element
    // special case costs more code than the shared push path (saves 448 bytes).
    let mut ranges = Vec::new();
    for (i, s) in plan.segments.iter().enumerate() {
        if !reads_directly(plan, i) && s.file_size != 0 {
            ranges.push(s.file_offset..s.file_offset + s.file_size);
        }
    }
    ranges
}

/// How many bytes of a kernel file read in part baton holds once the
/// `staged` file ranges are fetched: the union of the first `read` bytes
/// and those ranges (segments may share file bytes with the head, or with
/// each other), never more than `file_len`.
pub fn bytes_in_hand(read: u64, staged: &[FileRange<u64>], file_len: u64) -> u64 {
    // As payload-loader's `Range`s (ordered by start, then end; the order
    // among equal starts does not change the sum) for its heapsort, which
    // the image has anyway: core's `sort_unstable` added 3.7 KB. Pushed,
    // the head's range first, rather than collected then pushed (128 bytes).
    let mut ranges = alloc::vec![Range::new(0, read)];
    for r in staged {
        ranges.push(Range::new(r.start, r.end));
    }
    payload_loader::sort::heapsort(&mut ranges);
    let (mut total, mut covered) = (0, 0);
    for r in ranges {
        let (start, end) = (r.start.max(covered), r.end.min(file_len));
        if start < end {
            total += end - start;
            covered = end;
        }
    }
    total
}

/// Takes the segments read directly out of `copies` (made by `copies`
/// from the same plan): their entries keep only the zeroing of the tail,
/// and their file bytes become the returned reads.
pub fn take_direct_reads(plan: &LoadPlan, copies: &mut [CopyStep]) -> Vec<DirectRead> {
    let mut reads = Vec::new();
    for (i, (s, copy)) in plan.segments.iter().zip(copies.iter_mut()).enumerate() {
        if !reads_directly(plan, i) {
            continue;
        }
        if s.file_size != 0 {
            reads.push(DirectRead {
                file_offset: s.file_offset,
                dst: s.dest,
                len: s.file_size,
            });
        }
        *copy = CopyStep {
            src: copy.src,
            dst: s.dest + s.file_size,
            len: 0,
            zero: zeroed_tail(plan, s),
        };
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::*;
    use payload_loader::{PlanConfig, plan};

    #[test]
    fn bytes_in_hand_count_shared_bytes_once() {
        // Xen's case: the head read covers the first segment's bytes.
        let segment = 0x800..0x1800;
        assert_eq!(bytes_in_hand(0x1000, &[segment], 0x4000), 0x1800);
        // Overlapping and repeated staged ranges, and a gap.
        assert_eq!(
            bytes_in_hand(0x100, &[0x200..0x300, 0x280..0x400, 0x200..0x300], 0x4000),
            0x100 + 0x200
        );
        // Never past the file's end, nor a range wholly inside another.
        assert_eq!(
            bytes_in_hand(0x100, &[0x0..0x80, 0x50..0x9000], 0x4000),
            0x4000
        );
        assert_eq!(bytes_in_hand(0, &[], 0x4000), 0);
    }

    #[test]
    fn busy_is_usable_minus_free() {
        let map = [
            MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
            MemoryRegion::new(0x9fc00, 0xa0000, MemoryKind::Reserved),
            MemoryRegion::new(0x10_0000, 0x800_0000, MemoryKind::Usable),
        ];
        let free = [
            Range::new(0x40_0000, 0x100_0000),
            Range::new(0x200_0000, 0x7ff_0000),
        ];
        assert_eq!(
            busy_ranges(&map, &free),
            [
                Range::new(0, 0x9fc00),
                Range::new(0x10_0000, 0x40_0000),
                Range::new(0x100_0000, 0x200_0000),
                Range::new(0x7ff_0000, 0x800_0000),
            ]
        );
    }

    /// A minimal ELF64 with one PT_LOAD at 1 MiB: 0x20 file bytes, 0x100 in memory.
    fn tiny_elf() -> Vec<u8> {
        let mut f = alloc::vec![0u8; 0x100];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2; // 64-bit
        f[5] = 1; // little-endian
        f[6] = 1;
        f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        f[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86_64
        f[20..24].copy_from_slice(&1u32.to_le_bytes());
        f[24..32].copy_from_slice(&0x10_0000u64.to_le_bytes()); // entry
        f[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
        f[52..54].copy_from_slice(&64u16.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&1u16.to_le_bytes());
        let ph = 64;
        f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        f[ph + 4..ph + 8].copy_from_slice(&5u32.to_le_bytes()); // R+X
        f[ph + 8..ph + 16].copy_from_slice(&0xc0u64.to_le_bytes()); // offset
        f[ph + 16..ph + 24].copy_from_slice(&0x10_0000u64.to_le_bytes()); // vaddr
        f[ph + 24..ph + 32].copy_from_slice(&0x10_0000u64.to_le_bytes()); // paddr
        f[ph + 32..ph + 40].copy_from_slice(&0x20u64.to_le_bytes()); // filesz
        f[ph + 40..ph + 48].copy_from_slice(&0x100u64.to_le_bytes()); // memsz
        f[ph + 48..ph + 56].copy_from_slice(&0x40u64.to_le_bytes()); // align
        f
    }

    #[test]
    fn copies_come_from_the_file_or_the_staging_buffer() {
        let map = [MemoryRegion::new(0x10_0000, 0x800_0000, MemoryKind::Usable)];
        let p = plan(&tiny_elf(), &PlanConfig::new(&map, &[])).unwrap();
        assert_eq!(
            copies(&p, 0x500_0000, &[]),
            [CopyStep {
                src: 0x500_00c0,
                dst: 0x10_0000,
                len: 0x20,
                zero: 0xe0
            }]
        );
        assert_eq!(
            copies(&p, 0x500_0000, &[Some(0x600_0000)]),
            [CopyStep {
                src: 0x600_0000,
                dst: 0x10_0000,
                len: 0x100,
                zero: 0
            }]
        );
        assert!(hits_destination(&p, Range::new(0x10_00ff, 0x20_0000)));
        assert!(!hits_destination(&p, Range::new(0x10_0100, 0x20_0000)));
    }

    #[test]
    fn segments_clear_of_baton_are_read_straight_into_place() {
        let map = [MemoryRegion::new(0x10_0000, 0x800_0000, MemoryKind::Usable)];
        let clear = plan(&tiny_elf(), &PlanConfig::new(&map, &[])).unwrap();
        assert!(reads_directly(&clear, 0));
        assert!(staged_file_ranges(&clear).is_empty());
        let mut list = copies(&clear, 0x500_0000, &[]);
        assert_eq!(
            take_direct_reads(&clear, &mut list),
            [DirectRead {
                file_offset: 0xc0,
                dst: 0x10_0000,
                len: 0x20
            }]
        );
        // The copy stub only zeroes the tail.
        assert_eq!(
            (list[0].dst, list[0].len, list[0].zero),
            (0x10_0020, 0, 0xe0)
        );

        // Over baton's memory: staged in the file's blob, copied by the stub.
        let baton = [Range::new(0x10_0000, 0x20_0000)];
        let over = plan(&tiny_elf(), &PlanConfig::new(&map, &baton)).unwrap();
        assert!(!reads_directly(&over, 0));
        assert_eq!(staged_file_ranges(&over), alloc::vec![0xc0..0xe0]);
        let mut list = copies(&over, 0x500_0000, &[]);
        let before = list.clone();
        assert!(take_direct_reads(&over, &mut list).is_empty());
        assert_eq!(list, before);
    }
}
