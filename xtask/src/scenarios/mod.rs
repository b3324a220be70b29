//! `cargo xtask test`: the host unit tests, then the QEMU scenarios of
//! `tests/scenarios.toml` with a live count (`[12/167] PASS name (2.1 s):
//! pass (probe)`), a summary table, a JUnit report and a last line `N host
//! tests passed, M QEMU runs passed, K failed`.
//!
//! A scenario row (`file.rs`) names the machine shape, baton's command line
//! and the expected outcome; its list-valued fields (`dimensions.rs`)
//! expand into one run (`scenario.rs`) per combination (`expand.rs`,
//! `load.rs`), each judged by `judge.rs` and summed up by `report.rs`.

mod dimensions;
mod expand;
mod file;
mod host;
mod judge;
mod load;
mod report;
mod scenario;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::TestArgs;
use crate::firmware::{Hole, Variant};
use crate::machine::Outcome;
use crate::qemu;
use judge::{Verdict, judge, said};
use report::plural;
use scenario::Scenario;

/// The firmware build of each variant the runs need.
type Elves = HashMap<Variant, PathBuf>;

/// The runs still to make, each with its repetition number.
type Queue = Mutex<VecDeque<(Scenario, u32)>>;

pub fn test(args: &TestArgs) -> Result<ExitCode> {
    if args.list {
        let path = crate::root().join("tests/scenarios.toml");
        for s in load::load(&path, args.full, args.filter.as_deref())? {
            println!("{}\n  {s:?}", s.name);
        }
        return Ok(ExitCode::SUCCESS);
    }
    crate::setup::ensure_target()?;
    // The scenarios first: a --filter that matches nothing is an error
    // before anything runs.
    let scenarios = load::load(
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
        let v = host::host_tests()?;
        host = Some(v.iter().filter(|v| v.passed).count());
        verdicts.extend(v);
    }
    crate::ui::say(format!(
        "build output (cargo, make, apt-get) goes to {}",
        crate::ui::show(&crate::ui::logs_dir())
    ));
    let elves = build(&scenarios)?;
    let (runnable, unresolved) = resolve(scenarios, &elves);
    let mut qemu_verdicts = run_all(args, &runnable, unresolved, &elves);
    qemu_verdicts.sort_by(|a, b| a.name.cmp(&b.name));
    report::print_table(&qemu_verdicts);
    let qemu_passed = qemu_verdicts.iter().filter(|v| v.passed).count();
    verdicts.extend(qemu_verdicts);
    let junit = crate::root().join("target/xtask/junit.xml");
    report::write_junit(&junit, &verdicts)?;
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

/// The default build and every other one a run needs. The other builds
/// first: they share one cargo output path with the default build and are
/// copied aside.
fn build(scenarios: &[Scenario]) -> Result<Elves> {
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
    Ok(elves)
}

/// Kernels named in rows become files here (fetching the Linux assets
/// when missing); a row whose kernel cannot be had, or whose machine shape
/// is wrong, fails alone: the runs that can be made, and the verdicts of
/// those that cannot.
fn resolve(scenarios: Vec<Scenario>, elves: &Elves) -> (Vec<Scenario>, Vec<Verdict>) {
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
    (runnable, unresolved)
}

/// Makes every run, `--jobs` at a time. Rows that end by waiting out their
/// timeout (expect = hang: a halted guest costs no CPU) get a pool of their
/// own beside the --jobs one, so their waits overlap the CPU-bound rows
/// instead of taking a slot.
fn run_all(
    args: &TestArgs,
    scenarios: &[Scenario],
    unresolved: Vec<Verdict>,
    elves: &Elves,
) -> Vec<Verdict> {
    let (waiting, working): (Vec<&Scenario>, Vec<&Scenario>) =
        scenarios.iter().partition(|s| s.expect == Outcome::Hang);
    let queue_of = |rows: Vec<&Scenario>| -> Queue {
        Mutex::new(
            rows.into_iter()
                .flat_map(|s| (1..=args.repeat).map(move |i| (s.clone(), i)))
                .collect(),
        )
    };
    let (working, waiting) = (queue_of(working), queue_of(waiting));
    let results = Mutex::new(Vec::new());
    let logs = crate::root().join("target/xtask/test");
    let progress = Progress::new(args, &working, &waiting, unresolved.len(), &logs);
    for v in &unresolved {
        progress.report(v, None);
    }
    let work = |queue: &Queue| {
        while let Some((scenario, i)) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
            let verdict = run_one(&scenario, i, args.repeat, &logs, elves);
            let waited = (scenario.expect == Outcome::Hang).then_some(scenario.machine.timeout);
            progress.report(&verdict, waited);
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
    drop(progress);
    let mut verdicts = results.into_inner().unwrap_or_default();
    verdicts.extend(unresolved);
    verdicts
}

/// Boots one run (the `i`th of its `repeat`) and judges it.
fn run_one(scenario: &Scenario, i: u32, repeat: u32, logs: &Path, elves: &Elves) -> Verdict {
    let name = if repeat > 1 {
        format!("{}#{i}", scenario.name)
    } else {
        scenario.name.clone()
    };
    let dir = logs.join(sanitize(&name));
    match elves
        .get(&scenario.variant)
        .context("no firmware build for the scenario")
        .and_then(|elf| qemu::boot(elf, &scenario.machine, &dir, false))
    {
        Ok(run) => {
            let (passed, detail) = judge(scenario, &run);
            Verdict {
                name,
                passed,
                said: said(scenario, &run, passed),
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
    }
}

/// The live count, and the time left as far as the runs that wait out
/// their timeout tell it.
struct Progress {
    counter: crate::ui::Counter,
    jobs: u32,
    /// The rows that wait out their timeout, still to end: the time left
    /// is at least theirs, shared by their pool's --jobs slots.
    waits_left: AtomicU64,
    waits_total: Duration,
    /// A row cannot be shared between slots: the longest wait is a floor
    /// too.
    longest_wait: Duration,
    started: Instant,
}

impl Progress {
    fn new(
        args: &TestArgs,
        working: &Queue,
        waiting: &Queue,
        unresolved: usize,
        logs: &Path,
    ) -> Self {
        let count = |q: &Queue| q.lock().map(|q| q.len()).unwrap_or(0);
        let total = count(working) + count(waiting) + unresolved;
        let waits = match count(waiting) {
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
            crate::ui::show(logs)
        ));
        let counter = crate::ui::Counter::new(total);
        let waits: u64 = waiting
            .lock()
            .map(|q| q.iter().map(|(s, _)| s.machine.timeout.as_secs()).sum())
            .unwrap_or(0);
        let longest_wait = waiting
            .lock()
            .ok()
            .and_then(|q| q.iter().map(|(s, _)| s.machine.timeout).max())
            .unwrap_or_default();
        Self {
            counter,
            jobs: args.jobs.max(1) as u32,
            waits_left: AtomicU64::new(waits),
            waits_total: Duration::from_secs(waits),
            longest_wait,
            started: Instant::now(),
        }
    }

    /// Counts a finished run (one that waited `waited` out) and prints its
    /// line.
    fn report(&self, v: &Verdict, waited: Option<Duration>) {
        if let Some(t) = waited {
            let _ = self
                .waits_left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                    Some(w.saturating_sub(t.as_secs()))
                });
        }
        // Their pool runs from the start: what it has done already counts.
        let jobs = self.jobs;
        let left = Duration::from_secs(self.waits_left.load(Ordering::Relaxed));
        let floor = (left / jobs).max(self.longest_wait.min(left)).min(
            (self.waits_total / jobs)
                .max(self.longest_wait)
                .saturating_sub(self.started.elapsed()),
        );
        self.counter.finished(
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
        );
    }
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
