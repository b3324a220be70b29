//! The dimensions a scenario row expands along: its list-valued fields,
//! declared once. The expander makes one run per combination of their
//! values, the namer reads how each shows in the run's name, and each sets
//! its value in the run's machine (or payload, or build) the runner boots.
//! A new dimension is one more entry in [`DIMENSIONS`] (and its field in
//! `Row`).

use super::file::{OneOrMany, Row};
use super::scenario::Scenario;
use crate::firmware::Variant;

/// How a dimension's value shows in a run's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// Part of the machine's shape: when any shape dimension of the row
    /// has more than one value, the name gets one `[q35,smp=4,256M,qemu64]`
    /// with every shape dimension's value.
    Shape,
    /// `[value]` when the row gives more than one value.
    WhenMany,
    /// `[value]` whenever the value has a label (the negative-control
    /// build), however many there are.
    Always,
}

/// One list-valued field of a row.
pub struct Dimension {
    /// Its name in the TOML row.
    pub field: &'static str,
    /// How many values the row gives it.
    pub count: fn(&Row) -> usize,
    /// Its `i`th value as the run's name shows it (`None`: not shown).
    pub label: fn(&Row, usize) -> Option<String>,
    pub naming: Naming,
    /// Gives the run its `i`th value.
    pub set: fn(&Row, usize, &mut Scenario),
}

/// In the order the runs come in (the first varies slowest) and their
/// names show them.
pub const DIMENSIONS: &[Dimension] = &[
    Dimension {
        field: "machine",
        count: |r| r.machine.len(),
        label: |r, i| Some(r.machine.get(i).clone()),
        naming: Naming::Shape,
        set: |r, i, s| s.machine.machine = r.machine.get(i).clone(),
    },
    Dimension {
        field: "smp",
        count: |r| r.smp.len(),
        label: |r, i| Some(format!("smp={}", r.smp.get(i))),
        naming: Naming::Shape,
        set: |r, i, s| s.machine.smp = *r.smp.get(i),
    },
    Dimension {
        field: "memory",
        count: |r| r.memory.len(),
        label: |r, i| Some(r.memory.get(i).clone()),
        naming: Naming::Shape,
        set: |r, i, s| s.machine.memory = r.memory.get(i).clone(),
    },
    Dimension {
        field: "cpu",
        count: |r| r.cpu.len(),
        label: |r, i| Some(r.cpu.get(i).clone()),
        naming: Naming::Shape,
        set: |r, i, s| s.machine.cpu = r.cpu.get(i).clone(),
    },
    Dimension {
        field: "cmdline",
        count: |r| r.cmdline.len(),
        label: |r, i| Some(r.cmdline.get(i).clone()),
        naming: Naming::WhenMany,
        set: |r, i, s| s.machine.cmdline = r.cmdline.get(i).clone(),
    },
    Dimension {
        field: "kernel",
        count: |r| r.kernel.as_ref().map_or(1, OneOrMany::len),
        label: kernel,
        naming: Naming::WhenMany,
        set: |r, i, s| s.payload.kernel = kernel(r, i),
    },
    Dimension {
        field: "entry",
        count: |r| r.entry.len(),
        label: |r, i| Some(r.entry.get(i).to_string()),
        naming: Naming::WhenMany,
        set: |r, i, s| s.machine.entry = *r.entry.get(i),
    },
    Dimension {
        field: "emulator",
        count: |r| r.emulator.len(),
        label: |r, i| Some(r.emulator.get(i).to_string()),
        naming: Naming::WhenMany,
        set: |r, i, s| s.machine.emulator = *r.emulator.get(i),
    },
    // The row's own build (with `aml`, the AML one), then a negative
    // control's build, on which the run must fail.
    Dimension {
        field: "negative_control",
        count: |r| builds(r).len(),
        label: |r, i| {
            let hole = builds(r)[i].hole()?;
            Some(format!("{} must fail", hole.feature()))
        },
        naming: Naming::Always,
        set: |r, i, s| s.variant = builds(r)[i],
    },
];

/// The `i`th kernel (none: baton's own test).
fn kernel(row: &Row, i: usize) -> Option<String> {
    row.kernel.as_ref().map(|k| k.get(i).clone())
}

/// The firmware builds a row runs on; an unknown negative-control build
/// is `load`'s error, not the expander's.
fn builds(row: &Row) -> Vec<Variant> {
    let own = Variant::with_aml(row.aml);
    match row.negative_control.hole().ok().flatten() {
        Some(hole) => vec![own, Variant::Negative(hole)],
        None => vec![own],
    }
}

/// The name of the run that takes value `pick[d]` of each dimension `d`.
pub fn name(row: &Row, pick: &[usize]) -> String {
    let mut name = row.name.clone();
    let shaped = DIMENSIONS
        .iter()
        .any(|d| d.naming == Naming::Shape && (d.count)(row) > 1);
    let mut shape_shown = false;
    for (d, &i) in DIMENSIONS.iter().zip(pick) {
        let shown = match d.naming {
            Naming::Shape if shaped && !shape_shown => {
                shape_shown = true;
                let shape: Vec<String> = DIMENSIONS
                    .iter()
                    .zip(pick)
                    .filter(|(d, _)| d.naming == Naming::Shape)
                    .filter_map(|(d, &i)| (d.label)(row, i))
                    .collect();
                Some(shape.join(","))
            }
            Naming::Shape => None,
            Naming::WhenMany if (d.count)(row) > 1 => (d.label)(row, i),
            Naming::WhenMany => None,
            Naming::Always => (d.label)(row, i),
        };
        if let Some(shown) = shown {
            name = format!("{name}[{shown}]");
        }
    }
    name
}

/// Every combination of one value per dimension, as indices into each
/// dimension's values, the last dimension varying fastest.
pub fn combinations(row: &Row) -> Vec<Vec<usize>> {
    let mut picks = vec![Vec::new()];
    for d in DIMENSIONS {
        let n = (d.count)(row);
        picks = picks
            .into_iter()
            .flat_map(|pick: Vec<usize>| {
                (0..n).map(move |i| {
                    let mut pick = pick.clone();
                    pick.push(i);
                    pick
                })
            })
            .collect();
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dimension_is_declared_once() {
        let mut fields: Vec<&str> = DIMENSIONS.iter().map(|d| d.field).collect();
        fields.sort_unstable();
        fields.dedup();
        assert_eq!(fields.len(), DIMENSIONS.len());
    }

    #[test]
    fn combinations_vary_the_last_dimension_fastest() {
        let file: super::super::file::ScenarioFile = toml::from_str(
            r#"
            [[scenario]]
            name = "c"
            smp = [1, 2]
            entry = ["pvh", "coreboot"]
            expect = "pass"
            "#,
        )
        .unwrap();
        let row = &file.scenario[0];
        let names: Vec<String> = combinations(row).iter().map(|p| name(row, p)).collect();
        assert_eq!(
            names,
            [
                "c[q35,smp=1,256M,qemu64][pvh]",
                "c[q35,smp=1,256M,qemu64][coreboot]",
                "c[q35,smp=2,256M,qemu64][pvh]",
                "c[q35,smp=2,256M,qemu64][coreboot]",
            ]
        );
    }
}
