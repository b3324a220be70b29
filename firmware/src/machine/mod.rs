//! Everything that touches the machine: entry, CPU tables, console, time,
//! memory, power. The portable logic these call lives in the library.

// The stages in pipeline order, mirroring the library's folders
// (`baton::entry` and `machine::entry`, ...), between the shared parts
// (`platform`, `trap`) and the self-tests.
pub mod acpi;
pub mod entry;
pub mod platform;
pub mod selftest;
pub mod smp;
pub mod source;
pub mod takeover;
pub mod trap;

/// The BSP's own CPU state: GDT, TSS with IST stacks, IDT, heap.
pub fn init_bsp() {
    // SAFETY: called once on the BSP before anything else uses these.
    unsafe {
        let code = platform::gdt::load_bsp();
        let idt = &mut *(&raw mut trap::idt::IDT);
        idt.fill(code);
        idt.load();
    }
    trap::exceptions::set_nmi_hook(smp::stopping::on_nmi);
    platform::memory::init_heap();
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
