//! The one error type of this crate. Every message names the field or segment and the numbers.
//!
//! Over 500 lines because it is one public enum: 63 variants, every field documented. Splitting
//! it into an enum per family would change every `Error::Variant` path the firmware, the tests
//! and the fuzz targets match on. The messages are split instead: `message` sends each variant
//! to its family's function in `elf`, `multiboot`, `selection`, `placement`, `boot_info` or
//! `linux`.
//!
//! The messages pass each field as `*field`, not `{field}` inside the string: the match binds
//! `&field`, and an inline `{field}` would format a `&&T`, one more pointer per argument to
//! build on the stack. About 8 bytes of code per argument, 1.2 KB over all the messages.

use alloc::boxed::Box;

use crate::protocol::Protocol;

mod boot_info;
mod elf;
mod linux;
mod message;
mod multiboot;
mod placement;
mod selection;

/// Everything that can go wrong while validating, planning or building boot info.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // ---- ELF header -------------------------------------------------------------------------
    /// Fewer bytes than an ELF header needs.
    TruncatedHeader {
        /// Bytes in the file.
        len: usize,
        /// Bytes the ELF header needs.
        need: usize,
    },
    /// The first four bytes are not `\x7fELF`.
    BadMagic {
        /// The first four bytes.
        found: [u8; 4],
    },
    /// `e_ident[EI_CLASS]` is neither ELFCLASS32 nor ELFCLASS64.
    BadClass {
        /// `EI_CLASS`.
        class: u8,
    },
    /// `e_ident[EI_DATA]` is not little-endian.
    BadDataEncoding {
        /// `EI_DATA`.
        data: u8,
    },
    /// `e_ident[EI_VERSION]` or `e_version` is not 1.
    BadVersion {
        /// `e_version`.
        version: u32,
    },
    /// `e_machine` does not match the class (EM_386 for ELF32, EM_X86_64 for ELF64).
    BadMachine {
        /// `e_machine`.
        machine: u16,
        /// 32 or 64.
        class_bits: u8,
    },
    /// `e_type` is not ET_EXEC or ET_DYN.
    BadType {
        /// `e_type`.
        e_type: u16,
    },
    /// `e_phentsize` is not the size of a program header for this class.
    BadPhentsize {
        /// `e_phentsize`.
        found: u16,
        /// The size for the class.
        expected: u16,
    },
    /// No program headers at all.
    NoProgramHeaders,
    /// The program header table does not lie inside the file.
    ProgramHeadersOutOfFile {
        /// `e_phoff`.
        phoff: u64,
        /// `e_phnum`.
        phnum: u16,
        /// `e_phentsize`.
        phentsize: u16,
        /// Bytes in the file.
        file_len: usize,
    },
    /// goblin refused the program headers (message kept short and static).
    Unparsable {
        /// What goblin could not parse.
        what: &'static str,
    },

    // ---- segments ---------------------------------------------------------------------------
    /// No PT_LOAD with a non-zero memory size.
    NoLoadableSegments,
    /// `p_filesz > p_memsz`.
    FileSizeExceedsMemSize {
        /// The program header's index.
        segment: usize,
        /// `p_filesz`.
        filesz: u64,
        /// `p_memsz`.
        memsz: u64,
    },
    /// `[p_offset, p_offset + p_filesz)` is not inside the file.
    SegmentOutOfFile {
        /// The program header's index.
        segment: usize,
        /// `p_offset`.
        offset: u64,
        /// `p_filesz`.
        filesz: u64,
        /// Bytes in the file.
        file_len: usize,
    },
    /// `p_paddr + p_memsz` (or the vaddr equivalent) wraps past 2^64 (or 2^32 for ELF32).
    SegmentWraps {
        /// The program header's index.
        segment: usize,
        /// The load address.
        addr: u64,
        /// `p_memsz`.
        memsz: u64,
    },
    /// `p_align` is not 0 or a power of two, or `p_vaddr` and `p_offset` disagree modulo it.
    BadAlignment {
        /// The program header's index.
        segment: usize,
        /// `p_align`.
        align: u64,
        /// `p_vaddr`.
        vaddr: u64,
        /// `p_offset`.
        offset: u64,
    },
    /// Two segments' physical destinations overlap.
    SegmentOverlap {
        /// The program header's index.
        segment: usize,
        /// Its first byte.
        start: u64,
        /// One past its last byte.
        end: u64,
        /// The other segment's index.
        other: usize,
        /// Its first byte.
        other_start: u64,
        /// One past its last byte.
        other_end: u64,
    },
    /// The entry point is not inside any executable loaded segment.
    EntryOutsideSegments {
        /// The entry point.
        entry: u64,
    },
    /// A destination is not inside usable RAM of the memory map.
    SegmentNotInUsableRam {
        /// The program header's index.
        segment: usize,
        /// Its first byte.
        start: u64,
        /// One past its last byte.
        end: u64,
        /// The kind of memory there, if the map has any.
        region: Option<MemoryKindName>,
    },
    /// A 32-bit protocol was asked to enter at or above 4 GiB.
    EntryAbove4G {
        /// The protocol.
        protocol: Protocol,
        /// The entry point.
        entry: u64,
    },

    // ---- notes --------------------------------------------------------------------------------
    /// A note header or its name/descriptor runs past the end of its PT_NOTE.
    NoteTruncated {
        /// The program header's index.
        segment: usize,
        /// The note's offset in the file.
        offset: u64,
        /// `n_namesz`.
        namesz: u32,
        /// `n_descsz`.
        descsz: u32,
        /// Bytes left in the segment.
        avail: u64,
    },
    /// The PVH note's descriptor is neither 4 nor 8 bytes long.
    PvhNoteSize {
        /// `n_descsz`.
        descsz: u32,
    },
    /// The PVH note's entry is zero or does not fit 32 bits.
    PvhEntryInvalid {
        /// The entry point.
        entry: u64,
    },

    // ---- Multiboot1 -----------------------------------------------------------------------------
    /// Multiboot1 magic found but checksum wrong.
    Mb1Checksum {
        /// The header's offset.
        offset: usize,
        /// Its magic.
        magic: u32,
        /// Its flags.
        flags: u32,
        /// Its checksum.
        checksum: u32,
    },
    /// Multiboot1 header cut off by the end of the file.
    Mb1Truncated {
        /// The header's offset.
        offset: usize,
        /// Bytes it needs.
        need: usize,
        /// Bytes in the file.
        file_len: usize,
    },
    /// Required (bits 0..15) flags that baton does not understand.
    Mb1UnsupportedFlags {
        /// The header's flags.
        flags: u32,
        /// The required bits baton does not support.
        unsupported: u32,
    },
    /// Address fields (flag 16) inconsistent.
    Mb1BadAddress {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u32,
        /// What is wrong.
        detail: &'static str,
        /// The value it was compared with.
        other: u64,
    },

    // ---- Multiboot2 -----------------------------------------------------------------------------
    /// Multiboot2 magic found but checksum wrong.
    Mb2Checksum {
        /// The header's offset.
        offset: usize,
        /// The sum found (0 when valid).
        sum: u32,
    },
    /// Multiboot2 architecture field is not 0 (i386).
    Mb2Architecture {
        /// The header's architecture field.
        architecture: u32,
    },
    /// header_length too small, not 8-aligned, or past the file / 32 KiB window.
    Mb2HeaderLength {
        /// The header's offset.
        offset: usize,
        /// Its length field.
        length: u32,
        /// Bytes in the file.
        file_len: usize,
    },
    /// A tag's size is too small for its type or runs past the header.
    Mb2TagSize {
        /// The tag's type.
        tag: u16,
        /// Its offset.
        at: usize,
        /// Its size field.
        size: u32,
        /// Bytes left in the header.
        avail: usize,
    },
    /// No end tag (type 0, size 8) before header_length.
    Mb2NoEndTag {
        /// The header's offset.
        offset: usize,
    },
    /// A non-optional tag baton cannot honour.
    Mb2UnsupportedTag {
        /// The tag's type.
        tag: u16,
        /// Its offset.
        at: usize,
    },
    /// A non-optional information request for a tag baton does not provide.
    Mb2UnsupportedRequest {
        /// The information type asked for.
        request: u32,
    },
    /// The address tag's fields are inconsistent.
    Mb2BadAddress {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u32,
        /// What is wrong.
        detail: &'static str,
        /// The value it was compared with.
        other: u64,
    },

    // ---- protocol selection ---------------------------------------------------------------------
    /// The override names a protocol whose header/note is not in the image.
    ProtocolNotPresent {
        /// The protocol.
        protocol: Protocol,
    },
    /// Plain ELF64 entry needs an ELF64 x86_64 image.
    PlainElfNeeds64 {
        /// 32 or 64.
        class_bits: u8,
    },
    /// ET_DYN is only accepted where the protocol may relocate (plain ELF64, Multiboot2 relocatable).
    DynNotAllowed {
        /// The protocol.
        protocol: Protocol,
    },

    // ---- dynamic relocations --------------------------------------------------------------------
    /// PT_DYNAMIC missing, malformed, or its tables outside the file.
    BadDynamic {
        /// What is wrong.
        detail: &'static str,
        /// The value found.
        value: u64,
    },
    /// A relocation that is not R_X86_64_RELATIVE.
    UnsupportedRelocation {
        /// The entry's index.
        index: usize,
        /// Its type.
        r_type: u32,
    },
    /// A relocation's target is not inside a loaded segment's file bytes.
    RelocationOutOfSegment {
        /// The entry's index.
        index: usize,
        /// Its `r_offset`.
        r_offset: u64,
    },

    // ---- memory and placement -------------------------------------------------------------------
    /// A memory-map region or firmware range with end < start.
    BadRange {
        /// What the range is.
        what: &'static str,
        /// The entry's index.
        index: usize,
        /// Its start.
        start: u64,
        /// Its end.
        end: u64,
    },
    /// No free memory for an allocation.
    OutOfMemory {
        /// What needed the memory.
        what: &'static str,
        /// Bytes needed.
        size: u64,
        /// Their alignment.
        align: u64,
        /// The limit they had to lie below.
        below: u64,
    },
    /// An alignment that is not a power of two.
    BadAllocAlign {
        /// The alignment asked for.
        align: u64,
    },
    /// A boot-info field does not fit its width (e.g. a Multiboot1 address above 4 GiB).
    FieldTooLarge {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The most it can hold.
        max: u64,
    },
    /// RSDP bytes handed to a builder are shorter than the RSDP revision needs.
    RsdpTooShort {
        /// Bytes given.
        len: usize,
        /// Bytes needed.
        need: usize,
    },
    /// A string handed to a builder contains a NUL byte.
    NulInString {
        /// The field.
        field: &'static str,
        /// Offset of the NUL.
        at: usize,
    },

    // ---- Linux bzImage and boot_params ----------------------------------------------------------
    /// "HdrS" at 0x202 but `boot_flag` at 0x1FE is not 0xAA55.
    BzBootFlag {
        /// `boot_flag`.
        found: u16,
    },
    /// Boot protocol older than 2.06.
    BzProtocolTooOld {
        /// The header's `version` (0x0205 for 2.05).
        version: u16,
    },
    /// `0x202 + byte at 0x201` stops before the fields the version must have.
    BzHeaderTooShort {
        /// The header's `version`.
        version: u16,
        /// Where the header ends.
        end: usize,
        /// Where that version's fields end.
        need: usize,
    },
    /// `(setup_sects + 1) * 512` is at or past the end of the file.
    BzSetupPastEnd {
        /// `setup_sects` (a 0 in the file reads as 4).
        setup_sects: u8,
        /// File offset of the protected-mode kernel.
        setup_size: u64,
        /// Bytes in the file.
        file_len: usize,
    },
    /// The setup plus `syssize * 16` bytes run past the end of the file.
    BzTruncated {
        /// `syssize`, in 16-byte units.
        syssize: u32,
        /// Bytes the file needs.
        need: u64,
        /// Bytes in the file.
        file_len: usize,
    },
    /// `loadflags` without LOADED_HIGH: a zImage.
    BzNotLoadedHigh {
        /// `loadflags`.
        loadflags: u8,
    },
    /// A relocatable kernel whose `kernel_alignment` is not a power of two.
    BzBadAlignment {
        /// `kernel_alignment`.
        kernel_alignment: u32,
    },
    /// The entry (0x200 for 64-bit, `code32_start - 0x100000` for 32-bit) is not inside the
    /// protected-mode kernel.
    BzEntryOutsideImage {
        /// `code32_start`.
        code32_start: u32,
        /// The entry's offset from the load address.
        entry_offset: u64,
        /// Bytes of the protected-mode kernel.
        payload: u64,
    },
    /// The command line is longer than the kernel's `cmdline_size`.
    BzCmdlineTooLong {
        /// Bytes of the command line, without its NUL.
        len: usize,
        /// `cmdline_size`.
        max: u32,
    },
    /// The initrd ends above `initrd_addr_max` and the kernel lacks XLF_CAN_BE_LOADED_ABOVE_4G.
    BzInitrdAboveMax {
        /// The initrd's first byte.
        start: u64,
        /// The initrd's end (exclusive).
        end: u64,
        /// `initrd_addr_max` (inclusive).
        max: u32,
    },
    /// The Linux boot protocol takes one initrd.
    BzTooManyModules {
        /// Modules given.
        count: usize,
    },
    /// More than 128 memory-map entries need setup_data, which protocols before 2.09 lack.
    BzTooManyE820 {
        /// Memory-map entries.
        entries: usize,
        /// The header's `version`.
        version: u16,
    },
    /// boot_params need the kernel's setup header: build them from the plan.
    BootParamsNeedPlan,

    // ---- the screen -----------------------------------------------------------------------------
    /// A kernel requires a video mode baton cannot give (baton sets no modes).
    VideoModeUnavailable {
        /// Which header asked.
        source: &'static str,
        /// Graphics (true) or text (false).
        graphics: bool,
        /// Requested width (0: any).
        width: u32,
        /// Requested height (0: any).
        height: u32,
        /// Requested depth (0: any).
        depth: u32,
        /// The screen the firmware set up, if any.
        available: Option<crate::display::Screen>,
    },

    // ---- decoders -------------------------------------------------------------------------------
    /// A decoder hit the end of the blob or a pointer outside it.
    DecodeOutOfBounds {
        /// The field.
        field: &'static str,
        /// Its address.
        addr: u64,
        /// Its length.
        len: u64,
        /// The blob's address.
        base: u64,
        /// The blob's length.
        blob_len: usize,
    },
    /// A decoder found a wrong magic / version / shape.
    DecodeBadValue {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
}

/// A `Copy` name for a memory kind, used in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryKindName(pub &'static str);

impl core::error::Error for Error {}

/// The arm a family function has for the other families' variants, which `Display` never
/// hands it (`tests/error_messages.rs` formats every variant). It writes nothing: no panic, and
/// no `Debug` of all the variants pulled into the firmware image for a branch never taken.
fn elsewhere(_: &Error, _: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    Ok(())
}

impl Error {
    /// A boxed [`Error::DecodeBadValue`]: one out-of-line constructor for the decoders' many
    /// sites, not one inlined at each.
    #[inline(never)]
    pub(crate) fn bad_value(field: &'static str, value: u64) -> Box<Error> {
        Box::new(Error::DecodeBadValue { field, value })
    }
}

/// Shorthand used throughout the crate. The error is boxed: a `Result` stays
/// two registers wide, so each `?` on the way up moves a pointer, not the
/// 56-byte enum (the stripped firmware ELF went 216480 -> 213088 bytes).
pub type Result<T> = core::result::Result<T, Box<Error>>;
