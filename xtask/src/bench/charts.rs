//! baton's sizes beside QEMU's firmware, and the SVG charts.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Sizes of baton (stripped, and LZMA-compressed as cbfstool would store it)
/// beside the firmware images QEMU ships.
pub fn sizes(elf: &Path, out: &Path) -> Result<String> {
    let stripped = out.join("baton.stripped");
    let status = Command::new("strip")
        .arg("-o")
        .arg(&stripped)
        .arg(elf)
        .status()
        .context("running strip (binutils)")?;
    if !status.success() {
        bail!("strip failed ({status})");
    }
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    let lzma = Command::new("xz")
        .args(["--format=lzma", "-9", "-c"])
        .arg(&stripped)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| o.stdout.len() as u64);
    let kib = |b: Option<u64>| b.map_or("n/a".to_string(), |b| format!("{:.1}", b as f64 / 1024.0));
    let mut t = String::from("## Size (KiB)\n\n| image | KiB |\n| --- | ---: |\n");
    writeln!(
        t,
        "| baton, stripped release ELF (goal <= 192) | {} |",
        kib(size(&stripped))
    )?;
    writeln!(
        t,
        "| baton, LZMA (`xz --format=lzma -9`, as a CBFS payload) | {} |",
        kib(lzma)
    )?;
    for (name, path) in [
        (
            "SeaBIOS (bios-256k.bin, QEMU's default)",
            "/usr/share/seabios/bios-256k.bin",
        ),
        ("qboot (qboot.rom)", "/usr/share/qemu/qboot.rom"),
    ] {
        writeln!(t, "| {name} | {} |", kib(size(Path::new(path))))?;
    }
    t.push('\n');
    Ok(t)
}

/// Bring-up time against CPU count, one line per mode.
pub fn bring_up_svg(timing: &str, points: &[(u32, u64, u64)]) -> String {
    let (w, h, pad) = (640.0, 360.0, 50.0);
    let max_cpus = points.iter().map(|p| p.0).max().unwrap_or(1) as f64;
    let max_us = points
        .iter()
        .map(|p| p.1.max(p.2))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = |cpus: u32| pad + (w - 2.0 * pad) * cpus as f64 / max_cpus;
    let y = |us: u64| h - pad - (h - 2.0 * pad) * us as f64 / max_us;
    let line = |pick: fn(&(u32, u64, u64)) -> u64| {
        points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.0), y(pick(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <text x=\"{pad}\" y=\"20\">AP bring-up time (us, median) against CPU count, sipi={timing}</text>\n\
         <line x1=\"{pad}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"black\"/>\n\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{0}\" stroke=\"black\"/>\n\
         <text x=\"{pad}\" y=\"{2}\">0</text><text x=\"5\" y=\"{pad}\">{3}</text>\n\
         <polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"2\" points=\"{4}\"/>\n\
         <polyline fill=\"none\" stroke=\"darkorange\" stroke-width=\"2\" points=\"{5}\"/>\n\
         <text x=\"{6}\" y=\"40\" fill=\"steelblue\">parallel</text><text x=\"{6}\" y=\"56\" fill=\"darkorange\">sequential</text>\n",
        h - pad,
        w - pad,
        h - pad + 16.0,
        max_us as u64,
        line(|p| p.1),
        line(|p| p.2),
        w - 2.0 * pad,
    );
    for p in points {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(p.0),
            h - pad + 16.0,
            p.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The boot timeline as one horizontal bar, a segment per stage.
pub fn timeline_svg(stages: &[(String, u64)]) -> String {
    let (w, h, pad) = (800.0, 140.0, 20.0);
    let end = stages.last().map_or(1, |s| s.1).max(1) as f64;
    let x = |us: u64| pad + (w - 2.0 * pad) * us as f64 / end;
    let colors = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
        "#9c755f",
    ];
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <text x=\"{pad}\" y=\"16\">baton boot timeline, entry to jump: {} us</text>\n",
        end as u64
    );
    let mut last = 0;
    for (i, (name, at)) in stages.iter().enumerate() {
        let (x0, x1) = (x(last), x(*at));
        let _ = writeln!(
            svg,
            "<rect x=\"{x0:.1}\" y=\"30\" width=\"{:.1}\" height=\"40\" fill=\"{}\"/><text x=\"{x0:.1}\" y=\"{}\">{name}</text>",
            (x1 - x0).max(0.5),
            colors[i % colors.len()],
            85 + (i % 3) * 14
        );
        last = *at;
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg() {
        assert!(bring_up_svg("modern", &[(4, 10, 20), (16, 30, 60)]).starts_with("<svg"));
        assert!(timeline_svg(&[("entry".into(), 0), ("jump".into(), 100)]).contains("jump"));
    }
}
