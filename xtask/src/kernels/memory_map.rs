//! [`Check::GnumachMemoryMap`]: the memory map GNU Mach prints (`biosmem:`)
//! is the one baton handed over, baton's own map with the boot information
//! and the park area reserved.

/// A check of a run's serial log beyond its marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// GNU Mach's `biosmem:` memory map is the one baton handed over:
    /// baton's own map (its debug-level table) with the boot information
    /// and the park area reserved.
    GnumachMemoryMap,
}

impl Check {
    /// `Ok(what was found)` or `Err(what differs)`.
    pub fn run(self, serial: &str) -> Result<String, String> {
        match self {
            Check::GnumachMemoryMap => gnumach_memory_map(serial),
        }
    }
}

const PAGE: u64 = 4096;

/// One memory range of a map: `[start, end)`, usable or not, and its kind's
/// name as printed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Region {
    start: u64,
    end: u64,
    usable: bool,
    kind: String,
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok()
}

/// baton's memory map: the debug-level table after `memory map (N regions):`
/// (`  0x0000000000000000  0x000000000009fc00  639  usable`).
fn baton_map(serial: &str) -> Result<Vec<Region>, String> {
    let mut lines = serial.lines();
    let count = lines
        .by_ref()
        .find_map(|l| {
            let rest = l.split_once("memory map (")?.1;
            rest.split_once(" regions)")?.0.parse::<usize>().ok()
        })
        .ok_or("baton's log has no `memory map (N regions)` line")?;
    let rows: Vec<Region> = lines
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_once("] ")?.1.split_whitespace().collect();
            let [start, end, _kib, kind @ ..] = fields.as_slice() else {
                return None;
            };
            Some(Region {
                start: hex(start.strip_prefix("0x")?)?,
                end: hex(end.strip_prefix("0x")?)?,
                usable: kind.first() == Some(&"usable"),
                kind: kind.join(" "),
            })
        })
        .take(count)
        .collect();
    if rows.len() != count {
        return Err(format!(
            "baton's memory map has {count} regions but the log shows {} rows (run baton with log=debug)",
            rows.len()
        ));
    }
    Ok(rows)
}

/// GNU Mach's map: `biosmem: 000000000000100000:00000000001ffdf000, available`.
fn gnumach_map(serial: &str) -> Result<Vec<Region>, String> {
    let rows: Vec<Region> = serial
        .lines()
        .filter_map(|l| {
            let (range, kind) = l.split_once("biosmem: ")?.1.split_once(", ")?;
            let (start, end) = range.split_once(':')?;
            Some(Region {
                start: hex(start)?,
                end: hex(end)?,
                usable: kind.trim() == "available",
                kind: kind.trim().to_string(),
            })
        })
        .collect();
    if rows.is_empty() {
        return Err("GNU Mach printed no `biosmem:` memory map".into());
    }
    Ok(rows)
}

/// What baton may keep from the kernel: `boot information at 0x...` and
/// `park area [0x...` (reserved where the IDTR or parked APs still use it).
fn kept_addresses(serial: &str) -> Result<(u64, Option<(u64, u64)>), String> {
    let line = serial
        .lines()
        .find(|l| l.contains("baton: handoff prepared: "))
        .ok_or("baton's log has no `handoff prepared` line")?;
    let after = |key: &str| {
        let rest = line.split_once(key)?.1;
        let end = rest.find(|c: char| !c.is_ascii_hexdigit() && c != 'x')?;
        hex(&rest[..end])
    };
    let info = after("boot information at ").ok_or("no boot information address")?;
    // `park area [0x3000..0xd000)`
    let park = line.split_once("park area [").and_then(|(_, rest)| {
        let (start, rest) = rest.split_once("..")?;
        Some((hex(start)?, hex(rest.split_once(')')?.0)?))
    });
    Ok((info, park))
}

