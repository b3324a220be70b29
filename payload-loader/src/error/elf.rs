//! Messages for ELF errors: header, segments, notes, relocations.

use core::fmt;

use super::{Error, MemoryKindName, elsewhere};

/// The ELF header and its program header table.
pub(super) fn header(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        TruncatedHeader { len, need } => {
            write!(
                f,
                "ELF header truncated: file is {} bytes, header needs {}",
                *len, *need
            )
        }
        BadMagic {
            found: [a, b, c, d],
        } => {
            write!(
                f,
                "not an ELF file: magic {:#04x} {:#04x} {:#04x} {:#04x}",
                *a, *b, *c, *d
            )
        }
        BadClass { class } => write!(
            f,
            "e_ident[EI_CLASS] {} is neither ELF32 (1) nor ELF64 (2)",
            *class
        ),
        BadDataEncoding { data } => {
            write!(f, "e_ident[EI_DATA] {} is not little-endian (1)", *data)
        }
        BadVersion { version } => write!(f, "ELF version {} is not 1", *version),
        BadMachine {
            machine,
            class_bits,
        } => write!(
            f,
            "e_machine {} does not fit ELF{} (need EM_386 (3) for ELF32, EM_X86_64 (62) for ELF64)",
            *machine, *class_bits
        ),
        BadType { e_type } => {
            write!(
                f,
                "e_type {} is neither ET_EXEC (2) nor ET_DYN (3)",
                *e_type
            )
        }
        BadPhentsize { found, expected } => {
            write!(f, "e_phentsize {} is not {}", *found, *expected)
        }
        NoProgramHeaders => write!(f, "e_phnum is 0: no program headers"),
        ProgramHeadersOutOfFile {
            phoff,
            phnum,
            phentsize,
            file_len,
        } => write!(
            f,
            "program headers at 0x{:x} ({} x {} bytes) run past the end of the {}-byte file",
            *phoff, *phnum, *phentsize, *file_len
        ),
        Unparsable { what } => write!(f, "goblin could not parse the {}", *what),
        other => elsewhere(other, f),
    }
}

/// Loadable segments: sizes, file ranges, alignment, overlap, the entry, usable RAM.
pub(super) fn segment(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        NoLoadableSegments => write!(f, "no PT_LOAD segment with a non-zero p_memsz"),
        FileSizeExceedsMemSize {
            segment,
            filesz,
            memsz,
        } => write!(
            f,
            "segment {}: p_filesz 0x{:x} exceeds p_memsz 0x{:x}",
            *segment, *filesz, *memsz
        ),
        SegmentOutOfFile {
            segment,
            offset,
            filesz,
            file_len,
        } => write!(
            f,
            "segment {}: file range [0x{:x}..+0x{:x}) lies outside the {}-byte file",
            *segment, *offset, *filesz, *file_len
        ),
        SegmentWraps {
            segment,
            addr,
            memsz,
        } => write!(
            f,
            "segment {}: 0x{:x} + p_memsz 0x{:x} wraps around the address space",
            *segment, *addr, *memsz
        ),
        BadAlignment {
            segment,
            align,
            vaddr,
            offset,
        } => write!(
            f,
            "segment {}: p_align 0x{:x} is not a power of two or p_vaddr 0x{:x} and p_offset 0x{:x} differ modulo it",
            *segment, *align, *vaddr, *offset
        ),
        SegmentOverlap {
            segment,
            start,
            end,
            other,
            other_start,
            other_end,
        } => write!(
            f,
            "segment {} [0x{:x}..0x{:x}) overlaps segment {} [0x{:x}..0x{:x})",
            *segment, *start, *end, *other, *other_start, *other_end
        ),
        EntryOutsideSegments { entry } => write!(
            f,
            "entry point 0x{:x} is not inside any executable loaded segment",
            *entry
        ),
        SegmentNotInUsableRam {
            segment,
            start,
            end,
            region,
        } => match region {
            Some(MemoryKindName(k)) => write!(
                f,
                "segment {} [0x{:x}..0x{:x}) overlaps {} memory",
                *segment, *start, *end, *k
            ),
            None => write!(
                f,
                "segment {} [0x{:x}..0x{:x}) is not covered by usable RAM in the memory map",
                *segment, *start, *end
            ),
        },
        EntryAbove4G { protocol, entry } => {
            write!(f, "{} entry 0x{:x} is not below 4 GiB", *protocol, *entry)
        }
        other => elsewhere(other, f),
    }
}

/// PT_NOTE and the PVH note in it.
pub(super) fn note(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        NoteTruncated {
            segment,
            offset,
            namesz,
            descsz,
            avail,
        } => write!(
            f,
            "note in segment {} at +0x{:x} (namesz {}, descsz {}) runs past its {} bytes",
            *segment, *offset, *namesz, *descsz, *avail
        ),
        PvhNoteSize { descsz } => write!(
            f,
            "PVH note (Xen type 18) descriptor is {} bytes, expected 4 or 8",
            *descsz
        ),
        PvhEntryInvalid { entry } => {
            write!(
                f,
                "PVH note entry 0x{:x} is zero or not below 4 GiB",
                *entry
            )
        }
        other => elsewhere(other, f),
    }
}

/// PT_DYNAMIC and its `R_X86_64_RELATIVE` relocations.
pub(super) fn relocation(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        BadDynamic { detail, value } => write!(f, "PT_DYNAMIC: {} (0x{:x})", *detail, *value),
        UnsupportedRelocation { index, r_type } => write!(
            f,
            "relocation {}: type {} is not R_X86_64_RELATIVE (8)",
            *index, *r_type
        ),
        RelocationOutOfSegment { index, r_offset } => write!(
            f,
            "relocation {}: r_offset 0x{:x} is not inside a loaded segment's file bytes",
            *index, *r_offset
        ),
        other => elsewhere(other, f),
    }
}
