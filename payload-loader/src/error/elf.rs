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
                "ELF header truncated: file is {len} bytes, header needs {need}"
            )
        }
        BadMagic {
            found: [a, b, c, d],
        } => {
            write!(
                f,
                "not an ELF file: magic {a:#04x} {b:#04x} {c:#04x} {d:#04x}"
            )
        }
        BadClass { class } => write!(
            f,
            "e_ident[EI_CLASS] {class} is neither ELF32 (1) nor ELF64 (2)"
        ),
        BadDataEncoding { data } => {
            write!(f, "e_ident[EI_DATA] {data} is not little-endian (1)")
        }
        BadVersion { version } => write!(f, "ELF version {version} is not 1"),
        BadMachine {
            machine,
            class_bits,
        } => write!(
            f,
            "e_machine {machine} does not fit ELF{class_bits} (need EM_386 (3) for ELF32, EM_X86_64 (62) for ELF64)"
        ),
        BadType { e_type } => {
            write!(f, "e_type {e_type} is neither ET_EXEC (2) nor ET_DYN (3)")
        }
        BadPhentsize { found, expected } => {
            write!(f, "e_phentsize {found} is not {expected}")
        }
        NoProgramHeaders => write!(f, "e_phnum is 0: no program headers"),
        ProgramHeadersOutOfFile {
            phoff,
            phnum,
            phentsize,
            file_len,
        } => write!(
            f,
            "program headers at 0x{phoff:x} ({phnum} x {phentsize} bytes) run past the end of the {file_len}-byte file"
        ),
        Unparsable { what } => write!(f, "goblin could not parse the {what}"),
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
            "segment {segment}: p_filesz 0x{filesz:x} exceeds p_memsz 0x{memsz:x}"
        ),
        SegmentOutOfFile {
            segment,
            offset,
            filesz,
            file_len,
        } => write!(
            f,
            "segment {segment}: file range [0x{offset:x}..+0x{filesz:x}) lies outside the {file_len}-byte file"
        ),
        SegmentWraps {
            segment,
            addr,
            memsz,
        } => write!(
            f,
            "segment {segment}: 0x{addr:x} + p_memsz 0x{memsz:x} wraps around the address space"
        ),
        BadAlignment {
            segment,
            align,
            vaddr,
            offset,
        } => write!(
            f,
            "segment {segment}: p_align 0x{align:x} is not a power of two or p_vaddr 0x{vaddr:x} and p_offset 0x{offset:x} differ modulo it"
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
            "segment {segment} [0x{start:x}..0x{end:x}) overlaps segment {other} [0x{other_start:x}..0x{other_end:x})"
        ),
        EntryOutsideSegments { entry } => write!(
            f,
            "entry point 0x{entry:x} is not inside any executable loaded segment"
        ),
        SegmentNotInUsableRam {
            segment,
            start,
            end,
            region,
        } => match region {
            Some(MemoryKindName(k)) => write!(
                f,
                "segment {segment} [0x{start:x}..0x{end:x}) overlaps {k} memory"
            ),
            None => write!(
                f,
                "segment {segment} [0x{start:x}..0x{end:x}) is not covered by usable RAM in the memory map"
            ),
        },
        EntryAbove4G { protocol, entry } => {
            write!(f, "{protocol} entry 0x{entry:x} is not below 4 GiB")
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
            "note in segment {segment} at +0x{offset:x} (namesz {namesz}, descsz {descsz}) runs past its {avail} bytes"
        ),
        PvhNoteSize { descsz } => write!(
            f,
            "PVH note (Xen type 18) descriptor is {descsz} bytes, expected 4 or 8"
        ),
        PvhEntryInvalid { entry } => {
            write!(f, "PVH note entry 0x{entry:x} is zero or not below 4 GiB")
        }
        other => elsewhere(other, f),
    }
}

/// PT_DYNAMIC and its `R_X86_64_RELATIVE` relocations.
pub(super) fn relocation(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        BadDynamic { detail, value } => write!(f, "PT_DYNAMIC: {detail} (0x{value:x})"),
        UnsupportedRelocation { index, r_type } => write!(
            f,
            "relocation {index}: type {r_type} is not R_X86_64_RELATIVE (8)"
        ),
        RelocationOutOfSegment { index, r_offset } => write!(
            f,
            "relocation {index}: r_offset 0x{r_offset:x} is not inside a loaded segment's file bytes"
        ),
        other => elsewhere(other, f),
    }
}
