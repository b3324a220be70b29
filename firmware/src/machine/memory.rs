//! baton's own memory: the heap (in .bss, usable before the memory map is
//! read) and the frame allocator over what the memory map leaves free.

use core::ops::Range;

use baton::bootinfo::BootInfo;
use baton::frames::FrameAllocator;
use linked_list_allocator::LockedHeap;

const HEAP_SIZE: usize = 2 << 20;

#[repr(C, align(4096))]
struct HeapArea([u8; HEAP_SIZE]);

/// Not cleared at entry (the allocator needs no zeroed memory): clearing
/// 2 MiB costs milliseconds under TCG.
#[unsafe(link_section = ".bss.noclear")]
static mut HEAP_AREA: HeapArea = HeapArea([0; HEAP_SIZE]);

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

pub fn init_heap() {
    // SAFETY: the area is used by nothing else and lives forever.
    unsafe {
        HEAP.lock()
            .init((&raw mut HEAP_AREA).cast::<u8>(), HEAP_SIZE)
    };
}

unsafe extern "C" {
    static __baton_start: u8;
    static __baton_end: u8;
    static __data_end: u8;
    static __bss_start: u8;
    static __bss_end: u8;
}

/// baton's image in memory: everything from the first loaded byte to the
/// end of .bss (stacks, heap and page tables included).
pub fn image() -> Range<u64> {
    (&raw const __baton_start) as u64..(&raw const __baton_end) as u64
}

/// The part of the image the ELF carries (text, rodata, data).
pub fn loaded() -> Range<u64> {
    (&raw const __baton_start) as u64..(&raw const __data_end) as u64
}

pub fn bss() -> Range<u64> {
    (&raw const __bss_start) as u64..(&raw const __bss_end) as u64
}

pub fn heap() -> Range<u64> {
    let start = (&raw const HEAP_AREA) as u64;
    start..start + HEAP_SIZE as u64
}

/// The frame allocator: usable RAM minus baton's image, the boot
/// structures, the modules and the RSDP's page (ACPI ranges are not usable
/// memory to begin with).
pub fn frame_allocator(info: &BootInfo) -> FrameAllocator {
    let mut reserved = alloc::vec![image()];
    reserved.extend(info.boot_structures.iter().cloned());
    reserved.extend(
        info.modules
            .iter()
            .map(|m| m.start..m.start.saturating_add(m.len)),
    );
    reserved.extend(info.rsdp.map(|r| r..r + 36));
    FrameAllocator::new(&info.memory_map, &reserved)
}
