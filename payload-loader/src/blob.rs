//! Reading a boot-information blob back by physical address, every read bounded (the
//! decoders' part; the builders write with `bytes::Writer`).

use alloc::boxed::Box;
use alloc::vec::Vec;

/// Reads typed values out of a boot-info blob located at physical `base`.
pub(crate) struct Blob<'a> {
    pub bytes: &'a [u8],
    pub base: u64,
}

impl Blob<'_> {
    /// The byte offset of physical `addr..addr+len` inside the blob.
    pub fn offset(&self, field: &'static str, addr: u64, len: u64) -> crate::Result<usize> {
        // Every failed check is the same error, built in one place (not cloned per check).
        let in_blob = || {
            let off = addr.checked_sub(self.base)?;
            let end = off.checked_add(len)?;
            if end > self.bytes.len() as u64 {
                return None;
            }
            usize::try_from(off).ok()
        };
        in_blob().ok_or_else(|| {
            Box::new(crate::Error::DecodeOutOfBounds {
                field,
                addr,
                len,
                base: self.base,
                blob_len: self.bytes.len(),
            })
        })
    }
    pub fn slice(&self, field: &'static str, addr: u64, len: u64) -> crate::Result<&[u8]> {
        let off = self.offset(field, addr, len)?;
        // `offset` checked `off + len <= bytes.len()`.
        self.bytes
            .get(off..off + len as usize)
            .ok_or_else(|| crate::Error::bad_value(field, addr))
    }
    pub fn u32(&self, field: &'static str, addr: u64) -> crate::Result<u32> {
        let s = self.slice(field, addr, 4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    pub fn u64(&self, field: &'static str, addr: u64) -> crate::Result<u64> {
        let s = self.slice(field, addr, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    /// A NUL-terminated string starting at `addr`, without the NUL.
    pub fn cstr(&self, field: &'static str, addr: u64) -> crate::Result<Vec<u8>> {
        let off = self.offset(field, addr, 0)?;
        let rest = self.bytes.get(off..).unwrap_or(&[]);
        match rest.iter().position(|&b| b == 0) {
            Some(n) => Ok(rest[..n].to_vec()),
            None => Err(Box::new(crate::Error::DecodeOutOfBounds {
                field,
                addr,
                len: rest.len() as u64 + 1,
                base: self.base,
                blob_len: self.bytes.len(),
            })),
        }
    }
}
