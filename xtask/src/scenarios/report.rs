//! What `cargo xtask test` ends with: the summary table and the JUnit
//! report.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::judge::Verdict;

/// `1 QEMU run passed`, `2 QEMU runs passed`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn print_table(verdicts: &[Verdict]) {
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

pub fn write_junit(path: &Path, verdicts: &[Verdict]) -> Result<()> {
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
