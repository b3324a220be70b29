//! The QEMU harness: one boot of baton under a given machine shape, its
//! serial log captured to a file, and a verdict on how it ended.
//!
//! How an end is told apart: baton reports through isa-debug-exit, so QEMU
//! exits with `(code << 1) | 1` (pass, error, panic, exception). A triple
//! fault under `-no-reboot` makes QEMU exit 0, which is why no pass is ever
//! 0; QEMU's `-d cpu_reset` log names the triple fault. A run that has not
//! ended by its timeout is a hang.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use baton::support::exit::{DEBUG_EXIT_PORT, ExitCode as BatonExit};

use crate::RunArgs;
use crate::coreboot;
use crate::entry::{self, Entry};
use crate::machine::{Emulator, Machine, Outcome, Run, baton_cmdline, linux_reached_init, verdict};
use crate::payload::{Payload, Spec};
use crate::setup::QEMU;

/// QEMU's exit status when the probe kernel writes 0x20 (pass) or 0x21
/// (fail) to isa-debug-exit: `(code << 1) | 1`.
const PROBE_PASS_STATUS: i32 = (0x20 << 1) | 1;
const PROBE_FAIL_STATUS: i32 = (0x21 << 1) | 1;

/// Distinguishes the monitor sockets of runs made at once.
static MONITORS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// What a machine that ran out of time was doing, for the run's
/// directory: every CPU's registers and the local APIC state (IRR, ISR,
/// timer) of the first 16, where a lost interrupt or an unacknowledged
/// one shows. APIC IDs are taken to be the CPU indices (QEMU's default
/// topology); a guess that is wrong shows as the monitor's error.
fn hang_state(monitor: &Path, cpus: u32) -> String {
    let mut commands = vec!["info registers -a".to_string()];
    commands.extend((0..cpus.min(16)).map(|id| format!("info lapic {id}")));
    commands.extend(["info pic".to_string(), "info irq".to_string()]);
    let mut text = String::new();
    for command in commands {
        let reply = crate::monitor::exchange(monitor, &command)
            .map(|r| monitor_output(&r))
            .unwrap_or_else(|e| format!("({e:#})"));
        text.push_str(&format!("### {command}\n{reply}\n"));
    }
    text
}

