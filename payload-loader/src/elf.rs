//! ELF validation on the program-header path: the ELF header and program headers as goblin's
//! types (after bounding them ourselves), then every PT_LOAD checked with checked arithmetic.
//! The section headers are never read.

use alloc::boxed::Box;
use alloc::vec::Vec;

use goblin::elf::header::{
    EI_CLASS, EI_DATA, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, EM_386, EM_X86_64, ET_DYN, ET_EXEC,
    Header, header32, header64,
};
use goblin::elf::program_header::{
    PF_X, PT_DYNAMIC, PT_LOAD, PT_NOTE, ProgramHeader, program_header32, program_header64,
};
use plain::Plain;

use crate::bytes::{u32_at, u64_at};
use crate::error::{Error, Result};

/// ELF class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfClass {
    /// 32-bit ELF (a Multiboot kernel).
    Elf32,
    /// 64-bit ELF.
    Elf64,
}

impl ElfClass {
    /// 32 or 64.
    pub fn bits(self) -> u8 {
        match self {
            ElfClass::Elf32 => 32,
            ElfClass::Elf64 => 64,
        }
    }
}

impl core::fmt::Display for ElfClass {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ELF{}", self.bits())
    }
}

/// ELF file type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfType {
    /// `ET_EXEC`: loaded at its addresses.
    Exec,
    /// `ET_DYN`: position independent.
    Dyn,
}

impl core::fmt::Display for ElfType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ElfType::Exec => "ET_EXEC",
            ElfType::Dyn => "ET_DYN",
        })
    }
}

