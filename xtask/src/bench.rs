//! `cargo xtask bench`: figures measured side by side in one run. Each
//! comparison alternates its variants (A, B, A, B, ...) so that a noisy
//! host slows both alike, and reports the median and the spread. Prints a
//! markdown table, and writes it with SVG charts under target/bench/.
//! Nothing here passes or fails on a number: the machines are shared and
//! noisy.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
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
    report += &sizes(&b.elf, &out)?;
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

    /// AP bring-up time (`baton: aps online=N/N in X us`), parallel against
    /// sequential, at 4, 16 and 64 CPUs, with the INIT-SIPI-SIPI delays of
    /// `sipi=<timing>`: `modern` (baton's default, 10 us after each SIPI)
    /// or `legacy` (the MP spec's 10 ms after INIT and 200 us after each
    /// SIPI, the waits that parallel bring-up overlaps).
    fn bring_up(&self, timing: &str) -> Result<Chart> {
        let mut table = format!(
            "## AP bring-up, sipi={timing} (q35, qemu64: HLT park)\n\n\
             | CPUs | parallel us (median, min-max) | sequential us (median, min-max) | sequential / parallel |\n\
             | ---: | ---: | ---: | ---: |\n",
        );
        let none = Payload::default();
        let mut points = Vec::new();
        for smp in [4, 16, 64] {
            let (mut parallel, mut sequential) = (Vec::new(), Vec::new());
            for pair in 0..self.pairs {
                for (mode, samples) in
                    [("parallel", &mut parallel), ("sequential", &mut sequential)]
                {
                    samples.push(self.sample(
                        &format!("bring-up-{timing}-{smp}-{mode}-{pair}"),
                        &self.machine(smp, &format!("smp={mode} sipi={timing}"), &none),
                        Outcome::Pass,
                        &format!("baton: aps online={}/{} in ", smp - 1, smp - 1),
                    )?);
                }
            }
            let (p, s) = (Stats::of(&mut parallel), Stats::of(&mut sequential));
            writeln!(
                table,
                "| {smp} | {p} | {s} | {:.2} |",
                ratio(s.median, p.median)
            )?;
            points.push((smp, p.median, s.median));
        }
        writeln!(
            table,
            "\n{} pairs per CPU count, alternating.\n",
            self.pairs
        )?;
        Ok(Chart {
            table,
            svg: bring_up_svg(timing, &points),
        })
    }

    /// Under Bochs, in guest time (baton's own figures): AP bring-up,
    /// parallel against sequential, and the stop latency, at 1, 2, 4, 8
    /// and the most CPUs Bochs starts; MWAIT park, sipi=modern. Bochs runs
    /// its CPUs in one thread, interleaved, in its own guest time (`clock:
    /// sync=none`): repeated runs have given the same figures, but each
    /// point is still the median of --pairs runs, with its spread shown.
    fn bochs(&self) -> Result<Chart> {
        let bochs = |smp: u32, cmdline: &str, payload: &Payload| Machine {
            emulator: Emulator::Bochs,
            entry: crate::entry::Entry::GrubMultiboot2,
            memory: "64M".into(),
            ..self.machine(smp, cmdline, payload)
        };
        let none = Payload::default();
        let mut table = String::from(
            "## Under Bochs 2.7 (corei7_skylake_x, MWAIT park, sipi=modern; guest us by baton's TSC)\n\n\
             | CPUs | bring-up parallel us (median, min-max) | bring-up sequential us | sequential / parallel | stop us |\n\
             | ---: | ---: | ---: | ---: | ---: |\n",
        );
        let mut points = Vec::new();
        for smp in [1, 2, 4, 8, crate::bochs::MAX_CPUS] {
            let online = format!("baton: aps online={}/{} in ", smp - 1, smp - 1);
            let (mut parallel, mut sequential, mut stops) = (Vec::new(), Vec::new(), Vec::new());
            for pair in 0..self.pairs {
                for (mode, samples) in
                    [("parallel", &mut parallel), ("sequential", &mut sequential)]
                {
                    samples.push(self.sample(
                        &format!("bochs-bring-up-{smp}-{mode}-{pair}"),
                        &bochs(smp, &format!("smp={mode}"), &none),
                        Outcome::Pass,
                        &online,
                    )?);
                }
                if smp > 1 {
                    stops.push(self.sample(
                        &format!("bochs-stop-{smp}-{pair}"),
                        &bochs(smp, "", &self.probe),
                        Outcome::KernelPass,
                        &format!("baton: stop: {}/{} APs stopped in ", smp - 1, smp - 1),
                    )?);
                }
            }
            let (p, q) = (Stats::of(&mut parallel), Stats::of(&mut sequential));
            let t = [p.median, q.median];
            let stop = match smp {
                1 => "-".to_string(),
                _ => Stats::of(&mut stops).to_string(),
            };
            let times = match smp {
                1 => "-".to_string(),
                _ => format!("{:.2}", ratio(t[1], t[0])),
            };
            writeln!(table, "| {smp} | {p} | {q} | {times} | {stop} |")?;
            points.push((smp, t[0], t[1]));
        }
        writeln!(
            table,
            "\n{} runs of each per CPU count, alternating.",
            self.pairs
        )?;
        let at = |smp: u32| points.iter().find(|p| p.0 == smp).copied();
        let max = crate::bochs::MAX_CPUS;
        if let (Some(four), Some(most)) = (at(4), at(max)) {
            writeln!(
                table,
                "\nParallel T({max})/T(4) = {:.2} (goal <= 1.5); sequential/parallel at {max} CPUs = {:.2} (goal >= 5).",
                ratio(most.1, four.1),
                ratio(most.2, most.1)
            )?;
        }
        table.push_str(
            "\nBaton's microseconds are its TSC read at the rate CPUID states (3.5 GHz); \
             Bochs' TSC does not run at that rate against its own clock, so the ratios are the figures \
             to compare, not the microseconds with QEMU's. The stop latency is 0 us at Bochs' \
             resolution (whole microseconds) where the APs wake from MWAIT within a few of the BSP's instructions.\n\n",
        );
        Ok(Chart {
            table,
            svg: bring_up_svg("modern, Bochs guest time", &points),
        })
    }

    /// Stop latency: stop request to an empty stop mask
    /// (`baton: stop: N/N APs stopped in X us`), booting the probe: in
    /// wall-clock time under multi-threaded TCG (what the 2 host cores
    /// allow 64 vCPU threads), and once in guest time under icount.
    fn stop_latency(&self) -> Result<String> {
        let mut table = String::from(
            "## Stop latency (stop request to empty stop mask; q35, qemu64, probe kernel)\n\n\
             | CPUs | wall-clock us (median, min-max) | guest time under icount, us |\n| ---: | ---: | ---: |\n",
        );
        for smp in [4, 16, 64] {
            let prefix = format!("baton: stop: {}/{} APs stopped in ", smp - 1, smp - 1);
            let mut samples = Vec::new();
            for i in 0..self.pairs {
                samples.push(self.sample(
                    &format!("stop-{smp}-{i}"),
                    &self.machine(smp, "", &self.probe),
                    Outcome::KernelPass,
                    &prefix,
                )?);
            }
            let guest = self.sample(
                &format!("stop-{smp}-icount"),
                &icount(self.machine(smp, "", &self.probe)),
                Outcome::KernelPass,
                &prefix,
            )?;
            writeln!(table, "| {smp} | {} | {guest} |", Stats::of(&mut samples))?;
        }
        table.push_str(
            "\nUnder icount (`-icount shift=0,sleep=off`: 1 instruction is 1 ns of guest time) \
             QEMU runs every vCPU in one host thread, one after another: the guest time is the \
             BSP's and every AP's instructions on the stop path added up, an upper bound of the \
             work where the APs run at once. TCG's WBINVD flushes nothing, so a real machine's \
             cache flush is not in it.\n\n",
        );
        Ok(table)
    }

    /// Debian's Linux to its /init marker: through baton against QEMU's own
    /// PVH loader, 4 CPUs, host wall-clock time from QEMU's start.
    fn linux(&self, through_baton: Payload, direct: Payload) -> Result<String> {
        let (a, b) = (
            self.machine(4, "", &through_baton),
            self.machine(4, "", &direct),
        );
        let (sa, sb, own) = self.linux_pairs("linux", &a, &b)?;
        let mut t = String::from(
            "## Debian Linux 6.1 to /init, 4 CPUs (q35, 512 MiB; host ms from QEMU start)\n\n\
             | through baton | QEMU PVH direct | ratio (goal <= 1.03) |\n| ---: | ---: | ---: |\n",
        );
        writeln!(t, "| {sa} | {sb} | {:.3} |\n", ratio(sa.median, sb.median))?;
        writeln!(
            t,
            "baton's own time, entry to the jump minus placing the kernel (its segments read straight into place by fw_cfg DMA after the stop: `place` - `init` on the timeline), in those runs: {own} us (goal < 5000 us of guest time).\n"
        )?;
        Ok(t)
    }

    /// Linux as distributions ship it: the vmlinuz through baton (Linux's
    /// boot protocol) against QEMU's own bzImage boot; and under coreboot,
    /// the vmlinuz raw in CBFS against the LZMA'd vmlinux.
    fn linux_bzimage(&self) -> Result<String> {
        let (bz, bz_direct, elf) = (
            resolve("linux-bzimage", false)?,
            resolve("linux-bzimage", true)?,
            resolve("linux", false)?,
        );
        let (sa, sb, own) = self.linux_pairs(
            "bzimage",
            &self.machine(4, "", &bz),
            &self.machine(4, "", &bz_direct),
        )?;
        let mut t = String::from(
            "## Debian's vmlinuz to /init, 4 CPUs (q35, 512 MiB; host ms from QEMU start)\n\n\
             | through baton (Linux boot protocol) | QEMU's bzImage boot | ratio (goal <= 1.03) |\n| ---: | ---: | ---: |\n",
        );
        writeln!(t, "| {sa} | {sb} | {:.3} |\n", ratio(sa.median, sb.median))?;
        writeln!(t, "baton's own time in those runs: {own} us.\n")?;
        let under_coreboot = |payload: &Payload| Machine {
            entry: crate::entry::Entry::Coreboot,
            ..self.machine(4, "", payload)
        };
        let (ca, cb, _) =
            self.linux_pairs("coreboot", &under_coreboot(&bz), &under_coreboot(&elf))?;
        let mut entry = Vec::new();
        for i in 0..self.pairs {
            let run = self.run(
                &format!("coreboot-entry-{i}"),
                &under_coreboot(&bz),
                Outcome::Shutdown,
            )?;
            if let Some(at) = run.seen_at("entered by coreboot") {
                entry.push(at.as_millis() as u64);
            }
        }
        t.push_str(
            "## Under coreboot: Debian's Linux to /init, 4 CPUs (q35, 512 MiB; host ms)\n\n\
             | vmlinuz raw in CBFS | vmlinux LZMA in CBFS | ratio |\n| ---: | ---: | ---: |\n",
        );
        writeln!(t, "| {ca} | {cb} | {:.3} |\n", ratio(ca.median, cb.median))?;
        writeln!(
            t,
            "coreboot's own time, QEMU start to baton's entry: {} ms.\n",
            Stats::of(&mut entry)
        )?;
        Ok(t)
    }

    /// `pairs` alternating runs of `a` and `b` to Linux's init marker:
    /// their times (ms from QEMU start) and baton's own time in `a`'s runs.
    fn linux_pairs(&self, name: &str, a: &Machine, b: &Machine) -> Result<(Stats, Stats, Stats)> {
        const MARKER: &str = "baton-linux-init: cpus=4";
        let (mut ta, mut tb, mut own) = (Vec::new(), Vec::new(), Vec::new());
        for pair in 0..self.pairs {
            for (variant, machine, samples) in [("a", a, &mut ta), ("b", b, &mut tb)] {
                let run_name = format!("{name}-{variant}-{pair}");
                let run = self.run(&run_name, machine, Outcome::Shutdown)?;
                let at = run
                    .seen_at(MARKER)
                    .with_context(|| format!("{run_name}: Linux never printed {MARKER:?}"))?;
                eprintln!("bench: {run_name}: init marker after {} ms", at.as_millis());
                samples.push(at.as_millis() as u64);
                if variant == "a"
                    && let Some(us) = own_time(&run.serial)
                {
                    own.push(us);
                }
            }
        }
        Ok((Stats::of(&mut ta), Stats::of(&mut tb), Stats::of(&mut own)))
    }

    /// The copy stub's loop against a plain byte loop, both in one guest
    /// (`test=copy-bench`).
    fn copy(&self) -> Result<String> {
        let (mut stub, mut bytes) = (Vec::new(), Vec::new());
        for i in 0..self.pairs {
            let name = format!("copy-{i}");
            let run = self.run(
                &name,
                &self.machine(1, "test=copy-bench", &Payload::default()),
                Outcome::Pass,
            )?;
            let line = run
                .serial
                .lines()
                .find(|l| l.contains("baton: copy-bench:"))
                .with_context(|| format!("{name}: no copy-bench line"))?;
            let rates: Vec<u64> = line
                .split('(')
                .skip(1)
                .filter_map(|part| part.split(" MB/s").next()?.parse().ok())
                .collect();
            if let [s, b] = rates[..] {
                eprintln!("bench: {name}: stub {s} MB/s, byte loop {b} MB/s");
                stub.push(s);
                bytes.push(b);
            }
        }
        let (s, b) = (Stats::of(&mut stub), Stats::of(&mut bytes));
        Ok(format!(
            "## Kernel copy throughput (MB/s, one guest)\n\n| copy stub loop | plain byte loop | ratio |\n| ---: | ---: | ---: |\n| {s} | {b} | {:.1} |\n\n",
            ratio(s.median, b.median)
        ))
    }

    /// baton's own work as instructions: one CPU under `-icount
    /// shift=0,sleep=off`, where the guest clock advances 1 ns per guest
    /// instruction, so the timeline counts what baton executes and not
    /// what TCG spends translating it (which the wall-clock timeline is
    /// mostly made of). Deterministic, whatever the host is doing. With
    /// several vCPUs icount runs them round-robin in one thread, and the
    /// bring-up stage is no measure there (the BSP's wait runs until
    /// QEMU's round-robin kick, 100 ms of host time, lets an AP run): one
    /// CPU only. The stop, whose wake-ups do switch vCPUs at once, has
    /// its own icount column in `stop_latency`.
    fn instructions(&self) -> Result<String> {
        let run = self.run(
            "icount-1",
            &icount(self.machine(1, "", &self.probe)),
            Outcome::KernelPass,
        )?;
        let own = own_time(&run.serial).context("icount-1: no baton-timeline line")?;
        let bootinfo = number_after(&run.serial, " bootinfo=").unwrap_or(0);
        Ok(format!(
            "## baton's own work in guest instructions (q35, 1 CPU, probe kernel, `-icount shift=0,sleep=off`: 1 us = 1000 instructions)\n\n\
             | entry to jump minus placing | of it, entry to bootinfo (the 0.5 ms floor of the PIT calibration window) |\n| ---: | ---: |\n| {own} us | {bootinfo} us |\n\n"
        ))
    }

    /// One probe boot's `baton-timeline` line, as a table and a chart.
    fn timeline(&self) -> Result<(String, String)> {
        let run = self.run(
            "timeline-4",
            &self.machine(4, "", &self.probe),
            Outcome::KernelPass,
        )?;
        let line = run
            .serial
            .lines()
            .find_map(|l| {
                l.split_once("baton-timeline: ")
                    .map(|(_, rest)| rest.to_string())
            })
            .context("timeline-4: no baton-timeline line")?;
        let stages: Vec<(String, u64)> = line
            .split_whitespace()
            .filter_map(|f| {
                let (name, us) = f.split_once('=')?;
                Some((name.to_string(), us.parse().ok()?))
            })
            .collect();
        let mut t = String::from(
            "## Boot timeline (q35, 4 CPUs, probe kernel; us since entry)\n\n| stage | at | took |\n| --- | ---: | ---: |\n",
        );
        let mut last = 0;
        for (name, at) in &stages {
            writeln!(t, "| {name} | {at} | {} |", at.saturating_sub(last))?;
            last = *at;
        }
        t.push('\n');
        Ok((t, timeline_svg(&stages)))
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

/// Sizes of baton (stripped, and LZMA-compressed as cbfstool would store it)
/// beside the firmware images QEMU ships.
fn sizes(elf: &Path, out: &Path) -> Result<String> {
    let stripped = out.join("baton.stripped");
    let status = Command::new("strip")
        .arg("-o")
        .arg(&stripped)
        .arg(elf)
        .status()
        .context("running strip (binutils)")?;
    if !status.success() {
        bail!("strip failed ({status})");
    }
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    let lzma = Command::new("xz")
        .args(["--format=lzma", "-9", "-c"])
        .arg(&stripped)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| o.stdout.len() as u64);
    let kib = |b: Option<u64>| b.map_or("n/a".to_string(), |b| format!("{:.1}", b as f64 / 1024.0));
    let mut t = String::from("## Size (KiB)\n\n| image | KiB |\n| --- | ---: |\n");
    writeln!(
        t,
        "| baton, stripped release ELF (goal <= 192) | {} |",
        kib(size(&stripped))
    )?;
    writeln!(
        t,
        "| baton, LZMA (`xz --format=lzma -9`, as a CBFS payload) | {} |",
        kib(lzma)
    )?;
    for (name, path) in [
        (
            "SeaBIOS (bios-256k.bin, QEMU's default)",
            "/usr/share/seabios/bios-256k.bin",
        ),
        ("qboot (qboot.rom)", "/usr/share/qemu/qboot.rom"),
    ] {
        writeln!(t, "| {name} | {} |", kib(size(Path::new(path))))?;
    }
    t.push('\n');
    Ok(t)
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

/// Bring-up time against CPU count, one line per mode.
fn bring_up_svg(timing: &str, points: &[(u32, u64, u64)]) -> String {
    let (w, h, pad) = (640.0, 360.0, 50.0);
    let max_cpus = points.iter().map(|p| p.0).max().unwrap_or(1) as f64;
    let max_us = points
        .iter()
        .map(|p| p.1.max(p.2))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = |cpus: u32| pad + (w - 2.0 * pad) * cpus as f64 / max_cpus;
    let y = |us: u64| h - pad - (h - 2.0 * pad) * us as f64 / max_us;
    let line = |pick: fn(&(u32, u64, u64)) -> u64| {
        points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.0), y(pick(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <text x=\"{pad}\" y=\"20\">AP bring-up time (us, median) against CPU count, sipi={timing}</text>\n\
         <line x1=\"{pad}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"black\"/>\n\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{0}\" stroke=\"black\"/>\n\
         <text x=\"{pad}\" y=\"{2}\">0</text><text x=\"5\" y=\"{pad}\">{3}</text>\n\
         <polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"2\" points=\"{4}\"/>\n\
         <polyline fill=\"none\" stroke=\"darkorange\" stroke-width=\"2\" points=\"{5}\"/>\n\
         <text x=\"{6}\" y=\"40\" fill=\"steelblue\">parallel</text><text x=\"{6}\" y=\"56\" fill=\"darkorange\">sequential</text>\n",
        h - pad,
        w - pad,
        h - pad + 16.0,
        max_us as u64,
        line(|p| p.1),
        line(|p| p.2),
        w - 2.0 * pad,
    );
    for p in points {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(p.0),
            h - pad + 16.0,
            p.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The boot timeline as one horizontal bar, a segment per stage.
fn timeline_svg(stages: &[(String, u64)]) -> String {
    let (w, h, pad) = (800.0, 140.0, 20.0);
    let end = stages.last().map_or(1, |s| s.1).max(1) as f64;
    let x = |us: u64| pad + (w - 2.0 * pad) * us as f64 / end;
    let colors = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
        "#9c755f",
    ];
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <text x=\"{pad}\" y=\"16\">baton boot timeline, entry to jump: {} us</text>\n",
        end as u64
    );
    let mut last = 0;
    for (i, (name, at)) in stages.iter().enumerate() {
        let (x0, x1) = (x(last), x(*at));
        let _ = writeln!(
            svg,
            "<rect x=\"{x0:.1}\" y=\"30\" width=\"{:.1}\" height=\"40\" fill=\"{}\"/><text x=\"{x0:.1}\" y=\"{}\">{name}</text>",
            (x1 - x0).max(0.5),
            colors[i % colors.len()],
            85 + (i % 3) * 14
        );
        last = *at;
    }
    svg.push_str("</svg>\n");
    svg
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

    #[test]
    fn charts_are_svg() {
        assert!(bring_up_svg("modern", &[(4, 10, 20), (16, 30, 60)]).starts_with("<svg"));
        assert!(timeline_svg(&[("entry".into(), 0), ("jump".into(), 100)]).contains("jump"));
    }
}
