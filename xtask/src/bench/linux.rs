//! Linux booted through baton against QEMU's own loaders, the copy of the
//! kernel, the instructions baton takes and its timeline.

use super::charts::timeline_svg;
use std::fmt::Write as _;

use anyhow::{Context, Result};

use super::{Bench, Stats, icount, number_after, own_time, ratio, resolve};
use crate::machine::{Machine, Outcome};
use crate::payload::Payload;

impl Bench {
    /// Debian's Linux to its /init marker: through baton against QEMU's own
    /// PVH loader, 4 CPUs, host wall-clock time from QEMU's start.
    pub(super) fn linux(&self, through_baton: Payload, direct: Payload) -> Result<String> {
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
    pub(super) fn linux_bzimage(&self) -> Result<String> {
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
    pub(super) fn linux_pairs(
        &self,
        name: &str,
        a: &Machine,
        b: &Machine,
    ) -> Result<(Stats, Stats, Stats)> {
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
    pub(super) fn copy(&self) -> Result<String> {
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
    pub(super) fn instructions(&self) -> Result<String> {
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
    pub(super) fn timeline(&self) -> Result<(String, String)> {
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
