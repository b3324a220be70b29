//! ELF validation on the program-header path: the ELF header and program headers as goblin's
//! types (after bounding them ourselves), then every PT_LOAD checked with checked arithmetic.
//! The section headers are never read.
//!
//! Here: the ELF header and the program header table; the types are in `image`, `segments`
//! checks the PT_LOADs, `notes` reads PT_NOTEs, `relocations` the `R_X86_64_RELATIVE` entries
//! of an ET_DYN image.

use alloc::boxed::Box;
use alloc::vec::Vec;

use goblin::elf::header::{
    EI_CLASS, EI_DATA, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, EM_386, EM_X86_64, ET_DYN, ET_EXEC,
    Header, header32, header64,
};
use goblin::elf::program_header::{ProgramHeader, program_header32, program_header64};
use plain::Plain;

use crate::error::{Error, Result};

mod image;
mod notes;
mod relocations;
mod segments;

pub use image::{ElfClass, ElfImage, ElfType, Note, Phdr};
pub use notes::parse_notes;

const EHDR32: usize = header32::SIZEOF_EHDR;
const EHDR64: usize = header64::SIZEOF_EHDR;

// goblin's per-class headers are `repr(C)` structs in the machine's byte
// order; `copied` below reads little-endian files only on a little-endian
// machine (baton's, and the hosts its tests run on).
#[cfg(not(target_endian = "little"))]
compile_error!("payload-loader copies little-endian ELF headers as they are");

/// A `T` copied out of the front of `raw` (any alignment); None when `raw`
/// is shorter. goblin's own parsers read the same structs field by field
/// through scroll, with an error check per field: 3.6 KB of baton's code
/// for the ELF header alone, where this is a bounds check and a copy.
fn copied<T: Plain + Default>(raw: &[u8]) -> Option<T> {
    let mut value = T::default();
    value.copy_from_bytes(raw).ok()?;
    Some(value)
}

/// The ELF header of a little-endian file of either class, widened to
/// goblin's class-independent `Header`; None when `bytes` is too short for
/// it or is not such a file (the caller names which check failed).
pub(crate) fn header(bytes: &[u8]) -> Option<Header> {
    match (*bytes.get(EI_CLASS)?, *bytes.get(EI_DATA)?) {
        (ELFCLASS32, ELFDATA2LSB) => copied::<header32::Header>(bytes).map(Header::from),
        (ELFCLASS64, ELFDATA2LSB) => copied::<header64::Header>(bytes).map(Header::from),
        _ => None,
    }
}

/// One program header table entry of `class`, widened to 64 bits.
fn program_header(class: ElfClass, raw: &[u8]) -> Option<ProgramHeader> {
    match class {
        ElfClass::Elf32 => copied::<program_header32::ProgramHeader>(raw).map(ProgramHeader::from),
        ElfClass::Elf64 => copied::<program_header64::ProgramHeader>(raw).map(ProgramHeader::from),
    }
}

/// Validates the ELF header and every PT_LOAD (see the crate docs for the list of checks).
pub fn parse(bytes: &[u8]) -> Result<ElfImage<'_>> {
    if bytes.len() < 16 {
        return Err(Box::new(Error::TruncatedHeader {
            len: bytes.len(),
            need: 16,
        }));
    }
    if bytes[0..4] != *b"\x7fELF" {
        return Err(Box::new(Error::BadMagic {
            found: [bytes[0], bytes[1], bytes[2], bytes[3]],
        }));
    }
    let (class, need) = match bytes[4] {
        1 => (ElfClass::Elf32, EHDR32),
        2 => (ElfClass::Elf64, EHDR64),
        c => return Err(Box::new(Error::BadClass { class: c })),
    };
    if bytes[5] != 1 {
        return Err(Box::new(Error::BadDataEncoding { data: bytes[5] }));
    }
    if bytes[6] != 1 {
        return Err(Box::new(Error::BadVersion {
            version: u32::from(bytes[6]),
        }));
    }
    if bytes.len() < need {
        return Err(Box::new(Error::TruncatedHeader {
            len: bytes.len(),
            need,
        }));
    }
    let header = header(bytes).ok_or(Error::Unparsable { what: "ELF header" })?;
    if header.e_version != 1 {
        return Err(Box::new(Error::BadVersion {
            version: header.e_version,
        }));
    }
    let expected_machine = match class {
        ElfClass::Elf32 => EM_386,
        ElfClass::Elf64 => EM_X86_64,
    };
    if header.e_machine != expected_machine {
        return Err(Box::new(Error::BadMachine {
            machine: header.e_machine,
            class_bits: class.bits(),
        }));
    }
    let elf_type = match header.e_type {
        ET_EXEC => ElfType::Exec,
        ET_DYN => ElfType::Dyn,
        t => return Err(Box::new(Error::BadType { e_type: t })),
    };
    let phentsize = match class {
        ElfClass::Elf32 => program_header32::SIZEOF_PHDR,
        ElfClass::Elf64 => program_header64::SIZEOF_PHDR,
    } as u16;
    if header.e_phnum == 0 {
        return Err(Box::new(Error::NoProgramHeaders));
    }
    if header.e_phentsize != phentsize {
        return Err(Box::new(Error::BadPhentsize {
            found: header.e_phentsize,
            expected: phentsize,
        }));
    }
    let table_len = u64::from(header.e_phnum) * u64::from(phentsize);
    let oob = Error::ProgramHeadersOutOfFile {
        phoff: header.e_phoff,
        phnum: header.e_phnum,
        phentsize,
        file_len: bytes.len(),
    };
    let table = usize::try_from(header.e_phoff)
        .ok()
        .and_then(|start| bytes.get(start..)?.get(..usize::try_from(table_len).ok()?))
        .ok_or(oob)?;
    // A plain loop, not `collect()` into `Result<Vec<_>>`: less code.
    let mut phdrs = Vec::with_capacity(usize::from(header.e_phnum));
    for (index, raw) in table.chunks_exact(usize::from(phentsize)).enumerate() {
        let p = program_header(class, raw).ok_or(Error::Unparsable {
            what: "program headers",
        })?;
        phdrs.push(Phdr {
            index,
            p_type: p.p_type,
            flags: p.p_flags,
            offset: p.p_offset,
            vaddr: p.p_vaddr,
            paddr: p.p_paddr,
            filesz: p.p_filesz,
            memsz: p.p_memsz,
            align: p.p_align,
        });
    }

    let image = ElfImage {
        bytes,
        class,
        elf_type,
        machine: header.e_machine,
        entry: header.e_entry,
        phdrs,
    };
    image.check_loads()?;
    Ok(image)
}
