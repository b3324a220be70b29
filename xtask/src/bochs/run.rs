//! A run under Bochs: started from its bochsrc, followed through its
//! serial file and Bochs' own log, and how it ended.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::config::{bochsrc, check, entry};
use crate::machine::{Machine, Outcome, Run};

/// Bochs' own log says the run is over: a triple fault, a panic of Bochs
/// itself, or the BSP halted with interrupts off (baton's and the probe's
/// last state; nothing but NMI, INIT or SMI wakes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LogEnd {
    TripleFault,
    /// ACPI S5 (Bochs logs it as a panic and exits).
    PowerOff,
    BochsPanic,
    BspHalted,
}

fn log_end(log: &str) -> Option<LogEnd> {
    if log.contains("exception with no resolution") {
        Some(LogEnd::TripleFault)
    } else if log.contains("ACPI control: soft power off") {
        Some(LogEnd::PowerOff)
    } else if log.contains(">>PANIC<<") {
        Some(LogEnd::BochsPanic)
    } else if log.contains("[CPU0  ] WARNING: HLT instruction with IF=0!") {
        Some(LogEnd::BspHalted)
    } else {
        None
    }
}

/// The serial log's verdict, where it has one: the probe's, baton's own
/// end, the row's marker.
fn serial_end(serial: &str, until: Option<&str>) -> Option<Outcome> {
    if until.is_some_and(|m| serial.contains(m)) {
        return Some(Outcome::Marker);
    }
    [
        ("probe: PASS", Outcome::KernelPass),
        ("probe: FAIL", Outcome::KernelFail),
        ("baton: PANIC", Outcome::Panic),
        ("baton: EXCEPTION vector", Outcome::Exception),
        ("baton: done", Outcome::Pass),
    ]
    .into_iter()
    .find(|(text, _)| serial.contains(text))
    .map(|(_, o)| o)
}

/// What a run came to, from what it left: the serial log, Bochs' log and
/// whether Bochs exited by itself (an ACPI power-off); else the timeout
/// ended it.
fn outcome(serial: &str, log: &str, until: Option<&str>, exited: bool) -> Outcome {
    match (log_end(log), serial_end(serial, until)) {
        // The probe's verdict and the marker stand whatever came after.
        (_, Some(o @ (Outcome::KernelPass | Outcome::KernelFail | Outcome::Marker))) => o,
        (Some(LogEnd::TripleFault), _) => Outcome::TripleFault,
        (Some(LogEnd::BochsPanic), _) => Outcome::BochsFailed,
        (_, Some(o)) => o,
        (Some(LogEnd::PowerOff), None) => Outcome::Shutdown,
        (Some(LogEnd::BspHalted), None) if serial.contains(" ERROR]") => Outcome::Error,
        (None, None) if exited => Outcome::Shutdown,
        // Halted for good with nothing said, or the timeout.
        (Some(LogEnd::BspHalted) | None, None) => Outcome::Hang,
    }
}

/// Whether the run is over: a verdict that cannot change, or Bochs' log
/// says the machine stopped.
fn finished(serial: &str, log: &str, until: Option<&str>) -> bool {
    matches!(
        serial_end(serial, until),
        Some(Outcome::KernelPass | Outcome::KernelFail | Outcome::Marker)
    ) || log_end(log).is_some()
}

/// The lines of Bochs' log worth a run's verdict: its errors and panics
/// after the BIOS (a CPU that ran into garbage shows here first, e.g.
/// `[CPU2  ] fetch_raw_descriptor: GDT: index (ff57) 1fea > limit (27)`),
/// and the triple fault, each as `bochs: ...` (at most 32); then for each
/// AP (CPU1 and up) that hit one, `bochs: AP CPU2 faulted: ...` with its
/// first. baton leaves no AP running at the handoff (INIT, or HLT in the
/// park area): an AP's fault means one ran on memory it no longer owned.
fn notable(log: &str) -> Vec<String> {
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| {
            (l.contains("e[CPU") || l.contains("p[") || l.contains("exception with no resolution"))
                && !l.contains("soft power off")
        })
        .collect();
    let mut out: Vec<String> = errors
        .iter()
        .take(32)
        .map(|l| format!("bochs: {}", l.trim()))
        .collect();
    let mut seen = Vec::new();
    for line in &errors {
        let Some((_, rest)) = line.split_once("[CPU") else {
            continue;
        };
        let Some((cpu, what)) = rest.split_once(']') else {
            continue;
        };
        let cpu = cpu.trim();
        // An MSR Bochs lacks is a #GP the guest asked for (Linux probes
        // MSRs and handles it), not a CPU gone astray.
        let probed_msr =
            what.contains("RDMSR: Unknown register") || what.contains("WRMSR: Unknown register");
        if cpu != "0" && !probed_msr && !seen.contains(&cpu) {
            seen.push(cpu);
            out.push(format!("bochs: AP CPU{cpu} faulted: {}", what.trim()));
        }
    }
    out
}

