//! QEMU's fw_cfg device: the traditional port interface (selector 0x510,
//! data 0x511) and, where the device offers it (feature bit 1), the DMA
//! interface (address register at 0x514/0x518), which reads a 60 MB
//! kernel in one transfer where byte-wise port reads would take a minute
//! under TCG. The directory parsing and baton's names are in the library
//! (`baton::source::fwcfg`).

use alloc::vec::Vec;
use core::sync::atomic::{Ordering, compiler_fence};

use baton::source::fwcfg::{
    self, DirError, ENTRY_LEN, FEATURE_DMA, File, SELECT_FEATURES, SELECT_FILE_DIR,
    SELECT_SIGNATURE, SIGNATURE,
};
use x86_64::instructions::port::Port;

use crate::machine::platform::tsc;

const SELECTOR_PORT: u16 = 0x510;
const DATA_PORT: u16 = 0x511;
/// The DMA address register: high half, then low half (the low write
/// starts the transfer); each half big-endian.
const DMA_ADDRESS_HIGH: u16 = 0x514;
const DMA_ADDRESS_LOW: u16 = 0x518;

/// `FWCfgDmaAccess.control` bits.
const DMA_ERROR: u32 = 0x01;
const DMA_READ: u32 = 0x02;
const DMA_SKIP: u32 = 0x04;
const DMA_SELECT: u32 = 0x08;

/// How long a DMA transfer may take before it is called failed (QEMU does
/// it synchronously within the port write; this only bounds a broken one).
const DMA_TIMEOUT_US: u64 = 30_000_000;

/// `FWCfgDmaAccess`: every field big-endian. Lives in baton's .bss, which
/// is identity-mapped, so its address is the physical one the device reads.
#[repr(C, align(16))]
struct DmaAccess {
    control: u32,
    length: u32,
    address: u64,
}

static mut DMA_ACCESS: DmaAccess = DmaAccess {
    control: 0,
    length: 0,
    address: 0,
};

/// How bytes are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Dma,
    Port,
}

impl core::fmt::Display for Method {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Dma => "DMA",
            Self::Port => "port I/O",
        })
    }
}

/// A DMA transfer that ended with the error bit, or never ended.
#[derive(Clone, Copy, Debug)]
pub struct DmaFailed {
    pub control: u32,
}

pub struct FwCfg {
    pub method: Method,
    pub features: u32,
}

fn select(selector: u16) {
    // SAFETY: fw_cfg's selector port; selecting has no other effect.
    unsafe { Port::<u16>::new(SELECTOR_PORT).write(selector) };
}

/// Reads `buf.len()` bytes of the selected item through the data port.
fn read_port(buf: &mut [u8]) {
    // SAFETY: `rep insb` from the data port into `buf`, which is valid for
    // writes of its length; the direction flag is clear (Rust's ABI).
    unsafe {
        core::arch::asm!(
            "rep insb",
            in("dx") DATA_PORT,
            inout("rdi") buf.as_mut_ptr() => _,
            inout("rcx") buf.len() => _,
            options(nostack, preserves_flags)
        );
    }
}

impl FwCfg {
    /// The device, if its signature reads "QEMU".
    pub fn detect() -> Option<Self> {
        let mut signature = [0u8; 4];
        select(SELECT_SIGNATURE);
        read_port(&mut signature);
        if signature != SIGNATURE {
            return None;
        }
        let mut features = [0u8; 4];
        select(SELECT_FEATURES);
        read_port(&mut features);
        let features = u32::from_le_bytes(features);
        let method = if features & FEATURE_DMA != 0 {
            Method::Dma
        } else {
            Method::Port
        };
        Some(Self { method, features })
    }

    /// The file directory, checked entry by entry.
    pub fn directory(&self) -> Result<Vec<File>, DirError> {
        select(SELECT_FILE_DIR);
        let mut count = [0u8; 4];
        read_port(&mut count);
        let count = fwcfg::parse_count(count)?;
        let mut files: Vec<File> = Vec::with_capacity(count as usize);
        for index in 0..count {
            let mut entry = [0u8; ENTRY_LEN];
            read_port(&mut entry);
            let file = fwcfg::parse_entry(index, &entry)?;
            fwcfg::check_unique(&files, index, &file)?;
            files.push(file);
        }
        Ok(files)
    }

