//! The PVH start_info parser over arbitrary memory: start_info at address
//! 0x1000, the input's bytes mapped from address 0x1000 on. Every pointer
//! and count inside comes from the input. On success the result must be a
//! sanitized map and modules inside it.
#![no_main]

use payload_loader::MemoryKind;
use baton::support::phys::FakeMemory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut mem = FakeMemory::new(0x1000, data.len());
    mem.write(0x1000, data);
    if let Ok(info) = baton::entry::pvh::parse(&mem, 0x1000) {
        let regions = info.memory_map.regions();
        assert!(!regions.is_empty());
        for pair in regions.windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "overlap or unsorted: {pair:x?}"
            );
            assert!(
                !(pair[0].end == pair[1].start && pair[0].kind == pair[1].kind),
                "unmerged"
            );
        }
        assert!(regions.iter().all(|r| r.start < r.end));
        for m in &info.modules {
            assert!(
                info.memory_map
                    .covers(m.start, m.len, MemoryKind::is_readable)
            );
        }
        assert!(info.cmdline.len() <= 4 * 4096);
    }
});
