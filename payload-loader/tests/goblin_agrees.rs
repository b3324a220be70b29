//! payload-loader copies goblin's per-class header structs out of the file
//! (`plain`) instead of calling goblin's field-by-field parsers; both must
//! read the same numbers, for either class and for fields near their limits.

mod common;

use common::{R, Seg, TestElf, W, X};
use goblin::container::{Container, Ctx, Endian};
use goblin::elf::program_header::ProgramHeader;
use payload_loader::elf::{self, ElfClass};

fn agree(file: &[u8]) {
    let image = elf::parse(file).expect("a valid test kernel");
    let header = goblin::elf::Elf::parse_header(file).expect("goblin reads the header");
    assert_eq!(image.entry, header.e_entry);
    assert_eq!(image.machine, header.e_machine);
    let container = match image.class {
        ElfClass::Elf32 => Container::Little,
        ElfClass::Elf64 => Container::Big,
    };
    let ctx = Ctx::new(container, Endian::Little);
    let phoff = usize::try_from(header.e_phoff).expect("phoff fits");
    let theirs = ProgramHeader::parse(file, phoff, usize::from(header.e_phnum), ctx)
        .expect("goblin reads the program headers");
    assert_eq!(image.phdrs.len(), theirs.len());
    for (ours, theirs) in image.phdrs.iter().zip(&theirs) {
        assert_eq!(
            (ours.p_type, ours.flags, ours.offset, ours.vaddr, ours.paddr),
            (
                theirs.p_type,
                theirs.p_flags,
                theirs.p_offset,
                theirs.p_vaddr,
                theirs.p_paddr
            )
        );
        assert_eq!(
            (ours.filesz, ours.memsz, ours.align),
            (theirs.p_filesz, theirs.p_memsz, theirs.p_align)
        );
    }
}

#[test]
fn both_classes_read_alike() {
    for elf in [TestElf::kernel64(), TestElf::kernel32()] {
        agree(&elf.build());
        agree(&elf.with_note(common::pvh_note(0x20_0010)).build());
    }
}

#[test]
fn wide_fields_read_alike() {
    // Every byte of each field different, so a field read at the wrong
    // offset or width shows.
    let mut elf64 = TestElf::kernel64();
    elf64.entry = 0x0000_7654_3200_1010;
    elf64.segs = vec![Seg {
        vaddr: 0x0000_7654_3200_1000,
        paddr: 0x0000_0001_2340_1000,
        align: 0x20_0000,
        ..Seg::load(0x1000, 0, 0x0807, 0x0a0b_0c0d, R | W | X)
    }];
    agree(&elf64.build());
    let mut elf32 = TestElf::kernel32();
    elf32.entry = 0xc123_4010;
    elf32.segs = vec![Seg {
        vaddr: 0xc123_4000,
        paddr: 0x0123_4000,
        ..Seg::load(0x1000, 0, 0x0807, 0x000a_0b0c, R | X)
    }];
    agree(&elf32.build());
}
