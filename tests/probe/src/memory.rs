//! Step 3: overwrite all usable memory outside the probe's own image with
//! `address ^ PATTERN`, 8 bytes at a time, wait, and verify every word. This
//! is where the loader and its parked APs lived: an AP still running or
//! monitoring that memory crashes or scribbles, and the verify sees it.

use alloc::vec::Vec;
use core::arch::asm;

use payload_loader::{MemoryKind, MemoryRegion};

use crate::entry::MAPPED_END;
use crate::{fail, say, time};

const PATTERN: u64 = 0x5a17_c0de_0b5e_55ed;
const WORD: u64 = 8;

/// Usable `[start, end)` ranges below the identity map's end, minus `keep`,
/// 8-byte aligned.
fn targets(map: &[MemoryRegion], keep: (u64, u64)) -> (Vec<(u64, u64)>, u64) {
    let mut out = Vec::new();
    let mut unmapped = 0;
    for r in map
        .iter()
        .filter(|r| r.kind == MemoryKind::Usable && !r.is_empty())
    {
        unmapped += r.end.saturating_sub(r.start.max(MAPPED_END));
        let (start, end) = (r.start, r.end.min(MAPPED_END));
        for (s, e) in [(start, end.min(keep.0)), (start.max(keep.1), end)] {
            let (s, e) = (s.next_multiple_of(WORD), e & !(WORD - 1));
            if s < e {
                out.push((s, e));
            }
        }
    }
    (out, unmapped)
}

/// Fills `[start, end)` with the pattern. In assembly: address 0 is usable
/// RAM here but no Rust pointer may point at it.
fn fill(start: u64, end: u64) {
    // SAFETY: `[start, end)` is usable RAM outside the probe's image, inside
    // the identity map; nothing the probe uses lives there.
    unsafe {
        asm!(
            "2:",
            "cmp {p}, {end}",
            "jae 3f",
            "mov {v}, {p}",
            "xor {v}, {key}",
            "mov [{p}], {v}",
            "add {p}, 8",
            "jmp 2b",
            "3:",
            p = inout(reg) start => _,
            end = in(reg) end,
            key = in(reg) PATTERN,
            v = out(reg) _,
            options(nostack),
        );
    }
}

/// The first address in `[start, end)` whose word is not the pattern.
fn check(start: u64, end: u64) -> Option<(u64, u64)> {
    let at: u64;
    let found: u64;
    // SAFETY: reads of the same ranges `fill` wrote.
    unsafe {
        asm!(
            "2:",
            "cmp {p}, {end}",
            "jae 3f",
            "mov {v}, [{p}]",
            "xor {v}, {key}",
            "cmp {v}, {p}",
            "jne 3f",
            "add {p}, 8",
            "jmp 2b",
            "3:",
            p = inout(reg) start => at,
            end = in(reg) end,
            key = in(reg) PATTERN,
            v = out(reg) found,
            options(nostack, readonly),
        );
    }
    (at < end).then_some((at, found ^ PATTERN))
}

/// Where the trap's marker lies in `ranges`, if anywhere.
fn find_marker(ranges: &[(u64, u64)]) -> Option<u64> {
    ranges.iter().find_map(|&(s, e)| {
        (s..e).step_by(WORD as usize).find(|&at| {
            // SAFETY: reads of ranges `fill` wrote, inside the identity map
            // (address 0 is skipped: no Rust pointer may point at it).
            at != 0 && unsafe { core::ptr::read_volatile(at as *const u64) } == crate::trap::MARKER
        })
    })
}

/// `ranges` without `[hole.0, hole.1)`.
fn without(ranges: Vec<(u64, u64)>, hole: (u64, u64)) -> Vec<(u64, u64)> {
    let (hs, he) = (hole.0 & !(WORD - 1), hole.1.next_multiple_of(WORD));
    let mut out = Vec::new();
    for (s, e) in ranges {
        for (s, e) in [(s, e.min(hs)), (s.max(he), e)] {
            if s < e {
                out.push((s, e));
            }
        }
    }
    out
}

/// Overwrites usable memory outside `keep` (the image) and `spared` (the
/// trap), waits `settle_ms`, verifies.
pub fn overwrite(
    map: &[MemoryRegion],
    keep: (u64, u64),
    spared: Option<(u64, u64)>,
    settle_ms: u64,
) {
    let (ranges, unmapped) = targets(map, keep);
    let ranges = match spared {
        Some(hole) => without(ranges, hole),
        None => ranges,
    };
    let mut bytes = 0u64;
    let started = time::now();
    for &(s, e) in &ranges {
        fill(s, e);
        bytes += e - s;
    }
    say!(
        "wrote {} MiB in {} ranges ({} ms); settling {settle_ms} ms",
        bytes >> 20,
        ranges.len(),
        time::ticks_to_ms(time::now() - started)
    );
    if unmapped != 0 {
        say!(
            "not overwritten: {} MiB of usable RAM above 4 GiB (not mapped)",
            unmapped >> 20
        );
    }
    let end = time::deadline_ms(settle_ms);
    while time::now() < end {
        core::hint::spin_loop();
    }
    for &(s, e) in &ranges {
        if let Some((at, found)) = check(s, e) {
            if let Some(marked) = find_marker(&ranges) {
                fail!(
                    "an AP woke in the loader's old park loop after the handoff and ran into the trap: its marker {:#x} at {marked:#x} (memory changed after the overwrite, first at {at:#x})",
                    crate::trap::MARKER
                );
            }
            fail!(
                "memory changed after the overwrite: at {at:#x} expected {:#018x}, found {found:#018x}",
                at ^ PATTERN
            );
        }
    }
    say!("overwrote {} MiB of usable memory, verified", bytes >> 20);
}
