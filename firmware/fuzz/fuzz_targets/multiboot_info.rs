//! The Multiboot1 and Multiboot2 readers over arbitrary memory: the info
//! at 0x1000, the input mapped from 0x1000 on (the first byte picks the
//! protocol). Modules must lie in the resulting map.
#![no_main]

use payload_loader::MemoryKind;
use baton::support::phys::FakeMemory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let mut mem = FakeMemory::new(0x1000, rest.len());
    mem.write(0x1000, rest);
    let info = match which % 2 {
        0 => baton::entry::multiboot::multiboot1(&mem, 0x1000),
        _ => baton::entry::multiboot::multiboot2(&mem, 0x1000),
    };
    if let Ok(info) = info {
        for m in &info.modules {
            assert!(info.memory_map.covers(m.start, m.len, MemoryKind::is_readable));
        }
    }
});
