//! baton, the bare-metal payload. `boot` is the pipeline, one call a stage;
//! see docs/ARCHITECTURE.md, "The pipeline". On the host this file builds to a
//! stub so that `cargo build`/`clippy`/`test` work across the workspace.
#![cfg_attr(target_os = "none", no_std, no_main)]
// `&mut *(&raw mut STATIC)` is how edition 2024 borrows a `static mut`
// once, deliberately; clippy's suggested `STATIC` would not compile.
#![allow(clippy::deref_addrof)]

#[cfg(all(
    any(
        feature = "unsafe-takeover",
        feature = "unsafe-park-nmi",
        feature = "unsafe-publish-order",
        feature = "unsafe-shared-park-stack"
    ),
    not(baton_negative_control)
))]
compile_error!(
    "the unsafe-* features bring back takeover bugs for the test suite's negative controls; they build only with BATON_NEGATIVE_CONTROL=1 (cargo xtask sets it)"
);

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
#[macro_use]
mod log_line;
#[cfg(target_os = "none")]
mod machine;
#[cfg(target_os = "none")]
mod report;

#[cfg(target_os = "none")]
use baton::options::Options;
#[cfg(target_os = "none")]
use baton::support::exit::ExitCode;
#[cfg(target_os = "none")]
use baton::{source::SourceError, support::timeline::Stage};
#[cfg(target_os = "none")]
use machine::acpi::power;
#[cfg(target_os = "none")]
use machine::platform::{console, tsc};

#[cfg(target_os = "none")]
fn boot(entry: machine::entry::Entry) -> ! {
    console::init();
    report::negative_controls();
    tsc::start_calibration();
    machine::init_bsp();
    tsc::stamp(Stage::Entry);
    let boot_info = machine::entry::boot_info(entry);
    let clock = tsc::calibrate();
    let boot_info =
        boot_info.unwrap_or_else(|e| fatal(format_args!("cannot read the boot information: {e}")));
    console::follow_firmware(&boot_info);
    tsc::stamp(Stage::BootInfo);
    let options = settle(Options::parse(&boot_info.cmdline));
    let mut frames = machine::platform::memory::frame_allocator(&boot_info);
    machine::platform::paging::map_everything(&boot_info.memory_map, &mut frames)
        .unwrap_or_else(|e| fatal(format_args!("{e}")));
    report::boot(&boot_info, &options, clock);
    report::frames(&frames);
    let acpi = machine::acpi::init(&boot_info, &options)
        .inspect(report::topology)
        .inspect_err(|e| error!("ACPI: {e}; no CPU topology, no ACPI power control"));
    tsc::stamp(Stage::Acpi);
    let cpus = acpi.as_ref().ok().and_then(|acpi| {
        machine::smp::start(&acpi.topology, &boot_info, &options, &mut frames)
            .inspect(|cpus| {
                if options.smp.roll_call {
                    cpus.roll_call()
                }
            })
            .inspect_err(|e| error!("SMP: {e}; only the BSP runs"))
            .ok()
    });
    tsc::stamp(Stage::ApsOnline);
    if let Some(test) = options.self_test {
        machine::selftest::run(test, &mut frames);
    }
    let rsdp = acpi.as_ref().ok().map(|a| a.tables.rsdp);
    if boot_first_kernel(&boot_info, &options, rsdp, cpus, &mut frames) {
        fatal(format_args!("no kernel source is left to try"));
    }
    if !options.no_kernel_ok {
        fatal(format_args!("{}", SourceError::NoKernel));
    }
    info!("baton: {} (no-kernel=ok)", SourceError::NoKernel);
    tsc::report_timeline();
    power::finish()
}

/// Each kernel source in turn (fw_cfg, CBFS, boot modules): the first with
/// a kernel is booted and this never returns; one that fails ends the run
/// under the policy, or with `on-fail=next` hands over to the next source.
/// The memory a failed source took stays taken (part of it may be lent to
/// the heap by then). Returns whether a source failed (else none had a
/// kernel).
#[cfg(target_os = "none")]
// Out of line, as the stages it calls (`boot`'s frame; -576 bytes).
#[inline(never)]
fn boot_first_kernel(
    boot_info: &baton::entry::BootInfo,
    options: &Options,
    rsdp: Option<u64>,
    cpus: Option<&'static machine::smp::cpus::Cpus>,
    frames: &mut baton::support::frames::FrameAllocator,
) -> bool {
    let mut failed = false;
    for origin in machine::source::ORDER {
        let started = tsc::now();
        let source = match machine::source::load(origin, boot_info, frames) {
            Ok(None) => continue,
            Ok(Some(source)) => source,
            Err(e) => {
                error!("baton: kernel from {origin}: {e}");
                next_source_or_fail(options);
                failed = true;
                continue;
            }
        };
        // The source's config file adds the takeover's options (the ones
        // acting earlier are refused: `Options::with_config`).
        // Borrowed when there is no config: no clone of the options.
        let with_config;
        let options = match &source.config {
            Some(config) => {
                with_config = settle(options.with_config(config));
                &with_config
            }
            None => options,
        };
        report::source(&source, options, started);
        tsc::stamp(Stage::KernelRead);
        match machine::takeover::prepare(&source, options, boot_info, rsdp, cpus, frames) {
            Ok(prepared) => machine::takeover::commit(prepared),
            Err(e) => error!("baton: takeover: {e}"),
        }
        next_source_or_fail(options);
        failed = true;
    }
    failed
}

/// An error that ends the run under the policy.
#[cfg(target_os = "none")]
fn fatal(why: core::fmt::Arguments<'_>) -> ! {
    error!("baton: {why}");
    power::fail(ExitCode::Error)
}

/// Puts the options that govern the whole run into effect: the console's
/// level, and how the run ends (ACPI, once read, adds `\_S5` to it).
#[cfg(target_os = "none")]
fn settle(options: Options) -> Options {
    log::set_max_level(options.log_level);
    power::configure(options.debug_exit, options.on_fail);
    options
}

/// After a kernel source failed: on to the next one under `on-fail=next`,
/// else the end of the run under the policy.
#[cfg(target_os = "none")]
fn next_source_or_fail(options: &Options) {
    if !options.next_source {
        power::fail(ExitCode::Error);
    }
    warn!("baton: on-fail=next: trying the next kernel source");
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    console::emergency(format_args!("baton: PANIC: {info}\n"));
    machine::trap::exceptions::dump_current_state();
    power::fail(ExitCode::Panic)
}

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("baton runs on bare metal: build it with `cargo xtask build`");
    std::process::exit(2);
}
