//! Everything that touches the machine: entry, CPU tables, console, time,
//! memory, power. The portable logic these call lives in the library.

pub mod acpi;
#[cfg(feature = "aml")]
pub mod aml;
pub mod cbfs;
pub mod console;
pub mod cpus;
pub mod entry;
pub mod exceptions;
pub mod fwcfg;
pub mod gate;
pub mod gdt;
pub mod handoff;
pub mod idt;
pub mod lapic;
pub mod memory;
pub mod paging;
pub mod park;
pub mod power;
pub mod selftest;
pub mod smp;
pub mod source;
pub mod stopping;
pub mod takeover;
pub mod trampoline;
pub mod tsc;
pub mod vga;

/// The BSP's own CPU state: GDT, TSS with IST stacks, IDT, heap.
pub fn init_bsp() {
    // SAFETY: called once on the BSP before anything else uses these.
    unsafe {
        let code = gdt::load_bsp();
        let idt = &mut *(&raw mut idt::IDT);
        idt.fill(code);
        idt.load();
    }
    memory::init_heap();
}

/// The finer negative-control features this build has (each brings one
/// takeover hole back for the test suite; `unsafe-takeover` has its own
/// banner line).
pub const NEGATIVE_CONTROLS: &[&str] = &[
    #[cfg(feature = "unsafe-park-nmi")]
    "unsafe-park-nmi",
    #[cfg(feature = "unsafe-publish-order")]
    "unsafe-publish-order",
    #[cfg(feature = "unsafe-shared-park-stack")]
    "unsafe-shared-park-stack",
];
