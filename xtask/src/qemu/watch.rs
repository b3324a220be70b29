//! A QEMU run under way: its serial output read line by line (the NMIs
//! injected after the texts a row names, the `until` marker watched for),
//! an NMI storm when asked, the timeout, and how it ended.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use baton::support::exit::ExitCode as BatonExit;

use super::screen::{hang_state, look_at_screen};
use crate::machine::{Machine, Outcome};
use crate::setup::QEMU;

/// QEMU's exit status when the probe kernel writes 0x20 (pass) or 0x21
/// (fail) to isa-debug-exit: `(code << 1) | 1`.
const PROBE_PASS_STATUS: i32 = (0x20 << 1) | 1;
const PROBE_FAIL_STATUS: i32 = (0x21 << 1) | 1;

/// What the serial reader shares with the run's loop.
#[derive(Clone, Default)]
struct Serial {
    text: Arc<Mutex<String>>,
    /// Each line with when it came.
    line_times: Arc<Mutex<Vec<(Duration, String)>>>,
    /// The `until` marker has appeared.
    marker_seen: Arc<AtomicBool>,
}

/// How a run went.
pub struct Watched {
    pub outcome: Outcome,
    /// The serial log, then the harness's own lines (screen, screendump,
    /// NMI storm, hang state).
    pub serial: String,
    pub elapsed: Duration,
    pub line_times: Vec<(Duration, String)>,
}

/// Runs `qemu` to its end (or `machine`'s timeout, or its marker), the
/// serial log going to `dir`/serial.log (and with `echo` to the terminal).
pub fn watch(
    mut qemu: Command,
    machine: &Machine,
    dir: &Path,
    monitor: &Path,
    debug_log: &Path,
    echo: bool,
) -> Result<Watched> {
    let started = Instant::now();
    let mut child = qemu
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("qemu-stderr.log"))?)
        .spawn()
        .with_context(|| format!("starting {QEMU}"))?;
    let serial = Serial::default();
    let stdout = child.stdout.take().context("QEMU's stdout")?;
    let log = std::fs::File::create(dir.join("serial.log"))?;
    let reader = read_serial(stdout, log, machine, monitor, &serial, started, echo);
    let storm_done = Arc::new(AtomicBool::new(false));
    let storm = machine
        .nmi_storm
        .then(|| storm(monitor, &storm_done, &serial, started));
    let (status, ended_at_marker, mut screen) =
        wait(&mut child, machine, dir, monitor, &serial, started, echo)?;
    let elapsed = started.elapsed();
    storm_done.store(true, Ordering::Relaxed);
    if let Some((seed, sent)) = storm.and_then(|t| t.join().ok()) {
        screen.push_str(&format!(
            "xtask: NMI storm: {sent} NMIs sent, 2-20 ms apart (seed {seed:#x})\n"
        ));
    }
    let _ = reader.join();
    let outcome = outcome(status, ended_at_marker, debug_log);
    // The marker came, and the machine powered itself off before the loop
    // above saw it: still the marker's end.
    let outcome = match outcome {
        Outcome::Shutdown if serial.marker_seen.load(Ordering::Acquire) => Outcome::Marker,
        other => other,
    };
    let _ = std::fs::remove_file(monitor);
    // The harness's own lines (screen, screendump, NMI storm) end the
    // file too, so a run's folder says everything the verdict read.
    if !screen.is_empty() {
        let _ = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("serial.log"))
            .and_then(|mut f| f.write_all(screen.as_bytes()));
    }
    let text = serial
        .text
        .lock()
        .map(|s| s.clone() + &screen)
        .unwrap_or_default();
    let line_times = serial
        .line_times
        .lock()
        .map(|t| t.clone())
        .unwrap_or_default();
    Ok(Watched {
        outcome,
        serial: text,
        elapsed,
        line_times,
    })
}

