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
    goblin_agrees(data, &image);
    for p in image.loads() {
        assert!(p.filesz <= p.memsz);
        assert!(image.file_bytes(p).is_ok());
    }
    let _ = image.entry_physical(image.entry);
    let _ = image.notes();
    let _ = image.relative_relocations();
    let _ = payload_loader::detect(&image, None);
});

/// elf::parse copies goblin's header structs out of the file; goblin's own
/// field-by-field parsers must read the same numbers.
fn goblin_agrees(data: &[u8], image: &elf::ElfImage) {
    use goblin::container::{Container, Ctx, Endian};
    let header =
        goblin::elf::Elf::parse_header(data).expect("goblin reads a header elf::parse took");
    assert_eq!(
        (image.entry, image.machine),
        (header.e_entry, header.e_machine)
    );
    let container = match image.class {
        elf::ElfClass::Elf32 => Container::Little,
        elf::ElfClass::Elf64 => Container::Big,
    };
    let phoff = usize::try_from(header.e_phoff).expect("elf::parse bounded phoff");
    let theirs = goblin::elf::ProgramHeader::parse(
        data,
        phoff,
        usize::from(header.e_phnum),
        Ctx::new(container, Endian::Little),
    )
    .expect("goblin reads program headers elf::parse took");
    assert_eq!(image.phdrs.len(), theirs.len());
    for (ours, theirs) in image.phdrs.iter().zip(&theirs) {
        assert_eq!(
            [
                ours.offset,
                ours.vaddr,
                ours.paddr,
                ours.filesz,
                ours.memsz,
                ours.align
            ],
            [
                theirs.p_offset,
                theirs.p_vaddr,
                theirs.p_paddr,
                theirs.p_filesz,
                theirs.p_memsz,
                theirs.p_align
            ]
        );
        assert_eq!((ours.p_type, ours.flags), (theirs.p_type, theirs.p_flags));
    }
}
