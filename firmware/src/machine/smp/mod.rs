//! Bring-up of the application processors and the BSP's side of talking
//! to them: INIT-SIPI-SIPI (all at once, or one AP at a time), per-CPU
//! areas, the online mask, and commands through each AP's mailbox. What
//! both sides share is `cpus.rs`; the AP side (its first Rust code and its
//! park loop) is `park.rs`; what can be decided without registers is
//! `baton::smp`.

mod commands;
pub mod cpus;
pub mod park;
pub mod park_area;
pub mod stopping;
pub mod trampoline;

use alloc::vec::Vec;
use core::ops::Range;
use core::sync::atomic::Ordering;

use baton::acpi::madt::Topology;
use baton::entry::BootInfo;
use baton::options::{BringUp, Inject, Options, ParkPreference, SmpOptions};
use baton::smp::apic::{Ipi, Mode, choose_mode};
use baton::smp::cpumask::CpuMask;
use baton::smp::mailbox::Mailbox;
use baton::smp::plan::{self, SipiTiming, Target};
use baton::support::frames::FrameAllocator;
use payload_loader::Range as PhysRange;

use crate::machine::acpi;
use crate::machine::platform::lapic::{self};
use crate::machine::platform::{paging, tsc};
use crate::machine::smp::cpus::{AREA_SIZE, Ap, Arrival, CPUS, Cpus, WaitMode};
use trampoline::{ApBoot, TrampolineError};

#[derive(Debug)]
pub enum SmpError {
    LapicUnmapped { addr: u64, mapped_end: u64 },
    NoTrampolinePage,
    Trampoline(TrampolineError),
    NoMemory { aps: usize, bytes: u64 },
}

impl core::fmt::Display for SmpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::LapicUnmapped { addr, mapped_end } => write!(
                f,
                "the MADT puts the local APIC at {addr:#x}, outside the identity map (ends at {mapped_end:#x})"
            ),
            Self::NoTrampolinePage => f.write_str(
                "no free usable page below 1 MiB for the AP trampoline (the memory map has none)",
            ),
            Self::Trampoline(e) => write!(f, "AP trampoline: {e}"),
            Self::NoMemory { aps, bytes } => write!(
                f,
                "no {bytes} bytes of free RAM for the stacks and tables of {aps} APs"
            ),
        }
    }
}

/// Brings up every enabled AP of `topology` as `options` say and parks it.
/// APs that do not come up are reported and left out; an error means no AP
/// was started.
// Out of line, as the other pipeline stages (`baton::boot`'s frame; -128 bytes).
#[inline(never)]
pub fn start(
    topology: &Topology,
    info: &BootInfo,
    all_options: &Options,
    frames: &mut FrameAllocator,
) -> Result<&'static Cpus, SmpError> {
    let options = &all_options.smp;
    let (bsp_apic_id, has_x2apic) = acpi::own_apic_id();
    let highest = topology
        .cpus
        .iter()
        .filter(|c| c.enabled)
        .map(|c| c.apic_id)
        .max()
        .unwrap_or(bsp_apic_id);
    let mode = choose_mode(has_x2apic, lapic::in_x2apic_mode(), highest, options.apic);
    if mode == Mode::XApic && topology.lapic_address + 4096 > paging::mapped_end() {
        return Err(SmpError::LapicUnmapped {
            addr: topology.lapic_address,
            mapped_end: paging::mapped_end(),
        });
    }
    let lapic = lapic::init(mode, topology.lapic_address);
    let bsp_uid = topology.bsp().map_or(u32::MAX, |c| c.uid);
    let pins = lapic.program_nmi_lints(&topology.nmis, bsp_uid);
    debug!("BSP: {pins} LINT pins programmed for NMI from the MADT");
    let targets = plan::targets(topology, bsp_apic_id, mode);
    for why in &targets.left_out {
        warn!("{why}");
    }
    let wanted = match options.bring_up {
        BringUp::Off => {
            info!("APs left alone (smp=off)");
            Vec::new()
        }
        _ => targets.aps,
    };
    let wait_mode = match options.park {
        ParkPreference::Auto if has_monitor_mwait() => WaitMode::Mwait,
        _ => WaitMode::Hlt,
    };
    info!(
        "LAPIC in {mode} mode (BSP APIC ID {bsp_apic_id:#x}), APs park with {wait_mode}, {} bring-up, {}",
        options.bring_up, options.timing
    );

    let aps = with_areas(&wanted, frames)?;
    let boot = boot_records(&aps, all_options);
    let cpus = CPUS.call_once(|| Cpus {
        lapic,
        wait_mode,
        mailboxes: aps.iter().map(|_| Mailbox::default()).collect(),
        online: CpuMask::new(aps.len()),
        started: CpuMask::new(aps.len()),
        arrivals: aps.iter().map(|_| Arrival::default()).collect(),
        aps,
        timeout_ms: options.ap_timeout_ms,
        nmis: topology.nmis.clone(),
        late_ap: all_options.injected(|i| match i {
            Inject::LateAp(id) => Some(*id),
            _ => None,
        }),
    });
    if cpus.aps.is_empty() {
        info!("baton: aps online=0/0 in 0 us (0 with their own APIC IDs on their own stacks)");
        return Ok(cpus);
    }

    let page = install_trampoline(info, frames, boot, all_options)?;
    cpus.start_all(page, options);
    Ok(cpus)
}

