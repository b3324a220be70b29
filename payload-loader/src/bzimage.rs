//! Linux bzImage: the setup header of the x86 boot protocol (Documentation/arch/x86/boot.rst)
//! and where the protected-mode kernel goes.
//!
//! A bzImage is `(setup_sects + 1) * 512` bytes of real-mode setup (the header lives in its
//! first sector) followed by the protected-mode kernel: a decompressor that enters at offset 0
//! (32-bit, `code32_start`) or 0x200 (64-bit, `XLF_KERNEL_64`), and needs `init_size` bytes from
//! its load address to decompress the kernel in place. baton never runs the real-mode setup.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::bytes::{u16_at, u32_at, u64_at};
use crate::error::{Error, Result};

/// `boot_flag` at 0x1FE.
pub const BOOT_FLAG: u16 = 0xAA55;
/// `header` at 0x202.
pub const HEADER_MAGIC: [u8; 4] = *b"HdrS";
/// The setup header starts at `setup_sects`.
pub const HEADER_START: usize = 0x1F1;
/// `boot_params` has room for the setup header up to here (`edd_mbr_sig_buffer` follows).
pub const HEADER_ROOM_END: usize = 0x290;
/// The oldest protocol baton loads: 2.06 brought `cmdline_size`.
pub const MIN_VERSION: u16 = 0x0206;
/// `loadflags` bit 0: the protected-mode code is loaded at 0x100000 (bzImage, not zImage).
pub const LOADED_HIGH: u8 = 0x01;
/// `xloadflags` bit 0: the kernel has the 64-bit entry at load address + 0x200.
pub const XLF_KERNEL_64: u16 = 1 << 0;
/// `xloadflags` bit 1: kernel, boot_params, command line and initrd may lie above 4 GiB.
pub const XLF_CAN_BE_LOADED_ABOVE_4G: u16 = 1 << 1;
/// The 64-bit entry's offset from the load address.
pub const ENTRY_64_OFFSET: u64 = 0x200;
/// Where a bzImage's protected-mode code is loaded when it is not relocatable, and the
/// `code32_start` that means "the load address".
pub const HIGH_LOAD_ADDR: u64 = 0x10_0000;

const SETUP_SECTS: usize = 0x1F1;
const SYSSIZE: usize = 0x1F4;
const BOOT_FLAG_AT: usize = 0x1FE;
const JUMP_LEN: usize = 0x201;
const MAGIC_AT: usize = 0x202;
const VERSION: usize = 0x206;
const LOADFLAGS: usize = 0x211;
const CODE32_START: usize = 0x214;
const INITRD_ADDR_MAX: usize = 0x22C;
const KERNEL_ALIGNMENT: usize = 0x230;
const RELOCATABLE_KERNEL: usize = 0x234;
const XLOADFLAGS: usize = 0x236;
const CMDLINE_SIZE: usize = 0x238;
const PREF_ADDRESS: usize = 0x258;
const INIT_SIZE: usize = 0x260;

/// The setup header fields baton uses, validated, and the header's bytes as in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupHeader {
    /// Sectors of real-mode setup after the boot sector (a 0 in the file reads as 4).
    pub setup_sects: u8,
    /// Protected-mode code size in 16-byte units.
    pub syssize: u32,
    /// Protocol version, e.g. 0x020f for 2.15.
    pub version: u16,
    /// `loadflags` (LOADED_HIGH is set).
    pub loadflags: u8,
    /// The 32-bit entry for a kernel loaded at 1 MiB.
    pub code32_start: u32,
    /// Highest address the initrd may occupy (inclusive).
    pub initrd_addr_max: u32,
    /// A relocatable kernel's load address must be a multiple of this (a power of two).
    pub kernel_alignment: u32,
    /// `relocatable_kernel`: may be loaded anywhere aligned, at or above `pref_address`.
    pub relocatable: bool,
    /// 0 before protocol 2.12.
    pub xloadflags: u16,
    /// Longest command line without its NUL.
    pub cmdline_size: u32,
    /// Where the kernel runs (2.10+); [`HIGH_LOAD_ADDR`] before.
    pub pref_address: u64,
    /// Bytes the kernel needs from where it runs (2.10+); 0 before.
    pub init_size: u32,
    /// The file's bytes `[0x1F1, 0x202 + byte at 0x201)`, cut at [`HEADER_ROOM_END`].
    pub raw: Vec<u8>,
}

impl SetupHeader {
    /// File offset of the protected-mode kernel.
    pub fn setup_size(&self) -> u64 {
        (u64::from(self.setup_sects) + 1) * 512
    }

    /// The kernel is entered at its 64-bit entry, in long mode.
    pub fn long_mode_entry(&self) -> bool {
        self.xloadflags & XLF_KERNEL_64 != 0
    }

