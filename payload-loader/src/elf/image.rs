//! The types of a validated ELF image: [`ElfImage`], its class and type, its program headers
//! widened to 64 bits ([`Phdr`]) and the notes read from them ([`Note`]).

use alloc::vec::Vec;

use goblin::elf::program_header::PF_X;

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
