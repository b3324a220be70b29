//! The AP trampoline (`trampoline.s`) and its parameter block. Rust fills
//! the block at the end of the trampoline page; the assembly reads it by
//! the offsets passed as operands below, so no number is written twice.
//! Hand-written because real mode has no Rust: about forty instructions.

use core::arch::global_asm;
use core::mem::{offset_of, size_of};

use x86_64::registers::control::{Cr0, Cr3, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags};

/// Selectors of the trampoline's own GDT.
const CODE32: u16 = 0x08;
const CODE64: u16 = 0x10;
const DATA: u16 = 0x18;
const GDT: [u64; 4] = [
    0,
    0x00cf_9b00_0000_ffff, // 32-bit code, flat
    0x00af_9b00_0000_ffff, // 64-bit code
    0x00cf_9300_0000_ffff, // data, flat
];

/// A far pointer as `ljmpl *mem` reads it (m16:32).
#[repr(C)]
struct FarPointer {
    offset: u32,
    selector: u16,
    _pad: u16,
}

#[repr(C)]
struct Params {
    gdt: [u64; 4],
    /// `lgdtl` operand: limit, then the 32-bit base in two halves.
    gdt_pointer: [u16; 3],
    _pad: u16,
    far32: FarPointer,
    far64: FarPointer,
    cr0: u32,
    cr3: u32,
    cr4: u32,
    efer: u32,
    id_from_leaf_b: u32,
    dead_apic_id: u32,
    slot_count: u32,
    _pad2: u32,
    slots: u64,
    entry: u64,
}

/// One per AP the trampoline may meet: who it is and where its stack ends.
#[repr(C)]
pub struct ApBoot {
    pub apic_id: u32,
    _pad: u32,
    pub stack_top: u64,
}

impl ApBoot {
    pub fn new(apic_id: u32, stack_top: u64) -> Self {
        Self {
            apic_id,
            _pad: 0,
            stack_top,
        }
    }
}

pub const PAGE_SIZE: usize = 4096;
/// The block sits at the end of the page, 64-byte aligned.
const PARAMS_OFFSET: usize = (PAGE_SIZE - size_of::<Params>()) & !63;

global_asm!(
    include_str!("trampoline.s"),
    params = const PARAMS_OFFSET,
    gdt_pointer = const offset_of!(Params, gdt_pointer),
    far32 = const offset_of!(Params, far32),
    far64 = const offset_of!(Params, far64),
    cr0 = const offset_of!(Params, cr0),
    cr3 = const offset_of!(Params, cr3),
    cr4 = const offset_of!(Params, cr4),
    efer = const offset_of!(Params, efer),
    id_from_leaf_b = const offset_of!(Params, id_from_leaf_b),
    dead_apic_id = const offset_of!(Params, dead_apic_id),
    slots = const offset_of!(Params, slots),
    slot_count = const offset_of!(Params, slot_count),
    entry = const offset_of!(Params, entry),
    slot_apic_id = const offset_of!(ApBoot, apic_id),
    slot_stack_top = const offset_of!(ApBoot, stack_top),
    slot_size = const size_of::<ApBoot>(),
    data = const DATA,
    options(att_syntax)
);

unsafe extern "C" {
    static baton_trampoline_start: u8;
    static baton_trampoline_32: u8;
    static baton_trampoline_64: u8;
    static baton_trampoline_end: u8;
}

#[derive(Debug)]
pub enum TrampolineError {
    TooLarge { code: usize, room: usize },
    AboveFourGib { what: &'static str, addr: u64 },
}

impl core::fmt::Display for TrampolineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooLarge { code, room } => write!(
                f,
                "the trampoline's code ({code} bytes) overlaps its parameter block at offset {room}"
            ),
            Self::AboveFourGib { what, addr } => write!(
                f,
                "the {what} at {addr:#x} is above 4 GiB, out of the trampoline's 32-bit reach"
            ),
        }
    }
}

/// Copies the trampoline into `page` (below 1 MiB, identity-mapped, free)
/// and fills its parameter block. `slots` must outlive every AP's start;
/// `entry` is called on the AP's stack with its slot number.
pub fn install(
    page: u64,
    slots: &'static [ApBoot],
    id_from_leaf_b: bool,
    dead_apic_id: Option<u32>,
    entry: extern "C" fn(u32) -> !,
) -> Result<(), TrampolineError> {
    let start = &raw const baton_trampoline_start as u64;
    let offset_of_symbol = |symbol: *const u8| (symbol as u64 - start) as u32;
    let code = (&raw const baton_trampoline_end as u64 - start) as usize;
    if code > PARAMS_OFFSET {
        return Err(TrampolineError::TooLarge {
            code,
            room: PARAMS_OFFSET,
        });
    }
    let cr3 = Cr3::read().0.start_address().as_u64();
    let cr3 = u32::try_from(cr3).map_err(|_| TrampolineError::AboveFourGib {
        what: "page table root (CR3)",
        addr: cr3,
    })?;
    let gdt_base = page as u32 + (PARAMS_OFFSET + offset_of!(Params, gdt)) as u32;
    // What the BSP runs with, minus anything the trampoline does not set
    // up; and machine checks on (without CR4.MCE a broadcast #MC shuts the
    // machine down instead of reaching the park area's #MC gate).
    let cr4 = (Cr4::read()
        & (Cr4Flags::PHYSICAL_ADDRESS_EXTENSION
            | Cr4Flags::OSFXSR
            | Cr4Flags::OSXMMEXCPT_ENABLE
            | Cr4Flags::PAGE_GLOBAL))
        | Cr4Flags::MACHINE_CHECK_EXCEPTION;
    let efer = Efer::read() & (EferFlags::LONG_MODE_ENABLE | EferFlags::NO_EXECUTE_ENABLE);
    let params = Params {
        gdt: GDT,
        gdt_pointer: [
            (size_of::<[u64; 4]>() - 1) as u16,
            gdt_base as u16,
            (gdt_base >> 16) as u16,
        ],
        _pad: 0,
        far32: FarPointer {
            offset: page as u32 + offset_of_symbol(&raw const baton_trampoline_32),
            selector: CODE32,
            _pad: 0,
        },
        far64: FarPointer {
            offset: page as u32 + offset_of_symbol(&raw const baton_trampoline_64),
            selector: CODE64,
            _pad: 0,
        },
        cr0: Cr0::read_raw() as u32,
        cr3,
        cr4: cr4.bits() as u32,
        efer: efer.bits() as u32,
        id_from_leaf_b: id_from_leaf_b.into(),
        dead_apic_id: dead_apic_id.unwrap_or(u32::MAX),
        slot_count: slots.len() as u32,
        _pad2: 0,
        slots: slots.as_ptr() as u64,
        entry: entry as usize as u64,
    };
    // SAFETY: the caller hands over a free, identity-mapped page; the code
    // and the block fit in it (checked above; PARAMS_OFFSET + the block's
    // size is at most a page by construction).
    unsafe {
        core::ptr::copy_nonoverlapping(start as *const u8, page as *mut u8, code);
        ((page + PARAMS_OFFSET as u64) as *mut Params).write(params);
    }
    Ok(())
}
