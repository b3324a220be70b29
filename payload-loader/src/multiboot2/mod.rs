//! Multiboot2: the kernel's header (first 32 KiB, 8-aligned) and the boot information (MBI)
//! builder and decoder.
//!
//! Here: the header search, its tags and what they ask of the loader. The MBI builder and
//! decoder are in `info`.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::bytes::{u16_at, u32_at};
use crate::error::{Error, Result};
use crate::mode_request::{ModeNeed, ModeRequest};
use crate::multiboot1::{AddressLoad, load_from_address_fields};

mod info;

pub use info::{
    Mb2Info, TAG_ACPI_NEW, TAG_ACPI_OLD, TAG_BASIC_MEMINFO, TAG_CMDLINE, TAG_FRAMEBUFFER,
    TAG_LOADER_NAME, TAG_MMAP, TAG_MODULE, build_info, decode_info,
};

/// Header magic.
pub const HEADER_MAGIC: u32 = 0xE852_50D6;
/// EAX at entry.
pub const BOOTLOADER_MAGIC: u32 = 0x36D7_6289;
/// The header must start, 8-aligned, in the first 32 KiB.
pub const SEARCH_LIMIT: usize = 32768;

/// The types an information request may ask for without being refused.
/// (A required request for the framebuffer tag is met only when there is a screen: see
/// [`Mb2Header::mode_request`].)
pub const PROVIDED_TAGS: [u32; 9] = [
    0,
    TAG_CMDLINE,
    TAG_LOADER_NAME,
    TAG_MODULE,
    TAG_BASIC_MEMINFO,
    TAG_MMAP,
    TAG_FRAMEBUFFER,
    TAG_ACPI_OLD,
    TAG_ACPI_NEW,
];

/// The address tag (type 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressTag {
    /// Where the header is loaded.
    pub header_addr: u32,
    /// Where the file's loaded part begins.
    pub load_addr: u32,
    /// Where it ends (0: the end of the file).
    pub load_end_addr: u32,
    /// End of the bss (0: none).
    pub bss_end_addr: u32,
}

/// The relocatable tag (type 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelocatableTag {
    /// Lowest load address.
    pub min_addr: u32,
    /// Highest load address.
    pub max_addr: u32,
    /// Alignment of the load address.
    pub align: u32,
    /// 0 none, 1 lowest, 2 highest.
    pub preference: u32,
}

/// The framebuffer tag (type 5) of a Multiboot2 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramebufferTag {
    /// Preferred width in pixels (0: any).
    pub width: u32,
    /// Preferred height in pixels (0: any).
    pub height: u32,
    /// Preferred bits per pixel (0: any).
    pub depth: u32,
    /// The tag lacks the optional flag: the kernel must not be booted without this mode.
    pub required: bool,
}

/// A parsed and checked Multiboot2 header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mb2Header {
    /// File offset of the magic.
    pub offset: usize,
    /// The header's length in bytes.
    pub header_length: u32,
    /// Every type named in information-request tags (required and optional).
    pub info_requests: Vec<u32>,
    /// The address tag, if present.
    pub address: Option<AddressTag>,
    /// Entry address tag (type 3).
    pub entry: Option<u32>,
    /// Console flags tag (type 4).
    pub console_flags: Option<u32>,
    /// Framebuffer tag (type 5): the preferred width, height and depth (0: any), and
    /// whether the tag was required (not flagged optional).
    pub framebuffer: Option<FramebufferTag>,
    /// An information request that requires the framebuffer tag (type 8).
    pub framebuffer_info_required: bool,
    /// Module alignment tag (type 6): modules page-aligned.
    pub module_align: bool,
    /// The relocatable tag, if present.
    pub relocatable: Option<RelocatableTag>,
}

