//! The identity map. `entry.s` maps the first 4 GiB with 2 MiB pages into
//! the tables below; `map_all_ram` extends it as far as it can without an
//! allocator (1 GiB pages up to 512 GiB where the CPU has them, else 2 MiB
//! pages from a fixed pool up to 64 GiB), so that the boot information can
//! be read; once the frame allocator exists, `map_everything` covers every
//! range of the memory map, RAM and MMIO alike, at any size 4-level paging
//! reaches (256 TiB), its page tables taken from the allocator.

use core::sync::atomic::{AtomicU64, Ordering};

use baton::support::phys::{PhysMemory, Unreadable};
use payload_loader::MemoryMap;
use x86_64::registers::control::Cr3;

const GIB: u64 = 1 << 30;
const PRESENT_WRITABLE: u64 = 0b11;
const HUGE: u64 = 1 << 7;
/// Page directories for RAM above 4 GiB when the CPU lacks 1 GiB pages:
/// enough for 64 GiB in all. Not cleared at entry: each is filled whole
/// before use.
const SPARE_PDS: usize = 60;

#[repr(C, align(4096))]
pub struct PageTable(pub [u64; 512]);

pub static mut BOOT_PML4: PageTable = PageTable([0; 512]);
pub static mut BOOT_PDPT: PageTable = PageTable([0; 512]);
pub static mut BOOT_PD: [PageTable; 4] = [const { PageTable([0; 512]) }; 4];
#[unsafe(link_section = ".bss.noclear")]
static mut SPARE_PD: [PageTable; SPARE_PDS] = [const { PageTable([0; 512]) }; SPARE_PDS];

/// End of the identity-mapped physical range.
static MAPPED_END: AtomicU64 = AtomicU64::new(4 * GIB);

pub fn mapped_end() -> u64 {
    MAPPED_END.load(Ordering::Relaxed)
}

/// Where baton's own allocations end: below 4 GiB, low in the map whatever
/// the machine's size (the 32-bit protocols and the copy stub's identity map
/// need it there, and high RAM stays untouched for the kernel).
pub fn allocation_limit() -> u64 {
    mapped_end().min(4 * GIB)
}

/// 4-level paging reaches this far (512 PML4 entries of 512 GiB).
const FOUR_LEVEL_END: u64 = 512 * 512 * GIB;

/// Why the identity map cannot cover the memory map.
#[derive(Debug)]
pub enum PagingError {
    /// A range of the map lies beyond what 4-level paging reaches.
    BeyondFourLevels { end: u64 },
    /// No free page below the mapped end for another page table.
    NoPageTable { covered: u64, want: u64 },
}

impl core::fmt::Display for PagingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BeyondFourLevels { end } => write!(
                f,
                "the memory map reaches {end:#x}, beyond what 4-level paging maps ({FOUR_LEVEL_END:#x})"
            ),
            Self::NoPageTable { covered, want } => write!(
                f,
                "no free page for a page table: the identity map covers [0..{covered:#x}) of [0..{want:#x})"
            ),
        }
    }
}

