//! The way in: boot headers, the 32-bit and 64-bit entry stubs (`entry.s`),
//! the entry state they save, the probe's page tables, GDT and stack.

use core::arch::global_asm;
use core::mem::offset_of;

use payload_loader::{multiboot1, multiboot2, pvh};

/// Which entry protocol this build is (exactly one cargo feature).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Pvh = 1,
    Multiboot1 = 2,
    Multiboot2 = 3,
    Elf64 = 4,
}

#[cfg(all(
    feature = "pvh",
    not(any(feature = "mb1", feature = "mb2", feature = "elf64"))
))]
pub const FLAVOUR: Flavour = Flavour::Pvh;
#[cfg(all(
    feature = "mb1",
    not(any(feature = "pvh", feature = "mb2", feature = "elf64"))
))]
pub const FLAVOUR: Flavour = Flavour::Multiboot1;
#[cfg(all(
    feature = "mb2",
    not(any(feature = "pvh", feature = "mb1", feature = "elf64"))
))]
pub const FLAVOUR: Flavour = Flavour::Multiboot2;
#[cfg(all(
    feature = "elf64",
    not(any(feature = "pvh", feature = "mb1", feature = "mb2"))
))]
pub const FLAVOUR: Flavour = Flavour::Elf64;
#[cfg(not(any(
    all(
        feature = "pvh",
        not(any(feature = "mb1", feature = "mb2", feature = "elf64"))
    ),
    all(
        feature = "mb1",
        not(any(feature = "pvh", feature = "mb2", feature = "elf64"))
    ),
    all(
        feature = "mb2",
        not(any(feature = "pvh", feature = "mb1", feature = "elf64"))
    ),
    all(
        feature = "elf64",
        not(any(feature = "pvh", feature = "mb1", feature = "mb2"))
    ),
)))]
compile_error!("build the probe with exactly one of the features pvh, mb1, mb2, elf64");

impl Flavour {
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Pvh => "pvh",
            Flavour::Multiboot1 => "mb1",
            Flavour::Multiboot2 => "mb2",
            Flavour::Elf64 => "elf64",
        }
    }
}

/// Registers as the loader left them, saved by the first instructions.
#[repr(C)]
pub struct EntryState {
    /// EAX (32-bit protocols: the magic).
    pub eax: u64,
    /// EBX (32-bit protocols) or RDI (elf64): the boot information.
    pub info: u64,
    /// The other general registers (elf64: RBX too; RDI is `info`).
    pub ebx: u64,
    pub ecx: u64,
    pub edx: u64,
    pub esi: u64,
    pub edi: u64,
    pub ebp: u64,
    pub cr0: u64,
    pub cr4: u64,
    pub efer: u64,
    pub flags: u64,
    pub cs: u16,
    pub ds: u16,
    pub es: u16,
    pub ss: u16,
    pub fs: u16,
    pub gs: u16,
    /// STR and SLDT.
    pub tr: u16,
    pub ldtr: u16,
    /// SGDT: limit (2 bytes), base (4 bytes in 32-bit mode, 8 in 64-bit).
    pub gdtr: [u8; 10],
    /// SIDT, the same way.
    pub idtr: [u8; 10],
    /// Dwords of .bss that were not zero at entry (the loader must zero
    /// every segment's tail).
    pub bss_nonzero: u32,
}

/// In .data: the stub writes it before clearing .bss.
#[unsafe(link_section = ".data.probe_entry_state")]
pub static mut ENTRY_STATE: EntryState = EntryState {
    eax: 0,
    info: 0,
    ebx: 0,
    ecx: 0,
    edx: 0,
    esi: 0,
    edi: 0,
    ebp: 0,
    cr0: 0,
    cr4: 0,
    efer: 0,
    flags: 0,
    cs: 0,
    ds: 0,
    es: 0,
    ss: 0,
    fs: 0,
    gs: 0,
    tr: 0,
    ldtr: 0,
    gdtr: [0; 10],
    idtr: [0; 10],
    bss_nonzero: 0,
};

pub fn entry_state() -> &'static EntryState {
    let state = &raw const ENTRY_STATE;
    // SAFETY: written only by the entry stub, before any Rust code ran.
    unsafe { &*state }
}

pub const PAGE_SIZE: u64 = 4096;
pub const LARGE_PAGE: u64 = 2 << 20;
const ENTRIES: usize = 512;
const ENTRY_SIZE: usize = core::mem::size_of::<u64>();
/// Page directories: 4 x 1 GiB = the identity-mapped first 4 GiB.
const PD_COUNT: usize = 4;
pub const MAPPED_END: u64 = PD_COUNT as u64 * ENTRIES as u64 * LARGE_PAGE;
const PTE_PRESENT_RW: u64 = 0b11;
const PTE_LARGE: u64 = 1 << 7;

#[repr(C, align(4096))]
pub struct Table([u64; ENTRIES]);

