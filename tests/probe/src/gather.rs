//! A self-contained copy of boot information whose pieces lie anywhere in
//! low memory (PVH, Multiboot1): the header first, each piece appended,
//! every pointer rewritten to `base + offset`. payload-loader's decoders read
//! pointers relative to the header's address, so they decode the copy as
//! if it were the original, and nothing is read from the loader's memory
//! after this (that memory is overwritten later).

use alloc::vec::Vec;

use crate::fail;
use crate::phys;

/// Longest string the probe copies (a command line).
const MAX_STRING: u64 = 4096;

pub struct Gather {
    base: u64,
    pub buf: Vec<u8>,
}

impl Gather {
    /// Starts with the `len`-byte header at physical `base`.
    pub fn new(base: u64, len: u64, what: &str) -> Self {
        let Some(header) = phys::slice(base, len) else {
            fail!("{what} [{base:#x}..+{len:#x}) is outside the identity map");
        };
        Gather {
            base,
            buf: header.to_vec(),
        }
    }

    pub fn u32(&self, off: usize) -> u32 {
        phys::u32_at(&self.buf, off).unwrap_or(0)
    }

    pub fn u64(&self, off: usize) -> u64 {
        phys::u64_at(&self.buf, off).unwrap_or(0)
    }

    pub fn put_u32(&mut self, off: usize, v: u32) {
        if let Some(s) = self.buf.get_mut(off..off + 4) {
            s.copy_from_slice(&v.to_le_bytes());
        }
    }

    pub fn put_u64(&mut self, off: usize, v: u64) {
        if let Some(s) = self.buf.get_mut(off..off + 8) {
            s.copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Appends `len` bytes from physical `addr`; returns (offset in the
    /// copy, the address the copy stands for).
    pub fn append(&mut self, addr: u64, len: u64, what: &str) -> (usize, u64) {
        let Some(bytes) = phys::slice(addr, len) else {
            fail!("{what} [{addr:#x}..+{len:#x}) is outside the identity map");
        };
        while !self.buf.len().is_multiple_of(8) {
            self.buf.push(0);
        }
        let off = self.buf.len();
        self.buf.extend_from_slice(bytes);
        (off, self.base + off as u64)
    }

    /// Appends the NUL-terminated string at `addr` (NUL included).
    pub fn append_cstr(&mut self, addr: u64, what: &str) -> (usize, u64) {
        let avail = crate::entry::MAPPED_END
            .saturating_sub(addr)
            .min(MAX_STRING);
        let len = phys::slice(addr, avail)
            .and_then(|b| b.iter().position(|&c| c == 0))
            .map(|n| n as u64 + 1);
        let Some(len) = len else {
            fail!("{what} at {addr:#x}: no NUL within {MAX_STRING} bytes");
        };
        self.append(addr, len, what)
    }

    /// The address the copy stands for, as a 32-bit pointer (Multiboot1).
    pub fn addr32(&self, addr: u64, what: &str) -> u32 {
        match u32::try_from(addr) {
            Ok(a) => a,
            Err(_) => fail!("{what}: copy address {addr:#x} above 4 GiB"),
        }
    }
}