/// Finds the first valid Multiboot2 header. A magic with a bad checksum, and no valid header
/// after it, is an error.
pub fn find_header(bytes: &[u8]) -> Result<Option<Mb2Header>> {
    let limit = bytes.len().min(SEARCH_LIMIT);
    let mut bad = None;
    let mut off = 0;
    while off + 4 <= limit {
        if u32_at(bytes, off) == Some(HEADER_MAGIC) {
            match parse_at(bytes, off) {
                Ok(h) => return Ok(Some(h)),
                Err(e) if matches!(*e, Error::Mb2Checksum { .. }) => {
                    bad.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        off += 8;
    }
    match bad {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

// Not inlined into the header search (and from there into `detect`): 0.2 KB less code.
#[inline(never)]
fn parse_at(bytes: &[u8], off: usize) -> Result<Mb2Header> {
    let (Some(arch), Some(len), Some(sum)) = (
        u32_at(bytes, off + 4),
        u32_at(bytes, off + 8),
        u32_at(bytes, off + 12),
    ) else {
        return Err(Box::new(Error::Mb2HeaderLength {
            offset: off,
            length: 0,
            file_len: bytes.len(),
        }));
    };
    let total = HEADER_MAGIC
        .wrapping_add(arch)
        .wrapping_add(len)
        .wrapping_add(sum);
    if total != 0 {
        return Err(Box::new(Error::Mb2Checksum {
            offset: off,
            sum: total,
        }));
    }
    if arch != 0 {
        return Err(Box::new(Error::Mb2Architecture { architecture: arch }));
    }
    let end = off.checked_add(len as usize);
    let end = match end {
        Some(e) if len >= 24 && e <= bytes.len() => e,
        _ => {
            return Err(Box::new(Error::Mb2HeaderLength {
                offset: off,
                length: len,
                file_len: bytes.len(),
            }));
        }
    };
    let mut h = Mb2Header {
        offset: off,
        header_length: len,
        info_requests: Vec::new(),
        address: None,
        entry: None,
        console_flags: None,
        framebuffer: None,
        framebuffer_info_required: false,
        module_align: false,
        relocatable: None,
    };
    let mut at = off + 16;
    loop {
        if at + 8 > end {
            return Err(Box::new(Error::Mb2NoEndTag { offset: off }));
        }
        let tag = u16_at(bytes, at).unwrap_or(0);
        let optional = u16_at(bytes, at + 2).unwrap_or(0) & 1 != 0;
        let size = u32_at(bytes, at + 4).unwrap_or(0);
        let avail = end - at;
        let need = match tag {
            0 | 6 => 8,
            1 => 8,
            2 => 24,
            3 | 4 | 8 | 9 => 12,
            5 => 20,
            10 => 24,
            _ => 8,
        };
        if (size as usize) < need || size as usize > avail || (tag == 0 && size != 8) {
            return Err(Box::new(Error::Mb2TagSize {
                tag,
                at,
                size,
                avail,
            }));
        }
        let field = |i: usize| u32_at(bytes, at + 8 + 4 * i).unwrap_or(0);
        // The first four fields after the tag's header, read once for every tag type that
        // has them (0 past the end of the file, as `field`).
        let [f0, f1, f2, f3] = [field(0), field(1), field(2), field(3)];
        match tag {
            0 => break,
            1 => {
                if !(size - 8).is_multiple_of(4) {
                    return Err(Box::new(Error::Mb2TagSize {
                        tag,
                        at,
                        size,
                        avail,
                    }));
                }
                for i in 0..((size as usize - 8) / 4) {
                    let request = field(i);
                    if !optional && !PROVIDED_TAGS.contains(&request) {
                        return Err(Box::new(Error::Mb2UnsupportedRequest { request }));
                    }
                    h.framebuffer_info_required |= !optional && request == TAG_FRAMEBUFFER;
                    h.info_requests.push(request);
                }
            }
            2 => {
                h.address = Some(AddressTag {
                    header_addr: f0,
                    load_addr: f1,
                    load_end_addr: f2,
                    bss_end_addr: f3,
                })
            }
            3 => h.entry = Some(f0),
            4 => h.console_flags = Some(f0),
            5 => {
                h.framebuffer = Some(FramebufferTag {
                    width: f0,
                    height: f1,
                    depth: f2,
                    required: !optional,
                })
            }
            6 => h.module_align = true,
            10 => {
                h.relocatable = Some(RelocatableTag {
                    min_addr: f0,
                    max_addr: f1,
                    align: f2,
                    preference: f3,
                })
            }
            _ if optional => {}
            // 7 EFI boot services, 8/9 EFI entries, unknown.
            _ => return Err(Box::new(Error::Mb2UnsupportedTag { tag, at })),
        }
        at = crate::bytes::align_up(at + size as usize, 8)
            .ok_or(Error::Mb2NoEndTag { offset: off })?;
    }
    Ok(h)
}

impl Mb2Header {
    /// What the kernel asks of the screen: the framebuffer tag (a graphics mode; required
    /// unless flagged optional), else a required request for the framebuffer information
    /// (any screen).
    pub fn mode_request(&self) -> Option<ModeRequest> {
        match (self.framebuffer, self.framebuffer_info_required) {
            (Some(t), _) => Some(ModeRequest {
                source: "Multiboot2 framebuffer tag",
                graphics: true,
                width: t.width,
                height: t.height,
                depth: t.depth,
                need: if t.required {
                    ModeNeed::ThisMode
                } else {
                    ModeNeed::Preference
                },
            }),
            (None, true) => Some(ModeRequest {
                source: "Multiboot2 information request for the framebuffer tag",
                graphics: true,
                width: 0,
                height: 0,
                depth: 0,
                need: ModeNeed::AnyScreen,
            }),
            (None, false) => None,
        }
    }

    /// The load described by the address tag (with the entry tag), checked against the file.
    pub fn address_load(&self, file_len: usize) -> Result<Option<AddressLoad>> {
        let Some(a) = self.address else {
            return Ok(None);
        };
        load_from_address_fields(
            self.offset,
            file_len,
            [a.header_addr, a.load_addr, a.load_end_addr, a.bss_end_addr],
            self.entry,
            true,
        )
        .map(Some)
    }
}