    /// `XLF_CAN_BE_LOADED_ABOVE_4G`.
    pub fn above_4g(&self) -> bool {
        self.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G != 0
    }

    /// The initrd must end at or below this address.
    pub fn initrd_limit(&self) -> u64 {
        if self.above_4g() {
            u64::MAX
        } else {
            u64::from(self.initrd_addr_max) + 1
        }
    }

    /// Bytes the kernel uses from where it runs: `init_size` (never less than the file's
    /// protected-mode part); before 2.10 three times that part, as GRUB assumes.
    pub fn runtime_size(&self, payload: u64) -> u64 {
        if self.version >= 0x020A {
            payload.max(u64::from(self.init_size))
        } else {
            payload.next_multiple_of(4096).saturating_mul(3)
        }
    }
}

/// How far the header must reach for the fields `version` has that baton reads or writes.
fn header_needs(version: u16) -> usize {
    match version {
        0x020A.. => INIT_SIZE + 4,
        0x0209 => PREF_ADDRESS, // setup_data at 0x250
        _ => CMDLINE_SIZE + 4,
    }
}

/// The setup header of a bzImage; `None` when `bytes` is ELF or has no "HdrS" at 0x202. A file
/// with "HdrS" that breaks a rule is an error, never a fall-through to ELF.
pub fn find_header(bytes: &[u8]) -> Result<Option<SetupHeader>> {
    if bytes.starts_with(b"\x7fELF") || bytes.get(MAGIC_AT..MAGIC_AT + 4) != Some(&HEADER_MAGIC) {
        return Ok(None);
    }
    let u16_of = |at| u16_at(bytes, at).unwrap_or(0);
    let u32_of = |at| u32_at(bytes, at).unwrap_or(0);
    let boot_flag = u16_of(BOOT_FLAG_AT);
    if boot_flag != BOOT_FLAG {
        return Err(Box::new(Error::BzBootFlag { found: boot_flag }));
    }
    let setup_sects = match bytes.get(SETUP_SECTS).copied().unwrap_or(0) {
        0 => 4,
        n => n,
    };
    let setup_size = (usize::from(setup_sects) + 1) * 512;
    if setup_size >= bytes.len() {
        return Err(Box::new(Error::BzSetupPastEnd {
            setup_sects,
            setup_size: setup_size as u64,
            file_len: bytes.len(),
        }));
    }
    // From here on every header offset lies inside the setup sectors, inside the file.
    let version = u16_of(VERSION);
    if version < MIN_VERSION {
        return Err(Box::new(Error::BzProtocolTooOld { version }));
    }
    let end = MAGIC_AT + usize::from(bytes.get(JUMP_LEN).copied().unwrap_or(0));
    let need = header_needs(version);
    if end < need {
        return Err(Box::new(Error::BzHeaderTooShort { version, end, need }));
    }
    let syssize = u32_of(SYSSIZE);
    let sys_bytes = u64::from(syssize) * 16;
    if setup_size as u64 + sys_bytes > bytes.len() as u64 {
        return Err(Box::new(Error::BzTruncated {
            syssize,
            need: setup_size as u64 + sys_bytes,
            file_len: bytes.len(),
        }));
    }
    let loadflags = bytes.get(LOADFLAGS).copied().unwrap_or(0);
    if loadflags & LOADED_HIGH == 0 {
        return Err(Box::new(Error::BzNotLoadedHigh { loadflags }));
    }
    let relocatable = bytes.get(RELOCATABLE_KERNEL).is_some_and(|&b| b != 0);
    let kernel_alignment = u32_of(KERNEL_ALIGNMENT);
    if relocatable && !kernel_alignment.is_power_of_two() {
        return Err(Box::new(Error::BzBadAlignment { kernel_alignment }));
    }
    let (pref_address, init_size) = if version >= 0x020A {
        (u64_at(bytes, PREF_ADDRESS).unwrap_or(0), u32_of(INIT_SIZE))
    } else {
        (HIGH_LOAD_ADDR, 0)
    };
    Ok(Some(SetupHeader {
        setup_sects,
        syssize,
        version,
        loadflags,
        code32_start: u32_of(CODE32_START),
        initrd_addr_max: u32_of(INITRD_ADDR_MAX),
        kernel_alignment,
        relocatable,
        xloadflags: if version >= 0x020C {
            u16_of(XLOADFLAGS)
        } else {
            0
        },
        cmdline_size: u32_of(CMDLINE_SIZE),
        pref_address,
        init_size,
        raw: bytes
            .get(HEADER_START..end.min(HEADER_ROOM_END))
            .unwrap_or(&[])
            .to_vec(),
    }))
}
