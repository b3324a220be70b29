//! A CBFS reader (coreboot's `commonlib/bsd/cbfs_serialized.h`): files of
//! big-endian "LARCHIVE" headers at 64-byte alignment, each `{magic[8],
//! len, type, attributes_offset, offset, filename}` followed by attributes
//! (a compression attribute says lzma or lz4 and the decompressed size) and
//! the data. The walk is bounded: every step moves forward by at least 64
//! bytes inside the region, with checked arithmetic, so it ends on any input.
//!
//! LZMA goes through baton's own decoder (`super::lzma`, which decodes
//! straight into the output), LZ4 blocks through `lz4_flex`; only the
//! LZ4 *frame* around the blocks is read here (`lz4_flex` has frames only
//! with std): magic, a descriptor, then length-prefixed blocks.

use crate::support::quote::Quoted;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A CBFS file header's magic.
pub const MAGIC: &[u8; 8] = b"LARCHIVE";
/// CBFS files start at multiples of this.
pub const ALIGNMENT: usize = 64;
/// Bytes in a CBFS file header before its name.
pub const HEADER_SIZE: usize = 24;
/// coreboot's metadata limit (header, name, attributes).
pub const MAX_METADATA: u32 = 256;

/// File type of a deleted file.
pub const TYPE_DELETED: u32 = 0;
/// File type of free space.
pub const TYPE_NULL: u32 = 0xffff_ffff;

const ATTR_TAG_COMPRESSION: u32 = 0x4243_5a4c;

/// How a CBFS file's data is stored (its compression attribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Stored as is.
    None,
    /// LZMA (`cbfstool -c lzma`).
    Lzma,
    /// LZ4 (`cbfstool -c lz4`).
    Lz4,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "raw",
            Self::Lzma => "lzma",
            Self::Lz4 => "lz4",
        })
    }
}

/// One file's metadata; `data` is the stored (maybe compressed) byte range
/// as offsets into the region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// The file's name.
    pub name: String,
    /// Its CBFS type.
    pub kind: u32,
    /// Offset of the header in the region.
    pub offset: usize,
    /// Where its data lies in the region (compressed, if it is).
    pub data: core::ops::Range<usize>,
    /// How its data is stored.
    pub compression: Compression,
    /// The size once decompressed (the stored size when raw).
    pub size: u64,
}

/// Why a CBFS region or file could not be read; each names the file and
/// numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CbfsError {
    /// A header whose fields do not fit the region or each other.
    BadHeader {
        /// The header's offset in the region.
        offset: usize,
        /// Which field is wrong.
        reason: &'static str,
        /// Its value.
        value: u64,
    },
    /// A compression attribute with an algorithm baton does not know.
    UnknownCompression {
        /// The file's name.
        file: Box<str>,
        /// The algorithm number.
        algo: u32,
    },
    /// The file's data did not decompress.
    Decompress {
        /// The file's name.
        file: Box<str>,
        /// The compression.
        algo: Compression,
        /// The decompressor's complaint.
        reason: Box<str>,
    },
    /// The decompressed bytes are not the size the attribute announced.
    SizeMismatch {
        /// The file's name.
        file: Box<str>,
        /// The size the attribute gives.
        expected: u64,
        /// The size that came out.
        got: u64,
    },
}

impl fmt::Display for CbfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadHeader {
                offset,
                reason,
                value,
            } => write!(f, "CBFS file header at +{offset:#x}: {reason} ({value:#x})"),
            Self::UnknownCompression { file, algo } => {
                write!(
                    f,
                    "CBFS file {}: unknown compression {algo}",
                    Quoted::str(file)
                )
            }
            Self::Decompress { file, algo, reason } => {
                write!(
                    f,
                    "CBFS file {}: {algo} data is corrupt: {reason}",
                    Quoted::str(file)
                )
            }
            Self::SizeMismatch {
                file,
                expected,
                got,
            } => write!(
                f,
                "CBFS file {}: decompressed to {got} bytes, the header says {expected}",
                Quoted::str(file)
            ),
        }
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    // One range check for the four bytes, not one per byte (saves 192 bytes).
    let mut word = [0; 4];
    word.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(word)
}

/// A CBFS region: the bytes between coreboot's `cbfs_offset` and
/// `cbfs_offset + cbfs_size`.
pub struct Cbfs<'a> {
    region: &'a [u8],
    /// The most memory the LZMA decoder's tables may take, in KiB.
    lzma_limit_kib: u32,
}

