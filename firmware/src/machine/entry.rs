//! The way in: the PVH note and the 32-to-64-bit stub (`entry.s`), and the
//! first Rust function, which turns the entry protocol's structures into a
//! `BootInfo`.

use core::arch::global_asm;

use baton::bootinfo::{BootInfo, BootInfoError};
use baton::pvh::StartInfo;

use super::paging;

/// Entry protocol numbers passed from the assembly prologues to Rust.
pub const PROTOCOL_PVH: u32 = 1;

/// GDT selectors of `entry.s`'s boot GDT (replaced by platform::gdt).
const BOOT_CODE64: u16 = 0x08;
const BOOT_DATA: u16 = 0x10;

pub const BOOT_STACK_SIZE: usize = 64 * 1024;

#[repr(C, align(16))]
pub struct Stack<const N: usize>(pub [u8; N]);

pub static mut BOOT_STACK: Stack<BOOT_STACK_SIZE> = Stack([0; BOOT_STACK_SIZE]);

/// TSC at the first instruction. In .data: .bss is cleared after it is taken.
#[unsafe(link_section = ".data.entry_tsc")]
pub static mut ENTRY_TSC: u64 = 0;

global_asm!(
    include_str!("entry.s"),
    pvh = const PROTOCOL_PVH,
    code64 = const BOOT_CODE64,
    data = const BOOT_DATA,
    entry_tsc = sym ENTRY_TSC,
    pml4 = sym paging::BOOT_PML4,
    pdpt = sym paging::BOOT_PDPT,
    pd = sym paging::BOOT_PD,
    stack = sym BOOT_STACK,
    stack_size = const BOOT_STACK_SIZE,
    rust_start = sym rust_start,
    options(att_syntax)
);

extern "C" fn rust_start(protocol: u32, info: u32) -> ! {
    crate::boot(protocol, info)
}

pub fn entry_tsc() -> u64 {
    // SAFETY: written once by entry.s before any Rust code runs.
    unsafe { core::ptr::read_volatile(&raw const ENTRY_TSC) }
}

/// Builds the BootInfo for the protocol baton was entered by. The identity
/// map is extended to all RAM between reading the memory map and reading
/// the rest (modules may lie above 4 GiB).
pub fn boot_info(protocol: u32, info: u32) -> Result<BootInfo, BootInfoError> {
    match protocol {
        PROTOCOL_PVH => {
            let start_info = StartInfo::read(&paging::IdentityMapped, info.into())?;
            let map = start_info.memory_map(&paging::IdentityMapped)?;
            paging::map_all_ram(&map);
            start_info.boot_info(&paging::IdentityMapped, map)
        }
        other => panic!("entry stub passed unknown protocol {other}"),
    }
}