/// What a command printed, out of the monitor's reply: without the
/// greeting, the prompts with their echo of the command and the escape
/// codes of its line editor.
fn monitor_output(reply: &str) -> String {
    crate::ui::strip_ansi(reply)
        .lines()
        .filter(|l| !l.contains("(qemu)") && !l.starts_with("QEMU ") && !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

/// What the screen shows at a run's end, as log lines: the VGA text
/// (`screen: ...`, machines with `screen`, kept in `screen.txt`) and a
/// framebuffer's screendump (`xtask: screendump ...`, kept in
/// `screendump.ppm`).
fn look_at_screen(machine: &Machine, monitor: &Path, dir: &Path) -> String {
    let mut lines = String::new();
    if machine.screen {
        // Three looks, 300 ms apart: a game may be between clearing
        // the screen and drawing the next frame at any one of them.
        let mut text = String::new();
        for look in 0..3 {
            if look > 0 {
                std::thread::sleep(Duration::from_millis(300));
            }
            let shot = read_screen(monitor).unwrap_or_else(|e| format!("(no screen: {e:#})"));
            text.push_str(&shot);
            text.push('\n');
        }
        let _ = std::fs::write(dir.join("screen.txt"), &text);
        lines = text.lines().map(|l| format!("screen: {l}\n")).collect();
    }
    if machine.framebuffer {
        let file = dir.join("screendump.ppm");
        let _ = std::fs::remove_file(&file);
        let said = crate::monitor::exchange(monitor, &format!("screendump {}", file.display()))
            .and_then(|_| std::fs::read(&file).context("QEMU wrote no screendump"))
            .and_then(|ppm| crate::screendump::describe(&ppm));
        lines.push_str(&match said {
            Ok(what) => format!("xtask: screendump {}: {what}\n", file.display()),
            Err(e) => format!("xtask: no screendump: {e:#}\n"),
        });
    }
    lines
}

/// The 80x25 VGA text screen at 0xb8000, read with the monitor's `xp`.
fn read_screen(socket: &Path) -> Result<String> {
    Ok(decode_screen(&crate::monitor::exchange(
        socket,
        "xp /2000hx 0xb8000",
    )?))
}

/// Characters from `xp /Nhx` lines (`0000000000b8000: 0x0720 0x0741 ...`):
/// the low byte of each cell, 80 to a row.
fn decode_screen(reply: &str) -> String {
    let chars: Vec<char> = reply
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, cells)| cells))
        .flat_map(|cells| cells.split_whitespace())
        .filter_map(|cell| u16::from_str_radix(cell.strip_prefix("0x")?, 16).ok())
        .map(|cell| match (cell & 0xff) as u8 {
            b @ 0x20..=0x7e => b as char,
            _ => ' ',
        })
        .collect();
    chars
        .chunks(80)
        .map(|row| row.iter().collect::<String>().trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Boots `elf` on `machine` (under QEMU or Bochs); logs go to `dir`. With
/// `echo`, the serial output is also printed as it comes.
pub fn boot(elf: &Path, machine: &Machine, dir: &Path, echo: bool) -> Result<Run> {
    // The probe's `{old-park}` becomes this build's address.
    let filled = crate::probe::fill_in(machine.payload.cmdline.as_deref(), elf)?.map(|c| {
        let mut m = machine.clone();
        m.payload.cmdline = Some(c);
        m
    });
    let machine = filled.as_ref().unwrap_or(machine);
    if machine.emulator == Emulator::Bochs {
        return crate::bochs::boot(elf, machine, dir, echo);
    }
    // The folder holds this run's files only.
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let debug_log = dir.join("qemu-debug.log");
    let _ = std::fs::remove_file(&debug_log);
    let cmdline = baton_cmdline(machine, true);
    if machine.entry == Entry::Coreboot && machine.machine != "q35" && !machine.payload.direct {
        anyhow::bail!("the coreboot ROM is built for q35, not {}", machine.machine);
    }
    if (machine.boot_modules || machine.grub_iso) && !machine.entry.is_grub() {
        anyhow::bail!(
            "boot_modules and grub_iso need a GRUB entry (grub-multiboot1, grub-multiboot2), not {}",
            machine.entry
        );
    }
    // Kept until QEMU has exited: it removes a sparse RAM file.
    let ram = crate::ram::GuestRam::plan(&machine.memory, &crate::root().join("target/xtask/ram"))?;
    for note in &ram.notes {
        crate::ui::say(note);
    }
    let mut qemu = Command::new(QEMU);
    // Relative paths in scenario rows' qemu_args are the workspace's.
    qemu.current_dir(crate::root())
        .args([
            "-machine",
            &format!("{}{}", machine.machine, ram.machine_options),
            "-smp",
            &machine.smp.to_string(),
            "-m",
            &machine.memory,
        ])
        .args(&ram.args)
        .args([
            "-cpu",
            &ram.cpu_model(&machine.cpu),
            "-display",
            "none",
            "-serial",
            "stdio",
            "-no-reboot",
        ])
        .args([
            "-device",
            &format!("isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=4"),
        ])
        .args(["-d", "cpu_reset", "-D"])
        .arg(&debug_log);
    let monitor = std::env::temp_dir().join(format!(
        "baton-monitor-{}-{}.sock",
        std::process::id(),
        MONITORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    // Always a monitor: the NMI injections and the screen use it, and a
    // run that times out leaves its CPUs' state (`hang-state.txt`).
    let _ = std::fs::remove_file(&monitor);
    qemu.arg("-monitor")
        .arg(format!("unix:{},server=on,wait=off", monitor.display()));
    let payload = &machine.payload;
    match (&payload.kernel, payload.direct) {
        (Some(kernel), true) => {
            qemu.arg("-kernel").arg(kernel);
            if let Some(initrd) = &payload.initrd {
                qemu.arg("-initrd").arg(initrd);
            }
            qemu.args(["-append", payload.cmdline.as_deref().unwrap_or("")]);
        }
        (None, true) => anyhow::bail!("a direct boot (QEMU -kernel, no baton) needs a kernel"),
        (_, false) => match machine.entry {
            Entry::Pvh => {
                qemu.arg("-kernel")
                    .arg(entry::pvh_image(elf, dir)?)
                    .args(["-append", &cmdline])
                    .args(payload.fw_cfg_args());
            }
            Entry::Multiboot1 => {
                qemu.arg("-kernel")
                    .arg(elf)
                    .args(["-append", &cmdline])
                    .args(payload.fw_cfg_args());
            }
            Entry::Coreboot => {
                // Under coreboot there is no loader command line: baton
                // reads its options from the CBFS file `config`.
                let rom = dir.join("coreboot.rom");
                let contents = coreboot::Contents {
                    payload,
                    config: &cmdline,
                    compression: machine.compression,
                };
                let variant = coreboot::Variant::for_machine(machine.smp, machine.framebuffer)?;
                let note = coreboot::payload_rom(variant, elf, &contents, &rom)?;
                std::fs::write(dir.join("coreboot.txt"), format!("{note}\n"))?;
                qemu.arg("-bios").arg(&rom);
                if machine.framebuffer {
                    qemu.args(["-vga", "std"]);
                }
            }
            Entry::GrubMultiboot1 | Entry::GrubMultiboot2 if machine.grub_iso => {
                let iso = crate::iso::grub_iso(machine.entry, elf, &cmdline, payload, dir)?;
                qemu.arg("-cdrom").arg(iso).args(["-boot", "d"]);
            }
            Entry::GrubMultiboot1 | Entry::GrubMultiboot2 => {
                let image = entry::grub_image(
                    machine.entry,
                    elf,
                    &cmdline,
                    payload,
                    machine.boot_modules,
                    dir,
                )?;
                qemu.arg("-kernel").arg(image);
                if !machine.boot_modules {
                    qemu.args(payload.fw_cfg_args());
                }
            }
        },
    }
    qemu.args(crate::ram::with_phys_bits(&machine.qemu_args, &ram));
    if machine.gdb {
        qemu.args(["-s", "-S"]);
        eprintln!("xtask: QEMU waits for gdb on tcp::1234 (target remote :1234)");
    }
    std::fs::write(dir.join("command.txt"), format!("{qemu:?}\n"))?;
    let started = Instant::now();
    let mut child = qemu
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("qemu-stderr.log"))?)
        .spawn()
        .with_context(|| format!("starting {QEMU}"))?;

    let serial = Arc::new(Mutex::new(String::new()));
    let stdout = child.stdout.take().context("QEMU's stdout")?;
    let mut log = std::fs::File::create(dir.join("serial.log"))?;
    let line_times = Arc::new(Mutex::new(Vec::new()));
    let marker_seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let marker_seen = Arc::clone(&marker_seen);
        let until = machine.until.clone();
        let serial = Arc::clone(&serial);
        let line_times = Arc::clone(&line_times);
        let mut nmi_after: std::collections::VecDeque<String> =
            machine.nmi_after.iter().cloned().collect();
        let monitor = monitor.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).split(b'\n') {
                let Ok(line) = line else { break };
                // Without escape codes (GRUB clears the screen).
                let mut text = crate::ui::strip_ansi(&String::from_utf8_lossy(&line));
                while let Some(marker) = nmi_after.front().filter(|m| text.contains(m.as_str())) {
                    let how = match crate::monitor::exchange(&monitor, "nmi") {
                        Ok(_) => "NMI injected",
                        Err(_) => "NMI injection FAILED",
                    };
                    text = format!("{text}\nxtask: {how} after {marker:?}");
                    nmi_after.pop_front();
                }
                if until.as_deref().is_some_and(|m| text.contains(m)) {
                    marker_seen.store(true, std::sync::atomic::Ordering::Release);
                }
                let _ = writeln!(log, "{text}");
                if echo {
                    crate::ui::out(&text);
                }
                if let Ok(mut times) = line_times.lock() {
                    times.push((started.elapsed(), text.clone()));
                }
                if let Ok(mut s) = serial.lock() {
                    s.push_str(&text);
                    s.push('\n');
                }
            }
        })
    };

    let storm_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let storm = machine.nmi_storm.then(|| {
        let (monitor, done, serial) = (
            monitor.clone(),
            Arc::clone(&storm_done),
            Arc::clone(&serial),
        );
        let seed = started.elapsed().as_nanos() as u64 ^ u64::from(std::process::id());
        std::thread::spawn(move || {
            let begun = std::sync::atomic::AtomicBool::new(false);
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        if serial.lock().is_ok_and(|s| !s.is_empty()) {
                            begun.store(true, std::sync::atomic::Ordering::Relaxed);
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                });
                (seed, crate::storm::run(&monitor, seed, &begun, &done))
            })
        })
    });
    let mut screen = String::new();
    let mut ended_at_marker = false;
    let mut silence_said = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if marker_seen.load(std::sync::atomic::Ordering::Acquire) {
            // The kernel holds after its marker: what it drew is still there.
            screen.push_str(&look_at_screen(machine, &monitor, dir));
            let _ = child.kill();
            let _ = child.wait();
            ended_at_marker = true;
            break None;
        }
        // `run` says why nothing happens rather than wait in silence.
        let quiet_for = line_times
            .lock()
            .ok()
            .and_then(|t| t.last().map(|(at, _)| *at))
            .map_or(started.elapsed(), |at| started.elapsed().saturating_sub(at));
        if echo && !machine.gdb && !silence_said && quiet_for > Duration::from_secs(5) {
            silence_said = true;
            crate::ui::say(format!(
                "no serial output for 5 s; a run that has not ended after {} s (--timeout) is called a hang",
                machine.timeout.as_secs()
            ));
        }
        if !machine.gdb && started.elapsed() > machine.timeout {
            screen.push_str(&look_at_screen(machine, &monitor, dir));
            // The log says how many CPUs the dump reached, so a scenario
            // can check that the dump works.
            let state = hang_state(&monitor, machine.smp);
            let answered = state.lines().filter(|l| l.starts_with("RIP=")).count();
            let _ = std::fs::write(dir.join("hang-state.txt"), &state);
            screen.push_str(&format!(
                "xtask: at the timeout, the registers of {answered} of {} CPUs and their LAPICs went to hang-state.txt\n",
                machine.smp
            ));
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    storm_done.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some((seed, sent)) = storm.and_then(|t| t.join().ok()) {
        screen.push_str(&format!(
            "xtask: NMI storm: {sent} NMIs sent, 2-20 ms apart (seed {seed:#x})\n"
        ));
    }
    let _ = reader.join();
    let outcome = match status.map(|s| s.code()) {
        None if ended_at_marker => Outcome::Marker,
        None => Outcome::Hang,
        Some(None) => Outcome::QemuFailed(-1),
        Some(Some(0)) => {
            let resets = std::fs::read_to_string(&debug_log).unwrap_or_default();
            if resets.contains("Triple fault") {
                Outcome::TripleFault
            } else {
                Outcome::Shutdown
            }
        }
        Some(Some(code)) => match BatonExit::from_qemu_status(code) {
            Some(BatonExit::Success) => Outcome::Pass,
            Some(BatonExit::Error) => Outcome::Error,
            Some(BatonExit::Panic) => Outcome::Panic,
            Some(BatonExit::Exception) => Outcome::Exception,
            None if code == PROBE_PASS_STATUS => Outcome::KernelPass,
            None if code == PROBE_FAIL_STATUS => Outcome::KernelFail,
            None => Outcome::QemuFailed(code),
        },
    };
    // The marker came, and the machine powered itself off before the loop
    // above saw it: still the marker's end.
    let outcome = match outcome {
        Outcome::Shutdown if marker_seen.load(std::sync::atomic::Ordering::Acquire) => {
            Outcome::Marker
        }
        other => other,
    };
    let _ = std::fs::remove_file(&monitor);
    // The harness's own lines (screen, screendump, NMI storm) end the
    // file too, so a run's folder says everything the verdict read.
    if !screen.is_empty() {
        use std::io::Write;
        let _ = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("serial.log"))
            .and_then(|mut f| f.write_all(screen.as_bytes()));
    }
    let serial = serial
        .lock()
        .map(|s| s.clone() + &screen)
        .unwrap_or_default();
    let line_times = line_times.lock().map(|t| t.clone()).unwrap_or_default();
    if let Some(used) = ram.file_usage() {
        crate::ui::say(format!(
            "the guest touched {} MiB of its sparse RAM file",
            used >> 20
        ));
    }
    drop(ram);
    Ok(Run {
        outcome,
        serial,
        elapsed,
        dir: dir.to_path_buf(),
        line_times,
    })
}