/// What the LZMA decoder's tables may take unless the caller has lent more
/// heap: a part of baton's 2 MiB static heap (lc=3 lp=0 takes 16 KB; the
/// most, lc=8 lp=4, 6 MiB).
pub const DEFAULT_LZMA_LIMIT_KIB: u32 = 1024;

impl<'a> Cbfs<'a> {
    /// A CBFS over `region` (the FMAP region COREBOOT, from the ROM as mapped).
    pub fn new(region: &'a [u8]) -> Self {
        Self {
            region,
            lzma_limit_kib: DEFAULT_LZMA_LIMIT_KIB,
        }
    }

    /// Allows LZMA tables of up to `kib` (the caller made the heap room).
    pub fn with_lzma_limit(self, kib: u32) -> Self {
        Self {
            lzma_limit_kib: kib,
            ..self
        }
    }

    /// The heap an LZMA file's decoder needs (its probability tables; the
    /// output is its dictionary), in bytes; 0 for others.
    pub fn heap_needed(&self, file: &File) -> u64 {
        match file.compression {
            Compression::Lzma => super::lzma::heap_needed(self.stored(file)),
            _ => 0,
        }
    }

    /// Every file, empty space included, in order. Stops at the first
    /// corrupt header with that error (as coreboot skips it, a file behind
    /// it would be lost either way; saying so is more useful).
    pub fn files(&self) -> Result<Vec<File>, CbfsError> {
        let r = self.region;
        let mut files = Vec::new();
        let mut offset = 0usize;
        while offset.saturating_add(HEADER_SIZE) <= r.len() {
            let h = &r[offset..offset + HEADER_SIZE];
            if &h[..8] != MAGIC {
                // Not a header: coreboot looks again 64 bytes on.
                offset += ALIGNMENT;
                continue;
            }
            let (len, kind, attr, data) = (be32(h, 8), be32(h, 12), be32(h, 16), be32(h, 20));
            let bad = |reason, value: u32| CbfsError::BadHeader {
                offset,
                reason,
                value: value.into(),
            };
            if (data as usize) < HEADER_SIZE + 1 || data > MAX_METADATA {
                return Err(bad("data offset is not within 25..=256", data));
            }
            if (attr != 0 && (attr as usize) < HEADER_SIZE + 1) || attr > data {
                return Err(bad(
                    "attributes offset is not between the name and the data",
                    attr,
                ));
            }
            let start = offset + data as usize;
            let end = start
                .checked_add(len as usize)
                .filter(|&e| e <= r.len())
                .ok_or(bad("data runs past the end of CBFS", len))?;
            let name_end = if attr != 0 { attr } else { data } as usize;
            let name_bytes = &r[offset + HEADER_SIZE..offset + name_end];
            let nul = name_bytes
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(name_bytes.len());
            let name = crate::support::text::lossy(&name_bytes[..nul]);
            let (compression, size) = match attr {
                0 => (Compression::None, u64::from(len)),
                _ => compression(&r[offset + attr as usize..offset + data as usize], &name)?
                    .unwrap_or((Compression::None, u64::from(len))),
            };
            files.push(File {
                name,
                kind,
                offset,
                data: start..end,
                compression,
                size,
            });
            // Next header: after the data, 64-byte aligned (always forward:
            // data >= 25 bytes past this header).
            offset = end.div_ceil(ALIGNMENT).saturating_mul(ALIGNMENT);
        }
        Ok(files)
    }

    /// The file of that name (not empty space).
    pub fn find(&self, name: &str) -> Result<Option<File>, CbfsError> {
        let mut files = self.files()?;
        // Taken out of the vector, not found in its `into_iter()` (whose
        // rest then needs dropping one by one): saves 48 bytes of code.
        let found = files
            .iter()
            .position(|f| f.name == name && f.kind != TYPE_NULL && f.kind != TYPE_DELETED);
        Ok(found.map(|i| files.swap_remove(i)))
    }

