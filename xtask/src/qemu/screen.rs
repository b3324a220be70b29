//! What the QEMU monitor shows of a machine: the VGA text screen, a
//! framebuffer's screendump, and the CPUs' state when a run hangs.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::machine::Machine;

/// What a machine that ran out of time was doing, for the run's
/// directory: every CPU's registers and the local APIC state (IRR, ISR,
/// timer) of the first 16, where a lost interrupt or an unacknowledged
/// one shows. APIC IDs are taken to be the CPU indices (QEMU's default
/// topology); a guess that is wrong shows as the monitor's error.
pub fn hang_state(monitor: &Path, cpus: u32) -> String {
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
pub fn look_at_screen(machine: &Machine, monitor: &Path, dir: &Path) -> String {
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

#[cfg(test)]
mod tests {
    #[test]
    fn monitor_output_is_what_the_command_printed() {
        let reply = "QEMU 10.0.2 monitor - type 'help' for more information\r\n(qemu) i\x1b[K\x1b[Din\x1b[K\x1b[D\x1b[Dinfo pic\r\npic0: irr=00\r\n(qemu) ";
        assert_eq!(super::monitor_output(reply), "pic0: irr=00\n");
    }

    #[test]
    fn decodes_the_vga_text_screen() {
        let reply =
            "(qemu) xp /2000hx 0xb8000\r\n00000000000b8000: 0x0748 0x0769 0x0720 0x0701\r\n";
        assert_eq!(super::decode_screen(reply), "Hi");
    }
}
