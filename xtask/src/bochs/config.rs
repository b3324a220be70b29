//! The machine Bochs is asked for: the shapes it can run, the CPU model,
//! how baton is entered, and the bochsrc that says it all.

use std::path::Path;

use anyhow::{Result, bail};

use crate::entry::Entry;

/// The most CPUs Debian's Bochs 2.7 starts: at 16 it stops at once with
/// `>>PANIC<< register_timer: too many registered timers` (each CPU's
/// LAPIC and VMX timers fill its fixed table), with or without the
/// optional devices.
pub const MAX_CPUS: u32 = 15;

/// The CPU model when a row names QEMU's (`qemu64`, `max`): Skylake-X has
/// MONITOR/MWAIT, x2APIC and an invariant TSC.
pub const DEFAULT_MODEL: &str = "corei7_skylake_x";

/// Bochs' memory limit (`megs`) as Debian builds it, in MiB.
const MAX_MEGS: u64 = 2048;

const BIOS: &str = "/usr/share/bochs/BIOS-bochs-latest";
const VGA_BIOS: &str = "/usr/share/vgabios/vgabios.bin";

/// How baton is entered under Bochs: through GRUB from the ISO. The
/// default entry (`pvh`, QEMU's `-kernel`) becomes Multiboot2.
pub fn entry(entry: Entry) -> Result<Entry> {
    match entry {
        Entry::Pvh | Entry::GrubMultiboot2 => Ok(Entry::GrubMultiboot2),
        Entry::GrubMultiboot1 => Ok(Entry::GrubMultiboot1),
        other => bail!(
            "Bochs boots baton from a GRUB ISO (entry grub-multiboot1 or grub-multiboot2), not by {other}"
        ),
    }
}

/// The Bochs CPU model for a row's `cpu`: QEMU's names mean the default.
pub fn model(cpu: &str) -> &str {
    match cpu {
        "qemu64" | "max" | "host" => DEFAULT_MODEL,
        other => other,
    }
}

/// A machine shape Bochs can run, or why not (numbers named).
pub fn check(smp: u32, memory: &str) -> Result<u64> {
    if smp == 0 || smp > MAX_CPUS {
        bail!(
            "Bochs runs 1 to {MAX_CPUS} CPUs, not {smp} (Debian's Bochs 2.7 panics at 16: too many registered timers)"
        );
    }
    let bytes = crate::ram::parse_size(memory)?;
    if bytes % (1 << 20) != 0 || bytes >> 20 == 0 || bytes >> 20 > MAX_MEGS {
        bail!(
            "Bochs takes whole MiB of guest memory from 1 to {MAX_MEGS} MiB, not {memory} ({bytes} bytes)"
        );
    }
    Ok(bytes >> 20)
}

/// The bochsrc of a run: the ISO as the CD it boots from, COM1 to
/// `serial`, Bochs' log to `log`. A triple fault resets the machine (and
/// the log says `3rd (N) exception with no resolution`): the harness
/// stops it there, as QEMU's `-no-reboot`. The optional devices that are
/// no use here stay unplugged (speaker, USB, parallel port, game port).
pub fn bochsrc(smp: u32, megs: u64, cpu: &str, iso: &Path, serial: &Path, log: &Path) -> String {
    format!(
        "megs: {megs}\n\
         cpu: count={smp}, model={model}, reset_on_triple_fault=1\n\
         romimage: file={BIOS}\n\
         vgaromimage: file={VGA_BIOS}\n\
         ata0-master: type=cdrom, path={iso}, status=inserted\n\
         boot: cdrom\n\
         display_library: term\n\
         plugin_ctrl: speaker=0, parallel=0, usb_uhci=0, gameport=0\n\
         com1: enabled=1, mode=file, dev={serial}\n\
         log: {log}\n\
         panic: action=fatal\n\
         error: action=report\n\
         clock: sync=none, time0=946684800\n",
        model = model(cpu),
        iso = iso.display(),
        serial = serial.display(),
        log = log.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bochsrc_names_the_cd_the_cpus_and_the_serial_file() {
        let rc = bochsrc(
            4,
            256,
            "qemu64",
            Path::new("/t/baton.iso"),
            Path::new("/t/serial.log"),
            Path::new("/t/bochs.log"),
        );
        assert!(rc.contains("megs: 256\n"), "{rc}");
        assert!(
            rc.contains("cpu: count=4, model=corei7_skylake_x, reset_on_triple_fault=1\n"),
            "{rc}"
        );
        assert!(rc.contains("path=/t/baton.iso, status=inserted"), "{rc}");
        assert!(
            rc.contains("com1: enabled=1, mode=file, dev=/t/serial.log\n"),
            "{rc}"
        );
        assert!(rc.contains("display_library: term\n"), "{rc}");
    }

    #[test]
    fn shapes_bochs_cannot_run_are_named() {
        assert_eq!(check(15, "256M").unwrap(), 256);
        let e = check(16, "256M").unwrap_err().to_string();
        assert!(e.contains("1 to 15 CPUs, not 16"), "{e}");
        let e = check(4, "4G").unwrap_err().to_string();
        assert!(e.contains("1 to 2048 MiB, not 4G"), "{e}");
        assert!(entry(Entry::Coreboot).is_err());
        assert_eq!(entry(Entry::Pvh).unwrap(), Entry::GrubMultiboot2);
        assert_eq!(model("max"), DEFAULT_MODEL);
        assert_eq!(model("corei7_icelake_u"), "corei7_icelake_u");
    }
}