    /// The whole region.
    pub fn region(&self) -> &'a [u8] {
        self.region
    }

    /// The stored bytes of `file`.
    pub fn stored(&self, file: &File) -> &'a [u8] {
        &self.region[file.data.clone()]
    }

    /// Decompresses (or copies) `file` into `out`, which must be exactly
    /// `file.size` bytes long.
    pub fn read_into(&self, file: &File, out: &mut [u8]) -> Result<(), CbfsError> {
        let stored = self.stored(file);
        let mismatch = |got: u64| CbfsError::SizeMismatch {
            file: file.name.as_str().into(),
            expected: file.size,
            got,
        };
        if out.len() as u64 != file.size {
            return Err(mismatch(out.len() as u64));
        }
        let corrupt = |reason: String| CbfsError::Decompress {
            file: file.name.as_str().into(),
            algo: file.compression,
            reason: reason.into(),
        };
        let got = match file.compression {
            // A "none" compression attribute may announce another size.
            Compression::None if stored.len() != out.len() => stored.len(),
            Compression::None => {
                out.copy_from_slice(stored);
                stored.len()
            }
            Compression::Lzma => super::lzma::decode(stored, out, self.lzma_limit_kib)
                .map_err(|e| corrupt(alloc::string::ToString::to_string(&e)))?,
            Compression::Lz4 => lz4_frame(stored, out).map_err(corrupt)?,
        };
        if got as u64 != file.size {
            return Err(mismatch(got as u64));
        }
        Ok(())
    }

    /// `read_into` a new vector (for small files: command lines, config).
    pub fn read(&self, file: &File) -> Result<Vec<u8>, CbfsError> {
        let mut out = alloc::vec![0u8; file.size as usize];
        self.read_into(file, &mut out)?;
        Ok(out)
    }
}

/// The compression attribute among `attrs` (big-endian `{tag, len, ...}`).
fn compression(attrs: &[u8], name: &str) -> Result<Option<(Compression, u64)>, CbfsError> {
    let mut at = 0usize;
    while at + 8 <= attrs.len() {
        let (tag, len) = (be32(attrs, at), be32(attrs, at + 4) as usize);
        if len < 8 || len > attrs.len() - at {
            // coreboot stops looking at a malformed attribute list.
            return Ok(None);
        }
        if tag == ATTR_TAG_COMPRESSION && len >= 16 {
            let algo = be32(attrs, at + 8);
            let size = u64::from(be32(attrs, at + 12));
            let c = match algo {
                0 => Compression::None,
                1 => Compression::Lzma,
                2 => Compression::Lz4,
                _ => {
                    return Err(CbfsError::UnknownCompression {
                        file: name.into(),
                        algo,
                    });
                }
            };
            return Ok(Some((c, size)));
        }
        at += len;
    }
    Ok(None)
}

/// An LZ4 frame (magic 0x184D2204): FLG, BD, optional content size and
/// dictionary ID, header checksum, then blocks `{u32 size (bit 31 =
/// stored raw), bytes, optional checksum}` up to a zero size.
fn lz4_frame(stored: &[u8], out: &mut [u8]) -> Result<usize, String> {
    const MAGIC: u32 = 0x184d_2204;
    let le = |at: usize| -> Result<u32, String> {
        stored
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| alloc::format!("truncated at byte {at}"))
    };
    if le(0)? != MAGIC {
        return Err(alloc::format!("frame magic {:#x}", le(0)?));
    }
    let flg = *stored.get(4).ok_or("truncated frame descriptor")?;
    if flg >> 6 != 1 {
        return Err(alloc::format!("frame version {}", flg >> 6));
    }
    let block_checksum = flg & 0x10 != 0;
    let mut at = 6 + if flg & 0x08 != 0 { 8 } else { 0 } + if flg & 0x01 != 0 { 4 } else { 0 };
    at += 1; // header checksum
    let mut done = 0usize;
    loop {
        let word = le(at)?;
        at += 4;
        if word == 0 {
            return Ok(done);
        }
        let len = (word & 0x7fff_ffff) as usize;
        let block = stored
            .get(at..at.saturating_add(len))
            .ok_or_else(|| alloc::format!("block of {len} bytes at {at} runs past the data"))?;
        let room = &mut out[done..];
        let n = if word & 0x8000_0000 != 0 {
            room.get_mut(..len)
                .ok_or("more data than the announced size")?
                .copy_from_slice(block);
            len
        } else {
            lz4_flex::block::decompress_into(block, room)
                .map_err(|e| alloc::format!("block at {at}: {e}"))?
        };
        done += n;
        at += len + if block_checksum { 4 } else { 0 };
    }
}

#[cfg(test)]
mod tests;
