//! The identity map. `entry.s` maps the first 4 GiB with 2 MiB pages into
//! the tables below; `map_all_ram` extends it to the end of the memory map
//! (QEMU `-m 6G` puts RAM above 4 GiB), with 1 GiB pages where the CPU has
//! them and 2 MiB pages from a fixed pool otherwise.

use core::sync::atomic::{AtomicU64, Ordering};

use baton::memmap::MemoryMap;
use baton::phys::{PhysMemory, Unreadable};
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
        warn!(
            "memory map reaches {:#x} but the identity map stops at {:#x} ({} GiB pages)",
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