/// Each AP's area (GDT, TSS, IST stacks, stack), one block for all of them.
fn with_areas(wanted: &[Target], frames: &mut FrameAllocator) -> Result<Vec<Ap>, SmpError> {
    let bytes = AREA_SIZE * wanted.len() as u64;
    let areas = match wanted.len() {
        0 => 0,
        _ => frames
            .allocate(bytes, 4096, paging::allocation_limit())
            .ok_or(SmpError::NoMemory {
                aps: wanted.len(),
                bytes,
            })?,
    };
    let mut aps = Vec::with_capacity(wanted.len());
    for (slot, t) in wanted.iter().enumerate() {
        aps.push(Ap {
            apic_id: t.apic_id,
            uid: t.uid,
            area: areas + slot as u64 * AREA_SIZE,
        });
    }
    Ok(aps)
}

/// What the trampoline gives each AP (its APIC ID and stack), with the
/// stacks of `inject=swap-stacks` swapped; kept for the trampoline's life.
fn boot_records(aps: &[Ap], options: &Options) -> &'static [ApBoot] {
    let mut boot: Vec<ApBoot> = aps
        .iter()
        .map(|ap| ApBoot::new(ap.apic_id, ap.stack().end))
        .collect();
    if let Some((a, b)) = swapped_stack_slots(options, aps) {
        let (top_a, top_b) = (boot[a].stack_top, boot[b].stack_top);
        (boot[a].stack_top, boot[b].stack_top) = (top_b, top_a);
        warn!("inject: slots {a} and {b} start on each other's stacks");
    }
    boot.leak()
}

/// The trampoline in a free page below 1 MiB clear of the boot structures
/// and modules; the page stays taken (a late AP may still run it: the
/// takeover keeps clear of it).
fn install_trampoline(
    info: &BootInfo,
    frames: &mut FrameAllocator,
    boot: &'static [ApBoot],
    options: &Options,
) -> Result<u64, SmpError> {
    let mut reserved: Vec<PhysRange> = info.boot_structures.clone();
    reserved.extend(
        info.modules
            .iter()
            .map(|m| PhysRange::new(m.start, m.start + m.len)),
    );
    let page =
        plan::trampoline_page(&info.memory_map, &reserved).ok_or(SmpError::NoTrampolinePage)?;
    frames.take(PhysRange::new(page, page + 4096));
    let dead = options.injected(|i| match i {
        Inject::DeadAp(id) => Some(*id),
        _ => None,
    });
    trampoline::install(page, boot, id_from_leaf_b(), dead, park::ap_entry)
        .map_err(SmpError::Trampoline)?;
    debug!("AP trampoline at {page:#x} (SIPI vector {:#x})", page >> 12);
    Ok(page)
}

impl Cpus {
    /// INIT-SIPI-SIPI to every AP (all at once, or one at a time under
    /// `smp=sequential`), the wait for them, and the roll of who came up.
    fn start_all(&self, page: u64, options: &SmpOptions) {
        let began = tsc::now();
        let sipi = Ipi::Startup {
            page: (page >> 12) as u8,
        };
        match options.bring_up {
            BringUp::Sequential => {
                for slot in 0..self.aps.len() {
                    self.init_sipi_sipi(slot..slot + 1, sipi, options.timing);
                    self.wait_online(slot..slot + 1);
                }
            }
            _ => {
                self.init_sipi_sipi(0..self.aps.len(), sipi, options.timing);
                self.wait_online(0..self.aps.len());
            }
        }
        let took = tsc::ticks_to_micros(tsc::now() - began);
        for (slot, ap) in self.aps.iter().enumerate() {
            if !self.online.contains(slot) {
                error!(
                    "AP APIC ID {:#x} (UID {}) did not come up within {} ms: left out",
                    ap.apic_id, ap.uid, self.timeout_ms
                );
            }
        }
        info!(
            "baton: aps online={}/{} in {took} us ({} with their own APIC IDs on their own stacks)",
            self.online.count(),
            self.aps.len(),
            self.check_arrivals()
        );
    }
}

/// The slots of `inject=swap-stacks:A:B`, when both APIC IDs are APs.
fn swapped_stack_slots(options: &Options, aps: &[Ap]) -> Option<(usize, usize)> {
    let (a, b) = options.injected(|i| match i {
        Inject::SwapStacks(a, b) => Some((*a, *b)),
        _ => None,
    })?;
    let slot = |id: u32| aps.iter().position(|ap| ap.apic_id == id);
    Some((slot(a)?, slot(b)?))
}

