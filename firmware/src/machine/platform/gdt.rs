//! GDT and TSS with separate IST stacks for NMI, #DF and #MC, so those
//! three always run on a known-good stack. One `CpuTables` per CPU: the
//! BSP's is static, each AP's sits in its own per-CPU area (`smp.rs`).

use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;

use super::memory::Stack;

/// IST slots (1-based in the IDT, 0-based in the TSS array).
pub const IST_NMI: u16 = 1;
pub const IST_DOUBLE_FAULT: u16 = 2;
pub const IST_MACHINE_CHECK: u16 = 3;
pub const IST_COUNT: usize = 3;
const BSP_IST_STACK_SIZE: usize = 16 * 1024;

pub struct CpuTables {
    gdt: GlobalDescriptorTable,
    tss: TaskStateSegment,
}

impl CpuTables {
    pub const fn new() -> Self {
        Self {
            gdt: GlobalDescriptorTable::new(),
            tss: TaskStateSegment::new(),
        }
    }

    /// Fills and loads the tables on the calling CPU, with the IST stacks
    /// ending at `ist_tops` (NMI, #DF, #MC). Returns the code selector.
    pub fn load(&'static mut self, ist_tops: [u64; IST_COUNT]) -> SegmentSelector {
        for (slot, top) in ist_tops.into_iter().enumerate() {
            self.tss.interrupt_stack_table[slot] = VirtAddr::new(top);
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

static mut BSP_TABLES: CpuTables = CpuTables::new();
static mut BSP_IST: [Stack<BSP_IST_STACK_SIZE>; IST_COUNT] =
    [const { Stack([0; BSP_IST_STACK_SIZE]) }; IST_COUNT];

/// Loads the BSP's tables; returns the code selector.
pub fn load_bsp() -> SegmentSelector {
    // SAFETY: called once, on the BSP, before anything else uses these.
    unsafe {
        let tops = (*(&raw const BSP_IST))
            .each_ref()
            .map(|s| s.0.as_ptr_range().end as u64);
        (*(&raw mut BSP_TABLES)).load(tops)
    }
}
