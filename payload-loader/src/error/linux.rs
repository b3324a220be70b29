//! Messages for Linux bzImage and `boot_params` errors.

use core::fmt;

use super::{Error, elsewhere};

/// The bzImage's setup header.
pub(super) fn bzimage(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        BzBootFlag { found } => write!(
            f,
            "bzImage: boot_flag at 0x1fe is 0x{found:04x}, not 0xaa55"
        ),
        BzProtocolTooOld { version } => write!(
            f,
            "bzImage: Linux boot protocol {}.{:02} is older than 2.06, the oldest baton loads",
            version >> 8,
            version & 0xff
        ),
        BzHeaderTooShort { version, end, need } => write!(
            f,
            "bzImage: the setup header ends at 0x{end:x} (0x202 + the byte at 0x201), protocol {}.{:02} needs it to reach 0x{need:x}",
            version >> 8,
            version & 0xff
        ),
        BzSetupPastEnd {
            setup_sects,
            setup_size,
            file_len,
        } => write!(
            f,
            "bzImage: setup_sects {setup_sects} puts the protected-mode kernel at 0x{setup_size:x}, at or past the end of the {file_len}-byte file"
        ),
        BzTruncated {
            syssize,
            need,
            file_len,
        } => write!(
            f,
            "bzImage truncated: setup and syssize 0x{syssize:x} (x 16 bytes) need {need} bytes, the file has {file_len}"
        ),
        BzNotLoadedHigh { loadflags } => write!(
            f,
            "bzImage: loadflags 0x{loadflags:02x} lack LOADED_HIGH (0x01): a zImage, loaded at 0x10000, is not supported"
        ),
        BzBadAlignment { kernel_alignment } => write!(
            f,
            "bzImage: kernel_alignment 0x{kernel_alignment:x} of a relocatable kernel is not a power of two"
        ),
        BzEntryOutsideImage {
            code32_start,
            entry_offset,
            payload,
        } => write!(
            f,
            "bzImage: the entry at offset 0x{entry_offset:x} (code32_start 0x{code32_start:x}) is outside the 0x{payload:x}-byte protected-mode kernel"
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
            "the command line is {len} bytes, the kernel's cmdline_size allows {max}"
        ),
        BzInitrdAboveMax { start, end, max } => write!(
            f,
            "initrd [0x{start:x}..0x{end:x}) ends above initrd_addr_max 0x{max:x} and the kernel lacks XLF_CAN_BE_LOADED_ABOVE_4G"
        ),
        BzTooManyModules { count } => write!(
            f,
            "the Linux boot protocol takes one initrd, {count} modules were given"
        ),
        BzTooManyE820 { entries, version } => write!(
            f,
            "{entries} memory-map entries: boot_params hold 128, and protocol {}.{:02} has no setup_data (2.09) for the rest",
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
