//! `Display` for [`Error`]: each variant goes to the function for its family, which lives
//! with the other messages of that family. Each arm calls its family's function: a `match` that
//! picked a function pointer and then called it cost 0.4 KB more.

use core::fmt;

use super::{Error, boot_info, elf, linux, multiboot, placement, selection};

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Error::*;
        match self {
            TruncatedHeader { .. }
            | BadMagic { .. }
            | BadClass { .. }
            | BadDataEncoding { .. }
            | BadVersion { .. }
            | BadMachine { .. }
            | BadType { .. }
            | BadPhentsize { .. }
            | NoProgramHeaders
            | ProgramHeadersOutOfFile { .. }
            | Unparsable { .. } => elf::header(self, f),
            NoLoadableSegments
            | FileSizeExceedsMemSize { .. }
            | SegmentOutOfFile { .. }
            | SegmentWraps { .. }
            | BadAlignment { .. }
            | SegmentOverlap { .. }
            | EntryOutsideSegments { .. }
            | SegmentNotInUsableRam { .. }
            | EntryAbove4G { .. } => elf::segment(self, f),
            NoteTruncated { .. } | PvhNoteSize { .. } | PvhEntryInvalid { .. } => {
                elf::note(self, f)
            }
            BadDynamic { .. } | UnsupportedRelocation { .. } | RelocationOutOfSegment { .. } => {
                elf::relocation(self, f)
            }
            Mb1Checksum { .. }
            | Mb1Truncated { .. }
            | Mb1UnsupportedFlags { .. }
            | Mb1BadAddress { .. } => multiboot::multiboot1(self, f),
            Mb2Checksum { .. }
            | Mb2Architecture { .. }
            | Mb2HeaderLength { .. }
            | Mb2TagSize { .. }
            | Mb2NoEndTag { .. }
            | Mb2UnsupportedTag { .. }
            | Mb2UnsupportedRequest { .. }
            | Mb2BadAddress { .. } => multiboot::multiboot2(self, f),
            ProtocolNotPresent { .. } | PlainElfNeeds64 { .. } | DynNotAllowed { .. } => {
                selection::protocol(self, f)
            }
            BadRange { .. } | OutOfMemory { .. } | BadAllocAlign { .. } => {
                placement::memory(self, f)
            }
            FieldTooLarge { .. } | RsdpTooShort { .. } | NulInString { .. } => {
                boot_info::builder(self, f)
            }
            VideoModeUnavailable { .. } => boot_info::screen(self, f),
            DecodeOutOfBounds { .. } | DecodeBadValue { .. } => boot_info::decoder(self, f),
            BzBootFlag { .. }
            | BzProtocolTooOld { .. }
            | BzHeaderTooShort { .. }
            | BzSetupPastEnd { .. }
            | BzTruncated { .. }
            | BzNotLoadedHigh { .. }
            | BzBadAlignment { .. }
            | BzEntryOutsideImage { .. } => linux::bzimage(self, f),
            BzCmdlineTooLong { .. }
            | BzInitrdAboveMax { .. }
            | BzTooManyModules { .. }
            | BzTooManyE820 { .. }
            | BootParamsNeedPlan => linux::boot_params(self, f),
        }
    }
}
