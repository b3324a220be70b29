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

use graph::Stage;
use read::crate_graph;

/// A crate checked: its name, the folder its root file is in, the root
/// file, and its stages bottom first. A module may use its own stage and
/// earlier ones; an arrow to a later stage, or from a stage to a module in
/// none (the top: the root, the pipeline's reports), runs back up.
struct Checked {
    name: &'static str,
    dir: &'static str,
    root_file: &'static str,
    stages: &'static [Stage],
}

const CRATES: [Checked; 4] = [
    // The pipeline's stages, one folder each.
    Checked {
        name: "baton (library)",
        dir: "firmware/src",
        root_file: "lib.rs",
        stages: &[
            Stage::folder(&["support"]),
            Stage::folder(&["entry"]),
            Stage::folder(&["acpi"]),
            Stage::folder(&["smp"]),
            Stage::folder(&["source"]),
            Stage::folder(&["takeover"]),
            Stage::folder(&["options"]),
        ],
    },
    Checked {
        name: "baton (firmware binary)",
        dir: "firmware/src",
        root_file: "main.rs",
        stages: &[
            Stage::folder(&["machine::platform"]),
            Stage::folder(&["machine::entry"]),
            Stage::folder(&["machine::acpi"]),
            Stage::folder(&["machine::trap"]),
            Stage::folder(&["machine::smp"]),
            Stage::folder(&["machine::source"]),
            Stage::folder(&["machine::takeover"]),
        ],
    },
    // From bytes to a plan: what the planner reads and builds comes first.
    Checked {
        name: "payload-loader",
        dir: "payload-loader/src",
        root_file: "lib.rs",
        stages: &[
            Stage {
                name: "base",
                modules: &["bytes", "sort", "display", "protocol", "error"],
            },
            Stage {
                name: "memory",
                modules: &["memory", "memory_map", "blob", "mode_request"],
            },
            Stage {
                name: "boot information",
                modules: &["bootinfo", "screen_info"],
            },
            Stage {
                name: "kernel formats",
                modules: &[
                    "bzimage",
                    "elf",
                    "pvh",
                    "multiboot1",
                    "multiboot2",
                    "boot_params",
                ],
            },
            Stage {
                name: "plans",
                modules: &["load_plan", "linux_plan", "planner", "reads"],
            },
        ],
    },
    // From the shell to the suites: a suite runs machines, a machine boots
    // media made from artifacts.
    Checked {
        name: "xtask",
        dir: "xtask/src",
        root_file: "main.rs",
        stages: &[
            Stage {
                name: "shell",
                modules: &["ui", "setup", "debs"],
            },
            Stage {
                name: "artifacts",
                modules: &[
                    "firmware",
                    "probe",
                    "linux",
                    "kernels",
                    "bad_input",
                    "payload",
                    "monitor",
                    "code_size",
                    "ram",
                    "screendump",
                    "storm",
                    "deps",
                ],
            },
            Stage {
                name: "boot media",
                modules: &["entry", "iso", "coreboot", "fixtures"],
            },
            Stage {
                name: "runs",
                modules: &["machine", "bochs", "checks", "qemu"],
            },
            Stage {
                name: "suites",
                modules: &["scenarios", "bench"],
            },
        ],
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
        let stages = if c
            .stages
            .iter()
            .flat_map(|s| s.modules)
            .all(|m| g.edges.contains_key(*m))
        {
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
            let names: Vec<&str> = stages.iter().map(|s| s.name).collect();
            writeln!(report, "  stages, bottom first: {}", names.join(" < "))?;
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
