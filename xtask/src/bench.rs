//! `cargo xtask bench`: figures measured side by side in one run. Each
//! comparison alternates its variants (A, B, A, B, ...) so that a noisy
//! host slows both alike, and reports the median and the spread. Prints a
//! markdown table and writes it under target/bench/. Nothing here passes
//! or fails on a number: the machines are shared and noisy.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::BenchArgs;
use crate::qemu::{self, Machine, Outcome};

pub fn bench(args: &BenchArgs) -> Result<ExitCode> {
    crate::setup::ensure_target()?;
    crate::setup::ensure_qemu()?;
    let elf = crate::firmware::build(true)?;
    let out = crate::root().join("target/bench");
    std::fs::create_dir_all(&out)?;
    let table = bring_up(&elf, &out, args.pairs)?;
    print!("{table}");
    let path = out.join("bring-up.md");
    std::fs::write(&path, &table).with_context(|| format!("writing {}", path.display()))?;
    println!("\nwritten to {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// AP bring-up time (`baton: aps online=N/N in X us`) in parallel and in
/// sequential mode at 4, 16 and 64 CPUs.
fn bring_up(elf: &Path, out: &Path, pairs: u32) -> Result<String> {
    let mut table = String::from(
        "## AP bring-up (q35, qemu64: HLT park, TCG)\n\n\
         | CPUs | parallel us (median, min-max) | sequential us (median, min-max) | sequential / parallel |\n\
         | ---: | ---: | ---: | ---: |\n",
    );
    for smp in [4, 16, 64] {
        let (mut parallel, mut sequential) = (Vec::new(), Vec::new());
        for pair in 0..pairs {
            for (mode, samples) in [("parallel", &mut parallel), ("sequential", &mut sequential)] {
                let machine = Machine {
                    machine: "q35".into(),
                    smp,
                    memory: "256M".into(),
                    cpu: "qemu64".into(),
                    cmdline: format!("smp={mode}"),
                    debug_exit: true,
                    qemu_args: Vec::new(),
                    timeout: Duration::from_secs(120),
                    gdb: false,
                    screen: false,
                    payload: Default::default(),
                };
                let dir = out.join(format!("bring-up-{smp}-{mode}-{pair}"));
                let run = qemu::boot(elf, &machine, &dir, false)?;
                if run.outcome != Outcome::Pass {
                    bail!(
                        "{smp} CPUs, smp={mode}: {} (log in {})",
                        run.outcome,
                        dir.display()
                    );
                }
                let us = online_time(&run.serial, smp - 1).with_context(|| {
                    format!(
                        "{smp} CPUs, smp={mode}: no complete bring-up line in {}",
                        dir.display()
                    )
                })?;
                eprintln!("bench: {smp} CPUs {mode}: {us} us");
                samples.push(us);
            }
        }
        let (p, s) = (Stats::of(&mut parallel), Stats::of(&mut sequential));
        writeln!(
            table,
            "| {smp} | {} | {} | {:.2} |",
            p,
            s,
            s.median as f64 / p.median.max(1) as f64
        )?;
    }
    writeln!(table, "\n{pairs} pairs per CPU count, run alternately.")?;
    Ok(table)
}

/// X from `baton: aps online=N/N in X us`, when all `aps` came up.
fn online_time(serial: &str, aps: u32) -> Option<u64> {
    let prefix = format!("baton: aps online={aps}/{aps} in ");
    serial.lines().find_map(|l| {
        let rest = &l[l.find(&prefix)? + prefix.len()..];
        rest.strip_suffix(" us")?.trim().parse().ok()
    })
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
    fn reads_the_bring_up_line() {
        let log = "[  73095us INFO ] baton: aps online=3/3 in 3950 us\n";
        assert_eq!(online_time(log, 3), Some(3950));
        assert_eq!(online_time("baton: aps online=2/3 in 5 us", 3), None);
    }

    #[test]
    fn median_and_spread() {
        let s = Stats::of(&mut [5, 1, 9]);
        assert_eq!((s.median, s.min, s.max), (5, 1, 9));
    }
}
