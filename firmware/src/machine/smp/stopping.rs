//! An AP's stop path, and the state the BSP publishes for it when the
//! takeover begins. The stop request (`park.rs`, the AP's park loop) and
//! the NMI fallback (`trap/exceptions.rs`, through the NMI hook `init_bsp`
//! installs) both end here; this module imports neither of them, nor the
//! takeover, so the NMI's route has no circle.

use baton::smp::cpumask::CpuMask;
use spin::Once;
use x86_64::instructions::interrupts;

use crate::machine::acpi::power::halt_forever;
use crate::machine::platform::lapic::Lapic;
use crate::machine::platform::tsc;
use crate::machine::smp::park_area::Installed;

/// What the stopping APs share with the BSP.
pub struct StopState {
    /// The APs asked to stop; each clears its bit after WBINVD, from the
    /// park area.
    pub mask: CpuMask,
    pub park: Installed,
    /// `inject=wedge-ap`: this AP ignores its stop request.
    pub wedge: Option<u32>,
    /// `inject=slow-stop`: this AP dawdles this many ms after WBINVD.
    pub slow: Option<(u32, u64)>,
    /// The APs' APIC IDs, by slot.
    pub apic_ids: alloc::vec::Vec<u32>,
    pub lapic: &'static Lapic,
    /// Where the unsafe-takeover build sends a stopped AP instead of the
    /// park area (its old park loop in baton's memory).
    pub old_park: fn(usize) -> !,
}

impl StopState {
    /// The injected stop-path delay for the AP with `apic_id`, in ms.
    pub fn slow_ms(&self, apic_id: u32) -> Option<u64> {
        self.slow.filter(|&(id, _)| id == apic_id).map(|(_, ms)| ms)
    }
}

static STOP: Once<StopState> = Once::new();

/// Publishes the stop state (once, with its mask already full: an AP that
/// sees it finds its own bit set).
// Out of line: inlined, the state's move into the `Once` was copied field
// by field (measured: -128 bytes).
#[inline(never)]
pub fn publish(state: StopState) -> &'static StopState {
    STOP.call_once(|| state)
}

/// Set once the BSP has begun stopping the APs.
pub fn state() -> Option<&'static StopState> {
    STOP.get()
}

/// The NMI handler's question: is this an AP that should be stopping? If
/// so it stops here (the same path as the request: idempotent) and never
/// returns.
pub fn on_nmi() {
    let Some(stop) = state() else {
        return;
    };
    let id = stop.lapic.id();
    if let Some(slot) = stop.apic_ids.iter().position(|&a| a == id) {
        stop_this_cpu(slot)
    }
}

/// The AP's stop path: interrupts off, WBINVD, and only after WBINVD does
/// it report (its bit in the stop mask, cleared from the park area once it
/// has left baton's memory). Idempotent: the request and the NMI may both
/// run it.
pub fn stop_this_cpu(slot: usize) -> ! {
    interrupts::disable();
    let Some(stop) = state() else { halt_forever() };
    let apic_id = stop.apic_ids.get(slot).copied().unwrap_or(u32::MAX);
    if cfg!(feature = "unsafe-takeover") {
        // Negative control, Linux's first bug: report before WBINVD.
        stop.mask.clear(slot);
    }
    // SAFETY: WBINVD writes back and invalidates the caches; ring 0.
    unsafe { core::arch::asm!("wbinvd", options(nostack)) };
    if let Some(ms) = stop.slow_ms(apic_id) {
        tsc::delay_us(ms * 1000);
    }
    if cfg!(feature = "unsafe-takeover") {
        // Negative control, Linux's second bug: back to the old park loop
        // in baton's memory, which the kernel is about to overwrite.
        (stop.old_park)(slot)
    }
    stop.lapic.quiesce_here();
    match stop.mask.word_and_bit(slot) {
        Some((word, bit)) => stop
            .park
            .park_this_ap(slot, apic_id, word as *const _ as u64, bit),
        None => halt_forever(),
    }
}
