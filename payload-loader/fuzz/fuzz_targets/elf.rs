//! ELF header / program header validation, notes and dynamic relocations,
//! and the ranges `reads` names for a kernel read in part.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payload_loader::{elf, reads};

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    if let Some(t) = reads::program_header_table(data, len) {
        assert!(t.start <= t.end && t.end <= len);
    }
    for r in reads::metadata_ranges(data).unwrap_or_default() {
        assert!(r.start <= r.end && r.end <= len);
    }
    let Ok(image) = elf::parse(data) else { return };
    for p in image.loads() {
        assert!(p.filesz <= p.memsz);
        assert!(image.file_bytes(p).is_ok());
    }
    let _ = image.entry_physical(image.entry);
    let _ = image.notes();
    let _ = image.relative_relocations();
    let _ = payload_loader::detect(&image, None);
});
