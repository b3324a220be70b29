//! The coreboot-table reader over arbitrary memory: the input mapped from
//! address 0, the table at 0. So that the records are reached rather than
//! stopped at the checksums, the header's signature, size and both
//! checksums are made valid when the first byte is even (records, forward
//! pointers and every other field stay the fuzzer's). Every forward record
//! points somewhere in (or outside) the input: loops and chains included.
#![no_main]

use baton::entry::coreboot::tables::Tables;
use baton::entry::coreboot::{HEADER_SIZE, find, seal};
use baton::support::phys::FakeMemory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= HEADER_SIZE && bytes[0] % 2 == 0 {
        seal(&mut bytes);
    }
    let mut mem = FakeMemory::new(0, bytes.len());
    mem.write(0, &bytes);
    if let Ok((addr, _)) = find(&mem, Some(0))
        && let Ok(tables) = Tables::read(&mem, addr)
    {
        assert!(!tables.memory.is_empty());
        assert!(tables.tables.len() <= baton::entry::coreboot::MAX_FORWARDS + 1);
        if let Some(r) = tables.boot_media.and_then(|m| m.cbfs_range()) {
            assert!(r.start < r.end && r.end <= 1 << 32);
        }
        let _ = tables.memory_map();
        let _ = tables.firmware();
    }
});
