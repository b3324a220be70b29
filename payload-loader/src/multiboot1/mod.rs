//! Multiboot1: the kernel's header (first 8 KiB) and the `multiboot_info` builder and decoder.
//!
//! Here: the header search and checks, and the address fields (shared with Multiboot2). The
//! `multiboot_info` builder and decoder are in `info`.

use alloc::boxed::Box;

use crate::bytes::u32_at;
use crate::error::{Error, Result};
use crate::mode_request::{ModeNeed, ModeRequest};

mod info;

pub use info::{FRAMEBUFFER_OFFSET, INFO_SIZE, Mb1Info, build_info, decode_info};

/// Header magic.
pub const HEADER_MAGIC: u32 = 0x1BAD_B002;
/// EAX at entry.
pub const BOOTLOADER_MAGIC: u32 = 0x2BAD_B002;
/// The header must lie (4-aligned) in the first 8 KiB.
pub const SEARCH_LIMIT: usize = 8192;
/// Flag 0: page-align modules.
pub const FLAG_PAGE_ALIGN: u32 = 1 << 0;
/// Flag 1: memory information wanted.
pub const FLAG_MEMORY_INFO: u32 = 1 << 1;
/// Flag 2: video mode table wanted.
pub const FLAG_VIDEO_MODE: u32 = 1 << 2;
/// Flag 16: the address fields are valid.
pub const FLAG_ADDRESS: u32 = 1 << 16;

/// Multiboot1 header address fields (flag 16), as in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressFields {
    /// Where the header is loaded.
    pub header_addr: u32,
    /// Where the file's loaded part begins.
    pub load_addr: u32,
    /// Where it ends (0: the end of the file).
    pub load_end_addr: u32,
    /// End of the bss (0: none).
    pub bss_end_addr: u32,
    /// The entry point.
    pub entry_addr: u32,
}

/// A parsed and checked Multiboot1 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mb1Header {
    /// File offset of the magic.
    pub offset: usize,
    /// The header's flags.
    pub flags: u32,
    /// The address fields, when flag 16 is set.
    pub address: Option<AddressFields>,
    /// mode_type, width, height, depth (flag 2); baton records but does not set video modes.
    pub video: Option<[u32; 4]>,
}

/// A file-backed load derived from address fields (Multiboot1 flag 16 or the Multiboot2
/// address tag): `file_len` bytes from `file_offset` go to `load_addr`, zeroes up to
/// `load_addr + mem_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressLoad {
    /// Offset in the file.
    pub file_offset: u64,
    /// Bytes taken from the file.
    pub file_len: u64,
    /// Where they go.
    pub load_addr: u64,
    /// Bytes of memory in all (file and zeros).
    pub mem_len: u64,
    /// The entry point.
    pub entry: u64,
}

/// Finds the first valid Multiboot1 header. A magic with a bad checksum and no valid header
/// elsewhere is an error, as are flags in bits 0..15 that baton does not understand.
pub fn find_header(bytes: &[u8]) -> Result<Option<Mb1Header>> {
    let limit = bytes.len().min(SEARCH_LIMIT);
    let mut bad = None;
    let mut off = 0;
    while off + 4 <= limit {
        if u32_at(bytes, off) == Some(HEADER_MAGIC) {
            let (Some(flags), Some(checksum)) = (u32_at(bytes, off + 4), u32_at(bytes, off + 8))
            else {
                bad.get_or_insert(Error::Mb1Truncated {
                    offset: off,
                    need: 12,
                    file_len: bytes.len(),
                });
                off += 4;
                continue;
            };
            if HEADER_MAGIC.wrapping_add(flags).wrapping_add(checksum) != 0 {
                bad.get_or_insert(Error::Mb1Checksum {
                    offset: off,
                    magic: HEADER_MAGIC,
                    flags,
                    checksum,
                });
                off += 4;
                continue;
            }
            return parse_at(bytes, off, flags).map(Some);
        }
        off += 4;
    }
    match bad {
        Some(e) => Err(Box::new(e)),
        None => Ok(None),
    }
}

fn parse_at(bytes: &[u8], off: usize, flags: u32) -> Result<Mb1Header> {
    let unsupported = flags & 0xffff & !(FLAG_PAGE_ALIGN | FLAG_MEMORY_INFO | FLAG_VIDEO_MODE);
    if unsupported != 0 {
        return Err(Box::new(Error::Mb1UnsupportedFlags { flags, unsupported }));
    }
    // The header must hold the address fields (to byte 32) if flag 16 is set, then the video
    // fields (to byte 48) if flag 2 is: one length check for each, not one per field.
    let header = bytes.get(off..).unwrap_or_default();
    let need = if flags & FLAG_ADDRESS != 0 && header.len() < 32 {
        32
    } else if flags & FLAG_VIDEO_MODE != 0 && header.len() < 48 {
        48
    } else {
        0
    };
    if need != 0 {
        return Err(Box::new(Error::Mb1Truncated {
            offset: off,
            need,
            file_len: bytes.len(),
        }));
    }
    // In bounds, checked above.
    let field = |i: usize| u32_at(header, 4 * i).unwrap_or(0);
    let address = if flags & FLAG_ADDRESS != 0 {
        Some(AddressFields {
            header_addr: field(3),
            load_addr: field(4),
            load_end_addr: field(5),
            bss_end_addr: field(6),
            entry_addr: field(7),
        })
    } else {
        None
    };
    let video = if flags & FLAG_VIDEO_MODE != 0 {
        Some([field(8), field(9), field(10), field(11)])
    } else {
        None
    };
    Ok(Mb1Header {
        offset: off,
        flags,
        address,
        video,
    })
}

