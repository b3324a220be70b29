//! `cargo xtask run`: one boot of baton, its serial log on the terminal.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use super::boot::{add_needs, boot};
use crate::RunArgs;
use crate::entry::Entry;
use crate::machine::{Emulator, Machine, Outcome, Run, linux_reached_init, verdict};
use crate::payload::{Payload, Spec};

/// `cargo xtask run`.
pub fn run_interactive(args: &RunArgs) -> Result<ExitCode> {
    crate::setup::ensure_target()?;
    let (elf, machine) = prepare(args)?;
    let dir = match args.emulator {
        Emulator::Qemu => crate::root().join("target/xtask/run"),
        Emulator::Bochs => crate::bochs::run_dir(),
    };
    let run = boot(&elf, &machine, &dir, true)?;
    Ok(judge(args, &machine, &run, &dir))
}

/// The firmware built and the machine to boot it on, as `args` ask (the
/// checks and the Debian packages it needs first).
fn prepare(args: &RunArgs) -> Result<(PathBuf, Machine)> {
    let entry = if args.coreboot {
        Entry::Coreboot
    } else {
        args.entry
    };
    // A named kernel may bring its own default memory (Xen's dom0 takes
    // 512M); the early check sees the one given or the general default.
    let given_memory = args.memory.clone().unwrap_or_else(|| "512M".into());
    let shape = crate::checks::Shape {
        machine: &args.machine,
        smp: args.smp,
        memory: &given_memory,
        cpu: &args.cpu,
        entry,
        emulator: args.emulator,
    };
    crate::checks::check_early(&shape)?;
    let mut needs = crate::setup::Needs::default();
    add_needs(
        &Machine {
            machine: args.machine.clone(),
            smp: args.smp,
            memory: given_memory.clone(),
            cpu: args.cpu.clone(),
            cmdline: String::new(),
            debug_exit: true,
            qemu_args: Vec::new(),
            timeout: Duration::ZERO,
            gdb: false,
            payload: Payload::default(),
            screen: false,
            nmi_storm: false,
            framebuffer: args.framebuffer,
            nmi_after: Vec::new(),
            entry,
            boot_modules: args.boot_modules,
            compression: args.cbfs_compression,
            until: None,
            emulator: args.emulator,
            grub_iso: args.grub_iso,
        },
        &mut needs,
    );
    crate::setup::ensure(&needs)?;
    let elf =
        crate::firmware::build_variant(!args.debug, crate::firmware::Variant::with_aml(args.aml))?;
    let payload = Spec {
        kernel: Some(args.kernel.clone()).filter(|k| k != "none"),
        initrd: args.initrd.clone(),
        cmdline: args.kernel_cmdline.clone(),
        modules: args.modules.clone(),
        direct: args.direct,
    }
    .resolve(&std::env::current_dir()?)?;
    let memory = args
        .memory
        .clone()
        .or_else(|| payload.memory.clone())
        .unwrap_or_else(|| given_memory.clone());
    crate::checks::check(
        &crate::checks::Shape {
            memory: &memory,
            ..shape
        },
        &elf,
    )?;
    let machine = Machine {
        machine: args.machine.clone(),
        smp: args.smp,
        memory,
        cpu: args.cpu.clone(),
        cmdline: args.cmdline.clone(),
        debug_exit: true,
        qemu_args: args.qemu_args.clone(),
        timeout: Duration::from_secs(args.timeout),
        gdb: args.gdb,
        screen: false,
        nmi_storm: args.nmi_storm,
        framebuffer: args.framebuffer,
        nmi_after: Vec::new(),
        entry,
        boot_modules: args.boot_modules,
        compression: args.cbfs_compression,
        // --expect, or the named kernel's marker: the run ends when it appears.
        until: args.expect.clone().or_else(|| payload.marker.clone()),
        payload,
        emulator: args.emulator,
        grub_iso: args.grub_iso,
    };
    Ok((elf, machine))
}

/// Says how the run ended and whether that is a pass.
fn judge(args: &RunArgs, machine: &Machine, run: &Run, dir: &Path) -> ExitCode {
    // A kernel that powers the machine off (Linux's /init marker, or any
    // kernel QEMU booted itself) has no debug-exit: that is its end.
    let powered_off = run.outcome == Outcome::Shutdown
        && (machine.payload.direct || linux_reached_init(&run.serial));
    let mut passed = matches!(run.outcome, Outcome::Pass | Outcome::KernelPass) || powered_off;
    let mut said = match (run.outcome, machine.payload.direct) {
        (Outcome::Shutdown, true) if !linux_reached_init(&run.serial) => {
            "pass (the kernel QEMU booted powered the machine off)".to_string()
        }
        (outcome, _) => verdict(outcome, &run.serial, None),
    };
    if let Some(marker) = &machine.until {
        passed = run.outcome == Outcome::Marker;
        said = match passed {
            true => format!("pass ({marker:?} appeared)"),
            false => format!("{said}, without {marker:?} on the serial port"),
        };
    }
    if let (true, Some(check)) = (passed, machine.payload.check) {
        match check.run(&run.serial) {
            Ok(found) => crate::ui::say(found),
            Err(e) => {
                passed = false;
                said = format!("fail ({e})");
            }
        }
    }
    for line in run
        .serial
        .lines()
        .filter(|l| l.starts_with("xtask: screendump"))
    {
        crate::ui::say(line.trim_start_matches("xtask: "));
    }
    if let Some((asked, word)) = asked_end(&args.cmdline).filter(|(o, _)| *o == run.outcome) {
        let _ = asked;
        said = format!("{said}, as {word} asked (a deliberate failure: exit status 1)");
    }
    crate::ui::say(format!(
        "{said} after {:.2} s (logs in {})",
        run.elapsed.as_secs_f64(),
        crate::ui::show(&run.dir)
    ));
    if let Outcome::QemuFailed(_) = run.outcome {
        let stderr = std::fs::read_to_string(dir.join("qemu-stderr.log")).unwrap_or_default();
        eprint!("{stderr}");
    }
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The end `test=...` in baton's command line asks for, if any.
fn asked_end(cmdline: &str) -> Option<(Outcome, &str)> {
    let word = cmdline
        .split_whitespace()
        .find(|w| w.starts_with("test="))?;
    let outcome = match word.strip_prefix("test=")? {
        w if w.starts_with("fault:") => Outcome::Exception,
        "panic" => Outcome::Panic,
        "triple-fault" => Outcome::TripleFault,
        "hang" => Outcome::Hang,
        _ => return None,
    };
    Some((outcome, word))
}
