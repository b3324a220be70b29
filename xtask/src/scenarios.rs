//! `cargo xtask test`: the host unit tests, then the QEMU scenarios of
//! `tests/scenarios.toml` with a live count (`[12/167] PASS name (2.1 s):
//! pass (probe)`), a summary table, a JUnit report and a last line `N host
//! tests passed, M QEMU runs passed, K failed`.
//!
//! A scenario row names the machine shape, baton's command line and the
//! expected outcome; list-valued fields (machine, memory, smp, cpu) expand
//! into one run per combination.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::TestArgs;
use crate::coreboot::Compression;
use crate::entry::Entry;
use crate::firmware::{Hole, Variant};
use crate::machine::Emulator;
use crate::machine::{Machine, Outcome};
use crate::payload::Spec;
use crate::qemu;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    scenario: Vec<Row>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    fn values(&self) -> Vec<T> {
        match self {
            Self::One(v) => vec![v.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    name: String,
    #[serde(default = "defaults::machine")]
    machine: OneOrMany<String>,
    #[serde(default = "defaults::smp")]
    smp: OneOrMany<u32>,
    #[serde(default = "defaults::memory")]
    memory: OneOrMany<String>,
    #[serde(default = "defaults::cpu")]
    cpu: OneOrMany<String>,
    #[serde(default = "defaults::cmdline")]
    cmdline: OneOrMany<String>,
    #[serde(default)]
    qemu_args: Vec<String>,
    expect: Outcome,
    /// Text that must appear in the serial log.
    #[serde(default)]
    log: Vec<String>,
    /// Text that must not appear.
    #[serde(default)]
    absent: Vec<String>,
    /// A negative control: also run against the unsafe-takeover build
    /// (`true`: Linux's takeover bugs brought back) or the finer build it
    /// names (`"unsafe-park-nmi"`: one hole back), where it must end in one
    /// of `negative_expect` with every `negative_log` line: the bug's own
    /// symptom, not a build failure, an error or a timeout.
    #[serde(default)]
    negative_control: NegativeControl,
    #[serde(default)]
    negative_expect: Vec<Outcome>,
    #[serde(default = "defaults::negative_log")]
    negative_log: Vec<String>,
    /// Run on the build with the AML interpreter (cargo feature `aml`).
    #[serde(default)]
    aml: bool,
    /// Read the VGA text screen at the timeout (lines `screen: ...` join
    /// the log the `log` lines are looked for in).
    #[serde(default)]
    screen: bool,
    /// NMIs from the QEMU monitor: one when each of these texts appears in
    /// the serial log, in order.
    #[serde(default)]
    nmi_after: Vec<String>,
    /// An NMI storm (monitor `nmi` every 2-20 ms) from the first line on.
    #[serde(default)]
    nmi_storm: bool,
    /// coreboot entry: the ROM with a linear framebuffer (QEMU -vga std);
    /// the run's end takes a screendump (an `xtask: screendump ...` line).
    #[serde(default)]
    framebuffer: bool,
    /// Only with `--full`.
    #[serde(default)]
    full: bool,
    #[serde(default = "defaults::timeout")]
    timeout: u64,
    /// Tell baton about the isa-debug-exit device (off to test the
    /// policies a real machine gets).
    #[serde(default = "defaults::yes")]
    debug_exit: bool,
    /// The kernel baton boots (fw_cfg): a file (relative to the workspace)
    /// or a name (`linux`).
    #[serde(default)]
    kernel: Option<OneOrMany<String>>,
    #[serde(default)]
    initrd: Option<String>,
    #[serde(default)]
    kernel_cmdline: Option<String>,
    /// `"PATH=CMDLINE"` or `"PATH"`, in order.
    #[serde(default)]
    modules: Vec<String>,
    /// QEMU boots `kernel` itself (-kernel/-initrd/-append), no baton: the
    /// reference runs.
    #[serde(default)]
    direct: bool,
    /// How baton is entered: pvh (default), multiboot1, coreboot,
    /// grub-multiboot1, grub-multiboot2; list-valued.
    #[serde(default = "defaults::entry")]
    entry: OneOrMany<Entry>,
    /// GRUB entries: the kernel (initrd, modules) as GRUB boot modules
    /// instead of fw_cfg files.
    #[serde(default)]
    boot_modules: bool,
    /// coreboot entry: compression of the big CBFS files (lzma, lz4, none).
    #[serde(default)]
    cbfs_compression: Compression,
    /// End the run when this text appears on the serial port (then its
    /// outcome is `marker`).
    #[serde(default)]
    until: Option<String>,
    /// The x86 it runs on: qemu (default) or bochs (baton from a GRUB ISO,
    /// the kernel as a boot module; `bochs.rs`); list-valued.
    #[serde(default = "defaults::emulator")]
    emulator: OneOrMany<Emulator>,
    /// GRUB entries under QEMU: GRUB from a rescue ISO (`-cdrom`), the
    /// payload as boot modules on the CD (room for Linux).
    #[serde(default)]
    grub_iso: bool,
}

/// `negative_control = true` (the unsafe-takeover build) or the name of a
/// negative-control build.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum NegativeControl {
    Flag(bool),
    Build(String),
}

impl Default for NegativeControl {
    fn default() -> Self {
        Self::Flag(false)
    }
}

impl NegativeControl {
    /// The build the row must fail on, if any; an unknown name is an error.
    fn hole(&self) -> Result<Option<Hole>> {
        match self {
            Self::Flag(false) => Ok(None),
            Self::Flag(true) => Ok(Some(Hole::Takeover)),
            Self::Build(name) => match Hole::named(name) {
                Some(hole) => Ok(Some(hole)),
                None => bail!(
                    "negative_control = {name:?} names no negative-control build; they are {}",
                    Hole::ALL.map(Hole::feature).join(", ")
                ),
            },
        }
    }
}

mod defaults {
    use super::OneOrMany;
    pub fn machine() -> OneOrMany<String> {
        OneOrMany::One("q35".into())
    }
    pub fn smp() -> OneOrMany<u32> {
        OneOrMany::One(4)
    }
    pub fn memory() -> OneOrMany<String> {
        OneOrMany::One("256M".into())
    }
    pub fn cpu() -> OneOrMany<String> {
        OneOrMany::One("qemu64".into())
    }
    pub fn cmdline() -> OneOrMany<String> {
        OneOrMany::One(String::new())
    }
    pub fn entry() -> OneOrMany<crate::entry::Entry> {
        OneOrMany::One(Default::default())
    }
    pub fn emulator() -> OneOrMany<crate::machine::Emulator> {
        OneOrMany::One(Default::default())
    }
    /// A negative control fails after the handoff, where the bugs bite.
    pub fn negative_log() -> Vec<String> {
        vec!["baton: jumping to the".into()]
    }
    pub fn timeout() -> u64 {
        60
    }
    pub fn yes() -> bool {
        true
    }
}

/// One QEMU run to make. In an expected log line `{smp}` stands for the
/// run's CPU count and `{aps}` for its APs (the CPU count minus one).
#[derive(Clone, Debug)]
struct Scenario {
    name: String,
    machine: Machine,
    expect: Outcome,
    log: Vec<String>,
    absent: Vec<String>,
    /// Resolved into `machine.payload` just before the runs.
    payload: Spec,
    /// The firmware build it runs on; on a `Negative` one (a negative
    /// control) it passes only if the run fails as `negative` names.
    variant: Variant,
    negative: Negative,
}

/// How a negative control must fail on its negative-control build.
#[derive(Clone, Debug, Default)]
struct Negative {
    expect: Vec<Outcome>,
    log: Vec<String>,
}

fn expand(row: &Row) -> Vec<Scenario> {
    let mut out = Vec::new();
    let (machines, smps, memories, cpus, cmdlines, entries, emulators) = (
        row.machine.values(),
        row.smp.values(),
        row.memory.values(),
        row.cpu.values(),
        row.cmdline.values(),
        row.entry.values(),
        row.emulator.values(),
    );
    let kernels: Vec<Option<String>> = match &row.kernel {
        Some(k) => k.values().into_iter().map(Some).collect(),
        None => vec![None],
    };
    let own = Variant::with_aml(row.aml);
    let variants: &[Variant] = match row.negative_control.hole().ok().flatten() {
        Some(hole) => &[own, Variant::Negative(hole)],
        None => &[own],
    };
    let multi = [machines.len(), smps.len(), memories.len(), cpus.len()]
        .iter()
        .any(|&n| n > 1);
    let mut combinations = Vec::new();
    for machine in &machines {
        for &smp in &smps {
            for memory in &memories {
                for cpu in &cpus {
                    for cmdline in &cmdlines {
                        for kernel in &kernels {
                            for &entry in &entries {
                                for &emulator in &emulators {
                                    for &variant in variants {
                                        combinations.push((
                                            machine, smp, memory, cpu, cmdline, kernel, entry,
                                            emulator, variant,
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    for (machine, smp, memory, cpu, cmdline, kernel, entry, emulator, variant) in combinations {
        let mut name = row.name.clone();
        if multi {
            name = format!("{name}[{machine},smp={smp},{memory},{cpu}]");
        }
        if cmdlines.len() > 1 {
            name = format!("{name}[{cmdline}]");
        }
        if let (true, Some(k)) = (kernels.len() > 1, kernel) {
            name = format!("{name}[{k}]");
        }
        if entries.len() > 1 {
            name = format!("{name}[{entry}]");
        }
        if emulators.len() > 1 {
            name = format!("{name}[{emulator}]");
        }
        if let Some(hole) = variant.hole() {
            name = format!("{name}[{} must fail]", hole.feature());
        }
        let placeholders = |l: &String| {
            l.replace("{smp}", &smp.to_string())
                .replace("{aps}", &smp.saturating_sub(1).to_string())
        };
        out.push(Scenario {
            name,
            machine: Machine {
                machine: machine.clone(),
                smp,
                memory: memory.clone(),
                cpu: cpu.clone(),
                cmdline: cmdline.clone(),
                debug_exit: row.debug_exit,
                qemu_args: row.qemu_args.clone(),
                timeout: Duration::from_secs(row.timeout),
                gdb: false,
                payload: Default::default(),
                screen: row.screen,
                nmi_storm: row.nmi_storm,
                framebuffer: row.framebuffer,
                nmi_after: row.nmi_after.clone(),
                entry,
                boot_modules: row.boot_modules,
                compression: row.cbfs_compression,
                until: row.until.as_ref().map(placeholders),
                emulator,
                grub_iso: row.grub_iso,
            },
            expect: row.expect,
            log: row.log.iter().map(placeholders).collect(),
            absent: row.absent.iter().map(placeholders).collect(),
            payload: Spec {
                kernel: kernel.clone(),
                initrd: row.initrd.clone(),
                cmdline: row.kernel_cmdline.clone(),
                modules: row.modules.clone(),
                direct: row.direct,
            },
            variant,
            negative: Negative {
                expect: row.negative_expect.clone(),
                log: row.negative_log.iter().map(placeholders).collect(),
            },
        });
    }
    out
}

fn load(path: &Path, full: bool, filter: Option<&str>) -> Result<Vec<Scenario>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: ScenarioFile =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    for row in &file.scenario {
        let hole = row
            .negative_control
            .hole()
            .with_context(|| format!("scenario {:?}", row.name))?;
        if let (Some(hole), true) = (hole, row.negative_expect.is_empty()) {
            bail!(
                "scenario {:?} is a negative control without negative_expect: name the failure the {} build must end in",
                row.name,
                hole.feature()
            );
        }
    }
    let matches = |s: &Scenario| filter.is_none_or(|f| s.name.contains(f));
    let chosen: Vec<Scenario> = file
        .scenario
        .iter()
        .filter(|row| full || !row.full)
        .flat_map(expand)
        .filter(matches)
        .collect();
    if let (true, Some(f)) = (chosen.is_empty(), filter) {
        let only_full = file
            .scenario
            .iter()
            .filter(|row| row.full)
            .flat_map(expand)
            .filter(matches)
            .count();
        if only_full > 0 && !full {
            bail!("--filter {f:?} matches only rows marked full ({only_full} runs): add --full");
        }
        let names: Vec<&str> = file.scenario.iter().map(|r| r.name.as_str()).collect();
        let close = crate::checks::close_names(f, names.iter().copied(), 8);
        bail!(
            "--filter {f:?} matches no scenario of {} ({} rows); {}",
            crate::ui::show(path),
            names.len(),
            match close.is_empty() {
                true => format!(
                    "none is close; the rows begin {}, ...",
                    names.iter().take(6).copied().collect::<Vec<_>>().join(", ")
                ),
                false => format!("close names: {}", close.join(", ")),
            }
        );
    }
    Ok(chosen)
}

/// What a finished scenario came to.
struct Verdict {
    name: String,
    passed: bool,
    /// What the end means (`pass (probe)`, `pass (expected exception #PF)`).
    said: String,
    detail: String,
    seconds: f64,
    dir: PathBuf,
}

impl Verdict {
    /// A host unit test's verdict (no QEMU run, no log directory).
    fn host(name: &str, passed: bool, detail: String) -> Self {
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

fn judge(scenario: &Scenario, run: &crate::machine::Run) -> (bool, String) {
    let mut problems = Vec::new();
    if run.outcome != scenario.expect {
        problems.push(format!("expected {}, got {}", scenario.expect, run.outcome));
    }
    for want in &scenario.log {
        if !run.serial.contains(want.as_str()) {
            problems.push(format!("log lacks {want:?}"));
        }
    }
    for unwanted in &scenario.absent {
        if run.serial.contains(unwanted.as_str()) {
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
fn said(scenario: &Scenario, run: &crate::machine::Run, passed: bool) -> String {
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

pub fn test(args: &TestArgs) -> Result<ExitCode> {
    if args.list {
        let path = crate::root().join("tests/scenarios.toml");
        for s in load(&path, args.full, args.filter.as_deref())? {
            println!("{}\n  {s:?}", s.name);
        }
        return Ok(ExitCode::SUCCESS);
    }
    crate::setup::ensure_target()?;
    // The scenarios first: a --filter that matches nothing is an error
    // before anything runs.
    let scenarios = load(
        &crate::root().join("tests/scenarios.toml"),
        args.full,
        args.filter.as_deref(),
    )?;
    let mut needs = crate::setup::Needs::default();
    for s in &scenarios {
        qemu::add_needs(&s.machine, &mut needs);
    }
    crate::setup::ensure(&needs)?;
    let mut verdicts = Vec::new();
    let mut host = None;
    if !args.no_host {
        let v = host_tests()?;
        host = Some(v.iter().filter(|v| v.passed).count());
        verdicts.extend(v);
    }
    crate::ui::say(format!(
        "build output (cargo, make, apt-get) goes to {}",
        crate::ui::show(&crate::ui::logs_dir())
    ));
    // The other builds first: they share one cargo output path with the
    // default build and are copied aside.
    let mut elves = HashMap::new();
    let negatives = Hole::ALL.map(Variant::Negative);
    for variant in negatives
        .into_iter()
        .chain([Variant::Aml, Variant::Default])
    {
        if variant == Variant::Default || scenarios.iter().any(|s| s.variant == variant) {
            elves.insert(variant, crate::firmware::build_variant(true, variant)?);
        }
    }
    // Kernels named in rows become files here (fetching the Linux assets
    // when missing); a row whose kernel cannot be had, or whose machine
    // shape is wrong, fails alone.
    let mut unresolved = Vec::new();
    let mut runnable = Vec::new();
    for mut s in scenarios {
        let shape = crate::checks::Shape {
            machine: &s.machine.machine,
            smp: s.machine.smp,
            memory: &s.machine.memory,
            cpu: &s.machine.cpu,
            entry: s.machine.entry,
            emulator: s.machine.emulator,
        };
        let checked = elves
            .get(&s.variant)
            .context("no firmware build for the scenario")
            .and_then(|elf| crate::checks::check(&shape, elf))
            .and_then(|()| s.payload.resolve(&crate::root()));
        match checked {
            Ok(p) => {
                s.machine.payload = p;
                runnable.push(s);
            }
            Err(e) => {
                unresolved.push(Verdict {
                    name: s.name,
                    passed: false,
                    said: "not run".into(),
                    detail: format!("{e:#}"),
                    seconds: 0.0,
                    dir: PathBuf::new(),
                });
            }
        }
    }
    let scenarios = runnable;
    // Rows that end by waiting out their timeout (expect = hang: a halted
    // guest costs no CPU) get a pool of their own beside the --jobs one,
    // so their waits overlap the CPU-bound rows instead of taking a slot.
    let (waiting, working): (Vec<&Scenario>, Vec<&Scenario>) =
        scenarios.iter().partition(|s| s.expect == Outcome::Hang);
    let queue_of = |rows: Vec<&Scenario>| -> Mutex<VecDeque<(Scenario, u32)>> {
        Mutex::new(
            rows.into_iter()
                .flat_map(|s| (1..=args.repeat).map(move |i| (s.clone(), i)))
                .collect(),
        )
    };
    let (working, waiting) = (queue_of(working), queue_of(waiting));
    let results = Mutex::new(Vec::new());
    let logs = crate::root().join("target/xtask/test");
    let count = |q: &Mutex<VecDeque<(Scenario, u32)>>| q.lock().map(|q| q.len()).unwrap_or(0);
    let total = count(&working) + count(&waiting) + unresolved.len();
    let waits = match count(&waiting) {
        0 => String::new(),
        n => format!(
            ", and up to {} more at a time of the {n} that wait out their timeout",
            args.jobs
        ),
    };
    crate::ui::say(format!(
        "{}, {} at a time{waits}; logs under {}",
        plural(total, "QEMU run", "QEMU runs"),
        args.jobs,
        crate::ui::show(&logs)
    ));
    let counter = crate::ui::Counter::new(total);
    // The rows that wait out their timeout, still to end: the time left is
    // at least theirs, shared by their pool's --jobs slots.
    let waits: u64 = waiting
        .lock()
        .map(|q| q.iter().map(|(s, _)| s.machine.timeout.as_secs()).sum())
        .unwrap_or(0);
    // A row cannot be shared between slots: the longest wait is a floor too.
    let longest_wait = waiting
        .lock()
        .ok()
        .and_then(|q| q.iter().map(|(s, _)| s.machine.timeout).max())
        .unwrap_or_default();
    let (waits_left, waits_total) = (
        std::sync::atomic::AtomicU64::new(waits),
        Duration::from_secs(waits),
    );
    let started = std::time::Instant::now();
    let report = |v: &Verdict, waited: Option<Duration>| {
        if let Some(t) = waited {
            let _ = waits_left.fetch_update(
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
                |w| Some(w.saturating_sub(t.as_secs())),
            );
        }
        // Their pool runs from the start: what it has done already counts.
        let jobs = args.jobs.max(1) as u32;
        let left = Duration::from_secs(waits_left.load(std::sync::atomic::Ordering::Relaxed));
        let floor = (left / jobs).max(longest_wait.min(left)).min(
            (waits_total / jobs)
                .max(longest_wait)
                .saturating_sub(started.elapsed()),
        );
        counter.finished(
            &match v.passed {
                true => format!("PASS {} ({:.1} s): {}", v.name, v.seconds, v.said),
                false => format!(
                    "FAIL {} ({:.1} s): {}: {}{}",
                    v.name,
                    v.seconds,
                    v.said,
                    v.detail,
                    match v.dir.as_os_str().is_empty() {
                        true => String::new(),
                        false => format!(" [{}]", crate::ui::show(&v.dir)),
                    }
                ),
            },
            floor,
        )
    };
    for v in &unresolved {
        report(v, None);
    }
    let run_one = |scenario: Scenario, i: u32| -> Verdict {
        let name = if args.repeat > 1 {
            format!("{}#{i}", scenario.name)
        } else {
            scenario.name.clone()
        };
        let dir = logs.join(sanitize(&name));
        let verdict = match elves
            .get(&scenario.variant)
            .context("no firmware build for the scenario")
            .and_then(|elf| qemu::boot(elf, &scenario.machine, &dir, false))
        {
            Ok(run) => {
                let (passed, detail) = judge(&scenario, &run);
                Verdict {
                    name,
                    passed,
                    said: said(&scenario, &run, passed),
                    detail,
                    seconds: run.elapsed.as_secs_f64(),
                    dir,
                }
            }
            Err(e) => Verdict {
                name,
                passed: false,
                said: "not run".into(),
                detail: format!("{e:#}"),
                seconds: 0.0,
                dir,
            },
        };
        let waited = (scenario.expect == Outcome::Hang).then_some(scenario.machine.timeout);
        report(&verdict, waited);
        verdict
    };
    let work = |queue: &Mutex<VecDeque<(Scenario, u32)>>| {
        while let Some((scenario, i)) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
            let verdict = run_one(scenario, i);
            if let Ok(mut r) = results.lock() {
                r.push(verdict);
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.max(1) {
            scope.spawn(|| work(&working));
            scope.spawn(|| work(&waiting));
        }
    });
    drop(counter);
    let mut qemu_verdicts = results.into_inner().unwrap_or_default();
    qemu_verdicts.extend(unresolved);
    qemu_verdicts.sort_by(|a, b| a.name.cmp(&b.name));
    print_table(&qemu_verdicts);
    let qemu_passed = qemu_verdicts.iter().filter(|v| v.passed).count();
    verdicts.extend(qemu_verdicts);
    let junit = crate::root().join("target/xtask/junit.xml");
    write_junit(&junit, &verdicts)?;
    let failed = verdicts.iter().filter(|v| !v.passed).count();
    let host = match host {
        Some(n) => format!("{}, ", plural(n, "host test passed", "host tests passed")),
        None => String::new(),
    };
    println!(
        "{host}{}, {failed} failed (JUnit report: {})",
        plural(qemu_passed, "QEMU run passed", "QEMU runs passed"),
        crate::ui::show(&junit)
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `1 QEMU run passed`, `2 QEMU runs passed`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.=".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `cargo test --workspace`, one verdict per test; its output goes to
/// target/xtask/logs/host-tests.log.
fn host_tests() -> Result<Vec<Verdict>> {
    fetch_test_assets();
    let log = crate::ui::log("host-tests.log");
    let step = crate::ui::Step::start(format!(
        "host unit tests (cargo test --workspace; log: {})",
        crate::ui::show(&log)
    ));
    let result = crate::ui::run_logged(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(crate::root())
            .env("CARGO_TERM_PROGRESS_WHEN", "never")
            .args(["test", "--workspace", "--color", "never"]),
        &log,
    );
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let mut verdicts = Vec::new();
    for line in text.lines() {
        // "test some::path ... ok" / "... FAILED"
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, result)) = rest.rsplit_once(" ... ") else {
            continue;
        };
        if result == "ignored" {
            continue;
        }
        verdicts.push(Verdict::host(name, result == "ok", result.to_string()));
    }
    if let Err(e) = result
        && verdicts.iter().all(|v| v.passed)
    {
        verdicts.push(Verdict::host("cargo-test", false, format!("{e:#}")));
    }
    let failed: Vec<&str> = verdicts
        .iter()
        .filter(|v| !v.passed)
        .map(|v| v.name.as_str())
        .collect();
    step.done(format!(
        "{} passed, {} failed{}",
        verdicts.len() - failed.len(),
        failed.len(),
        match failed.is_empty() {
            true => String::new(),
            false => format!(": {}", failed.join(", ")),
        }
    ));
    Ok(verdicts)
}

/// The real kernels payload-loader's tests read (Debian's Linux and
/// grub-invaders), cached under target/test-assets. Without them those
/// tests skip and say so; a failed fetch is reported, not fatal.
fn fetch_test_assets() {
    let root = crate::root();
    if root.join("target/test-assets/linux/vmlinuz").exists()
        && root
            .join("target/test-assets/grub-invaders/invaders.exec")
            .exists()
    {
        return;
    }
    let log = crate::ui::log("test-assets.log");
    let debs = root.join("target/debs");
    let step = crate::ui::Step::bytes(
        format!(
            "fetching the real-kernel test assets (payload-loader/tests/fetch-assets.sh; log: {})",
            crate::ui::show(&log)
        ),
        None,
        move || crate::ui::bytes_in(&debs, ""),
    );
    match crate::ui::run_logged(
        Command::new("bash")
            .arg(root.join("payload-loader/tests/fetch-assets.sh"))
            .current_dir(&root),
        &log,
    ) {
        Ok(()) => step.done("done"),
        Err(e) => {
            drop(step);
            crate::ui::say(format!(
                "test assets unavailable, the real-kernel tests will skip: {e:#}"
            ));
        }
    }
}

fn print_table(verdicts: &[Verdict]) {
    let width = verdicts
        .iter()
        .map(|v| v.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let said = verdicts
        .iter()
        .map(|v| v.said.len())
        .max()
        .unwrap_or(7)
        .max(7);
    println!(
        "\n| {:width$} | result | {:said$} | seconds |",
        "scenario", "verdict"
    );
    println!("|-{:-<width$}-|--------|-{:-<said$}-|---------|", "", "");
    for v in verdicts {
        println!(
            "| {:width$} | {:6} | {:said$} | {:7.1} |",
            v.name,
            if v.passed { "pass" } else { "FAIL" },
            v.said,
            v.seconds
        );
    }
    println!();
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn write_junit(path: &Path, verdicts: &[Verdict]) -> Result<()> {
    let failures = verdicts.iter().filter(|v| !v.passed).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuite name=\"baton\" tests=\"{}\" failures=\"{failures}\">",
        verdicts.len()
    );
    for v in verdicts {
        let _ = write!(
            xml,
            "  <testcase name=\"{}\" time=\"{:.3}\"",
            xml_escape(&v.name),
            v.seconds
        );
        if v.passed {
            xml.push_str("/>\n");
        } else {
            let _ = writeln!(
                xml,
                "><failure message=\"{}\">log: {}</failure></testcase>",
                xml_escape(&v.detail),
                xml_escape(&v.dir.display().to_string())
            );
        }
    }
    xml.push_str("</testsuite>\n");
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, xml).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_file_parses_and_expands() {
        let all = load(&crate::root().join("tests/scenarios.toml"), true, None).unwrap();
        assert!(all.len() >= 10);
        let boot: Vec<_> = all
            .iter()
            .filter(|s| s.name.starts_with("boot-memory-map["))
            .collect();
        assert_eq!(boot.len(), 12, "3 machines x 2 memory sizes x 2 CPU models");
    }

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
