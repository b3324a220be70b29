//! The ways in: the PVH note, the Multiboot headers, coreboot's e_entry
//! and the 32-to-64-bit stub (`entry.s`), and the first Rust function,
//! which turns the entry protocol's structures into a `BootInfo`.

pub mod cbfs;
pub mod vga;

use core::arch::global_asm;

use baton::entry::pvh::StartInfo;
use baton::entry::{BootInfo, BootInfoError, EntryProtocol};
use baton::entry::{coreboot, multiboot};

use crate::machine::platform::memory::Stack;
use crate::machine::platform::paging;

/// Entry protocol numbers passed from the assembly prologues to Rust.
pub const PROTOCOL_PVH: u32 = 1;
pub const PROTOCOL_MULTIBOOT1: u32 = 2;
pub const PROTOCOL_MULTIBOOT2: u32 = 3;
pub const PROTOCOL_COREBOOT32: u32 = 4;
pub const PROTOCOL_COREBOOT64: u32 = 5;

/// The magic numbers in the Multiboot headers (the loaders' EAX values are
/// in `baton::entry::multiboot`). Multiboot1 flags: modules page-aligned (0),
/// memory information (1), address fields (16).
const MB1_HEADER_MAGIC: u32 = 0x1bad_b002;
const MB1_FLAGS: u32 = (1 << 0) | (1 << 1) | (1 << 16);
const MB2_HEADER_MAGIC: u32 = 0xe852_50d6;

/// GDT selectors of `entry.s`'s boot GDT (replaced by platform::gdt).
const BOOT_CODE64: u16 = 0x08;
const BOOT_DATA: u16 = 0x10;
const BOOT_CODE32: u16 = 0x18;

pub const BOOT_STACK_SIZE: usize = 64 * 1024;

pub static mut BOOT_STACK: Stack<BOOT_STACK_SIZE> = Stack([0; BOOT_STACK_SIZE]);

global_asm!(
    include_str!("entry.s"),
    pvh = const PROTOCOL_PVH,
    mb1 = const PROTOCOL_MULTIBOOT1,
    mb2 = const PROTOCOL_MULTIBOOT2,
    coreboot32 = const PROTOCOL_COREBOOT32,
    coreboot64 = const PROTOCOL_COREBOOT64,
    mb1_header_magic = const MB1_HEADER_MAGIC,
    mb1_flags = const MB1_FLAGS,
    mb2_header_magic = const MB2_HEADER_MAGIC,
    code32 = const BOOT_CODE32,
    code64 = const BOOT_CODE64,
    data = const BOOT_DATA,
    entry_tsc = sym crate::machine::platform::tsc::ENTRY_TSC,
    pml4 = sym paging::BOOT_PML4,
    pdpt = sym paging::BOOT_PDPT,
    pd = sym paging::BOOT_PD,
    stack = sym BOOT_STACK,
    stack_size = const BOOT_STACK_SIZE,
    rust_start = sym rust_start,
    options(att_syntax)
);

extern "C" fn rust_start(protocol: u32, info: u32, magic: u32) -> ! {
    crate::boot(Entry {
        protocol,
        info,
        magic,
    })
}

/// What the assembly prologue hands Rust: which way baton came in, the
/// info pointer (EBX, [esp+4] or RDI), and EAX for Multiboot.
#[derive(Clone, Copy)]
pub struct Entry {
    protocol: u32,
    info: u32,
    magic: u32,
}

/// Builds the BootInfo for the way baton came in. The identity map is
/// extended to all RAM between reading the memory map and reading the rest
/// (modules may lie above 4 GiB).
pub fn boot_info(entry: Entry) -> Result<BootInfo, BootInfoError> {
    let mem = &paging::IdentityMapped;
    let info = u64::from(entry.info);
    let check_magic = |expected: u32, what| match entry.magic {
        m if m == expected => Ok(()),
        m => Err(BootInfoError::BadMagic {
            what,
            found: m.into(),
            expected: expected.into(),
        }),
    };
    let boot_info = match entry.protocol {
        PROTOCOL_PVH => {
            let start_info = StartInfo::read(mem, info)?;
            let map = start_info.memory_map(mem)?;
            paging::map_all_ram(&map);
            return start_info.boot_info(mem, map);
        }
        PROTOCOL_MULTIBOOT1 => {
            check_magic(multiboot::MB1_MAGIC, "Multiboot1 EAX")?;
            multiboot::multiboot1(mem, info)?
        }
        PROTOCOL_MULTIBOOT2 => {
            check_magic(multiboot::MB2_MAGIC, "Multiboot2 EAX")?;
            multiboot::multiboot2(mem, info)?
        }
        PROTOCOL_COREBOOT32 | PROTOCOL_COREBOOT64 => {
            let (table, scanned) = coreboot::find(mem, (info != 0).then_some(info))?;
            let tables = coreboot::tables::Tables::read(mem, table)?;
            let map = tables.memory_map()?;
            let bits = if entry.protocol == PROTOCOL_COREBOOT32 {
                32
            } else {
                64
            };
            let protocol = EntryProtocol::Coreboot {
                bits,
                table,
                scanned,
            };
            // coreboot passes no command line: baton's is the CBFS file opt/baton/config.
            let cbfs = tables.boot_media.and_then(|m| m.cbfs_range());
            let cmdline = cbfs
                .map(crate::machine::entry::cbfs::config)
                .unwrap_or_default();
            tables.boot_info(map, protocol, cmdline)
        }
        other => panic!("entry stub passed unknown protocol {other}"),
    };
    paging::map_all_ram(&boot_info.memory_map);
    Ok(boot_info)
}