/// New bytes of a growing file since `at`.
fn read_more(path: &Path, at: &mut u64, into: &mut Vec<u8>) {
    if let Ok(mut f) = std::fs::File::open(path)
        && f.seek(SeekFrom::Start(*at)).is_ok()
        && let Ok(n) = f.read_to_end(into)
    {
        *at += n as u64;
    }
}

/// Boots `elf` on `machine` under Bochs; logs go to `dir` (serial.log,
/// bochs.log, bochsrc, the ISO). With `echo`, the serial output is also
/// printed as it comes.
pub fn boot(elf: &Path, machine: &Machine, dir: &Path, echo: bool) -> Result<Run> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    unsupported(machine)?;
    let (serial_path, log_path) = (dir.join("serial.log"), dir.join("bochs.log"));
    let mut bochs = command(elf, machine, dir, &serial_path, &log_path)?;
    std::fs::write(dir.join("command.txt"), format!("{bochs:?}\n"))?;
    let started = Instant::now();
    let mut child = bochs
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("bochs-terminal.txt"))?)
        .stderr(std::fs::File::create(dir.join("bochs-stderr.log"))?)
        .spawn()
        .context("starting bochs")?;
    let until = machine.until.as_deref();
    let mut read = Reading::default();
    let (exited, timed_out) = follow(&mut child, machine, dir, &mut read, started, echo)?;
    let elapsed = started.elapsed();
    if !exited {
        // SIGKILL: Debian's Bochs ignores SIGTERM.
        let _ = child.kill();
    }
    let _ = child.wait();
    read_more(&log_path, &mut read.log_at, &mut read.log_raw);
    let mut serial = read.serial;
    if !read.raw.is_empty() {
        serial.push_str(&crate::ui::strip_ansi(&String::from_utf8_lossy(&read.raw)));
        serial.push('\n');
    }
    let log = String::from_utf8_lossy(&read.log_raw).into_owned();
    let outcome = outcome(&serial, &log, until, exited);
    // Also in serial.log (after COM1's own bytes), where a reader of the
    // run's files looks for what the verdict read.
    let mut added = String::new();
    for line in notable(&log) {
        if echo {
            crate::ui::out(&line);
        }
        added.push_str(&line);
        added.push('\n');
    }
    serial.push_str(&added);
    if !added.is_empty() {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&serial_path)
            .and_then(|mut f| f.write_all(format!("\n{added}").as_bytes()))
            .with_context(|| format!("appending to {}", serial_path.display()))?;
    }
    if timed_out {
        serial.push_str(&format!(
            "xtask: Bochs did not end in {} s\n",
            machine.timeout.as_secs()
        ));
    }
    Ok(Run {
        outcome,
        serial,
        elapsed,
        dir: dir.to_path_buf(),
        line_times: read.line_times,
    })
}

/// What a QEMU machine may ask for that Bochs cannot give.
fn unsupported(machine: &Machine) -> Result<()> {
    if machine.payload.direct {
        bail!("Bochs boots the kernel through baton only (no direct boot)");
    }
    if machine.gdb || machine.nmi_storm || !machine.nmi_after.is_empty() || machine.screen {
        bail!("under Bochs there is no QEMU monitor: no gdb, NMI injection or screen reading");
    }
    if !machine.qemu_args.is_empty() {
        bail!("qemu_args do not apply to Bochs: {:?}", machine.qemu_args);
    }
    Ok(())
}

/// Bochs booting `machine` from a GRUB ISO with baton and its payload:
/// the ISO, the bochsrc and the debugger's commands made in `dir`.
fn command(
    elf: &Path,
    machine: &Machine,
    dir: &Path,
    serial_path: &Path,
    log_path: &Path,
) -> Result<Command> {
    let megs = check(machine.smp, &machine.memory)?;
    let entry = entry(machine.entry)?;
    // No isa-debug-exit: baton reports its end on the serial port only.
    let cmdline = crate::machine::baton_cmdline(machine, false);
    let iso = crate::iso::grub_iso(entry, elf, &cmdline, &machine.payload, dir)?;
    let rc = dir.join("bochsrc");
    std::fs::write(
        &rc,
        bochsrc(machine.smp, megs, &machine.cpu, &iso, serial_path, log_path),
    )?;
    // The debugger's first command: continue.
    let commands = dir.join("debugger-commands");
    std::fs::write(&commands, "c\n")?;
    let mut bochs = Command::new("bochs");
    bochs
        .current_dir(dir)
        .arg("-q")
        .arg("-f")
        .arg(&rc)
        .arg("-rc")
        .arg(&commands);
    Ok(bochs)
}

