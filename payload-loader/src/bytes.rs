//! Bounds-checked little-endian reads and a small append-only writer.

use alloc::boxed::Box;
use alloc::vec::Vec;

pub(crate) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

pub(crate) fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// Rounds `v` up to a multiple of the power of two `a`.
pub(crate) fn align_up(v: usize, a: usize) -> Option<usize> {
    Some(v.checked_add(a - 1)? & !(a - 1))
}

/// A little-endian byte builder.
#[derive(Default)]
pub(crate) struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    pub fn pad_to(&mut self, align: usize) {
        while !self.buf.len().is_multiple_of(align) {
            self.buf.push(0);
        }
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn put_u32(&mut self, at: usize, v: u32) {
        if let Some(s) = self.buf.get_mut(at..at + 4) {
            s.copy_from_slice(&v.to_le_bytes());
        }
    }
}

/// Reads typed values out of a boot-info blob located at physical `base`.
pub(crate) struct Blob<'a> {
    pub bytes: &'a [u8],
    pub base: u64,
}

impl Blob<'_> {
    /// The byte offset of physical `addr..addr+len` inside the blob.
    pub fn offset(&self, field: &'static str, addr: u64, len: u64) -> crate::Result<usize> {
        let oob = crate::Error::DecodeOutOfBounds {
            field,
            addr,
            len,
            base: self.base,
            blob_len: self.bytes.len(),
        };
        let off = addr.checked_sub(self.base).ok_or(oob.clone())?;
        let end = off.checked_add(len).ok_or(oob.clone())?;
        if end > self.bytes.len() as u64 {
            return Err(Box::new(oob));
        }
        usize::try_from(off).map_err(|_| Box::new(oob))
    }
    pub fn slice(&self, field: &'static str, addr: u64, len: u64) -> crate::Result<&[u8]> {
        let off = self.offset(field, addr, len)?;
        // `offset` checked `off + len <= bytes.len()`.
        self.bytes
            .get(off..off + len as usize)
            .ok_or_else(|| Box::new(crate::Error::DecodeBadValue { field, value: addr }))
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
