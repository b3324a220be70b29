//! `cargo xtask deps`: each crate's module graph drawn from its source (a
//! file is a module, an arrow for every module its `use` lines and inline
//! `crate::`/`super::` paths name, and for each child module it names by
//! its short path), with the counts, every import circle and every arrow
//! back up the crate's stage order. Exits 1 on either: .ci/run keeps the
//! layout a DAG in stage order.

mod graph;
mod read;

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use read::crate_graph;

/// A crate checked: its name, the folder its root file is in, the root
/// file, and its stages bottom first. A module may use its own stage and
/// earlier ones; an arrow to a later stage, or from a stage to a module in
/// none (the top: the root, the pipeline's reports), runs back up.
struct Checked {
    name: &'static str,
    dir: &'static str,
    root_file: &'static str,
    stages: &'static [&'static str],
}

const CRATES: [Checked; 4] = [
    Checked {
        name: "baton (library)",
        dir: "firmware/src",
        root_file: "lib.rs",
        stages: &[
            "support", "entry", "acpi", "smp", "source", "takeover", "options",
        ],
    },
    Checked {
        name: "baton (firmware binary)",
        dir: "firmware/src",
        root_file: "main.rs",
        stages: &[
            "machine::platform",
            "machine::entry",
            "machine::acpi",
            "machine::trap",
            "machine::smp",
            "machine::source",
            "machine::takeover",
        ],
    },
    Checked {
        name: "payload-loader",
        dir: "payload-loader/src",
        root_file: "lib.rs",
        stages: &[],
    },
    Checked {
        name: "xtask",
        dir: "xtask/src",
        root_file: "main.rs",
        stages: &[],
    },
];

/// `cargo xtask deps`: the workspace's crates, or those under `root`.
pub fn command(root: Option<&Path>, mermaid: bool) -> Result<std::process::ExitCode> {
    let root = root.map_or_else(crate::root, Path::to_path_buf);
    let mut report = String::new();
    let mut problems = 0;
    for c in &CRATES {
        let g = crate_graph(&root.join(c.dir), c.root_file)?;
        let found = g.circles();
        // An old checkout (`--root`) from before the stage folders has none
        // of them: it is drawn and counted without stages.
        let stages = if c.stages.iter().all(|s| g.edges.contains_key(*s)) {
            c.stages
        } else {
            &[]
        };
        let back_up = g.back_up(stages);
        problems += found.len() + back_up.len();
        writeln!(
            report,
            "{}: {} modules, {} arrows, {} circles, {} arrows back up the stages",
            c.name,
            g.modules(),
            g.edge_count(),
            found.len(),
            back_up.len()
        )?;
        if !stages.is_empty() {
            writeln!(report, "  stages, bottom first: {}", stages.join(" < "))?;
        }
        for circle in &found {
            writeln!(report, "  circle: {}", circle.join(" <-> "))?;
            // The arrows inside it: the ones to cut.
            for from in circle {
                let to: Vec<&str> = g.edges[from]
                    .iter()
                    .filter(|t| circle.contains(t))
                    .map(String::as_str)
                    .collect();
                writeln!(report, "    {from} -> {}", to.join(", "))?;
            }
        }
        for (from, to) in &back_up {
            writeln!(report, "  back up: {from} -> {to}")?;
        }
        if mermaid {
            report += &g.mermaid(c.name, stages, &found);
        }
    }
    print!("{report}");
    Ok(if problems == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        eprintln!(
            "xtask: deps: {problems} import circles or arrows back up the stages (each crate's modules must form a DAG in stage order)"
        );
        std::process::ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests;
