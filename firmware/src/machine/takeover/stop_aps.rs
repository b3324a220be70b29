//! `commit`'s first half: every AP stopped (request, wait, NMI, with the
//! injected faults of the test suite), then INIT for the ones that are to
//! be left in wait-for-SIPI. The decisions are `baton::takeover::stop`'s;
//! this file sends the IPIs and reads the stop mask.

use alloc::vec::Vec;

use baton::options::{Inject, LeaveMode, Options};
use baton::smp::apic::{Ipi, Mode};
use baton::smp::cpumask::CpuMask;
use baton::takeover::stop::{self, StopControl, StopTimeouts};

use crate::machine::platform::tsc;
use crate::machine::smp::cpus::Cpus;
use crate::machine::smp::park_area::Installed;
use crate::machine::smp::stopping::StopState;

use super::error::TakeoverError;

/// The machine side of `baton::takeover::stop`.
struct MachineStop<'a> {
    cpus: &'a Cpus,
    began: u64,
}

impl StopControl for MachineStop<'_> {
    fn request_stop(&self, slot: usize) {
        self.request_stop_all(&[slot]);
    }
    /// Every control word first, then one round of wake IPIs (the same
    /// code as the bring-up's rounds).
    fn request_stop_all(&self, slots: &[usize]) {
        for &slot in slots {
            self.cpus.mailbox(slot).post_stop();
        }
        self.cpus.wake_all(slots);
    }
    fn send_nmi(&self, slot: usize) {
        let ap = &self.cpus.aps[slot];
        warn!(
            "AP APIC ID {:#x} has not stopped: sending it an NMI",
            ap.apic_id
        );
        if let Err(e) = self.cpus.lapic.send(ap.apic_id, Ipi::Nmi) {
            error!("{e}");
        }
    }
    fn elapsed_us(&self) -> u64 {
        tsc::ticks_to_micros(tsc::now() - self.began)
    }
    fn relax(&self) {
        core::hint::spin_loop();
    }
}

/// Stops every online AP; returns the slots it asked (the rest of the
/// started APs were not online when the stop began).
pub(super) fn stop_aps(
    cpus: &'static Cpus,
    options: &Options,
    park: Installed,
) -> Result<Vec<usize>, TakeoverError> {
    // Published only with the mask full: an AP that sees the stop state
    // (its NMI path) finds its own bit already set. The negative control
    // `unsafe-publish-order` fills it only after publishing.
    let asked: Vec<usize> = cpus.online.slots().collect();
    let fill = |mask: &CpuMask| {
        for &slot in &asked {
            mask.set(slot);
        }
    };
    let mask = CpuMask::new(cpus.aps.len());
    if !cfg!(feature = "unsafe-publish-order") {
        fill(&mask);
    }
    let mut apic_ids = Vec::with_capacity(cpus.aps.len());
    for ap in &cpus.aps {
        apic_ids.push(ap.apic_id);
    }
    let state = crate::machine::smp::stopping::publish(StopState {
        mask,
        park,
        wedge: options.injected(|i| match i {
            Inject::WedgeAp(id) => Some(*id),
            _ => None,
        }),
        slow: options.injected(|i| match i {
            Inject::SlowStop { apic_id, ms } => Some((*apic_id, *ms)),
            _ => None,
        }),
        apic_ids,
        lapic: cpus.lapic,
        old_park: crate::machine::smp::park::return_to_old_park,
    });
    if let Some(id) = options.injected(|i| match i {
        Inject::NmiAtPublish(id) => Some(*id),
        _ => None,
    }) {
        nmi_at_publish(cpus, park, id, options.stop_timeout_ms);
    }
    if cfg!(feature = "unsafe-publish-order") {
        fill(&state.mask);
    }
    let control = MachineStop {
        cpus,
        began: tsc::now(),
    };
    // The NMI'd APs get as long as the request had: under TCG on a loaded
    // host a vCPU can stall for many milliseconds, and only an AP that
    // never answers costs the wait.
    let wait_us = options.stop_timeout_ms.saturating_mul(1000);
    let timeouts = StopTimeouts {
        wait_us,
        after_nmi_us: wait_us,
    };
    let report = stop::stop_aps(&state.mask, &control, timeouts);
    let apic_ids = cpus.apic_ids(&report.missing);
    info!(
        "baton: stop: {}/{} APs stopped in {} us (requests sent in {} us, NMI sent to {}, missing {})",
        report.requested - report.missing.len(),
        report.requested,
        report.took_us,
        report.sent_us,
        baton::support::quote::HexList(&cpus.apic_ids(&report.nmi)),
        baton::support::quote::HexList(&apic_ids)
    );
    let counts = park.counts();
    info!(
        "baton: park area: {} APs reported there; NMIs taken there before an AP's report {}, after {}; other exceptions {}",
        counts.parked, counts.nmis_before_report, counts.nmis_after_report, counts.faults
    );
    if report.missing.is_empty() {
        // The last word on the mask is the BSP's (as Linux ends
        // native_stop_other_cpus): its lines leave the other CPUs' caches.
        for slot in 0..cpus.aps.len() {
            state.mask.clear(slot);
        }
        return Ok(asked);
    }
    match options.ap_handoff {
        // INIT stops a CPU whatever it is doing.
        LeaveMode::Init => {
            error!(
                "APs {} did not confirm the stop; INIT will reset them",
                baton::support::quote::HexList(&apic_ids)
            );
            Ok(asked)
        }
        LeaveMode::Hlt => Err(TakeoverError::ApsStillRunning { apic_ids }),
    }
}

/// `inject=nmi-at-publish`: an NMI to the AP `apic_id` right after the stop
/// state was published, then a wait (up to `timeout_ms`) for it to report
/// in the park area, so that its whole NMI stop path has run before the
/// BSP goes on.
fn nmi_at_publish(cpus: &Cpus, park: Installed, apic_id: u32, timeout_ms: u64) {
    let before = park.counts().parked;
    if let Err(e) = cpus.lapic.send(apic_id, Ipi::Nmi) {
        error!("{e}");
        return;
    }
    let deadline = tsc::now() + timeout_ms * tsc::khz();
    while park.counts().parked == before && tsc::now() < deadline {
        core::hint::spin_loop();
    }
    match park.counts().parked > before {
        true => info!(
            "baton: inject=nmi-at-publish: AP APIC ID {apic_id:#x} took an NMI right after the stop state was published, and parked"
        ),
        false => warn!(
            "baton: inject=nmi-at-publish: AP APIC ID {apic_id:#x} did not park within {timeout_ms} ms of its NMI"
        ),
    }
}

/// INIT to the APs in `slots` (each was sent a SIPI): they wait for SIPI,
/// as on a cold boot. Never the BSP (not in `aps`); IDs above 0xfe only in
/// x2APIC mode (`icr_destination` refuses them in xAPIC mode, where 0x100
/// would alias 0).
pub(super) fn init_aps(cpus: &Cpus, slots: &[usize]) {
    let sent = cpus.send_round(slots, Ipi::InitAssert);
    if cpus.lapic.mode() == Mode::XApic {
        cpus.send_round(slots, Ipi::InitDeassert);
    }
    let ids = cpus.apic_ids(slots);
    info!(
        "baton: INIT sent to {sent} APs {}: they wait for SIPI",
        baton::support::quote::HexList(&ids)
    );
}
