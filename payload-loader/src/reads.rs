//! What `plan` reads of a kernel file, so that a loader can fetch only that
//! before planning and bring the segments' bytes later, straight to their
//! destinations (baton does this with fw_cfg DMA: Debian's 53 MB vmlinux
//! then costs one transfer of its 45 MB of segments and no copy).
//!
//! `plan` reads the first `HEAD` bytes (the Multiboot1 and Multiboot2
//! header windows, the ELF header), the program header table and the
//! PT_NOTE contents; ET_DYN files and files with a PT_DYNAMIC segment also
//! have their relocations read from the segments, so for them nothing less
//! than the whole file will do.
//!
//! A bzImage: `plan` reads its setup sectors only ([`setup_sectors`]).

use alloc::vec::Vec;

use goblin::elf::program_header::{PT_DYNAMIC, PT_NOTE};

use crate::elf::{self, ElfType};
use crate::memory::Range;

/// The head of the file `plan` looks at: the larger Multiboot window.
pub const HEAD: u64 = crate::multiboot2::SEARCH_LIMIT as u64;

/// The file range of the program header table, from the ELF header at the
/// start of `head`; None when the header is not one `plan` could accept
/// (then read the whole file and let `plan` name the fault).
pub fn program_header_table(head: &[u8], file_len: u64) -> Option<Range> {
    let header = elf::header(head)?;
    let len = u64::from(header.e_phnum) * u64::from(header.e_phentsize);
    let end = header.e_phoff.checked_add(len)?;
    (end <= file_len).then(|| Range::new(header.e_phoff, end))
}

/// Besides `HEAD` and the program header table, which must be in `kernel`
/// already, the file ranges `plan` reads: the PT_NOTE contents. None when
/// it may read more (ET_DYN, PT_DYNAMIC) or the headers do not parse.
pub fn metadata_ranges(kernel: &[u8]) -> Option<Vec<Range>> {
    let image = elf::parse(kernel).ok()?;
    if image.elf_type != ElfType::Exec || image.phdrs.iter().any(|p| p.p_type == PT_DYNAMIC) {
        return None;
    }
    // A plain loop, not `collect()` into `Option<Vec<_>>`: 0.3 KB less code.
    let mut ranges = Vec::new();
    for p in image
        .phdrs
        .iter()
        .filter(|p| p.p_type == PT_NOTE && p.filesz != 0)
    {
        let end = p.offset.checked_add(p.filesz)?;
        if end > kernel.len() as u64 {
            return None;
        }
        ranges.push(Range::new(p.offset, end));
    }
    Some(ranges)
}

/// A bzImage's setup sectors, `[0, (setup_sects + 1) * 512)`: all `plan` reads of it besides
/// the file's length. None when `head` (the file's first bytes) is not a bzImage or does not
/// hold the whole setup (then read the whole file and let `plan` name the fault).
pub fn setup_sectors(head: &[u8], file_len: u64) -> Option<Range> {
    if head.starts_with(b"\x7fELF") || head.get(0x202..0x206) != Some(&b"HdrS"[..]) {
        return None;
    }
    let setup_sects = match *head.get(0x1f1)? {
        0 => 4,
        n => u64::from(n),
    };
    let setup_size = (setup_sects + 1) * 512;
    (setup_size <= head.len() as u64 && setup_size < file_len).then(|| Range::new(0, setup_size))
}
