//! What xtask prints: one line per step, progress on long work (a spinner
//! or a bar with sizes and elapsed time on a terminal, plain lines
//! otherwise), and the tools' own output (apt-get, dpkg, make, cargo) in log
//! files under `target/xtask/logs/`, each named in one line.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether progress is drawn (stderr is a terminal, not CI, not a dumb
/// terminal); otherwise long work prints plain lines.
pub fn fancy() -> bool {
    static FANCY: OnceLock<bool> = OnceLock::new();
    *FANCY.get_or_init(|| {
        std::io::stderr().is_terminal()
            && std::env::var_os("CI").is_none()
            && std::env::var("TERM").map_or(true, |t| t != "dumb")
    })
}

/// Every bar lives here, so that lines printed meanwhile go above them.
fn bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(|| match fancy() {
        true => MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
        false => MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
    })
}

/// `xtask: MSG` on stderr, above any progress bar.
pub fn say(msg: impl AsRef<str>) {
    let msg = msg.as_ref();
    bars().suspend(|| eprintln!("xtask: {msg}"));
}

/// A line on stdout, above any progress bar.
pub fn out(line: impl AsRef<str>) {
    let line = line.as_ref();
    bars().suspend(|| println!("{line}"));
}

/// `target/xtask/logs`.
pub fn logs_dir() -> PathBuf {
    crate::root().join("target/xtask/logs")
}

/// The log file `target/xtask/logs/NAME`, emptied the first time this
/// process asks for it (each command's logs are its own).
pub fn log(name: &str) -> PathBuf {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let path = logs_dir().join(name);
    if let Ok(mut seen) = SEEN.lock()
        && seen
            .get_or_insert_with(HashSet::new)
            .insert(name.to_string())
    {
        let _ = std::fs::create_dir_all(logs_dir());
        let _ = std::fs::write(&path, "");
    }
    path
}

/// A path as printed: relative to the workspace when inside it.
pub fn show(path: &Path) -> String {
    let root = crate::root();
    path.strip_prefix(&root)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

/// "12.3 MB" (decimal units, as apt prints them).
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.1} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}

/// "4.2 s", "3 min 05 s".
pub fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        let s = s.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

/// One piece of long work: a spinner (or a byte bar) with its elapsed time
/// on a terminal; otherwise a line when it starts, one every 30 s, and one
/// when it ends.
pub struct Step {
    what: String,
    bar: ProgressBar,
    started: Instant,
    quiet: bool,
    stop: Arc<AtomicBool>,
    poller: Option<std::thread::JoinHandle<()>>,
}

impl Step {
    /// Work of unknown length; `what` says what it is ("building coreboot").
    pub fn start(what: impl Into<String>) -> Self {
        Self::new(what.into(), None, None, false)
    }

    /// Work that is often done at once (a cargo build with nothing to
    /// compile): says nothing unless it takes more than 2 s.
    pub fn quiet(what: impl Into<String>) -> Self {
        Self::new(what.into(), None, None, true)
    }

    /// Work measured in bytes (a download, a compression): `poll` says how
    /// many so far, `total` how many in all when known.
    pub fn bytes(
        what: impl Into<String>,
        total: Option<u64>,
        poll: impl Fn() -> u64 + Send + 'static,
    ) -> Self {
        Self::new(what.into(), total, Some(Box::new(poll)), false)
    }

    /// Work with a detail line that changes (the last line of a build log).
    pub fn watching(what: impl Into<String>, detail: impl Fn() -> String + Send + 'static) -> Self {
        let step = Self::new(what.into(), None, None, false);
        let bar = step.bar.clone();
        step.with_poller(move || bar.set_message(detail()))
    }

