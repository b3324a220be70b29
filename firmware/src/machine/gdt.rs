//! GDT and TSS with separate IST stacks for NMI, #DF and #MC, so those
//! three always run on a known-good stack. One `CpuTables` per CPU (the
//! BSP's is static; APs get theirs when they are brought up).

use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;

use super::entry::Stack;

/// IST slots (1-based in the IDT, 0-based in the TSS array).
pub const IST_NMI: u16 = 1;
pub const IST_DOUBLE_FAULT: u16 = 2;
pub const IST_MACHINE_CHECK: u16 = 3;
pub const IST_STACK_SIZE: usize = 16 * 1024;

pub struct CpuTables {
    gdt: GlobalDescriptorTable,
    tss: TaskStateSegment,
    ist: [Stack<IST_STACK_SIZE>; 3],
}

impl CpuTables {
    pub const fn new() -> Self {
        Self {
            gdt: GlobalDescriptorTable::new(),
            tss: TaskStateSegment::new(),
            ist: [const { Stack([0; IST_STACK_SIZE]) }; 3],
        }
    }

    /// Fills and loads the tables on the calling CPU. Returns the code selector.
    pub fn load(&'static mut self) -> SegmentSelector {
        for (slot, stack) in self.ist.iter().enumerate() {
            let top = VirtAddr::from_ptr(stack.0.as_ptr_range().end);
            self.tss.interrupt_stack_table[slot] = top;
        }
        self.gdt = GlobalDescriptorTable::new();
        let code = self.gdt.append(Descriptor::kernel_code_segment());
        let data = self.gdt.append(Descriptor::kernel_data_segment());
        let tss = self.gdt.append(Descriptor::tss_segment(&self.tss));
        self.gdt.load();
        // SAFETY: the selectors were just created in the loaded GDT.
        unsafe {
            CS::set_reg(code);
            SS::set_reg(data);
            DS::set_reg(data);
            ES::set_reg(data);
            load_tss(tss);
        }
        code
    }
}

pub static mut BSP_TABLES: CpuTables = CpuTables::new();
