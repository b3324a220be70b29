//! The IDT: all 256 vectors point into the stub table of `exceptions.rs`,
//! NMI, #DF and #MC on their own IST stacks. Written by hand rather than
//! with `x86_64`'s typed IDT: every entry here is the same raw stub address,
//! which the typed API can only set field by field.

use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;
use x86_64::structures::gdt::SegmentSelector;

use super::exceptions;
use super::gdt::{IST_DOUBLE_FAULT, IST_MACHINE_CHECK, IST_NMI};

#[derive(Clone, Copy)]
#[repr(C)]
pub struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

/// Present, DPL 0, 64-bit interrupt gate (IF cleared on entry).
const INTERRUPT_GATE: u8 = 0x8e;

impl Gate {
    pub const EMPTY: Self = Self {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attr: 0,
        offset_mid: 0,
        offset_high: 0,
        reserved: 0,
    };

    /// A present 64-bit interrupt gate to `handler`.
    pub fn interrupt(handler: u64, selector: u16, ist: u16) -> Self {
        Self {
            offset_low: handler as u16,
            selector,
            ist: ist as u8,
            type_attr: INTERRUPT_GATE,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

#[repr(C, align(16))]
pub struct Idt([Gate; 256]);

impl Idt {
    pub const fn new() -> Self {
        Self([Gate::EMPTY; 256])
    }

    pub fn fill(&mut self, code: SegmentSelector) {
        for (vector, gate) in self.0.iter_mut().enumerate() {
            let handler = exceptions::stub_address(vector as u8);
            let ist = match vector {
                2 => IST_NMI,
                8 => IST_DOUBLE_FAULT,
                18 => IST_MACHINE_CHECK,
                _ => 0,
            };
            *gate = Gate::interrupt(handler, code.0, ist);
        }
    }

    pub fn load(&'static self) {
        let pointer = DescriptorTablePointer {
            limit: (core::mem::size_of::<Self>() - 1) as u16,
            base: VirtAddr::from_ptr(self),
        };
        // SAFETY: the table is static and filled with valid gates.
        unsafe { lidt(&pointer) };
    }
}

pub static mut IDT: Idt = Idt::new();

/// Loads an empty IDT: the next exception shuts the CPU down (test only).
pub fn load_empty() {
    let pointer = DescriptorTablePointer {
        limit: 0,
        base: VirtAddr::zero(),
    };
    // SAFETY: deliberately fatal; used by the triple-fault self-test.
    unsafe { lidt(&pointer) };
}
