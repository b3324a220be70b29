//! A ROM booted bare under QEMU q35 (`cargo xtask coreboot`, the
//! fixtures): its serial log up to a text, its monitor still there.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// Boots `rom` under QEMU q35 with a monitor socket; returns the serial log
/// once `until` appears (or at `timeout`), with the QEMU process still
/// running so the caller can use the monitor, which it then ends.
pub struct BareBoot {
    child: std::process::Child,
    pub serial: String,
    pub monitor: PathBuf,
    pub reached: bool,
}

impl BareBoot {
    pub fn start(
        rom: &Path,
        smp: u32,
        memory: &str,
        until: &str,
        timeout: Duration,
    ) -> Result<Self> {
        let monitor =
            std::env::temp_dir().join(format!("baton-coreboot-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&monitor);
        let mut child = Command::new(crate::setup::QEMU)
            .args(["-machine", "q35", "-m", memory, "-smp", &smp.to_string()])
            .arg("-bios")
            .arg(rom)
            .args(["-serial", "stdio", "-display", "none", "-no-reboot"])
            .arg("-monitor")
            .arg(format!("unix:{},server=on,wait=off", monitor.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting QEMU")?;
        let stdout = child.stdout.take().context("QEMU's stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).split(b'\n') {
                let Ok(line) = line else { break };
                if tx
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        let started = Instant::now();
        let mut serial = String::new();
        let mut reached = false;
        while let Some(left) = timeout.checked_sub(started.elapsed()) {
            match rx.recv_timeout(left) {
                Ok(line) => {
                    serial.push_str(line.trim_end_matches('\r'));
                    serial.push('\n');
                    if line.contains(until) {
                        reached = true;
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        Ok(Self {
            child,
            serial,
            monitor,
            reached,
        })
    }

    pub fn monitor(&self, command: &str) -> Result<String> {
        crate::monitor::exchange(&self.monitor, command)
    }
}

impl Drop for BareBoot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.monitor);
    }
}

/// coreboot's serial log has ANSI colours; without them.
pub fn strip_ansi(text: &str) -> String {
    crate::ui::strip_ansi(text)
}
