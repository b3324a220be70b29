//! Where the firmware's code bytes are, for `cargo xtask bench`: every
//! instruction of `objdump -dl` (binutils, like `strip`) is charged to the
//! source line the line table gives for it. With inlining that is the
//! innermost function the code came from, so `core/src/result.rs` is the
//! `?` glue of every caller and `alloc/src/vec/mod.rs` every inlined push:
//! the totals say what kind of code the image is made of, which the symbol
//! table (one large `baton::boot` with the pipeline inlined) does not.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The `top` source files with the most code, as a markdown section.
pub fn table(elf: &Path, top: usize) -> Result<String> {
    let out = Command::new("objdump")
        .args(["-dl", "--no-show-raw-insn"])
        .arg(elf)
        .output()
        .context("running objdump (binutils)")?;
    if !out.status.success() {
        bail!("objdump -dl failed ({})", out.status);
    }
    let sizes = by_source(&String::from_utf8_lossy(&out.stdout));
    let total: u64 = sizes.iter().map(|(_, n)| n).sum();
    let share = |bytes: u64| bytes as f64 * 100.0 / total.max(1) as f64;
    let mut by_origin: HashMap<&str, u64> = HashMap::new();
    for (file, bytes) in &sizes {
        *by_origin.entry(origin(file)).or_default() += bytes;
    }
    let mut t = format!(
        "## Code by source file (.text: {total} bytes; objdump line table, inlined code charged to where it was written; top {top})\n\n"
    );
    for o in [
        "the workspace",
        "the standard library",
        "dependencies",
        NO_LINE,
    ] {
        let bytes = by_origin.get(o).copied().unwrap_or(0);
        writeln!(t, "- {o}: {bytes} bytes ({:.1}%)", share(bytes))?;
    }
    t += "\n| source | bytes | share |\n| --- | ---: | ---: |\n";
    for (file, bytes) in sizes.iter().take(top) {
        writeln!(t, "| {file} | {bytes} | {:.1}% |", share(*bytes))?;
    }
    t.push('\n');
    Ok(t)
}

/// Code bytes per source file, largest first, from `objdump -dl` output.
/// An instruction's size is the distance to the next one (the padding
/// after a function's last instruction counts with it).
pub fn by_source(objdump: &str) -> Vec<(String, u64)> {
    let mut sizes: HashMap<String, u64> = HashMap::new();
    let mut file = String::from(NO_LINE);
    let mut last: Option<(u64, String)> = None;
    for line in objdump.lines() {
        if let Some(addr) = instruction_address(line) {
            if let Some((at, f)) = last.take() {
                *sizes.entry(f).or_default() += addr.saturating_sub(at);
            }
            last = Some((addr, file.clone()));
        } else if let Some(source) = source_file(line) {
            file = short_path(source);
        }
    }
    let mut sizes: Vec<_> = sizes.into_iter().collect();
    sizes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    sizes
}

/// `  10a2f3:\tmov ...` -> 0x10a2f3.
fn instruction_address(line: &str) -> Option<u64> {
    let (addr, rest) = line.split_once(':')?;
    if !line.starts_with(' ') || !rest.starts_with('\t') {
        return None;
    }
    u64::from_str_radix(addr.trim(), 16).ok()
}

/// `/path/to/file.rs:123` or `/path/to/file.rs:123 (discriminator 2)` -> the path.
fn source_file(line: &str) -> Option<&str> {
    let (path, rest) = line.rsplit_once(".rs:")?;
    let number = rest.split(' ').next()?;
    (!line.starts_with(' ') && number.bytes().all(|b| b.is_ascii_digit()))
        .then(|| &line[..path.len() + 3])
}

/// The standard library as `core/src/...`, registry crates as
/// `crate-version/src/...`, the workspace relative to its root.
fn short_path(path: &str) -> String {
    for marker in ["/library/", "/registry/src/"] {
        if let Some((_, rest)) = path.split_once(marker) {
            let rest = if marker == "/registry/src/" {
                rest.split_once('/').map_or(rest, |(_, r)| r)
            } else {
                rest
            };
            return rest.to_string();
        }
    }
    let root = crate::root();
    Path::new(path)
        .strip_prefix(&root)
        .map_or_else(|_| path.to_string(), |p| p.display().to_string())
}

/// Code the line table says nothing about: `global_asm!` (the entry
/// stubs, the exception vectors) and the compiler's builtins.
const NO_LINE: &str = "no line information";

/// Whose code a `short_path` is.
fn origin(file: &str) -> &'static str {
    let first = file.split('/').next().unwrap_or_default();
    if file == NO_LINE {
        NO_LINE
    } else if ["core", "alloc", "std"].contains(&first) {
        "the standard library"
    } else if first
        .rsplit_once('-')
        .is_some_and(|(_, v)| v.starts_with(|c: char| c.is_ascii_digit()))
    {
        "dependencies"
    } else {
        "the workspace"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_each_instruction_to_its_innermost_source_line() {
        let dump = "\
target/x86_64-unknown-none/release/baton:     file format elf64-x86-64

Disassembly of section .text:

0000000000100000 <baton::boot>:
baton::boot():
/work/x/firmware/src/main.rs:30
  100000:\tpush   %rbp
  100001:\tmov    %rsp,%rbp
/rustc/0123abcd/library/core/src/result.rs:2175 (discriminator 1)
  100004:\tcmp    $0x3,%rax
  10000a:\tje     100020 <baton::boot+0x20>
/root/.cargo/registry/src/index-xyz/log-0.4.35/src/lib.rs:1
  10000c:\tret
/rustc/0123abcd/library/core/src/result.rs:2189
  100010:\tnop
";
        assert_eq!(
            by_source(dump),
            vec![
                ("core/src/result.rs".to_string(), 6 + 2),
                ("/work/x/firmware/src/main.rs".to_string(), 1 + 3),
                ("log-0.4.35/src/lib.rs".to_string(), 4),
            ]
        );
    }

    #[test]
    fn reads_addresses_and_sources_only_from_their_own_lines() {
        assert_eq!(
            instruction_address("  10a2f3:\tmov    %rax,%rbx"),
            Some(0x10a2f3)
        );
        assert_eq!(instruction_address("0000000000100000 <baton::boot>:"), None);
        assert_eq!(source_file("/a/b.rs:12 (discriminator 3)"), Some("/a/b.rs"));
        assert_eq!(source_file("/a/b.rs:12"), Some("/a/b.rs"));
        assert_eq!(source_file("baton::boot():"), None);
        assert_eq!(source_file("  100000:\tcall   /x.rs:1"), None);
        assert_eq!(origin("core/src/result.rs"), "the standard library");
        assert_eq!(origin("lzma-rust2-0.16.5/src/lib.rs"), "dependencies");
        assert_eq!(origin("payload-loader/src/plan.rs"), "the workspace");
    }
}