fn has_monitor_mwait() -> bool {
    raw_cpuid::CpuId::new()
        .get_feature_info()
        .is_some_and(|f| f.has_monitor_mwait())
}

/// Whether APs read their APIC ID from CPUID leaf 0xB (as `own_apic_id`
/// does when the leaf exists) or from leaf 1's 8 bits.
fn id_from_leaf_b() -> bool {
    raw_cpuid::CpuId::new()
        .get_extended_topology_info()
        .is_some_and(|mut t| t.next().is_some())
}

pub(super) fn deadline_after_ms(ms: u64) -> u64 {
    tsc::now().saturating_add(ms.saturating_mul(tsc::khz()))
}

impl Cpus {
    /// INIT, SIPI, SIPI to the APs in `slots`, each step to all of them
    /// before the next; the second SIPI only to APs not online yet.
    fn init_sipi_sipi(&self, slots: Range<usize>, sipi: Ipi, timing: SipiTiming) {
        // Pushes, not `collect` (measured: -128 bytes).
        let mut all = Vec::new();
        for slot in slots {
            all.push(slot);
        }
        self.send_round(&all, Ipi::InitAssert);
        if self.lapic.mode() == Mode::XApic {
            self.send_round(&all, Ipi::InitDeassert);
        }
        tsc::delay_us(timing.after_init_us);
        for &slot in &all {
            self.started.set(slot);
        }
        self.send_round(&all, sipi);
        tsc::delay_us(timing.after_sipi_us);
        let mut late = Vec::new();
        for &slot in &all {
            if !self.online.contains(slot) {
                late.push(slot);
            }
        }
        self.send_round(&late, sipi);
        tsc::delay_us(timing.after_sipi_us);
    }

    /// `ipi` to the APs in `slots`, one error-status check for the round;
    /// what went wrong is logged (an AP that then does not come up is
    /// named by the wait). The number sent. One function for every round
    /// (bring-up, wake, INIT), so the stop runs code the bring-up already
    /// ran (under TCG, new code costs its translation).
    pub fn send_round(&self, slots: &[usize], ipi: Ipi) -> usize {
        let ids = self.apic_ids(slots);
        let (failed, esr) = self.lapic.send_round(&ids, ipi);
        for e in &failed {
            warn!("{e}");
        }
        if let Some(esr) = esr {
            warn!(
                "{ipi} to {} APs: the local APIC reports error status {}",
                ids.len(),
                baton::smp::apic::describe_esr(esr)
            );
        }
        ids.len() - failed.len()
    }

    /// Waits until every AP in `slots` is online, or the timeout.
    fn wait_online(&self, slots: Range<usize>) {
        let deadline = deadline_after_ms(self.timeout_ms);
        while !slots.clone().all(|s| self.online.contains(s)) && tsc::now() < deadline {
            core::hint::spin_loop();
        }
    }

    /// Checks each online AP's arrival report (its APIC ID, its stack);
    /// the number that passed. Each failure is logged.
    fn check_arrivals(&self) -> usize {
        let mut good = 0;
        for slot in self.online.slots() {
            let (ap, a) = (&self.aps[slot], &self.arrivals[slot]);
            let (apic_id, rsp) = (
                a.apic_id.load(Ordering::Relaxed),
                a.rsp.load(Ordering::Relaxed),
            );
            match check_identity(ap, apic_id, rsp) {
                Ok(()) => good += 1,
                Err(e) => e.report(ap, slot),
            }
        }
        good
    }
}

/// What is wrong with an AP's answer or arrival report (an enum, not a
/// `String` formatted at each failure: no allocation, no drop glue).
pub enum ApError {
    NoAnswer { timeout_ms: u64 },
    Mailbox(baton::smp::mailbox::MailboxError),
    ApicId(u64),
    Stack { rsp: u64, stack: PhysRange },
}

impl core::fmt::Display for ApError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoAnswer { timeout_ms } => write!(f, "no answer within {timeout_ms} ms"),
            Self::Mailbox(e) => write!(f, "{e}"),
            Self::ApicId(apic_id) => write!(f, "reported APIC ID {apic_id:#x}"),
            Self::Stack { rsp, stack } => write!(
                f,
                "ran on rsp={rsp:#x}, outside its stack [{:#x}..{:#x})",
                stack.start, stack.end
            ),
        }
    }
}

impl ApError {
    /// The line for an AP that failed (one function for the three places).
    pub(super) fn report(&self, ap: &Ap, slot: usize) {
        error!("AP APIC ID {:#x} (slot {slot}): {self}", ap.apic_id);
    }
}

/// The AP said it has `apic_id` and ran on `rsp`: both must be its own.
pub(super) fn check_identity(ap: &Ap, apic_id: u64, rsp: u64) -> Result<(), ApError> {
    if apic_id != u64::from(ap.apic_id) {
        return Err(ApError::ApicId(apic_id));
    }
    let stack = ap.stack();
    if !stack.contains(rsp) {
        return Err(ApError::Stack { rsp, stack });
    }
    Ok(())
}
