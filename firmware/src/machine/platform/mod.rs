//! The machine's parts every stage uses and that use no stage: the serial
//! console, the TSC, page tables and the heap, the GDT and gate
//! descriptors, and the local APIC.

pub mod console;
pub mod gate;
pub mod gdt;
pub mod lapic;
pub mod memory;
pub mod paging;
pub mod tsc;
