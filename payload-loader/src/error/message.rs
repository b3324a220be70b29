//! `Display` for [`Error`]: each variant goes to the function for its family, which lives
//! with the other messages of that family.

use core::fmt;

use super::{Error, boot_info, elf, linux, multiboot, placement, selection};

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Error::*;
        let family = match self {
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
            | Unparsable { .. } => elf::header,
            NoLoadableSegments
            | FileSizeExceedsMemSize { .. }
            | SegmentOutOfFile { .. }
            | SegmentWraps { .. }
            | BadAlignment { .. }
            | SegmentOverlap { .. }
            | EntryOutsideSegments { .. }
            | SegmentNotInUsableRam { .. }
            | EntryAbove4G { .. } => elf::segment,
            NoteTruncated { .. } | PvhNoteSize { .. } | PvhEntryInvalid { .. } => elf::note,
            BadDynamic { .. } | UnsupportedRelocation { .. } | RelocationOutOfSegment { .. } => {
                elf::relocation
            }
            Mb1Checksum { .. }
            | Mb1Truncated { .. }
            | Mb1UnsupportedFlags { .. }
            | Mb1BadAddress { .. } => multiboot::multiboot1,
            Mb2Checksum { .. }
            | Mb2Architecture { .. }
            | Mb2HeaderLength { .. }
            | Mb2TagSize { .. }
            | Mb2NoEndTag { .. }
            | Mb2UnsupportedTag { .. }
            | Mb2UnsupportedRequest { .. }
            | Mb2BadAddress { .. } => multiboot::multiboot2,
            ProtocolNotPresent { .. } | PlainElfNeeds64 { .. } | DynNotAllowed { .. } => {
                selection::protocol
            }
            BadRange { .. } | OutOfMemory { .. } | BadAllocAlign { .. } => placement::memory,
            FieldTooLarge { .. } | RsdpTooShort { .. } | NulInString { .. } => boot_info::builder,
            VideoModeUnavailable { .. } => boot_info::screen,
            DecodeOutOfBounds { .. } | DecodeBadValue { .. } => boot_info::decoder,
            BzBootFlag { .. }
            | BzProtocolTooOld { .. }
            | BzHeaderTooShort { .. }
            | BzSetupPastEnd { .. }
            | BzTruncated { .. }
            | BzNotLoadedHigh { .. }
            | BzBadAlignment { .. }
            | BzEntryOutsideImage { .. } => linux::bzimage,
            BzCmdlineTooLong { .. }
            | BzInitrdAboveMax { .. }
            | BzTooManyModules { .. }
            | BzTooManyE820 { .. }
            | BootParamsNeedPlan => linux::boot_params,
        };
        family(self, f)
    }
}