/// One program header, widened to 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phdr {
    /// Index in the program header table.
    pub index: usize,
    /// `p_type`.
    pub p_type: u32,
    /// `p_flags` (PF_R, PF_W, PF_X).
    pub flags: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_paddr`: where the segment is loaded.
    pub paddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
    /// `p_align`.
    pub align: u64,
}

impl Phdr {
    /// Whether the segment is executable (`PF_X`).
    pub fn is_executable(&self) -> bool {
        self.flags & PF_X != 0
    }
}

/// One ELF note, borrowed from the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note<'a> {
    /// Program header index of the PT_NOTE.
    pub segment: usize,
    /// Name without its terminating NUL.
    pub name: &'a [u8],
    /// The note's type.
    pub n_type: u32,
    /// Its descriptor.
    pub desc: &'a [u8],
}

/// A validated ELF kernel image.
#[derive(Debug, Clone)]
pub struct ElfImage<'a> {
    /// The whole file.
    pub bytes: &'a [u8],
    /// 32- or 64-bit.
    pub class: ElfClass,
    /// ET_EXEC or ET_DYN.
    pub elf_type: ElfType,
    /// `e_machine`.
    pub machine: u16,
    /// `e_entry`.
    pub entry: u64,
    /// Every program header (all types).
    pub phdrs: Vec<Phdr>,
}

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
    let header = header(bytes).ok_or(Error::Goblin { what: "ELF header" })?;
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
    let phdrs = table
        .chunks_exact(usize::from(phentsize))
        .enumerate()
        .map(|(index, raw)| {
            let p = program_header(class, raw).ok_or(Error::Goblin {
                what: "program headers",
            })?;
            Ok(Phdr {
                index,
                p_type: p.p_type,
                flags: p.p_flags,
                offset: p.p_offset,
                vaddr: p.p_vaddr,
                paddr: p.p_paddr,
                filesz: p.p_filesz,
                memsz: p.p_memsz,
                align: p.p_align,
            })
        })
        .collect::<Result<Vec<Phdr>>>()?;

    let image = ElfImage {
        bytes,
        class,
        elf_type,
        machine: header.e_machine,
        entry: header.e_entry,
        phdrs,
    };
    image.validate_loads()?;
    Ok(image)
}

impl<'a> ElfImage<'a> {
    /// PT_LOAD headers with a non-zero memory size, in table order.
    pub fn loads(&self) -> impl Iterator<Item = &Phdr> {
        self.phdrs
            .iter()
            .filter(|p| p.p_type == PT_LOAD && p.memsz != 0)
    }

    fn addr_limit(&self) -> u64 {
        match self.class {
            ElfClass::Elf32 => 1 << 32,
            ElfClass::Elf64 => u64::MAX,
        }
    }

    fn validate_loads(&self) -> Result<()> {
        let limit = self.addr_limit();
        let mut ranges: Vec<(u64, u64, usize)> = Vec::new();
        for p in self.loads() {
            let segment = p.index;
            if p.filesz > p.memsz {
                return Err(Box::new(Error::FileSizeExceedsMemSize {
                    segment,
                    filesz: p.filesz,
                    memsz: p.memsz,
                }));
            }
            match p.offset.checked_add(p.filesz) {
                Some(end) if end <= self.bytes.len() as u64 => {}
                _ => {
                    return Err(Box::new(Error::SegmentOutOfFile {
                        segment,
                        offset: p.offset,
                        filesz: p.filesz,
                        file_len: self.bytes.len(),
                    }));
                }
            }
            for addr in [p.paddr, p.vaddr] {
                match addr.checked_add(p.memsz) {
                    Some(end) if end <= limit => {}
                    _ => {
                        return Err(Box::new(Error::SegmentWraps {
                            segment,
                            addr,
                            memsz: p.memsz,
                        }));
                    }
                }
            }
            if p.align > 1
                && (!p.align.is_power_of_two() || p.vaddr % p.align != p.offset % p.align)
            {
                return Err(Box::new(Error::BadAlignment {
                    segment,
                    align: p.align,
                    vaddr: p.vaddr,
                    offset: p.offset,
                }));
            }
            // Checked above: no wrap. ET_DYN images are placed by their virtual addresses.
            let at = if self.elf_type == ElfType::Dyn {
                p.vaddr
            } else {
                p.paddr
            };
            ranges.push((at, at + p.memsz, segment));
        }
        if ranges.is_empty() {
            return Err(Box::new(Error::NoLoadableSegments));
        }
        crate::sort::heapsort(&mut ranges);
        for w in ranges.windows(2) {
            let (a, b) = (w[0], w[1]);
            if b.0 < a.1 {
                // Report in table order: the later segment overlaps the earlier one.
                let (first, second) = if a.2 < b.2 { (a, b) } else { (b, a) };
                return Err(Box::new(Error::SegmentOverlap {
                    segment: second.2,
                    start: second.0,
                    end: second.1,
                    other: first.2,
                    other_start: first.0,
                    other_end: first.1,
                }));
            }
        }
        Ok(())
    }

    /// The file bytes of a program header (bounds were checked for PT_LOAD; checked again here).
    pub fn file_bytes(&self, p: &Phdr) -> Result<&'a [u8]> {
        let oob = Error::SegmentOutOfFile {
            segment: p.index,
            offset: p.offset,
            filesz: p.filesz,
            file_len: self.bytes.len(),
        };
        let start = usize::try_from(p.offset).map_err(|_| oob.clone())?;
        let len = usize::try_from(p.filesz).map_err(|_| oob.clone())?;
        let end = start.checked_add(len).ok_or(oob.clone())?;
        self.bytes.get(start..end).ok_or_else(|| Box::new(oob))
    }

    /// Translates an entry address to a physical address: first by the executable PT_LOAD whose
    /// virtual range holds it, then by one whose physical range holds it (Linux's vmlinux has a
    /// physical `e_entry`).
    pub fn entry_physical(&self, entry: u64) -> Option<u64> {
        let exec = || self.loads().filter(|p| p.is_executable());
        if let Some(p) = exec().find(|p| p.vaddr <= entry && entry - p.vaddr < p.memsz) {
            return Some(p.paddr + (entry - p.vaddr));
        }
        exec()
            .find(|p| p.paddr <= entry && entry - p.paddr < p.memsz)
            .map(|_| entry)
    }

    /// Every note of every PT_NOTE, read by `p_offset` / `p_filesz` (some PT_NOTE headers carry
    /// a zero paddr/memsz). A malformed note is an error, not skipped.
    pub fn notes(&self) -> Result<Vec<Note<'a>>> {
        let mut out = Vec::new();
        for p in self.phdrs.iter().filter(|p| p.p_type == PT_NOTE) {
            let data = self.file_bytes(p)?;
            let align = if p.align == 8 { 8 } else { 4 };
            parse_notes(p.index, data, align, &mut out)?;
        }
        Ok(out)
    }

    /// The `R_X86_64_RELATIVE` relocations of an ET_DYN image as `(r_offset, r_addend)`.
    pub fn relative_relocations(&self) -> Result<Vec<(u64, i64)>> {
        if self.class != ElfClass::Elf64 {
            return Err(Box::new(Error::BadDynamic {
                detail: "ELF32 ET_DYN is not supported",
                value: 0,
            }));
        }
        let Some(dynp) = self.phdrs.iter().find(|p| p.p_type == PT_DYNAMIC) else {
            return Ok(Vec::new());
        };
        let dynamic = self.file_bytes(dynp)?;
        let (mut rela, mut relasz, mut relaent) = (None, 0u64, 24u64);
        let mut off = 0usize;
        while let (Some(tag), Some(val)) = (u64_at(dynamic, off), u64_at(dynamic, off + 8)) {
            match tag {
                0 => break,
                7 => rela = Some(val),
                8 => relasz = val,
                9 => relaent = val,
                17..=19 => {
                    return Err(Box::new(Error::BadDynamic {
                        detail: "DT_REL is not supported",
                        value: tag,
                    }));
                }
                23 => {
                    return Err(Box::new(Error::BadDynamic {
                        detail: "DT_JMPREL is not supported",
                        value: val,
                    }));
                }
                35..=37 => {
                    return Err(Box::new(Error::BadDynamic {
                        detail: "DT_RELR is not supported",
                        value: tag,
                    }));
                }
                _ => {}
            }
            off += 16;
        }
        if relaent != 24 {
            return Err(Box::new(Error::BadDynamic {
                detail: "DT_RELAENT is not 24",
                value: relaent,
            }));
        }
        let Some(rela) = rela else {
            return Ok(Vec::new());
        };
        // Map DT_RELA (a virtual address) to file bytes through the PT_LOAD that holds it.
        let seg = self
            .loads()
            .find(|p| p.vaddr <= rela && rela - p.vaddr < p.filesz)
            .ok_or(Error::BadDynamic {
                detail: "DT_RELA is not inside a loaded segment's file bytes",
                value: rela,
            })?;
        let in_seg = rela - seg.vaddr;
        if relasz > seg.filesz - in_seg {
            return Err(Box::new(Error::BadDynamic {
                detail: "DT_RELASZ runs past its segment",
                value: relasz,
            }));
        }
        let bytes = self.file_bytes(seg)?;
        let start = usize::try_from(in_seg).map_err(|_| Error::BadDynamic {
            detail: "DT_RELA",
            value: rela,
        })?;
        let count = (relasz / 24) as usize;
        let mut out = Vec::with_capacity(count.min(1 << 16));
        for index in 0..count {
            let at = start + index * 24;
            let (Some(r_offset), Some(info), Some(addend)) = (
                u64_at(bytes, at),
                u64_at(bytes, at + 8),
                u64_at(bytes, at + 16),
            ) else {
                return Err(Box::new(Error::BadDynamic {
                    detail: "relocation table truncated",
                    value: index as u64,
                }));
            };
            let r_type = (info & 0xffff_ffff) as u32;
            match r_type {
                0 => {}
                8 => out.push((r_offset, addend as i64)),
                _ => return Err(Box::new(Error::UnsupportedRelocation { index, r_type })),
            }
        }
        Ok(out)
    }
}

/// Parses the notes in one PT_NOTE's bytes.
pub fn parse_notes<'a>(
    segment: usize,
    data: &'a [u8],
    align: usize,
    out: &mut Vec<Note<'a>>,
) -> Result<()> {
    let mut off = 0usize;
    while off < data.len() {
        let avail = (data.len() - off) as u64;
        let trunc = |namesz, descsz| Error::NoteTruncated {
            segment,
            offset: off as u64,
            namesz,
            descsz,
            avail,
        };
        let (Some(namesz), Some(descsz), Some(n_type)) = (
            u32_at(data, off),
            u32_at(data, off + 4),
            u32_at(data, off + 8),
        ) else {
            return Err(Box::new(trunc(0, 0)));
        };
        let name_start = off + 12;
        let name_end = name_start
            .checked_add(namesz as usize)
            .ok_or(trunc(namesz, descsz))?;
        let desc_start = crate::bytes::align_up(name_end, align).ok_or(trunc(namesz, descsz))?;
        let desc_end = desc_start
            .checked_add(descsz as usize)
            .ok_or(trunc(namesz, descsz))?;
        if desc_end > data.len() || desc_start > data.len() {
            return Err(Box::new(trunc(namesz, descsz)));
        }
        let mut name = &data[name_start..name_end];
        if let [rest @ .., 0] = name {
            name = rest;
        }
        out.push(Note {
            segment,
            name,
            n_type,
            desc: &data[desc_start..desc_end],
        });
        let next = crate::bytes::align_up(desc_end, align).ok_or(trunc(namesz, descsz))?;
        // `next >= off + 12`, so the loop always advances.
        off = next.min(data.len());
    }
    Ok(())
}
