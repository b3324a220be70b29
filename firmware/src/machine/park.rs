//! An AP's life in baton: its first Rust function (called by the
//! trampoline on its own stack) and the park loop, where it waits on its
//! control line and runs what the BSP posts. Also the jobs the BSP's roll
//! call sends.

use x86_64::instructions::interrupts;

use super::smp::{self, Cpus, Park};
use super::{idt, lapic};

/// The trampoline's call: `slot` is this AP's index in `Cpus::aps`.
pub extern "C" fn ap_entry(slot: u32) -> ! {
    let slot = slot as usize;
    let Some((cpus, ap)) = smp::cpus().and_then(|c| Some((c, c.aps.get(slot)?))) else {
        halt_forever()
    };
    // SAFETY: the area is this AP's alone (allocated per slot by the BSP);
    // the IDT was filled by the BSP before any AP was started.
    unsafe {
        let tables = ap.tables();
        tables.write(super::gdt::CpuTables::new());
        (*tables).load(ap.ist_tops());
        (*(&raw const idt::IDT)).load();
    }
    cpus.lapic.enable_here();
    cpus.online.set(slot);
    park(cpus, slot)
}

fn park(cpus: &Cpus, slot: usize) -> ! {
    let mailbox = cpus.mailbox(slot);
    let watched = mailbox.control_word() as *const _ as u64;
    loop {
        interrupts::disable();
        if let Some(order) = mailbox.pending() {
            mailbox.serve(slot, order);
            continue;
        }
        match cpus.park {
            // SAFETY: MONITOR/MWAIT exist (checked by the BSP on CPUID);
            // the monitored address is this AP's control word.
            Park::Mwait => unsafe {
                core::arch::asm!("monitor", in("rax") watched, in("ecx") 0, in("edx") 0, options(nostack));
                if mailbox.pending().is_none() {
                    core::arch::asm!("mwait", in("eax") 0, in("ecx") 0, options(nostack));
                }
            },
            // STI's one-instruction shadow makes "check, then sleep" atomic:
            // a wake IPI that arrived after the check ends this HLT.
            Park::Hlt => interrupts::enable_and_hlt(),
        }
    }
}

fn halt_forever() -> ! {
    loop {
        interrupts::disable();
        x86_64::instructions::hlt();
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
