//! An AP's life in baton: its first Rust function (called by the
//! trampoline on its own stack) and the park loop, where it waits on its
//! control line and runs what the BSP posts. Also the jobs the BSP's roll
//! call sends.

use baton::smp::mailbox::Command;
use x86_64::instructions::interrupts;

use crate::machine::acpi::power::halt_forever;
use crate::machine::platform::lapic;
use crate::machine::smp::cpus::{self, Cpus, WaitMode};
use crate::machine::smp::stopping;
use crate::machine::trap::idt;

/// The trampoline's call: `slot` is this AP's index in `Cpus::aps`.
pub extern "C" fn ap_entry(slot: u32) -> ! {
    let slot = slot as usize;
    let Some((cpus, ap)) = cpus::cpus().and_then(|c| Some((c, c.aps.get(slot)?))) else {
        halt_forever()
    };
    // SAFETY: the area is this AP's alone (allocated per slot by the BSP);
    // the IDT was filled by the BSP before any AP was started.
    unsafe {
        let tables = ap.tables();
        tables.write(crate::machine::platform::gdt::CpuTables::new());
        (*tables).load(ap.ist_tops());
        (*(&raw const idt::IDT)).load();
    }
    cpus.lapic.enable_here();
    cpus.lapic.program_nmi_lints(&cpus.nmis, ap.uid);
    let rsp: u64;
    // SAFETY: reads the stack pointer.
    unsafe { core::arch::asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack)) };
    cpus.arrive(slot, cpus.lapic.id(), rsp);
    if cpus.late_ap == Some(ap.apic_id) {
        // Fault injection: online only once the stop has begun.
        while stopping::state().is_none() {
            core::hint::spin_loop();
        }
    }
    cpus.online.set(slot);
    // Late, after the stop began: no request will come (the stop mask was
    // taken before), so stop now; the BSP INITs every AP outside the mask.
    if stopping::state().is_some() {
        stopping::stop_this_cpu(slot)
    }
    park(cpus, slot)
}

fn park(cpus: &Cpus, slot: usize) -> ! {
    let mailbox = cpus.mailbox(slot);
    let watched = mailbox.control_word() as *const _ as u64;
    loop {
        interrupts::disable();
        if let Some(order) = mailbox.pending() {
            match order.command {
                Command::Run => mailbox.serve(slot, order),
                Command::Stop => stop_on_request(cpus, slot),
            }
            continue;
        }
        match cpus.wait_mode {
            WaitMode::Mwait => monitor_mwait(watched, || mailbox.pending().is_none()),
            // STI's one-instruction shadow makes "check, then sleep" atomic:
            // a wake IPI that arrived after the check ends this HLT.
            WaitMode::Hlt => interrupts::enable_and_hlt(),
        }
    }
}

fn stop_on_request(cpus: &Cpus, slot: usize) -> ! {
    let wedged = stopping::state().and_then(|s| s.wedge);
    if wedged == Some(cpus.aps[slot].apic_id) {
        // Fault injection: ignore the control line with interrupts off;
        // only the NMI (and its handler's stop path) ends this.
        interrupts::disable();
        loop {
            core::hint::spin_loop();
        }
    }
    stopping::stop_this_cpu(slot)
}

/// What the negative-control build does after the stop, as Linux's
/// play_dead does: MONITOR/MWAIT on its old control line where it has it
/// (woken by the kernel's first store there), else HLT with interrupts off
/// (woken by the kernel's first NMI, into an IDT it has overwritten); both
/// in baton's memory.
pub fn return_to_old_park(slot: usize) -> ! {
    let Some(cpus) = cpus::cpus() else {
        halt_forever()
    };
    let watched = cpus.mailbox(slot).control_word() as *const _ as u64;
    loop {
        if cpus.wait_mode == WaitMode::Mwait {
            monitor_mwait(watched, || true);
        } else {
            x86_64::instructions::hlt();
        }
    }
}

/// MONITOR `watched`, then MWAIT if `still_idle()` (checked after the
/// MONITOR, so a store in between is not slept through). Only called where
/// the BSP found MONITOR/MWAIT in CPUID (`WaitMode::Mwait`).
fn monitor_mwait(watched: u64, still_idle: impl Fn() -> bool) {
    // SAFETY: MONITOR/MWAIT exist; `watched` is this AP's control word,
    // identity-mapped.
    unsafe {
        core::arch::asm!("monitor", in("rax") watched, in("ecx") 0, in("edx") 0, options(nostack));
        if still_idle() {
            core::arch::asm!("mwait", in("eax") 0, in("ecx") 0, options(nostack));
        }
    }
}

/// Roll call: who am I, what CPU, on which stack.
pub fn identify(_slot: usize, _arg: u64) -> [u64; 4] {
    let apic_id = lapic::get().map_or(u64::MAX, |l| l.id().into());
    let leaf1 = core::arch::x86_64::__cpuid(1);
    let rsp: u64;
    // SAFETY: reads the stack pointer.
    unsafe { core::arch::asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack)) };
    [
        apic_id,
        u64::from(leaf1.eax) | u64::from(leaf1.ebx) << 32,
        rsp,
        u64::from(leaf1.ecx) | u64::from(leaf1.edx) << 32,
    ]
}

/// A command for one AP: it answers with its slot, its APIC ID and the argument.
pub fn echo(slot: usize, arg: u64) -> [u64; 4] {
    let apic_id = lapic::get().map_or(u64::MAX, |l| l.id().into());
    [slot as u64, apic_id, arg, 0]
}
