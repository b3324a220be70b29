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
use baton::{exit::ExitCode, options::Options, source::SourceError, timeline::Stage};
#[cfg(target_os = "none")]
use machine::{console, power, tsc};

#[cfg(target_os = "none")]
fn boot(entry: machine::entry::Entry) -> ! {
    console::init();
    let clock = tsc::calibrate();
    machine::init_bsp();
    tsc::stamp(Stage::Entry);
    let boot_info = machine::entry::boot_info(entry).unwrap_or_else(|e| {
        log::error!("baton: cannot read the boot information: {e}");
        power::fail(ExitCode::Error)
    });
    console::follow_firmware(&boot_info);
    tsc::stamp(Stage::BootInfo);
    let options = Options::parse(&boot_info.cmdline);
    log::set_max_level(options.log_level);
    power::configure(options.debug_exit, options.on_fail);
    report::boot(&boot_info, &options, clock);
    let mut frames = machine::memory::frame_allocator(&boot_info);
    report::frames(&frames);
    let acpi = machine::acpi::init(&boot_info, options.aml_eager)
        .inspect(report::topology)
        .inspect_err(|e| log::error!("ACPI: {e}; no CPU topology, no ACPI power control"));
    tsc::stamp(Stage::Acpi);
    let cpus = acpi.as_ref().ok().and_then(|acpi| {
        machine::smp::start(&acpi.topology, &boot_info, &options, &mut frames)
            .inspect(|cpus| cpus.roll_call())
            .inspect_err(|e| log::error!("SMP: {e}; only the BSP runs"))
            .ok()
    });
    tsc::stamp(Stage::ApsOnline);
    let started = tsc::now();
    let loaded = machine::source::load(&boot_info, &mut frames);
    let unreadable = matches!(&loaded, Err(e) if !matches!(e, SourceError::NoKernel));
    let source = report::source(loaded, started);
    tsc::stamp(Stage::KernelRead);
    if unreadable {
        power::fail(ExitCode::Error);
    }
    if let Some(test) = options.self_test {
        machine::selftest::run(test, &mut frames);
    }
    if let Some(source) = source {
        // The config file may set the takeover's options (the SMP ones
        // must be on baton's command line: the APs are up by now).
        let options = match &source.config {
            Some(config) => Options::parse(&alloc::format!("{} {config}", boot_info.cmdline)),
            None => options,
        };
        let rsdp = acpi.as_ref().ok().map(|a| a.tables.rsdp);
        let Err(e) = machine::takeover::boot(&source, &options, &boot_info, rsdp, cpus, &frames);
        log::error!("baton: takeover: {e}");
        power::fail(ExitCode::Error);
    }
    tsc::report_timeline();
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