/// Page-granular usable ranges, sorted and merged (GNU Mach rounds each
/// available range inward to whole pages).
fn usable_pages(map: &[Region]) -> Vec<(u64, u64)> {
    let mut r: Vec<(u64, u64)> = map
        .iter()
        .filter(|m| m.usable)
        .map(|m| (m.start.next_multiple_of(PAGE), m.end / PAGE * PAGE))
        .filter(|(s, e)| s < e)
        .collect();
    r.sort();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (s, e) in r {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// `a` minus `b`, both sorted and disjoint.
fn subtract(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(mut s, e) in a {
        for &(bs, be) in b {
            if be <= s || bs >= e {
                continue;
            }
            if bs > s {
                out.push((s, bs));
            }
            s = s.max(be);
        }
        if s < e {
            out.push((s, e));
        }
    }
    out
}

fn gnumach_memory_map(serial: &str) -> Result<String, String> {
    let baton = baton_map(serial)?;
    let mach = gnumach_map(serial)?;
    let (info, park) = kept_addresses(serial)?;
    let mut problems = Vec::new();
    // Every range baton does not call usable reaches GNU Mach as it was.
    for r in baton.iter().filter(|r| !r.usable) {
        if !mach
            .iter()
            .any(|m| !m.usable && m.start == r.start && m.end == r.end)
        {
            problems.push(format!(
                "baton's {} [{:#x}..{:#x}) is not in GNU Mach's map",
                r.kind, r.start, r.end
            ));
        }
    }
    let (ours, theirs) = (usable_pages(&baton), usable_pages(&mach));
    for (s, e) in subtract(&theirs, &ours) {
        problems.push(format!(
            "GNU Mach calls [{s:#x}..{e:#x}) available, which baton's map does not"
        ));
    }
    // What baton's map calls usable and GNU Mach does not: only what baton
    // kept: its boot information (its size rounded up, at most 64 KiB) and
    // the park area, apart or as one range where they touch.
    let holes = subtract(&ours, &theirs);
    let mut kept = vec![(info, info + 64 * 1024)];
    kept.extend(park);
    kept.sort();
    for &(s, e) in &holes {
        let starts_right = s == info || park.is_some_and(|(p, _)| p == s);
        if !starts_right || !subtract(&[(s, e)], &kept).is_empty() {
            problems.push(format!(
                "[{s:#x}..{e:#x}) is usable in baton's map but not in GNU Mach's, and is not what baton kept (boot information at {info:#x}, park area {park:x?})"
            ));
        }
    }
    let Some(&(is, ie)) = holes.iter().find(|(s, _)| *s == info) else {
        problems.push(format!(
            "the boot information at {info:#x} is not reserved in GNU Mach's map"
        ));
        return Err(problems.join("; "));
    };
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let available: u64 = theirs.iter().map(|(s, e)| e - s).sum();
    let park = match park {
        Some((p, pe)) if is < p && p < ie => {
            format!(" and the park area [{p:#x}..{pe:#x}) in one range")
        }
        Some((p, _)) => match holes.iter().find(|(s, _)| *s == p) {
            Some((s, e)) => format!(" and the park area [{s:#x}..{e:#x})"),
            None => String::new(),
        },
        None => String::new(),
    };
    Ok(format!(
        "GNU Mach's memory map ({} entries, {} KiB available) is baton's ({} regions) with the boot information [{is:#x}..{ie:#x}){park} reserved",
        mach.len(),
        available / 1024,
        baton.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From a run of GNU Mach 1.8 through baton (q35, 512M, log=debug).
    const SERIAL: &str = "\
[     7000us INFO ] memory map (9 regions):
[     7100us DEBUG]                start                 end    size KiB  kind
[     7869us DEBUG]   0x0000000000000000  0x000000000009fc00         639  usable
[     8098us DEBUG]   0x000000000009fc00  0x00000000000a0000           1  reserved
[     8176us DEBUG]   0x00000000000f0000  0x0000000000100000          64  reserved
[     8232us DEBUG]   0x0000000000100000  0x000000001ffdf000      523132  usable
[     8283us DEBUG]   0x000000001ffdf000  0x0000000020000000         132  reserved
[     8340us DEBUG]   0x00000000b0000000  0x00000000c0000000      262144  reserved
[     8391us DEBUG]   0x00000000fed1c000  0x00000000fed20000          16  reserved
[     8444us DEBUG]   0x00000000fffc0000  0x0000000100000000         256  reserved
[     8496us DEBUG]   0x000000fd00000000  0x0000010000000000    12582912  reserved
[     8625us INFO ] usable RAM 511 MiB, identity-mapped up to 0x100000000
[    80452us INFO ] baton: handoff prepared: park area [0x1ff25000..0x1ff2e000), boot information at 0x1000 (411 bytes), 3 copies, 0 modules
GNU Mach 1.8+git20221224-486
biosmem: physical memory map:
biosmem: 000000000000000000:000000000000001000, available
biosmem: 000000000000001000:000000000000002000, reserved
biosmem: 000000000000002000:00000000000009f000, available
biosmem: 00000000000009fc00:0000000000000a0000, reserved
biosmem: 0000000000000f0000:000000000000100000, reserved
biosmem: 000000000000100000:00000000001ffdf000, available
biosmem: 00000000001ffdf000:000000000020000000, reserved
biosmem: 0000000000b0000000:0000000000c0000000, reserved
biosmem: 0000000000fed1c000:0000000000fed20000, reserved
biosmem: 0000000000fffc0000:000000000100000000, reserved
biosmem: 00000000fd00000000:000000010000000000, reserved
vm_page: page table size: 131023 entries (12284k)
";

    #[test]
    fn gnumach_map_matches_what_baton_handed_over() {
        let found = Check::GnumachMemoryMap.run(SERIAL).unwrap();
        assert!(
            found.contains("(11 entries, 523764 KiB available) is baton's (9 regions) with the boot information [0x1000..0x2000) reserved"),
            "{found}"
        );
    }

    #[test]
    fn the_park_area_may_be_reserved_too() {
        let parked = SERIAL.replace(
            "biosmem: 000000000000100000:00000000001ffdf000, available\n",
            "biosmem: 000000000000100000:00000000001ff25000, available\n\
             biosmem: 00000000001ff25000:00000000001ff2e000, reserved\n\
             biosmem: 00000000001ff2e000:00000000001ffdf000, available\n",
        );
        let found = Check::GnumachMemoryMap.run(&parked).unwrap();
        assert!(
            found.ends_with("boot information [0x1000..0x2000) and the park area [0x1ff25000..0x1ff2e000) reserved"),
            "{found}"
        );
    }

    #[test]
    fn the_park_area_may_touch_the_boot_information() {
        let merged = SERIAL
            .replace(
                "park area [0x1ff25000..0x1ff2e000), boot information at 0x1000",
                "park area [0x2000..0xc000), boot information at 0x1000",
            )
            .replace(
                "biosmem: 000000000000001000:000000000000002000, reserved\n\
                 biosmem: 000000000000002000:00000000000009f000, available",
                "biosmem: 000000000000001000:00000000000000c000, reserved\n\
                 biosmem: 00000000000000c000:00000000000009f000, available",
            );
        let found = Check::GnumachMemoryMap.run(&merged).unwrap();
        assert!(
            found.ends_with("boot information [0x1000..0xc000) and the park area [0x2000..0xc000) in one range reserved"),
            "{found}"
        );
        // A hole past both is not theirs.
        let wide = merged
            .replace(
                ":00000000000000c000, reserved",
                ":00000000000001c000, reserved",
            )
            .replace(
                "00000000000000c000:00000000000009f000",
                "00000000000001c000:00000000000009f000",
            );
        let e = Check::GnumachMemoryMap.run(&wide).unwrap_err();
        assert!(
            e.contains("[0x1000..0x1c000) is usable in baton's map but not in GNU Mach's"),
            "{e}"
        );
    }

    #[test]
    fn gnumach_map_differences_are_named() {
        // GNU Mach sees more RAM than baton has.
        let more = SERIAL.replace(
            "000000000000100000:00000000001ffdf000, available",
            "000000000000100000:00000000002ffdf000, available",
        );
        let e = Check::GnumachMemoryMap.run(&more).unwrap_err();
        assert!(
            e.contains("GNU Mach calls [0x1ffdf000..0x2ffdf000) available"),
            "{e}"
        );
        // The boot information not reserved.
        let open = SERIAL
            .replace(
                "biosmem: 000000000000001000:000000000000002000, reserved\n",
                "",
            )
            .replace(
                "000000000000002000:00000000000009f000",
                "000000000000001000:00000000000009f000",
            );
        let e = Check::GnumachMemoryMap.run(&open).unwrap_err();
        assert!(
            e.contains("the boot information at 0x1000 is not reserved"),
            "{e}"
        );
        // A reserved range lost, a usable one cut short.
        let lost = SERIAL
            .replace(
                "biosmem: 0000000000b0000000:0000000000c0000000, reserved\n",
                "",
            )
            .replace(
                "00000000001ffdf000, available",
                "00000000001f000000, available",
            );
        let e = Check::GnumachMemoryMap.run(&lost).unwrap_err();
        assert!(
            e.contains("baton's reserved [0xb0000000..0xc0000000) is not in GNU Mach's map"),
            "{e}"
        );
        assert!(
            e.contains("[0x1f000000..0x1ffdf000) is usable in baton's map but not in GNU Mach's"),
            "{e}"
        );
        // Without baton's table (no log=debug).
        let e = Check::GnumachMemoryMap
            .run("GNU Mach\nbiosmem: 0:1000, available\n")
            .unwrap_err();
        assert!(e.contains("memory map (N regions)"), "{e}");
    }
}
