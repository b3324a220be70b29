//! The ACPI validation layer from the RSDP down: the input is memory from
//! address 0, the RSDP at 0. So that the fuzzer gets past the checksums,
//! the harness repairs them (RSDP, root table, every listed table) on most
//! inputs; the rest keep their bytes as given. A MADT that passes is
//! walked, a FADT parsed. Must end, never panic.
#![no_main]

use baton::acpi::{load, madt, sdt};
use baton::support::phys::{FakeMemory, le_u32, le_u64};
use libfuzzer_sys::fuzz_target;

/// Makes the table at `at` (if its header fits) sum to zero at byte 9.
fn repair(bytes: &mut [u8], at: usize) {
    let Some(header) = bytes.get(at..at.saturating_add(36)) else {
        return;
    };
    let len = le_u32(header, 4) as usize;
    let Some(table) = bytes.get_mut(at..at.saturating_add(len)) else {
        return;
    };
    if len < 36 {
        return;
    }
    table[9] = 0;
    table[9] = 0u8.wrapping_sub(sdt::checksum(table));
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.first().is_some_and(|b| b & 7 != 0) && bytes.len() >= 36 {
        bytes[0..8].copy_from_slice(b"RSD PTR ");
        bytes[8] = 0;
        bytes[8] = 0u8.wrapping_sub(sdt::checksum(&bytes[..20]));
        bytes[32] = 0;
        bytes[32] = 0u8.wrapping_sub(sdt::checksum(&bytes[..36]));
        let (root, size) = if bytes[15] >= 2 {
            (le_u64(&bytes, 24) as usize, 8)
        } else {
            (le_u32(&bytes, 16) as usize, 4)
        };
        if let Some(len) = bytes
            .get(root..root.saturating_add(8))
            .map(|h| le_u32(h, 4) as usize)
        {
            let end = root.saturating_add(len).min(bytes.len());
            let entries: Vec<usize> = (root.saturating_add(36)..end)
                .step_by(size)
                .filter_map(|e| bytes.get(e..e.saturating_add(size)))
                .map(|e| {
                    if size == 8 {
                        le_u64(e, 0) as usize
                    } else {
                        le_u32(e, 0) as usize
                    }
                })
                .collect();
            for at in entries {
                repair(&mut bytes, at);
            }
            repair(&mut bytes, root);
        }
    }
    let mut mem = FakeMemory::new(0, bytes.len());
    mem.write(0, &bytes);
    if let Ok(tables) = load(&mem, 0)
        && let Some(madt) = tables.madt
    {
        let _ = madt::parse(&madt, 0, true);
    }
});