/// Extends the identity map to every range of `map` (RAM and what the
/// firmware reports as reserved or MMIO), up to the CPU's physical address
/// width: 1 GiB pages where CPUID offers them, else 2 MiB pages, with page
/// tables from `frames` (64 GiB in 2 MiB pages takes 64 page directories).
pub fn map_everything(
    map: &MemoryMap,
    frames: &mut baton::support::frames::FrameAllocator,
) -> Result<(), PagingError> {
    let cpuid = raw_cpuid::CpuId::new();
    let features = cpuid.get_extended_processor_and_feature_identifiers();
    let gib_pages = features.as_ref().is_some_and(|f| f.has_1gib_pages());
    let phys_end = cpuid
        .get_processor_capacity_feature_info()
        .map_or(FOUR_LEVEL_END, |c| {
            1u64 << c.physical_address_bits().min(63)
        });
    let highest = map.regions().last().map_or(0, |r| r.end);
    if highest > FOUR_LEVEL_END {
        return Err(PagingError::BeyondFourLevels { end: highest });
    }
    if highest > phys_end {
        warn!(
            "memory map reaches {highest:#x}, beyond the CPU's physical address width ({phys_end:#x}): mapped up to the width"
        );
    }
    // With 1 GiB pages everything up to the top (holes cost nothing but a
    // PDPT per 512 GiB); with 2 MiB pages only the GiBs some range touches:
    // QEMU lists a reserved range just below 1 TiB, and the hole up to it
    // would take a page directory per GiB.
    let top = highest.min(phys_end);
    let touched = map
        .regions()
        .iter()
        .filter(|r| r.start < top)
        .flat_map(|r| r.start / GIB..r.end.min(top).div_ceil(GIB));
    let mut gibs: alloc::boxed::Box<dyn Iterator<Item = u64>> = match gib_pages {
        true => alloc::boxed::Box::new(0..top.div_ceil(GIB)),
        false => alloc::boxed::Box::new(touched),
    };
    let mut table = || -> Option<*mut PageTable> {
        let at = frames.allocate(4096, 4096, allocation_limit())?;
        let t = at as *mut PageTable;
        // SAFETY: a fresh, identity-mapped, page-aligned frame.
        unsafe { (*t).0 = [0; 512] };
        Some(t)
    };
    let no_table = |gib: u64| PagingError::NoPageTable {
        covered: mapped_end(),
        want: (gib + 1) * GIB,
    };
    // SAFETY: single-threaded boot; only entries that are not present yet
    // are written (no live translation changes); CR3 is reloaded after.
    unsafe {
        let pml4 = &mut *(&raw mut BOOT_PML4);
        gibs.try_for_each(|gib| {
            let slot = (gib / 512) as usize;
            if pml4.0[slot] & 1 == 0 {
                let pdpt = table().ok_or(no_table(gib))?;
                pml4.0[slot] = pdpt as u64 | PRESENT_WRITABLE;
            }
            let pdpt = &mut *((pml4.0[slot] & !0xfff) as *mut PageTable);
            let entry = &mut pdpt.0[(gib % 512) as usize];
            if *entry & 1 != 0 {
                return Ok(());
            }
            if gib_pages {
                *entry = (gib * GIB) | HUGE | PRESENT_WRITABLE;
            } else {
                let pd = table().ok_or(no_table(gib))?;
                for (i, e) in (*pd).0.iter_mut().enumerate() {
                    *e = (gib * GIB + (i as u64) * (2 << 20)) | HUGE | PRESENT_WRITABLE;
                }
                *entry = pd as u64 | PRESENT_WRITABLE;
            }
            Ok(())
        })?;
        let (frame, flags) = Cr3::read();
        Cr3::write(frame, flags);
        // The mapped end: the run of mapped GiBs from 0 up.
        let mut end = mapped_end() / GIB;
        while end < FOUR_LEVEL_END / GIB {
            let slot = (end / 512) as usize;
            let present = pml4.0[slot] & 1 != 0
                && (*((pml4.0[slot] & !0xfff) as *const PageTable)).0[(end % 512) as usize] & 1
                    != 0;
            if !present {
                break;
            }
            end += 1;
        }
        MAPPED_END.store(end * GIB, Ordering::Relaxed);
    }
    Ok(())
}

/// Extends the identity map to cover every region of `map`, up to what one
/// PDPT (512 GiB) or the spare page directories allow; the rest is reported.
pub fn map_all_ram(map: &MemoryMap) {
    let want = map.highest_ram().div_ceil(GIB);
    let gib_pages = raw_cpuid::CpuId::new()
        .get_extended_processor_and_feature_identifiers()
        .is_some_and(|f| f.has_1gib_pages());
    let limit = if gib_pages { 512 } else { 4 + SPARE_PDS as u64 };
    let end = want.min(limit);
    // SAFETY: single-threaded boot; the entries written are not present yet,
    // so no live translation changes. CR3 is reloaded afterwards.
    unsafe {
        let pdpt = &mut *(&raw mut BOOT_PDPT);
        let spare = &mut *(&raw mut SPARE_PD);
        for gib in 4..end {
            if gib_pages {
                pdpt.0[gib as usize] = (gib * GIB) | HUGE | PRESENT_WRITABLE;
            } else {
                let pd = &mut spare[(gib - 4) as usize];
                for (i, e) in pd.0.iter_mut().enumerate() {
                    *e = (gib * GIB + (i as u64) * (2 << 20)) | HUGE | PRESENT_WRITABLE;
                }
                pdpt.0[gib as usize] = pd as *const PageTable as u64 | PRESENT_WRITABLE;
            }
        }
        let (frame, flags) = Cr3::read();
        Cr3::write(frame, flags);
    }
    MAPPED_END.store(end.max(4) * GIB, Ordering::Relaxed);
    if want > limit {
        debug!(
            "memory map reaches {:#x}; the identity map stops at {:#x} ({} GiB pages) until page tables can be allocated",
            map.highest_ram(),
            mapped_end(),
            if gib_pages { "with 1" } else { "without 1" },
        );
    }
}

/// Physical memory as the identity map shows it.
pub struct IdentityMapped;

impl PhysMemory for IdentityMapped {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Unreadable> {
        let len = buf.len() as u64;
        match addr.checked_add(len) {
            Some(end) if end <= mapped_end() => {
                // SAFETY: the range is identity-mapped; byte copies need no alignment.
                unsafe {
                    core::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len())
                };
                Ok(())
            }
            _ => Err(Unreadable { addr, len }),
        }
    }
}