    /// Reads the whole of `file` to physical `addr`.
    ///
    /// # Safety
    /// `[addr, addr + file.size)` must be identity-mapped memory that
    /// nothing else uses.
    pub unsafe fn read_to(&self, file: &File, addr: u64) -> Result<(), DmaFailed> {
        match self.method {
            // SAFETY: as the caller promised.
            Method::Dma => unsafe { dma_read(file.select, addr, file.size) },
            Method::Port => {
                select(file.select);
                // SAFETY: as the caller promised.
                let buf =
                    unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, file.size as usize) };
                read_port(buf);
                Ok(())
            }
        }
    }

    /// The whole of a small file, onto the heap.
    pub fn read_vec(&self, file: &File) -> Result<Vec<u8>, DmaFailed> {
        let mut buf = alloc::vec![0u8; file.size as usize];
        // SAFETY: the heap is in baton's identity-mapped .bss, and `buf`
        // is ours and exactly this long.
        unsafe { self.read_to(file, buf.as_mut_ptr() as u64)? };
        Ok(buf)
    }
}

/// One DMA read of `length` bytes of item `selector` to `addr`.
///
/// # Safety
/// `[addr, addr + length)` must be memory nothing else uses.
unsafe fn dma_read(selector: u16, addr: u64, length: u32) -> Result<(), DmaFailed> {
    // SAFETY: as the caller promised.
    unsafe {
        dma(
            (u32::from(selector) << 16) | DMA_SELECT | DMA_READ,
            length,
            addr,
        )
    }
}

impl FwCfg {
    /// Reads `length` bytes of item `select` from `offset` on to physical
    /// `addr` (select and skip, then read: two DMA transfers). DMA only;
    /// an offset or length beyond fw_cfg's 32 bits fails with control 0.
    ///
    /// # Safety
    /// `[addr, addr + length)` must be identity-mapped memory that nothing
    /// else uses.
    pub unsafe fn read_part(
        &self,
        select: u16,
        offset: u64,
        length: u64,
        addr: u64,
    ) -> Result<(), DmaFailed> {
        let (Ok(offset), Ok(length)) = (u32::try_from(offset), u32::try_from(length)) else {
            return Err(DmaFailed { control: 0 });
        };
        if self.method != Method::Dma {
            return Err(DmaFailed { control: 0 });
        }
        // SAFETY: a skip writes no memory; the read is the caller's range.
        unsafe {
            dma((u32::from(select) << 16) | DMA_SELECT | DMA_SKIP, offset, 0)?;
            dma(DMA_READ, length, addr)
        }
    }
}

/// One DMA transfer: `control` (command and selector), `length`, `addr`.
///
/// # Safety
/// A read's `[addr, addr + length)` must be memory nothing else uses.
unsafe fn dma(control: u32, length: u32, addr: u64) -> Result<(), DmaFailed> {
    let access = &raw mut DMA_ACCESS;
    // SAFETY: single-threaded boot; the device touches the struct only
    // between the address write below and the control word clearing.
    unsafe {
        access.write_volatile(DmaAccess {
            control: control.to_be(),
            length: length.to_be(),
            address: addr.to_be(),
        });
    }
    compiler_fence(Ordering::SeqCst);
    let physical = access as u64;
    // SAFETY: fw_cfg's DMA address register; the struct is set up above.
    unsafe {
        Port::<u32>::new(DMA_ADDRESS_HIGH).write(((physical >> 32) as u32).to_be());
        Port::<u32>::new(DMA_ADDRESS_LOW).write((physical as u32).to_be());
    }
    let deadline = tsc::now().saturating_add(DMA_TIMEOUT_US.saturating_mul(tsc::khz()) / 1000);
    loop {
        compiler_fence(Ordering::SeqCst);
        // SAFETY: reading our own struct, which the device updates.
        let control = u32::from_be(unsafe { (&raw const (*access).control).read_volatile() });
        if control & DMA_ERROR != 0 {
            return Err(DmaFailed { control });
        }
        if control == 0 {
            return Ok(());
        }
        if tsc::now() > deadline {
            return Err(DmaFailed { control });
        }
        core::hint::spin_loop();
    }
}
