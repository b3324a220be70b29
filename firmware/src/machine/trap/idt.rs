//! The IDT: all 256 vectors point into the stub table of `exceptions.rs`,
//! NMI, #DF and #MC on their own IST stacks. Written by hand rather than
//! with `x86_64`'s typed IDT: every entry here is the same raw stub address,
//! which the typed API can only set field by field.

use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;
use x86_64::structures::gdt::SegmentSelector;

use crate::machine::platform::gate::Gate;
use crate::machine::platform::gdt::{IST_DOUBLE_FAULT, IST_MACHINE_CHECK, IST_NMI};
use crate::machine::trap::exceptions;

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
