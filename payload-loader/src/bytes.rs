//! Bounds-checked little-endian reads and a small append-only writer.

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

/// Copies `v` into `buf` at `at`; nothing if it does not fit.
pub(crate) fn put(buf: &mut [u8], at: usize, v: &[u8]) {
    if let Some(dst) = at.checked_add(v.len()).and_then(|end| buf.get_mut(at..end)) {
        dst.copy_from_slice(v);
    }
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
    /// `s` and its terminating NUL.
    pub fn cstr(&mut self, s: &str) {
        self.bytes(s.as_bytes());
        self.u8(0);
    }
    /// Zeroes up to length `len` (nothing if the buffer is that long already).
    pub fn zeros_to(&mut self, len: usize) {
        if len > self.buf.len() {
            self.buf.resize(len, 0);
        }
    }
    pub fn pad_to(&mut self, align: usize) {
        self.zeros_to(self.buf.len().next_multiple_of(align));
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
