//! baton, the bare-metal payload. `boot` is the pipeline, one call a stage;
//! see ../shared/DESIGN.md section 1. On the host this file builds to a
//! stub so that `cargo build`/`clippy`/`test` work across the workspace.
#![cfg_attr(target_os = "none", no_std, no_main)]
// `&mut *(&raw mut STATIC)` is how edition 2024 borrows a `static mut`
// once, deliberately; clippy's suggested `STATIC` would not compile.
#![allow(clippy::deref_addrof)]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
mod machine;
#[cfg(target_os = "none")]
mod report;

#[cfg(target_os = "none")]
use baton::{exit::ExitCode, options::Options};
#[cfg(target_os = "none")]
use machine::{console, power, tsc};

#[cfg(target_os = "none")]
fn boot(protocol: u32, info: u32) -> ! {
    console::init();
    let clock = tsc::calibrate();
    machine::init_bsp();
    let boot_info = machine::entry::boot_info(protocol, info).unwrap_or_else(|e| {
        log::error!("baton: cannot read the boot information: {e}");
        power::fail(ExitCode::Error)
    });
    let options = Options::parse(&boot_info.cmdline);
    log::set_max_level(options.log_level);
    power::configure(options.debug_exit, options.on_fail);
    report::boot(&boot_info, &options, clock);
    let mut frames = machine::memory::frame_allocator(&boot_info);
    report::frames(&frames);
    let acpi = machine::acpi::init(&boot_info)
        .inspect(report::topology)
        .inspect_err(|e| log::error!("ACPI: {e}; no CPU topology, no ACPI power control"));
    if let Ok(acpi) = &acpi {
        match machine::smp::start(
            &acpi.topology,
            &boot_info,
            &options.smp,
            &options.inject,
            &mut frames,
        ) {
            Ok(cpus) => cpus.roll_call(),
            Err(e) => log::error!("SMP: {e}; only the BSP runs"),
        }
    }
    let started = tsc::now();
    // The takeover (next) consumes `source`.
    #[allow(unused_variables)]
    let source = report::source(machine::source::load(&boot_info, &mut frames), started);
    if let Some(test) = options.self_test {
        machine::selftest::run(test);
    }
    power::finish()
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    console::emergency(format_args!("baton: PANIC: {info}\n"));
    machine::exceptions::dump_current_state();
    power::fail(ExitCode::Panic)
}

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("baton runs on bare metal: build it with `cargo xtask build`");
    std::process::exit(2);
}
