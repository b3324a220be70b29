//! Reading physical memory that somebody else wrote (boot structures).
//! Parsers take a `PhysMemory` so they run on the host over a fake memory
//! and on the machine over the identity map, and every read is bounded.

use core::fmt;

/// A read that the backing memory cannot serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// First address.
    pub addr: u64,
    /// Bytes asked for.
    pub len: u64,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:#x}..{:#x}) is not readable",
            self.addr,
            self.addr.saturating_add(self.len)
        )
    }
}

/// Physical memory as the parsers read it: the machine's (identity-mapped) or a
/// test's.
pub trait PhysMemory {
    /// Copies `buf.len()` bytes starting at physical address `addr`.
    /// Works at any alignment (boot structures may be only 4-byte aligned).
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Unreadable>;
}

/// Little-endian field access into a structure already copied out.
pub fn le_u32(bytes: &[u8], offset: usize) -> u32 {
    let mut b = [0; 4];
    b.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(b)
}

/// The little-endian u64 at `offset` of `bytes`.
pub fn le_u64(bytes: &[u8], offset: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(b)
}

/// A memory made of one byte slice at `base`, nothing else: for host tests
/// and fuzzing of the parsers.
pub struct FakeMemory {
    /// Physical address of `bytes[0]`.
    pub base: u64,
    /// The memory's contents.
    pub bytes: alloc::vec::Vec<u8>,
}

impl FakeMemory {
    /// `len` zero bytes at physical address `base`.
    pub fn new(base: u64, len: usize) -> Self {
        Self {
            base,
            bytes: alloc::vec![0; len],
        }
    }

    /// Puts `data` at physical address `addr`.
    pub fn write(&mut self, addr: u64, data: &[u8]) {
        let off = (addr - self.base) as usize;
        self.bytes[off..off + data.len()].copy_from_slice(data);
    }
}

impl PhysMemory for FakeMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Unreadable> {
        let err = Unreadable {
            addr,
            len: buf.len() as u64,
        };
        let off = addr.checked_sub(self.base).ok_or(err)? as usize;
        let src = self
            .bytes
            .get(off..off.checked_add(buf.len()).ok_or(err)?)
            .ok_or(err)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}