/// The thread that reads QEMU's serial output line by line, injecting the
/// NMIs `machine.nmi_after` asks for and watching for its marker.
fn read_serial(
    stdout: ChildStdout,
    mut log: std::fs::File,
    machine: &Machine,
    monitor: &Path,
    serial: &Serial,
    started: Instant,
    echo: bool,
) -> JoinHandle<()> {
    let serial = serial.clone();
    let until = machine.until.clone();
    let mut nmi_after: VecDeque<String> = machine.nmi_after.iter().cloned().collect();
    let monitor = monitor.to_path_buf();
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
                serial.marker_seen.store(true, Ordering::Release);
            }
            let _ = writeln!(log, "{text}");
            if echo {
                crate::ui::out(&text);
            }
            if let Ok(mut times) = serial.line_times.lock() {
                times.push((started.elapsed(), text.clone()));
            }
            if let Ok(mut s) = serial.text.lock() {
                s.push_str(&text);
                s.push('\n');
            }
        }
    })
}

/// The NMI storm's thread (`storm.rs`): from the first line of output
/// until `done`; it ends with its seed and the NMIs it sent.
fn storm(
    monitor: &Path,
    done: &Arc<AtomicBool>,
    serial: &Serial,
    started: Instant,
) -> JoinHandle<(u64, u64)> {
    let (monitor, done, serial) = (monitor.to_path_buf(), Arc::clone(done), serial.text.clone());
    let seed = started.elapsed().as_nanos() as u64 ^ u64::from(std::process::id());
    std::thread::spawn(move || {
        let begun = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    if serial.lock().is_ok_and(|s| !s.is_empty()) {
                        begun.store(true, Ordering::Relaxed);
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            });
            (seed, crate::storm::run(&monitor, seed, &begun, &done))
        })
    })
}

/// Waits for QEMU's end, its marker or the timeout (then what the screen
/// and the CPUs show): its exit status (none when ended by the harness),
/// whether the marker ended it, and the harness's lines.
fn wait(
    child: &mut Child,
    machine: &Machine,
    dir: &Path,
    monitor: &Path,
    serial: &Serial,
    started: Instant,
    echo: bool,
) -> Result<(Option<ExitStatus>, bool, String)> {
    let mut screen = String::new();
    let mut silence_said = false;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((Some(status), false, screen));
        }
        if serial.marker_seen.load(Ordering::Acquire) {
            // The kernel holds after its marker: what it drew is still there.
            screen.push_str(&look_at_screen(machine, monitor, dir));
            let _ = child.kill();
            let _ = child.wait();
            return Ok((None, true, screen));
        }
        // `run` says why nothing happens rather than wait in silence.
        let quiet_for = serial
            .line_times
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
            screen.push_str(&look_at_screen(machine, monitor, dir));
            // The log says how many CPUs the dump reached, so a scenario
            // can check that the dump works.
            let state = hang_state(monitor, machine.smp);
            let answered = state.lines().filter(|l| l.starts_with("RIP=")).count();
            let _ = std::fs::write(dir.join("hang-state.txt"), &state);
            screen.push_str(&format!(
                "xtask: at the timeout, the registers of {answered} of {} CPUs and their LAPICs went to hang-state.txt\n",
                machine.smp
            ));
            let _ = child.kill();
            let _ = child.wait();
            return Ok((None, false, screen));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How QEMU's exit status (none: the harness ended it) says the run ended.
fn outcome(status: Option<ExitStatus>, ended_at_marker: bool, debug_log: &Path) -> Outcome {
    match status.map(|s| s.code()) {
        None if ended_at_marker => Outcome::Marker,
        None => Outcome::Hang,
        Some(None) => Outcome::QemuFailed(-1),
        Some(Some(0)) => {
            let resets = std::fs::read_to_string(debug_log).unwrap_or_default();
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
    }
}

/// A unique socket path for a run's monitor.
pub fn monitor_socket() -> PathBuf {
    /// Distinguishes the monitor sockets of runs made at once.
    static MONITORS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "baton-monitor-{}-{}.sock",
        std::process::id(),
        MONITORS.fetch_add(1, Ordering::Relaxed)
    ))
}