static mut PML4: Table = Table([0; ENTRIES]);
static mut PDPT: Table = Table([0; ENTRIES]);
static mut PD: [Table; PD_COUNT] = [const { Table([0; ENTRIES]) }; PD_COUNT];

/// GDT selectors and descriptors of the probe's own GDT.
pub const CODE64: u16 = 0x08;
const DATA: u16 = 0x10;
const GDT_CODE64: u64 = 0x00af_9b00_0000_ffff;
const GDT_DATA: u64 = 0x00cf_9300_0000_ffff;

pub const STACK_SIZE: usize = 64 * 1024;
#[repr(C, align(16))]
pub struct Stack([u8; STACK_SIZE]);
static mut STACK: Stack = Stack([0; STACK_SIZE]);

const EFER_MSR: u32 = 0xc000_0080;
const EFER_LME: u32 = 1 << 8;
const CR4_PAE: u32 = 1 << 5;
const CR0_PG_PE: u32 = (1 << 31) | 1;

const MB1_FLAGS: u32 =
    multiboot1::FLAG_PAGE_ALIGN | multiboot1::FLAG_MEMORY_INFO | multiboot1::FLAG_ADDRESS;
const MB1_CHECKSUM: u32 = 0u32.wrapping_sub(multiboot1::HEADER_MAGIC.wrapping_add(MB1_FLAGS));

global_asm!(
    include_str!("entry.s"),
    flavour = const FLAVOUR as u32,
    flavour_pvh = const Flavour::Pvh as u32,
    flavour_mb1 = const Flavour::Multiboot1 as u32,
    flavour_mb2 = const Flavour::Multiboot2 as u32,
    xen_phys32_entry = const pvh::XEN_ELFNOTE_PHYS32_ENTRY,
    mb1_magic = const multiboot1::HEADER_MAGIC,
    mb1_flags = const MB1_FLAGS,
    mb1_checksum = const MB1_CHECKSUM,
    mb2_magic = const multiboot2::HEADER_MAGIC,
    gdt_code64 = const GDT_CODE64,
    gdt_data = const GDT_DATA,
    code64 = const CODE64,
    data = const DATA,
    pml4 = sym PML4,
    pdpt = sym PDPT,
    pd = sym PD,
    pd_count = const PD_COUNT,
    entries = const ENTRIES,
    entry_size = const ENTRY_SIZE,
    page_size = const PAGE_SIZE,
    large_page = const LARGE_PAGE,
    pte_table = const PTE_PRESENT_RW,
    pte_large = const PTE_PRESENT_RW | PTE_LARGE,
    state = sym ENTRY_STATE,
    o_eax = const offset_of!(EntryState, eax),
    o_bss_nonzero = const offset_of!(EntryState, bss_nonzero),
    o_info = const offset_of!(EntryState, info),
    o_cr0 = const offset_of!(EntryState, cr0),
    o_cr4 = const offset_of!(EntryState, cr4),
    o_efer = const offset_of!(EntryState, efer),
    o_flags = const offset_of!(EntryState, flags),
    o_cs = const offset_of!(EntryState, cs),
    o_ds = const offset_of!(EntryState, ds),
    o_es = const offset_of!(EntryState, es),
    o_ss = const offset_of!(EntryState, ss),
    o_gdtr = const offset_of!(EntryState, gdtr),
    o_idtr = const offset_of!(EntryState, idtr),
    o_ebx = const offset_of!(EntryState, ebx),
    o_ecx = const offset_of!(EntryState, ecx),
    o_edx = const offset_of!(EntryState, edx),
    o_esi = const offset_of!(EntryState, esi),
    o_edi = const offset_of!(EntryState, edi),
    o_ebp = const offset_of!(EntryState, ebp),
    o_fs = const offset_of!(EntryState, fs),
    o_gs = const offset_of!(EntryState, gs),
    o_tr = const offset_of!(EntryState, tr),
    o_ldtr = const offset_of!(EntryState, ldtr),
    stack = sym STACK,
    stack_size = const STACK_SIZE,
    efer_msr = const EFER_MSR,
    efer_lme = const EFER_LME,
    cr4_pae = const CR4_PAE,
    cr0_pg_pe = const CR0_PG_PE,
    rust_main = sym rust_main,
    options(att_syntax)
);

extern "C" fn rust_main() -> ! {
    crate::main()
}

unsafe extern "C" {
    static __probe_start: u8;
    static __probe_end: u8;
    static probe_entry32: u8;
    static probe_entry64: u8;
}

/// Where this flavour's entry point is (baton's handoff leaves it in EDI
/// for the 32-bit protocols).
pub fn entry_address() -> u64 {
    match FLAVOUR {
        Flavour::Elf64 => &raw const probe_entry64 as u64,
        _ => &raw const probe_entry32 as u64,
    }
}

/// The probe's whole image in memory, .bss (stack, heap, page tables) included.
pub fn image() -> (u64, u64) {
    (
        &raw const __probe_start as u64,
        &raw const __probe_end as u64,
    )
}