    #[allow(clippy::type_complexity)]
    fn new(
        what: String,
        total: Option<u64>,
        poll: Option<Box<dyn Fn() -> u64 + Send>>,
        quiet: bool,
    ) -> Self {
        let bar = match (fancy(), total, &poll) {
            (false, _, _) => ProgressBar::hidden(),
            (true, Some(total), Some(_)) => {
                let bar = bars().add(ProgressBar::new(total));
                bar.set_style(
                    ProgressStyle::with_template(
                        "xtask: {prefix} [{bar:24}] {bytes}/{total_bytes} {bytes_per_sec} {elapsed}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar
            }
            (true, None, Some(_)) => {
                let bar = bars().add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("xtask: {spinner} {prefix}: {bytes} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            }
            (true, _, None) => {
                let bar = bars().add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("xtask: {spinner} {prefix} {elapsed} {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            }
        };
        bar.set_prefix(what.clone());
        if fancy() {
            bar.enable_steady_tick(Duration::from_millis(120));
        } else if !quiet {
            let total = total.map(|t| format!(" ({})", size(t))).unwrap_or_default();
            say(format!("{what}{total} ..."));
        }
        let step = Self {
            what,
            bar,
            started: Instant::now(),
            quiet,
            stop: Arc::new(AtomicBool::new(false)),
            poller: None,
        };
        match poll {
            Some(poll) => {
                let bar = step.bar.clone();
                step.with_poller(move || bar.set_position(poll()))
            }
            None => step,
        }
    }

    /// Calls `tick` every 200 ms until the step ends; in plain mode also a
    /// line every 30 s that says the work goes on.
    fn with_poller(mut self, tick: impl Fn() + Send + 'static) -> Self {
        let stop = Arc::clone(&self.stop);
        let (what, bar, started, quiet) = (
            self.what.clone(),
            self.bar.clone(),
            self.started,
            self.quiet,
        );
        self.poller = Some(std::thread::spawn(move || {
            let mut next_line = Duration::from_secs(30);
            while !stop.load(Ordering::Relaxed) {
                tick();
                if !fancy() && !quiet && started.elapsed() >= next_line {
                    let done = match bar.position() {
                        0 => String::new(),
                        n => format!(", {}", size(n)),
                    };
                    say(format!(
                        "{what}: still at it after {}{done}",
                        duration(started.elapsed())
                    ));
                    next_line += Duration::from_secs(30);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }));
        self
    }

    /// The work is done: one line `WHAT: RESULT (T)` (a quiet step only
    /// when it took more than 2 s).
    pub fn done(mut self, result: impl AsRef<str>) {
        self.end();
        let elapsed = self.started.elapsed();
        if self.quiet && elapsed < Duration::from_secs(2) {
            return;
        }
        let result = result.as_ref();
        let sep = if result.is_empty() { "" } else { ": " };
        say(format!(
            "{}{sep}{result} ({})",
            self.what,
            duration(elapsed)
        ));
    }

    fn end(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(p) = self.poller.take() {
            let _ = p.join();
        }
        self.bar.finish_and_clear();
        bars().remove(&self.bar);
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.end();
    }
}

/// The live count of `cargo xtask test`: `[12/167] PASS name (2.1 s)`, a
/// bar with the estimate of time left on a terminal, the estimate in the
/// line otherwise.
pub struct Counter {
    bar: ProgressBar,
    total: u64,
    done: Mutex<u64>,
    started: Instant,
}

impl Counter {
    pub fn new(total: usize) -> Self {
        let total = total as u64;
        let bar = match fancy() {
            true => {
                let bar = bars().add(ProgressBar::new(total));
                bar.set_style(
                    ProgressStyle::with_template(
                        "xtask: [{bar:30}] {pos}/{len} QEMU runs, {elapsed} so far, {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_message("time left: unknown yet");
                bar.enable_steady_tick(Duration::from_millis(500));
                bar
            }
            false => ProgressBar::hidden(),
        };
        Self {
            bar,
            total,
            done: Mutex::new(0),
            started: Instant::now(),
        }
    }

    /// One run finished: `[N/TOTAL] LINE`. `floor` is the least time the
    /// runs left are known to take (rows that wait out a timeout).
    pub fn finished(&self, line: &str, floor: Duration) {
        let n = self.done.lock().map_or(0, |mut d| {
            *d += 1;
            *d
        });
        let left = self
            .time_left(n)
            .map(|t| t.max(floor))
            .filter(|_| n < self.total);
        let left = match left {
            Some(t) => format!("about {} left", duration(t)),
            None => "time left: unknown yet".into(),
        };
        if fancy() {
            self.bar.set_message(left);
            self.bar.inc(1);
            out(format!("[{n}/{}] {line}", self.total));
        } else if n < self.total {
            out(format!("[{n}/{}] {line}; {left}", self.total));
        } else {
            out(format!("[{n}/{}] {line}", self.total));
        }
    }

    /// The runs left at the pace so far (wall clock per finished run).
    fn time_left(&self, done: u64) -> Option<Duration> {
        if done == 0 || done > self.total {
            return None;
        }
        let per_run = self.started.elapsed().as_secs_f64() / done as f64;
        Some(Duration::from_secs_f64(
            per_run * (self.total - done) as f64,
        ))
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        bars().remove(&self.bar);
    }
}

/// Runs `cmd` with its stdout and stderr appended to `log` (after a line
/// `$ COMMAND`); on failure, an error naming the command, the log and its
/// last lines.
pub fn run_logged(cmd: &mut Command, log: &Path) -> Result<()> {
    use std::io::Write;
    let line = command_line(cmd);
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    let start = file.metadata().map(|m| m.len()).unwrap_or(0);
    writeln!(file, "$ {line}")?;
    let status = cmd
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("running `{line}`"))?;
    if !status.success() {
        let text = std::fs::read(log).unwrap_or_default();
        let text = String::from_utf8_lossy(text.get(start as usize..).unwrap_or_default());
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "`{line}` failed ({status}); the end of {}:\n{}",
            show(log),
            tail.join("\n")
        );
    }
    Ok(())
}

/// The last non-empty line of a log file, shortened to `width` characters
/// (a build's progress beside its spinner).
pub fn last_line(log: &Path, width: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(log) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(4096)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let line = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    line.chars().take(width).collect()
}

/// Bytes in the files of `dir` whose names start with `prefix` (a download
/// in progress).
pub fn bytes_in(dir: &Path, prefix: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut sum = 0;
    for e in entries.filter_map(|e| e.ok()) {
        if e.file_name().to_string_lossy().starts_with(prefix) {
            sum += e.metadata().map(|m| m.len()).unwrap_or(0);
        }
        // apt-get download keeps an unfinished file in partial/.
        if e.file_name() == "partial" {
            sum += bytes_in(&e.path(), prefix);
        }
    }
    sum
}

/// Text without terminal escape sequences (CSI like coreboot's colours or
/// GRUB's clear-screen, OSC, charset selection) and without the other
/// control characters but tab and newline.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                // CSI: parameters, then a final byte in @..~.
                Some('[') => {
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
                // OSC: up to BEL or ESC \.
                Some(']') => {
                    while let Some(d) = chars.next() {
                        if d == '\x07' {
                            break;
                        }
                        if d == '\x1b' {
                            chars.next();
                            break;
                        }
                    }
                }
                // Character set selection: one more character.
                Some('(' | ')' | '*' | '+') => {
                    chars.next();
                }
                _ => {}
            },
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

pub fn command_line(cmd: &Command) -> String {
    format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_codes_go() {
        assert_eq!(strip_ansi("\x1b[2J\x1b[HGRUB\x1b[0m ok"), "GRUB ok");
        assert_eq!(strip_ansi("\x1b[?25lx\x1b(By\x1b]0;t\x07z\r"), "xyz");
        assert_eq!(strip_ansi("a\tb\nc"), "a\tb\nc");
        assert_eq!(strip_ansi("(qemu) i\x1b[K\x1b[Dinfo"), "(qemu) iinfo");
    }

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(size(999), "999 B");
        assert_eq!(size(28_100_000), "28.1 MB");
        assert_eq!(duration(Duration::from_millis(4200)), "4.2 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 05 s");
    }
}
