//! `cargo xtask bench`: figures measured side by side in one run. Each
//! comparison alternates its variants (A, B, A, B, ...) so that a noisy
//! host slows both alike, and reports the median and the spread. Prints a
//! markdown table, and writes it with SVG charts under target/bench/.
//! Nothing here passes or fails on a number: the machines are shared and
//! noisy.
//!
//! `cpus.rs` measures the AP bring-up (QEMU and Bochs) and the stop
//! latency, `linux.rs` Linux's boot and baton's own time, `charts.rs` the
//! sizes and draws the SVG charts.

mod charts;
mod cpus;
mod linux;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::BenchArgs;
use crate::machine::Emulator;
use crate::machine::{Machine, Outcome, Run};
use crate::payload::{Payload, Spec};
use crate::qemu;

pub fn bench(args: &BenchArgs) -> Result<ExitCode> {
    crate::setup::ensure_target()?;
    let mut needs = crate::setup::Needs::default();
    if args.emulator != Some(Emulator::Bochs) {
        needs.qemu = true;
    }
    if args.emulator != Some(Emulator::Qemu) {
        crate::bochs::add_needs(&mut needs);
    }
    crate::setup::ensure(&needs)?;
    let elf = crate::firmware::build(true)?;
    let out = crate::root().join("target/bench");
    empty_dir(&out)?;
    let b = Bench {
        elf,
        out: out.clone(),
        pairs: args.pairs.max(1),
        probe: resolve("probe", false)?,
    };
    let mut report = String::new();
    if args.emulator == Some(Emulator::Bochs) {
        report += "# baton benchmarks (Bochs)\n\n";
        let bochs = b.bochs()?;
        report += &bochs.table;
        print!("{report}");
        write(&out.join("bench.md"), &report)?;
        write(&out.join("bring-up-bochs.svg"), &bochs.svg)?;
        println!(
            "\nwritten: {} and the chart bring-up-bochs.svg beside it",
            out.join("bench.md").display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    report += "# baton benchmarks (QEMU TCG on this host)\n\n";
    let bring_up = b.bring_up("modern")?;
    report += &bring_up.table;
    let bring_up_legacy = b.bring_up("legacy")?;
    report += &bring_up_legacy.table;
    report += &b.stop_latency()?;
    report += &b.linux(resolve("linux", false)?, resolve("linux", true)?)?;
    report += &b.linux_bzimage()?;
    report += &b.copy()?;
    report += &b.instructions()?;
    let (timeline_table, timeline_svg) = b.timeline()?;
    report += &timeline_table;
    report += &charts::sizes(&b.elf, &out)?;
    report += &crate::code_size::table(&b.elf, 15)
        .unwrap_or_else(|e| format!("## Code by source file\n\nnot measured: {e:#}\n\n"));
    let bochs = match args.emulator {
        Some(Emulator::Qemu) => None,
        _ => Some(b.bochs()?),
    };
    if let Some(bochs) = &bochs {
        report += &bochs.table;
    }
    print!("{report}");
    write(&out.join("bench.md"), &report)?;
    if let Some(bochs) = &bochs {
        write(&out.join("bring-up-bochs.svg"), &bochs.svg)?;
    }
    write(&out.join("bring-up.svg"), &bring_up.svg)?;
    write(&out.join("bring-up-legacy.svg"), &bring_up_legacy.svg)?;
    write(&out.join("timeline.svg"), &timeline_svg)?;
    println!(
        "\nwritten: {} and the charts bring-up.svg, bring-up-legacy.svg, timeline.svg beside it",
        out.join("bench.md").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Creates `dir` empty: every run directory under it is then this run's (a
/// run with more --pairs before would leave its extra ones behind).
fn empty_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn resolve(kernel: &str, direct: bool) -> Result<Payload> {
    Spec {
        kernel: Some(kernel.into()),
        direct,
        ..Spec::default()
    }
    .resolve(&crate::root())
}

struct Bench {
    elf: PathBuf,
    out: PathBuf,
    pairs: u32,
    probe: Payload,
}

struct Chart {
    table: String,
    svg: String,
}

impl Bench {
    fn machine(&self, smp: u32, cmdline: &str, payload: &Payload) -> Machine {
        Machine {
            machine: "q35".into(),
            smp,
            memory: "512M".into(),
            cpu: "qemu64".into(),
            cmdline: cmdline.into(),
            debug_exit: true,
            qemu_args: Vec::new(),
            timeout: Duration::from_secs(300),
            gdb: false,
            payload: payload.clone(),
            screen: false,
            nmi_storm: false,
            framebuffer: false,
            nmi_after: Vec::new(),
            entry: Default::default(),
            boot_modules: false,
            compression: Default::default(),
            until: None,
            emulator: Default::default(),
            grub_iso: false,
        }
    }

    /// One run that must end as `want`.
    fn run(&self, name: &str, machine: &Machine, want: Outcome) -> Result<Run> {
        let dir = self.out.join(name);
        let run = qemu::boot(&self.elf, machine, &dir, false)?;
        if run.outcome != want {
            bail!(
                "{name}: {} instead of {want} (log in {})",
                run.outcome,
                dir.display()
            );
        }
        Ok(run)
    }

    /// One run's figure: the number after `prefix` in its log (us).
    fn sample(&self, name: &str, machine: &Machine, want: Outcome, prefix: &str) -> Result<u64> {
        let run = self.run(name, machine, want)?;
        let us = number_after(&run.serial, prefix)
            .with_context(|| format!("{name}: no line with {prefix:?}"))?;
        eprintln!("bench: {name}: {us} us");
        Ok(us)
    }
}

/// `machine` under icount: guest time counted in instructions, 1 ns each,
/// whatever the host is doing; the vCPUs take turns in one host thread,
/// so a run with many of them takes minutes.
fn icount(mut machine: Machine) -> Machine {
    machine.qemu_args = ["-icount", "shift=0,sleep=off"].map(String::from).to_vec();
    machine.timeout = Duration::from_secs(900);
    machine
}

/// baton's own time from its `baton-timeline` line: entry to the jump,
/// minus the kernel's placement (`place` - `init`) where it has one (the
/// copy stub's work after the jump is not on the timeline at all).
fn own_time(serial: &str) -> Option<u64> {
    let jump = number_after(serial, " jump=")?;
    let placing = match (
        number_after(serial, " place="),
        number_after(serial, " init="),
    ) {
        (Some(place), Some(init)) => place.saturating_sub(init),
        _ => 0,
    };
    Some(jump.saturating_sub(placing))
}

/// The number right after `prefix` in the first line holding it.
fn number_after(serial: &str, prefix: &str) -> Option<u64> {
    serial.lines().find_map(|l| {
        let rest = &l[l.find(prefix)? + prefix.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b.max(1) as f64
}

struct Stats {
    median: u64,
    min: u64,
    max: u64,
}

impl Stats {
    fn of(samples: &mut [u64]) -> Self {
        samples.sort_unstable();
        Self {
            median: samples.get(samples.len() / 2).copied().unwrap_or(0),
            min: samples.first().copied().unwrap_or(0),
            max: samples.last().copied().unwrap_or(0),
        }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}-{})", self.median, self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_starts_from_an_empty_directory() {
        let dir = std::env::temp_dir().join(format!("baton-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("linux-baton-9")).unwrap();
        std::fs::write(dir.join("bench.md"), "old").unwrap();
        empty_dir(&dir).unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir(&dir).unwrap();
        // And from nothing at all.
        empty_dir(&dir).unwrap();
        assert!(dir.is_dir());
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn reads_numbers_after_prefixes() {
        let log = "[  73095us INFO ] baton: aps online=3/3 in 3950 us\n";
        assert_eq!(number_after(log, "baton: aps online=3/3 in "), Some(3950));
        assert_eq!(
            number_after("baton: aps online=2/3 in 5 us", "online=3/3 in "),
            None
        );
        assert_eq!(
            number_after("baton-timeline: entry=0 jump=214903", " jump="),
            Some(214903)
        );
    }

    #[test]
    fn own_time_leaves_out_the_placement() {
        let line = "baton-timeline: entry=0 stop=30 init=32 place=39 jump=40\n";
        assert_eq!(own_time(line), Some(33));
        assert_eq!(own_time("baton-timeline: entry=0 init=5 jump=9"), Some(9));
    }

    #[test]
    fn median_and_spread() {
        let s = Stats::of(&mut [5, 1, 9]);
        assert_eq!((s.median, s.min, s.max), (5, 1, 9));
    }
}