/// Shared address-field arithmetic (Multiboot1 flag 16 and the Multiboot2 address tag).
/// `mb2` selects the error variant and Multiboot2's `load_addr == 0xffffffff` convention.
pub(crate) fn load_from_address_fields(
    header_offset: usize,
    file_len: usize,
    [header_addr, load_addr, load_end_addr, bss_end_addr]: [u32; 4],
    entry: Option<u32>,
    mb2: bool,
) -> Result<AddressLoad> {
    let err = |field, value, detail, other| bad_address(mb2, field, value, detail, other);
    let (header_addr64, load_addr64) = (u64::from(header_addr), u64::from(load_addr));
    let file_offset = if mb2 && load_addr == u32::MAX {
        0
    } else {
        if header_addr < load_addr {
            return Err(err(
                "header_addr",
                header_addr,
                "is below load_addr",
                load_addr64,
            ));
        }
        (header_offset as u64)
            .checked_sub(header_addr64 - load_addr64)
            .ok_or_else(|| {
                err(
                    "header_addr - load_addr",
                    header_addr - load_addr,
                    "exceeds the header's file offset",
                    header_offset as u64,
                )
            })?
    };
    let load_addr64 = if mb2 && load_addr == u32::MAX {
        header_addr64.saturating_sub(header_offset as u64)
    } else {
        load_addr64
    };
    let avail = file_len as u64 - file_offset.min(file_len as u64);
    let file_bytes = if load_end_addr == 0 {
        avail
    } else {
        let n = u64::from(load_end_addr)
            .checked_sub(load_addr64)
            .ok_or_else(|| {
                err(
                    "load_end_addr",
                    load_end_addr,
                    "is below load_addr",
                    load_addr64,
                )
            })?;
        if n > avail {
            return Err(err(
                "load_end_addr",
                load_end_addr,
                "runs past the end of the file, which ends at",
                load_addr64 + avail,
            ));
        }
        n
    };
    if file_bytes == 0 {
        return Err(err(
            "load_end_addr",
            load_end_addr,
            "leaves nothing to load from file offset",
            file_offset,
        ));
    }
    let load_end = load_addr64 + file_bytes;
    let mem_end = if bss_end_addr == 0 {
        load_end
    } else if u64::from(bss_end_addr) < load_end {
        return Err(err(
            "bss_end_addr",
            bss_end_addr,
            "is below the load end",
            load_end,
        ));
    } else {
        u64::from(bss_end_addr)
    };
    if mem_end > 1 << 32 {
        return Err(err(
            "load_addr",
            load_addr,
            "plus the image runs past 4 GiB to",
            mem_end,
        ));
    }
    let entry = match entry {
        Some(e) if u64::from(e) < load_addr64 || u64::from(e) >= mem_end => {
            return Err(err(
                "entry_addr",
                e,
                "is outside the loaded range ending at",
                mem_end,
            ));
        }
        Some(e) => u64::from(e),
        None => 0,
    };
    Ok(AddressLoad {
        file_offset,
        file_len: file_bytes,
        load_addr: load_addr64,
        mem_len: mem_end - load_addr64,
        entry,
    })
}

/// The address-field error of Multiboot2 (`mb2`) or Multiboot1, boxed: one out-of-line
/// constructor for all the checks above, not one inlined at each.
#[inline(never)]
fn bad_address(
    mb2: bool,
    field: &'static str,
    value: u32,
    detail: &'static str,
    other: u64,
) -> Box<Error> {
    Box::new(if mb2 {
        Error::Mb2BadAddress {
            field,
            value,
            detail,
            other,
        }
    } else {
        Error::Mb1BadAddress {
            field,
            value,
            detail,
            other,
        }
    })
}

impl Mb1Header {
    /// What flag 2 asks of the screen: that one be described (the mode fields are only the
    /// kernel's preference, says the specification).
    pub fn mode_request(&self) -> Option<ModeRequest> {
        let [mode_type, width, height, depth] = self.video?;
        Some(ModeRequest {
            source: "Multiboot1 video fields (flag 2)",
            graphics: mode_type == 0,
            width,
            height,
            depth,
            need: ModeNeed::AnyScreen,
        })
    }

    /// The load described by the address fields, checked against the file.
    pub fn address_load(&self, file_len: usize) -> Result<Option<AddressLoad>> {
        let Some(a) = self.address else {
            return Ok(None);
        };
        load_from_address_fields(
            self.offset,
            file_len,
            [a.header_addr, a.load_addr, a.load_end_addr, a.bss_end_addr],
            Some(a.entry_addr),
            false,
        )
        .map(Some)
    }
}