/// What has been read so far of a run's serial file and Bochs's log.
#[derive(Default)]
struct Reading {
    serial_at: u64,
    log_at: u64,
    /// Serial bytes not yet a whole line.
    raw: Vec<u8>,
    log_raw: Vec<u8>,
    serial: String,
    line_times: Vec<(Duration, String)>,
}

/// Follows the run until Bochs exits, the serial log or Bochs's own log
/// says it ended, or the timeout: whether it exited, whether it timed out.
fn follow(
    child: &mut Child,
    machine: &Machine,
    dir: &Path,
    read: &mut Reading,
    started: Instant,
    echo: bool,
) -> Result<(bool, bool)> {
    let (serial_path, log_path) = (dir.join("serial.log"), dir.join("bochs.log"));
    let until = machine.until.as_deref();
    let mut exited = false;
    loop {
        if let Some(status) = child.try_wait()? {
            exited = true;
            // Bochs stops with status 1 on its own panics (a bad bochsrc,
            // too many CPUs), written to stderr before its log exists.
            if !status.success() {
                let stderr =
                    std::fs::read_to_string(dir.join("bochs-stderr.log")).unwrap_or_default();
                read.log_raw.extend_from_slice(stderr.as_bytes());
            }
        }
        read_more(&serial_path, &mut read.serial_at, &mut read.raw);
        read_more(&log_path, &mut read.log_at, &mut read.log_raw);
        // Whole lines only: a verdict is never read from half a line.
        while let Some(end) = read.raw.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = read.raw.drain(..=end).collect();
            let text = crate::ui::strip_ansi(String::from_utf8_lossy(&line).trim_end());
            if echo {
                crate::ui::out(&text);
            }
            read.line_times.push((started.elapsed(), text.clone()));
            read.serial.push_str(&text);
            read.serial.push('\n');
        }
        let log = String::from_utf8_lossy(&read.log_raw);
        if exited || finished(&read.serial, &log, until) {
            return Ok((exited, false));
        }
        if started.elapsed() > machine.timeout {
            return Ok((exited, true));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_comes_from_the_serial_log_and_bochs_log() {
        let halted = "00092804651i[CPU0  ] WARNING: HLT instruction with IF=0!\n";
        let triple = "00012e[CPU1  ] exception(): 3rd (13) exception with no resolution, shutdown status is 00h, resetting\n";
        assert_eq!(
            outcome("probe: PASS\n", "", None, false),
            Outcome::KernelPass
        );
        assert_eq!(
            outcome("probe: FAIL: x\n", triple, None, false),
            Outcome::KernelFail
        );
        assert_eq!(
            outcome("baton: jumping\n", triple, None, false),
            Outcome::TripleFault
        );
        assert_eq!(outcome("baton: done\n", halted, None, false), Outcome::Pass);
        assert_eq!(
            outcome("[ 1us ERROR] baton: takeover: x\n", halted, None, false),
            Outcome::Error
        );
        assert_eq!(
            outcome("", "x >>PANIC<< y", None, true),
            Outcome::BochsFailed
        );
        assert_eq!(
            outcome("baton-linux-init: cpus=2", "", Some("cpus=2"), false),
            Outcome::Marker
        );
        assert_eq!(outcome("", "", None, true), Outcome::Shutdown);
        let off = "00089495362p[ACPI  ] >>PANIC<< ACPI control: soft power off\n";
        assert_eq!(outcome("baton: done\n", off, None, true), Outcome::Pass);
        assert_eq!(outcome("Linux\n", off, None, true), Outcome::Shutdown);
        assert_eq!(outcome("", "", None, false), Outcome::Hang);
        // An AP halted is no end; the BSP is.
        assert!(!finished(
            "",
            "00i[CPU1  ] WARNING: HLT instruction with IF=0!\n",
            None
        ));
        assert!(finished("", halted, None));
        assert!(!finished("baton: done\n", "", None));
    }

    #[test]
    fn bochs_errors_join_the_log_named() {
        let log = "00000000000i[CPU0  ] WARNING: RDRAND\n00092732636e[CPU2  ] fetch_raw_descriptor: GDT: index (ff57) 1fea > limit (27)\n";
        assert_eq!(
            notable(log),
            [
                "bochs: 00092732636e[CPU2  ] fetch_raw_descriptor: GDT: index (ff57) 1fea > limit (27)",
                "bochs: AP CPU2 faulted: fetch_raw_descriptor: GDT: index (ff57) 1fea > limit (27)"
            ]
        );
        // The BSP's errors are no AP's, nor are MSRs Linux probes.
        assert_eq!(notable("1e[CPU0  ] x\n").len(), 1);
        assert_eq!(
            notable("1e[CPU1  ] RDMSR: Unknown register 0x1a0\n").len(),
            1
        );
    }
}
