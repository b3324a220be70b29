//! ELF header / program header validation, notes and dynamic relocations.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payload_loader::elf;

fuzz_target!(|data: &[u8]| {
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
