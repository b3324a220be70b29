//! baton's own memory: the heap (in .bss, usable before the memory map is
//! read) and the frame allocator over what the memory map leaves free.

use baton::entry::BootInfo;
use baton::support::frames::FrameAllocator;
use linked_list_allocator::LockedHeap;
use payload_loader::Range;

use crate::machine::platform::paging;

/// A stack's storage, 16-byte aligned as the ABI wants at a call.
#[repr(C, align(16))]
pub struct Stack<const N: usize>(pub [u8; N]);

const HEAP_SIZE: usize = 2 << 20;

#[repr(C, align(4096))]
struct HeapArea([u8; HEAP_SIZE]);

/// Not cleared at entry (the allocator needs no zeroed memory): clearing
/// 2 MiB costs milliseconds under TCG.
#[unsafe(link_section = ".bss.noclear")]
static mut HEAP_AREA: HeapArea = HeapArea([0; HEAP_SIZE]);

/// The 2 MiB static heap, and behind it one larger region lent once from
/// the frame allocator when something needs more than fits (the LZMA
/// decoder's tables for a stream with large lc + lp: up to 6 MiB).
struct Heap {
    small: LockedHeap,
    lent: LockedHeap,
}

// SAFETY: both halves are LockedHeaps; a pointer is returned to the heap
// whose range holds it.
unsafe impl core::alloc::GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        unsafe {
            match self.small.alloc(layout) {
                p if p.is_null() => self.lent.alloc(layout),
                p => p,
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
        // SAFETY: `ptr` came from the heap whose range holds it.
        unsafe {
            match heap().contains(ptr as u64) {
                true => self.small.dealloc(ptr, layout),
                false => self.lent.dealloc(ptr, layout),
            }
        }
    }
}

#[global_allocator]
static HEAP: Heap = Heap {
    small: LockedHeap::empty(),
    lent: LockedHeap::empty(),
};

pub fn init_heap() {
    // SAFETY: the area is used by nothing else and lives forever.
    unsafe {
        HEAP.small
            .lock()
            .init((&raw mut HEAP_AREA).cast::<u8>(), HEAP_SIZE)
    };
}

/// Makes sure the heap can give `bytes` more: lends it a region of that
/// size from the frame allocator (once; a later, larger need is refused).
/// Returns whether the room is there.
pub fn ensure_heap(frames: &mut FrameAllocator, bytes: u64) -> bool {
    let mut lent = HEAP.lent.lock();
    if lent.size() as u64 >= bytes {
        return true;
    }
    if lent.size() > 0 {
        return false;
    }
    let size = bytes.next_multiple_of(baton::support::frames::PAGE_SIZE);
    let Some(addr) = frames.allocate(
        size,
        baton::support::frames::PAGE_SIZE,
        paging::allocation_limit(),
    ) else {
        return false;
    };
    debug!(
        "heap: {} KiB lent from [{addr:#x}..{:#x})",
        size >> 10,
        addr + size
    );
    // SAFETY: fresh frames, identity-mapped, never handed out again.
    unsafe { lent.init(addr as *mut u8, size as usize) };
    true
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
pub fn image() -> Range {
    Range::new(
        (&raw const __baton_start) as u64,
        (&raw const __baton_end) as u64,
    )
}

/// The part of the image the ELF carries (text, rodata, data).
pub fn loaded() -> Range {
    Range::new(
        (&raw const __baton_start) as u64,
        (&raw const __data_end) as u64,
    )
}

pub fn bss() -> Range {
    Range::new(
        (&raw const __bss_start) as u64,
        (&raw const __bss_end) as u64,
    )
}

pub fn heap() -> Range {
    let start = (&raw const HEAP_AREA) as u64;
    Range::new(start, start + HEAP_SIZE as u64)
}

/// The frame allocator: usable RAM minus baton's image, the boot
/// structures, the modules and the RSDP's page (ACPI ranges are not usable
/// memory to begin with).
pub fn frame_allocator(info: &BootInfo) -> FrameAllocator {
    let mut reserved = alloc::vec![image()];
    reserved.extend_from_slice(&info.boot_structures);
    for m in &info.modules {
        reserved.push(Range::new(m.start, m.start.saturating_add(m.len)));
    }
    reserved.extend(info.rsdp.map(|r| Range::new(r, r + 36)));
    FrameAllocator::new(&info.memory_map, &reserved)
}
