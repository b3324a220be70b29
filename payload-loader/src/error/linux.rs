//! Messages for Linux bzImage and `boot_params` errors.

use core::fmt;

use super::{Error, elsewhere};

/// The bzImage's setup header.
pub(super) fn bzimage(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        BzBootFlag { found } => write!(
            f,
            "bzImage: boot_flag at 0x1fe is 0x{:04x}, not 0xaa55",
            *found
        ),
        BzProtocolTooOld { version } => write!(
            f,
            "bzImage: Linux boot protocol {}.{:02} is older than 2.06, the oldest baton loads",
            version >> 8,
            version & 0xff
        ),
        BzHeaderTooShort { version, end, need } => write!(
            f,
            "bzImage: the setup header ends at 0x{:x} (0x202 + the byte at 0x201), protocol {}.{:02} needs it to reach 0x{:x}",
            *end,
            version >> 8,
            version & 0xff,
            *need
        ),
        BzSetupPastEnd {
            setup_sects,
            setup_size,
            file_len,
        } => write!(
            f,
            "bzImage: setup_sects {} puts the protected-mode kernel at 0x{:x}, at or past the end of the {}-byte file",
            *setup_sects, *setup_size, *file_len
        ),
        BzTruncated {
            syssize,
            need,
            file_len,
        } => write!(
            f,
            "bzImage truncated: setup and syssize 0x{:x} (x 16 bytes) need {} bytes, the file has {}",
            *syssize, *need, *file_len
        ),
        BzNotLoadedHigh { loadflags } => write!(
            f,
            "bzImage: loadflags 0x{:02x} lack LOADED_HIGH (0x01): a zImage, loaded at 0x10000, is not supported",
            *loadflags
        ),
        BzBadAlignment { kernel_alignment } => write!(
            f,
            "bzImage: kernel_alignment 0x{:x} of a relocatable kernel is not a power of two",
            *kernel_alignment
        ),
        BzEntryOutsideImage {
            code32_start,
            entry_offset,
            payload,
        } => write!(
            f,
            "bzImage: the entry at offset 0x{:x} (code32_start 0x{:x}) is outside the 0x{:x}-byte protected-mode kernel",
            *entry_offset, *code32_start, *payload
        ),
        other => elsewhere(other, f),
    }
}

/// Building `boot_params`: command line, initrd, e820 entries.
pub(super) fn boot_params(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        BzCmdlineTooLong { len, max } => write!(
            f,
            "the command line is {} bytes, the kernel's cmdline_size allows {}",
            *len, *max
        ),
        BzInitrdAboveMax { start, end, max } => write!(
            f,
            "initrd [0x{:x}..0x{:x}) ends above initrd_addr_max 0x{:x} and the kernel lacks XLF_CAN_BE_LOADED_ABOVE_4G",
            *start, *end, *max
        ),
        BzTooManyModules { count } => write!(
            f,
            "the Linux boot protocol takes one initrd, {} modules were given",
            *count
        ),
        BzTooManyE820 { entries, version } => write!(
            f,
            "{} memory-map entries: boot_params hold 128, and protocol {}.{:02} has no setup_data (2.09) for the rest",
            *entries,
            version >> 8,
            version & 0xff
        ),
        BootParamsNeedPlan => write!(
            f,
            "Linux boot_params need the kernel's setup header: build them with LoadPlan::build_boot_info"
        ),
        other => elsewhere(other, f),
    }
}
