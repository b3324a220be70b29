//! The boot timeline: a TSC stamp at the end of each stage, printed as a
//! table and as one machine-readable line (`baton-timeline: stage=us ...`)
//! before the jump, or at the end of a boot without a kernel.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// The stages, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// First instruction (the entry stub's RDTSC).
    Entry,
    /// Boot information read.
    BootInfo,
    /// ACPI tables read.
    Acpi,
    /// The APs online.
    ApsOnline,
    /// The kernel read from its source.
    KernelRead,
    /// The load planned.
    Plan,
    /// The APs stopped.
    Stop,
    /// The APs INIT'd.
    Init,
    /// The kernel's segments read straight into place (fw_cfg DMA).
    Place,
    /// The BSP enters the copy stub (the copy itself is not seen by baton).
    Jump,
}

impl Stage {
    /// The stage's short name, as the log prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Entry => "entry",
            Self::BootInfo => "bootinfo",
            Self::Acpi => "acpi",
            Self::ApsOnline => "aps",
            Self::KernelRead => "kernel",
            Self::Plan => "plan",
            Self::Stop => "stop",
            Self::Init => "init",
            Self::Place => "place",
            Self::Jump => "jump",
        }
    }
}

/// TSC stamps of the stages reached, in order.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    stamps: Vec<(Stage, u64)>,
}

impl Timeline {
    /// No stamps yet.
    pub const fn new() -> Self {
        Self { stamps: Vec::new() }
    }

    /// Stamps `stage` at TSC value `tsc`.
    pub fn record(&mut self, stage: Stage, tsc: u64) {
        self.stamps.push((stage, tsc));
    }

    /// Microseconds since the entry stamp for each stage, in order.
    pub fn micros(&self, tsc_khz: u64) -> Vec<(Stage, u64)> {
        let Some(&(_, start)) = self.stamps.iter().find(|(s, _)| *s == Stage::Entry) else {
            return Vec::new();
        };
        let khz = u128::from(tsc_khz.max(1));
        self.stamps
            .iter()
            .map(|&(stage, t)| {
                (
                    stage,
                    (u128::from(t.saturating_sub(start)) * 1000 / khz) as u64,
                )
            })
            .collect()
    }

    /// `baton-timeline: entry=0 bootinfo=812 ...` (microseconds).
    pub fn machine_line(&self, tsc_khz: u64) -> String {
        let mut line = String::from("baton-timeline:");
        for (s, us) in self.micros(tsc_khz) {
            // Writing to a String cannot fail.
            let _ = write!(line, " {}={us}", s.name());
        }
        line
    }

    /// Rows of `stage, at us, took us` for the table.
    /// An iterator, not a second vector (saves 64 bytes).
    pub fn rows(&self, tsc_khz: u64) -> impl Iterator<Item = (&'static str, u64, u64)> {
        let mut last = 0;
        self.micros(tsc_khz).into_iter().map(move |(s, us)| {
            let took = us.saturating_sub(last);
            last = us;
            (s.name(), us, took)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_become_microseconds_since_entry() {
        let mut t = Timeline::default();
        t.record(Stage::Entry, 1_000_000);
        t.record(Stage::BootInfo, 1_002_000);
        t.record(Stage::Acpi, 1_102_000);
        // 1 GHz TSC: 1000 ticks per microsecond.
        assert_eq!(
            t.machine_line(1_000_000),
            "baton-timeline: entry=0 bootinfo=2 acpi=102"
        );
        assert_eq!(
            t.rows(1_000_000).collect::<Vec<_>>(),
            [("entry", 0, 0), ("bootinfo", 2, 2), ("acpi", 102, 100)]
        );
    }

    #[test]
    fn no_entry_stamp_no_timeline() {
        let mut t = Timeline::default();
        t.record(Stage::Acpi, 5);
        assert_eq!(t.machine_line(1000), "baton-timeline:");
    }
}
