//! The portable half of multiprocessing: which CPUs to start and how to
//! address them (`plan`, `apic`), the online mask (`cpumask`), and the
//! control lines through which the BSP commands parked APs (`mailbox`).
//! The register side (LAPIC, trampoline, park loops) is `machine::smp`.

pub mod apic;
pub mod cpumask;
pub mod mailbox;
pub mod plan;