/// The end `test=...` in baton's command line asks for, if any.
pub fn asked_end(cmdline: &str) -> Option<(Outcome, &str)> {
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

/// What a Debian-package check needs for a run of `machine` (QEMU or
/// Bochs, GRUB and its ISO tools, coreboot's build tools when its ROM is
/// not built yet).
pub fn add_needs(machine: &Machine, needs: &mut crate::setup::Needs) {
    let (entry, smp) = (machine.entry, machine.smp);
    if machine.emulator == Emulator::Bochs {
        crate::bochs::add_needs(needs);
        return;
    }
    needs.qemu = true;
    if machine.grub_iso {
        needs.add(crate::iso::WHY, crate::iso::PACKAGES);
    }
    if entry.is_grub() {
        needs.add("booting baton through GRUB", &["grub-pc-bin"]);
    }
    if entry == Entry::Coreboot {
        let variant = coreboot::Variant::for_machine(smp, machine.framebuffer)
            .unwrap_or(coreboot::Variant::Q35Framebuffer);
        coreboot::add_needs(variant, needs);
    }
}

/// `cargo xtask run`.
pub fn run_interactive(args: &RunArgs) -> Result<ExitCode> {
    crate::setup::ensure_target()?;
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
    let dir = match args.emulator {
        Emulator::Qemu => crate::root().join("target/xtask/run"),
        Emulator::Bochs => crate::bochs::run_dir(),
    };
    let run = boot(&elf, &machine, &dir, true)?;
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
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn monitor_output_is_what_the_command_printed() {
        let reply = "QEMU 10.0.2 monitor - type 'help' for more information\r\n(qemu) i\x1b[K\x1b[Din\x1b[K\x1b[D\x1b[Dinfo pic\r\npic0: irr=00\r\n(qemu) ";
        assert_eq!(super::monitor_output(reply), "pic0: irr=00\n");
    }

    #[test]
    fn verdicts_say_what_the_end_means() {
        use super::{Outcome, verdict};
        let pf = "baton: EXCEPTION vector 14 (#PF page fault) error code 0x0";
        assert_eq!(
            verdict(Outcome::Exception, pf, Some(Outcome::Exception)),
            "pass (expected exception #PF)"
        );
        assert_eq!(verdict(Outcome::Exception, pf, None), "exception #PF");
        assert_eq!(
            verdict(Outcome::Shutdown, "baton-linux-init: cpus=4", None),
            "pass (Linux reached init)"
        );
        assert_eq!(verdict(Outcome::KernelPass, "", None), "pass (probe)");
        assert_eq!(
            verdict(Outcome::Hang, "", Some(Outcome::Hang)),
            "pass (expected hang)"
        );
        assert_eq!(verdict(Outcome::Panic, "", Some(Outcome::Pass)), "panic");
    }

    #[test]
    fn decodes_the_vga_text_screen() {
        let reply =
            "(qemu) xp /2000hx 0xb8000\r\n00000000000b8000: 0x0748 0x0769 0x0720 0x0701\r\n";
        assert_eq!(super::decode_screen(reply), "Hi");
    }
}
