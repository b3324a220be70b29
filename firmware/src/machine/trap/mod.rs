//! The IDT and its handlers. It sits above ACPI because a fatal exception
//! ends the run through `acpi::power`, and below SMP because every CPU SMP
//! brings up loads this IDT. The NMI handler reaches the AP's stop path
//! through a hook SMP installs (`exceptions::set_nmi_hook`), not an import.

pub mod exceptions;
pub mod idt;
