//! Checks of a machine shape before QEMU starts, each failing with its
//! reason: the CPU count, the guest memory (at least what baton's own
//! footprint needs; its size parsed as `ram.rs` does), the machine type and
//! the CPU model; and "did you mean" names for a name that matches nothing.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::entry::Entry;

/// The machine types the harness runs, with QEMU 10's most CPUs for each
/// (its "Invalid SMP CPUs N. The max CPUs supported by machine ... is M").
pub const MACHINES: &[(&str, u32)] = &[("q35", 4096), ("pc", 255), ("microvm", 288)];

/// Each AP's area (GDT/TSS, three IST stacks, its stack: 60 KiB), rounded
/// up to whole pages, as baton allocates it on top of its image.
const PER_AP: u64 = 64 << 10;

/// The end of baton's image in memory (its highest PT_LOAD, heap and .bss
/// included): the log's `footprint: image [0x100000..END)`.
pub fn image_end(elf: &Path) -> Result<u64> {
    let bytes = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    let elf = goblin::elf::Elf::parse(&bytes).context("parsing baton's ELF")?;
    elf.program_headers
        .iter()
        .filter(|p| p.p_type == goblin::elf::program_header::PT_LOAD)
        .map(|p| p.p_paddr + p.p_memsz)
        .max()
        .context("baton's ELF has no PT_LOAD")
}

/// The least guest memory baton runs in with `smp` CPUs: its image, one
/// AP area per AP, rounded up to a MiB (measured: 4 MiB at 4 CPUs passes,
/// 3 MiB triple-faults before the first line, as the image does not fit).
pub fn minimum_memory(elf: &Path, smp: u32) -> Result<u64> {
    let need = image_end(elf)? + u64::from(smp.saturating_sub(1)) * PER_AP;
    Ok(need.div_ceil(1 << 20) << 20)
}

fn mib(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) != 0 => {
            format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
        }
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
    }
}

/// The CPU models this QEMU knows (`-cpu help`), asked once.
fn cpu_models() -> &'static [String] {
    static MODELS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    MODELS.get_or_init(|| {
        let Ok(out) = Command::new(crate::setup::QEMU)
            .args(["-cpu", "help"])
            .output()
        else {
            return Vec::new();
        };
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    })
}

/// CPU models without x2APIC (QEMU refuses APIC IDs above 254 on them).
const NO_X2APIC: &[&str] = &[
    "qemu64", "qemu32", "kvm64", "kvm32", "486", "pentium", "pentium2", "pentium3", "athlon",
    "core2duo", "coreduo", "n270", "phenom",
];

/// A run's machine shape, as given.
pub struct Shape<'a> {
    pub machine: &'a str,
    pub smp: u32,
    pub memory: &'a str,
    pub cpu: &'a str,
    pub entry: Entry,
    pub emulator: crate::machine::Emulator,
}

/// The checks that need neither QEMU nor baton's ELF (machine type, CPU
/// count, memory syntax), made before anything is installed or built.
pub fn check_early(shape: &Shape) -> Result<()> {
    if shape.emulator == crate::machine::Emulator::Bochs {
        crate::bochs::entry(shape.entry)?;
        return crate::bochs::check(shape.smp, shape.memory).map(|_| ());
    }
    let Some(&(_, max)) = MACHINES.iter().find(|(m, _)| *m == shape.machine) else {
        bail!(
            "--machine {}: the harness runs {}",
            shape.machine,
            MACHINES
                .iter()
                .map(|(m, _)| *m)
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    if shape.smp == 0 {
        bail!("--smp 0: a machine needs at least one CPU (the BSP)");
    }
    if shape.smp > max {
        bail!(
            "--smp {}: QEMU's {} takes at most {max} CPUs",
            shape.smp,
            shape.machine
        );
    }
    let base = shape.cpu.split(',').next().unwrap_or("");
    if shape.smp > 255
        && NO_X2APIC.contains(&base)
        && !shape.cpu.contains("+x2apic")
        && !shape.cpu.contains("x2apic=on")
    {
        bail!(
            "--smp {} with --cpu {}: APIC IDs above 254 need x2APIC, which {base} lacks (use --cpu max)",
            shape.smp,
            shape.cpu
        );
    }
    if shape.entry == Entry::Coreboot {
        let most = crate::coreboot::Variant::Q35Tseg.max_cpus();
        if shape.smp > most {
            bail!(
                "--smp {} through coreboot: its q35 ROM starts at most {most} CPUs (TSEG SMM)",
                shape.smp
            );
        }
        if shape.machine != "q35" {
            bail!(
                "--entry coreboot: the coreboot ROM is built for q35, not {}",
                shape.machine
            );
        }
    }
    if base == "host" {
        bail!("--cpu host needs KVM; the harness runs QEMU's TCG (use --cpu max)");
    }
    crate::ram::parse_size(shape.memory)?;
    Ok(())
}

/// All checks of `shape` for baton at `elf`; the error says what is wrong
/// and why.
pub fn check(shape: &Shape, elf: &Path) -> Result<()> {
    check_early(shape)?;
    if shape.emulator == crate::machine::Emulator::Bochs {
        return Ok(());
    }
    let base = shape.cpu.split(',').next().unwrap_or("");
    let models = cpu_models();
    if !models.is_empty() && !models.iter().any(|m| m == base) {
        let close = close_names(base, models.iter().map(String::as_str), 5);
        bail!(
            "--cpu {base}: QEMU has no such CPU model{} (`{} -cpu help` lists them)",
            match close.is_empty() {
                true => String::new(),
                false => format!("; close: {}", close.join(", ")),
            },
            crate::setup::QEMU
        );
    }
    let bytes = crate::ram::parse_size(shape.memory)?;
    let least = minimum_memory(elf, shape.smp)?;
    if bytes < least {
        bail!(
            "--memory {}: baton needs at least {} with {} CPUs (its image ends at {:#x}, {} from its ELF with heap and .bss, plus 64 KiB for each AP's stacks and tables); the kernel needs its own on top",
            shape.memory,
            mib(least),
            shape.smp,
            image_end(elf)?,
            mib(image_end(elf)?)
        );
    }
    Ok(())
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Up to `n` of `names` closest to `want` by edit distance: those that
/// share a word with it, or are no more than a third of it away.
pub fn close_names<'a>(want: &str, names: impl Iterator<Item = &'a str>, n: usize) -> Vec<String> {
    let want_l = want.to_ascii_lowercase();
    let words: Vec<&str> = want_l
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 3)
        .collect();
    let mut scored: Vec<(usize, &str)> = names
        .filter_map(|name| {
            let l = name.to_ascii_lowercase();
            let d = distance(&want_l, &l);
            let shares = words.iter().any(|w| l.contains(w));
            (shares || d <= (want.len() / 3).max(2)).then_some((d, name))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(n)
        .map(|(_, s)| s.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_prefer_shared_words_then_spelling() {
        let names = ["boot-smp-1", "boot-cpu-max", "fault-pf", "linux-boot"];
        assert_eq!(close_names("fault", names.iter().copied(), 5), ["fault-pf"]);
        assert_eq!(
            close_names("boot-smp-2", names.iter().copied(), 1),
            ["boot-smp-1"]
        );
        assert!(close_names("nosuchthing", names.iter().copied(), 5).is_empty());
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
