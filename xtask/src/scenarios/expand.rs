//! A row's runs: one [`Scenario`] per combination of its dimensions'
//! values (`dimensions.rs`), the rest of the row shared.

use std::time::Duration;

use super::dimensions::{DIMENSIONS, combinations, name};
use super::file::Row;
use super::scenario::{Negative, Scenario};
use crate::firmware::Variant;
use crate::machine::Machine;
use crate::payload::Spec;

pub fn expand(row: &Row) -> Vec<Scenario> {
    combinations(row)
        .iter()
        .map(|pick| {
            let mut run = shared(row);
            for (d, &i) in DIMENSIONS.iter().zip(pick) {
                (d.set)(row, i, &mut run);
            }
            run.name = name(row, pick);
            fill_in(&mut run);
            run
        })
        .collect()
}

/// The run before the dimensions give it their values.
fn shared(row: &Row) -> Scenario {
    Scenario {
        name: String::new(),
        machine: Machine {
            machine: String::new(),
            smp: 0,
            memory: String::new(),
            cpu: String::new(),
            cmdline: String::new(),
            debug_exit: row.debug_exit,
            qemu_args: row.qemu_args.clone(),
            timeout: Duration::from_secs(row.timeout),
            gdb: false,
            payload: Default::default(),
            screen: row.screen,
            nmi_storm: row.nmi_storm,
            framebuffer: row.framebuffer,
            nmi_after: row.nmi_after.clone(),
            entry: Default::default(),
            boot_modules: row.boot_modules,
            compression: row.cbfs_compression,
            until: row.until.clone(),
            emulator: Default::default(),
            grub_iso: row.grub_iso,
        },
        expect: row.expect,
        log: row.log.clone(),
        absent: row.absent.clone(),
        payload: Spec {
            kernel: None,
            initrd: row.initrd.clone(),
            cmdline: row.kernel_cmdline.clone(),
            modules: row.modules.clone(),
            direct: row.direct,
        },
        variant: Variant::Default,
        negative: Negative {
            expect: row.negative_expect.clone(),
            log: row.negative_log.clone(),
        },
    }
}

/// `{smp}` and `{aps}` in the expected lines and the marker become the
/// run's CPU count and its APs.
fn fill_in(run: &mut Scenario) {
    let smp = run.machine.smp;
    let fill = |l: &mut String| {
        *l = l
            .replace("{smp}", &smp.to_string())
            .replace("{aps}", &smp.saturating_sub(1).to_string());
    };
    run.machine.until.iter_mut().for_each(fill);
    run.log.iter_mut().for_each(fill);
    run.absent.iter_mut().for_each(fill);
    run.negative.log.iter_mut().for_each(fill);
}

#[cfg(test)]
mod tests {
    use super::super::file::ScenarioFile;
    use super::*;
    use crate::coreboot::Compression;
    use crate::entry::Entry;
    use crate::firmware::Hole;
    use crate::machine::Outcome;

    #[test]
    fn entry_is_a_list_field_and_names_the_run() {
        let file: ScenarioFile = toml::from_str(
            r#"
            [[scenario]]
            name = "e"
            entry = ["pvh", "coreboot", "grub-multiboot2"]
            expect = "pass"
            [[scenario]]
            name = "one"
            entry = "multiboot1"
            boot_modules = true
            cbfs_compression = "lz4"
            expect = "pass"
            [[scenario]]
            name = "default"
            expect = "pass"
            "#,
        )
        .unwrap();
        let runs: Vec<_> = file.scenario.iter().flat_map(expand).collect();
        let names: Vec<_> = runs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "e[pvh]",
                "e[coreboot]",
                "e[grub-multiboot2]",
                "one",
                "default"
            ]
        );
        assert_eq!(runs[1].machine.entry, Entry::Coreboot);
        assert_eq!(runs[3].machine.entry, Entry::Multiboot1);
        assert!(runs[3].machine.boot_modules);
        assert_eq!(runs[3].machine.compression, Compression::Lz4);
        assert_eq!(runs[4].machine.entry, Entry::Pvh);
        assert_eq!(runs[4].machine.compression, Compression::Lzma);
    }

    #[test]
    fn negative_control_names_its_build() {
        let file: ScenarioFile = toml::from_str(
            r#"
            [[scenario]]
            name = "a"
            expect = "kernel-pass"
            negative_control = true
            negative_expect = ["error"]
            [[scenario]]
            name = "b"
            expect = "kernel-pass"
            negative_control = "unsafe-park-nmi"
            negative_expect = ["error"]
            [[scenario]]
            name = "c"
            expect = "kernel-pass"
            negative_control = "unsafe-nothing"
            "#,
        )
        .unwrap();
        let runs: Vec<_> = file.scenario[..2].iter().flat_map(expand).collect();
        let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "a",
                "a[unsafe-takeover must fail]",
                "b",
                "b[unsafe-park-nmi must fail]"
            ]
        );
        assert_eq!(runs[3].variant, Variant::Negative(Hole::ParkNmi));
        let unknown = file.scenario[2].negative_control.hole().unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("unsafe-park-nmi, unsafe-publish-order"),
            "{unknown}"
        );
    }

    #[test]
    fn until_ends_a_run_at_its_marker() {
        let file: ScenarioFile = toml::from_str(
            r#"
            [[scenario]]
            name = "m"
            smp = [1, 4]
            until = "cpus={smp}"
            expect = "marker"
            "#,
        )
        .unwrap();
        let runs: Vec<_> = file.scenario.iter().flat_map(expand).collect();
        assert_eq!(runs[0].expect, Outcome::Marker);
        assert_eq!(runs[0].machine.until.as_deref(), Some("cpus=1"));
        assert_eq!(runs[1].machine.until.as_deref(), Some("cpus=4"));
    }
}
