//! A run's verdict: did it end as its row expects, with the lines it must
//! log and none it must not (a negative control: did it fail as it must).

use std::path::PathBuf;

use super::scenario::Scenario;

/// What a finished scenario came to.
pub struct Verdict {
    pub name: String,
    pub passed: bool,
    /// What the end means (`pass (probe)`, `pass (expected exception #PF)`).
    pub said: String,
    pub detail: String,
    pub seconds: f64,
    pub dir: PathBuf,
}

impl Verdict {
    /// A host unit test's verdict (no QEMU run, no log directory).
    pub fn host(name: &str, passed: bool, detail: String) -> Self {
        Self {
            name: format!("host::{name}"),
            passed,
            said: String::new(),
            detail,
            seconds: 0.0,
            dir: PathBuf::new(),
        }
    }
}

/// coreboot's line as it jumps to its payload (baton).
const COREBOOT_JUMP: &str = "Jumping to boot code at";

/// The serial log from coreboot's jump to baton on (all of it for other
/// entries): a row's `absent` lines are about baton and its kernel. Under
/// TCG on a loaded host coreboot's own MP init can log `[ERROR]  Not all
/// APs checked in: 0/1.` and then find the AP after all.
fn after_coreboot(serial: &str) -> &str {
    serial
        .find(COREBOOT_JUMP)
        .map_or(serial, |at| &serial[at..])
}

pub fn judge(scenario: &Scenario, run: &crate::machine::Run) -> (bool, String) {
    let mut problems = Vec::new();
    if run.outcome != scenario.expect {
        problems.push(format!("expected {}, got {}", scenario.expect, run.outcome));
    }
    for want in &scenario.log {
        if !run.serial.contains(want.as_str()) {
            problems.push(format!("log lacks {want:?}"));
        }
    }
    let after_firmware = after_coreboot(&run.serial);
    for unwanted in &scenario.absent {
        if after_firmware.contains(unwanted.as_str()) {
            problems.push(format!("log has {unwanted:?}"));
        }
    }
    // A named kernel's own check (gnumach's memory map against baton's).
    if let Some(check) = scenario.machine.payload.check
        && let Err(e) = check.run(&run.serial)
    {
        problems.push(e);
    }
    if let Some(hole) = scenario.variant.hole() {
        // A negative control: the run must fail on the build with the
        // protection switched off, and in the way the row names, or the
        // scenario proves nothing.
        let neg = &scenario.negative;
        let build = hole.feature();
        if problems.is_empty() {
            return (
                false,
                format!("passed on the {build} build: the scenario cannot catch the bug"),
            );
        }
        let lacks: Vec<&String> = neg
            .log
            .iter()
            .filter(|l| !run.serial.contains(l.as_str()))
            .collect();
        if !neg.expect.contains(&run.outcome) || !lacks.is_empty() {
            let names: Vec<String> = neg.expect.iter().map(|o| o.to_string()).collect();
            return (
                false,
                format!(
                    "the {build} build must end in {} with {:?} in the log; it ended in {}{}",
                    names.join(" or "),
                    neg.log,
                    run.outcome,
                    match lacks.is_empty() {
                        true => String::new(),
                        false => format!(", the log lacking {lacks:?}"),
                    }
                ),
            );
        }
        return (true, format!("failed as it must: {}", problems.join("; ")));
    }
    (problems.is_empty(), problems.join("; "))
}

/// What a finished run is called: `pass (probe)`, `pass (expected
/// exception #PF)`, or for a failure what it came to.
pub fn said(scenario: &Scenario, run: &crate::machine::Run, passed: bool) -> String {
    if let Some(hole) = scenario.variant.hole() {
        let got = crate::machine::verdict(run.outcome, &run.serial, None);
        let build = hole.feature();
        return match passed {
            true => format!("pass (fails on the {build} build as it must: {got})"),
            false => format!("{got} on the {build} build"),
        };
    }
    let expected = passed.then_some(scenario.expect);
    crate::machine::verdict(run.outcome, &run.serial, expected)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::scenario::Negative;
    use super::*;
    use crate::coreboot::Compression;
    use crate::entry::Entry;
    use crate::firmware::{Hole, Variant};
    use crate::machine::{Emulator, Machine, Outcome};
    use crate::payload::Spec;

    #[test]
    fn judge_needs_outcome_and_log() {
        let s = Scenario {
            name: "x".into(),
            machine: Machine {
                machine: "q35".into(),
                smp: 1,
                memory: "1M".into(),
                cpu: "qemu64".into(),
                cmdline: String::new(),
                debug_exit: true,
                qemu_args: vec![],
                timeout: Duration::from_secs(1),
                gdb: false,
                payload: Default::default(),
                screen: false,
                nmi_storm: false,
                framebuffer: false,
                nmi_after: Vec::new(),
                entry: Entry::Pvh,
                boot_modules: false,
                compression: Compression::Lzma,
                until: None,
                emulator: Emulator::Qemu,
                grub_iso: false,
            },
            expect: Outcome::Pass,
            log: vec!["hello".into()],
            absent: vec!["PANIC".into()],
            payload: Spec::default(),
            variant: Variant::Default,
            negative: Negative::default(),
        };
        let run = |outcome, serial: &str| crate::machine::Run {
            outcome,
            serial: serial.into(),
            elapsed: Duration::ZERO,
            dir: PathBuf::new(),
            line_times: Vec::new(),
        };
        assert!(judge(&s, &run(Outcome::Pass, "hello")).0);
        assert!(!judge(&s, &run(Outcome::TripleFault, "hello")).0);
        assert!(!judge(&s, &run(Outcome::Pass, "bye")).0);
        assert!(!judge(&s, &run(Outcome::Pass, "hello PANIC")).0);
        // coreboot's own lines before it jumps to baton do not count.
        let coreboot = "[ERROR]  PANIC\n[DEBUG]  Jumping to boot code at 0x00100181\nhello";
        assert!(judge(&s, &run(Outcome::Pass, coreboot)).0);
        assert!(!judge(&s, &run(Outcome::Pass, &format!("{coreboot} PANIC"))).0);
        // A named kernel's check joins the verdict (gnumach's memory map).
        let mut checked = s.clone();
        checked.machine.payload.check = Some(crate::kernels::Check::GnumachMemoryMap);
        let (passed, detail) = judge(&checked, &run(Outcome::Pass, "hello"));
        assert!(!passed);
        assert!(detail.contains("memory map (N regions)"), "{detail}");
        let negative = Scenario {
            variant: Variant::Negative(Hole::Takeover),
            negative: Negative {
                expect: vec![Outcome::TripleFault, Outcome::KernelFail],
                log: vec!["jumping".into()],
            },
            ..s
        };
        assert!(!judge(&negative, &run(Outcome::Pass, "hello")).0);
        assert!(judge(&negative, &run(Outcome::KernelFail, "jumping hello")).0);
        assert!(judge(&negative, &run(Outcome::TripleFault, "jumping")).0);
        // Not the named failure: a timeout, an error, or before the jump.
        assert!(!judge(&negative, &run(Outcome::Hang, "jumping")).0);
        assert!(!judge(&negative, &run(Outcome::Error, "jumping")).0);
        assert!(!judge(&negative, &run(Outcome::TripleFault, "hello")).0);
    }
}
