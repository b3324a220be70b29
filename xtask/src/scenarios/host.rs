//! The host unit tests (`cargo test --workspace`), one verdict each.

use std::process::Command;

use anyhow::Result;

use super::judge::Verdict;

/// `cargo test --workspace`, one verdict per test; its output goes to
/// target/xtask/logs/host-tests.log.
pub fn host_tests() -> Result<Vec<Verdict>> {
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
