//! How a run ends: success, or a failure under the policy from the
//! command line. Under the test harness (`debug-exit=PORT`) every end is
//! also reported through QEMU's isa-debug-exit device with its code.
//! Kept in atomics so an exception handler can read it without locks.

use core::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use baton::options::FailPolicy;
use baton::support::exit::ExitCode;
use x86_64::instructions::port::Port;

/// 0 = no debug-exit device, else PORT + 1.
static DEBUG_EXIT: AtomicU32 = AtomicU32::new(0);
static POLICY: AtomicU8 = AtomicU8::new(FailPolicy::Halt as u8);

/// Sets how runs end; under `on-fail=off` with ACPI up, `\_S5` is
/// evaluated now: a fault handler must not be the first to run the AML
/// interpreter.
pub fn configure(debug_exit: Option<u16>, policy: FailPolicy) {
    DEBUG_EXIT.store(debug_exit.map_or(0, |p| u32::from(p) + 1), Ordering::SeqCst);
    POLICY.store(policy as u8, Ordering::SeqCst);
    if policy == FailPolicy::PowerOff {
        crate::machine::acpi::prepare_power_off();
    }
}

/// Tells the harness, if there is one; QEMU then exits, so nothing after
/// this may print (it would race with the exit).
fn report(code: ExitCode) {
    if let Some(port) = DEBUG_EXIT.load(Ordering::SeqCst).checked_sub(1) {
        crate::machine::platform::console::flush();
        // SAFETY: the harness put isa-debug-exit on this port; QEMU exits.
        unsafe { Port::<u32>::new(port as u16).write(code as u32) };
        halt_forever();
    }
}

/// The run succeeded.
pub fn finish() -> ! {
    info!("baton: done");
    report(ExitCode::Success);
    power_off()
}

/// ACPI power-off: SLP_TYP of `\_S5` with SLP_EN into the PM1 control
/// blocks. Without ACPI (or if the machine is still running after it),
/// baton says so and halts.
pub fn power_off() -> ! {
    let writes = match crate::machine::acpi::POWER.get() {
        None => Err("no FADT"),
        Some(power) => match power.s5() {
            None => Err("no \\_S5 sleep type"),
            Some(s5) => power.fadt.s5_writes(s5.a, s5.b),
        },
    };
    match writes {
        Ok(writes) => {
            info!("baton: powering off through \\_S5");
            for (register, value) in &writes {
                info!("  {register} <- {value:#x}");
            }
            crate::machine::platform::console::flush();
            for (register, value) in writes {
                crate::machine::acpi::write_register(register, value);
            }
            crate::machine::platform::tsc::delay_us(1_000_000);
            error!("baton: power-off failed: still running 1 s after writing the sleep registers");
        }
        Err(why) => error!("baton: cannot power off: {why}"),
    }
    info!("baton: halting");
    halt_forever()
}

/// The run failed: report and apply the policy.
pub fn fail(code: ExitCode) -> ! {
    report(code);
    match POLICY.load(Ordering::SeqCst) {
        p if p == FailPolicy::Reset as u8 => reset(),
        p if p == FailPolicy::PowerOff as u8 => power_off(),
        _ => halt_forever(),
    }
}

/// HLT with interrupts off, for good (the end of a run under
/// `on-fail=halt`, and of an AP with nothing left to do).
pub fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}

/// Reset through the FADT's reset register, then the reset control
/// register (0xCF9), then the keyboard controller, then a triple fault.
pub fn reset() -> ! {
    if let Some(reset) = crate::machine::acpi::POWER.get().and_then(|p| p.fadt.reset) {
        crate::machine::acpi::write_register(reset.register, reset.value.into());
    }
    // SAFETY: standard PC reset ports; the machine is going away.
    unsafe {
        Port::<u8>::new(0xcf9).write(0x02);
        Port::<u8>::new(0xcf9).write(0x06);
        Port::<u8>::new(0x64).write(0xfe);
    }
    no_idt();
    // SAFETY: with no IDT, the breakpoint becomes a triple fault: a reset.
    unsafe { core::arch::asm!("int3") };
    halt_forever()
}

/// Loads an empty IDT: the next exception shuts the CPU down (the last
/// resort of a reset, and the triple-fault self-test).
pub fn no_idt() {
    let pointer = x86_64::structures::DescriptorTablePointer {
        limit: 0,
        base: x86_64::VirtAddr::zero(),
    };
    // SAFETY: deliberately fatal: the next exception is a triple fault.
    unsafe { x86_64::instructions::tables::lidt(&pointer) };
}
