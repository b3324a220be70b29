//! The CPUs: AP bring-up against CPU count (QEMU, Bochs) and how long
//! stopping the APs takes.

use super::charts::bring_up_svg;
use std::fmt::Write as _;

use anyhow::Result;

use super::{Bench, Chart, Stats, icount, ratio};
use crate::machine::{Emulator, Machine, Outcome};
use crate::payload::Payload;

impl Bench {
    /// AP bring-up time (`baton: aps online=N/N in X us`), parallel against
    /// sequential, at 4, 16 and 64 CPUs, with the INIT-SIPI-SIPI delays of
    /// `sipi=<timing>`: `modern` (baton's default, 10 us after each SIPI)
    /// or `legacy` (the MP spec's 10 ms after INIT and 200 us after each
    /// SIPI, the waits that parallel bring-up overlaps).
    pub(super) fn bring_up(&self, timing: &str) -> Result<Chart> {
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
    pub(super) fn bochs(&self) -> Result<Chart> {
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
    pub(super) fn stop_latency(&self) -> Result<String> {
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
}
