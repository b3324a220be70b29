//! Where baton's kernel comes from: QEMU fw_cfg when the device is there
//! and has `opt/baton/kernel` (files read straight into physical memory
//! from the frame allocator), else coreboot's CBFS when it has `kernel`
//! (decompressed into free memory), else the entry protocol's boot modules
//! (which are already in memory). fw_cfg and CBFS use one naming scheme.

pub mod fwcfg;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use baton::entry::BootInfo;
use baton::source::cbfs::{self, Cbfs};
use baton::source::fwcfg::{File, KERNEL, Plan};
use baton::source::initrd;
use baton::source::{
    self, Blob, KernelSource, Module, Origin, PartlyRead, SourceError, check_text_size, text_of,
};
use baton::support::frames::{FrameAllocator, PAGE_SIZE};
use payload_loader::{Range, reads};

use crate::machine::platform::{memory, paging, tsc};
use crate::machine::source::fwcfg::FwCfg;

/// Modules and initrds stay below 4 GiB: 32-bit protocols (Multiboot1)
/// cannot point above.
const BELOW_4G: u64 = 1 << 32;

/// The kernel sources in the order baton tries them.
pub const ORDER: [Origin; 3] = [Origin::FwCfg, Origin::Cbfs, Origin::BootModules];

/// The kernel and its files from `origin`, or None when it has no kernel.
/// An initrd that is an uncompressed cpio archive is checked whole.
// Out of line: inlined, its locals swell `boot_first_kernel`'s stack
// frame and spills (measured: -1792 bytes).
#[inline(never)]
pub fn load(
    origin: Origin,
    info: &BootInfo,
    frames: &mut FrameAllocator,
) -> Result<Option<KernelSource>, SourceError> {
    let source = match origin {
        Origin::FwCfg => match FwCfg::detect() {
            Some(fw) => from_fw_cfg(&fw, frames)?,
            None => None,
        },
        Origin::Cbfs => match info.platform.cbfs {
            Some(range) => from_cbfs(&crate::machine::entry::cbfs::at(range), frames)?,
            None => None,
        },
        Origin::BootModules => match source::from_boot_modules(&info.modules) {
            Err(SourceError::NoKernel) => None,
            found => Some(found?),
        },
    };
    if let Some(initrd) = source.as_ref().and_then(|s| s.initrd) {
        check_initrd(initrd)?;
    }
    Ok(source)
}

/// The bytes of a kernel source's blob, if the identity map covers them.
pub fn blob_bytes(blob: Blob) -> Option<&'static [u8]> {
    if blob.addr.saturating_add(blob.len) > paging::mapped_end() {
        return None;
    }
    // SAFETY: identity-mapped RAM that a kernel source owns; read only.
    Some(unsafe { core::slice::from_raw_parts(blob.addr as *const u8, blob.len as usize) })
}

fn check_initrd(initrd: Blob) -> Result<(), SourceError> {
    let Some(bytes) = blob_bytes(initrd) else {
        warn!(
            "initrd at {:#x} lies beyond the identity map: not checked",
            initrd.addr
        );
        return Ok(());
    };
    let checked = initrd::check(bytes).map_err(|e| SourceError::Initrd(Box::new(e)))?;
    debug!("initrd: {checked}");
    Ok(())
}

/// The CBFS files, named as in fw_cfg (`opt/baton/kernel`, ...: bare names
/// would collide with coreboot's own CBFS file `config`), so the one
/// planner picks both; `select` holds the index into `cbfs_files`.
fn from_cbfs(
    cbfs: &Cbfs,
    frames: &mut FrameAllocator,
) -> Result<Option<KernelSource>, SourceError> {
    let cbfs_files = cbfs.files().map_err(|e| SourceError::Cbfs(Box::new(e)))?;
    // A loop of pushes: the filtering `collect` cost 512 more bytes.
    let mut named = Vec::new();
    for (i, f) in cbfs_files.iter().enumerate() {
        if f.kind != cbfs::TYPE_NULL && f.kind != cbfs::TYPE_DELETED {
            named.push(File {
                name: f.name.clone(),
                size: u32::try_from(f.size).unwrap_or(u32::MAX),
                select: i as u16,
            });
        }
    }
    let plan = baton::source::fwcfg::plan(&named);
    for w in &plan.warnings {
        warn!("CBFS: {w}");
    }
    let Some(kernel) = &plan.kernel else {
        debug!("CBFS: {} files, none is {}", cbfs_files.len(), KERNEL);
        return Ok(None);
    };
    let file = |f: &File| &cbfs_files[usize::from(f.select)];
    // The LZMA decoder's tables grow with lc + lp (16 KB usually, 6 MiB
    // at most): lend the heap room for the largest before reading any.
    let mut heap = 0;
    let planned = plan
        .initrd
        .iter()
        .chain(plan.modules.iter().map(|m| &m.file));
    for f in core::iter::once(kernel).chain(planned) {
        heap = heap.max(cbfs.heap_needed(file(f)));
    }
    let limit_kib = u32::try_from(heap >> 10).unwrap_or(u32::MAX);
    if heap > 0 && !memory::ensure_heap(frames, heap) {
        return Err(SourceError::OutOfMemory {
            file: "LZMA decoder tables".into(),
            size: heap,
            free: frames.free_bytes(),
        });
    }
    let cbfs =
        &Cbfs::new(cbfs.region()).with_lzma_limit(limit_kib.max(cbfs::DEFAULT_LZMA_LIMIT_KIB));
    read_planned(
        &CbfsFiles {
            cbfs,
            files: &cbfs_files,
        },
        &plan,
        kernel,
        frames,
    )
    .map(Some)
}

/// The files of a CBFS, by their index (`File::select`).
struct CbfsFiles<'a> {
    cbfs: &'a Cbfs<'a>,
    files: &'a [cbfs::File],
}

impl Files for CbfsFiles<'_> {
    fn origin(&self) -> Origin {
        Origin::Cbfs
    }
    fn blob(&self, f: &File, frames: &mut FrameAllocator, limit: u64) -> Result<Blob, SourceError> {
        cbfs_blob(self.cbfs, &self.files[usize::from(f.select)], frames, limit)
    }
    fn kernel(
        &self,
        f: &File,
        frames: &mut FrameAllocator,
    ) -> Result<(Blob, Option<PartlyRead>), SourceError> {
        Ok((self.blob(f, frames, paging::allocation_limit())?, None))
    }
    fn text(&self, f: &File) -> Result<String, SourceError> {
        crate::machine::entry::cbfs::text(self.cbfs, &self.files[usize::from(f.select)])
    }
}

/// How a kernel source's planned files are read: all that fw_cfg and CBFS
/// do differently. Behind `dyn`, so `read_planned` is one copy for both.
trait Files {
    fn origin(&self) -> Origin;
    /// `f` into fresh memory below `limit`.
    fn blob(&self, f: &File, frames: &mut FrameAllocator, limit: u64) -> Result<Blob, SourceError>;
    /// The kernel file, maybe only in part (`PartlyRead`).
    fn kernel(
        &self,
        f: &File,
        frames: &mut FrameAllocator,
    ) -> Result<(Blob, Option<PartlyRead>), SourceError>;
    /// A text file (command line, config).
    fn text(&self, f: &File) -> Result<String, SourceError>;
}

/// Reads the files `plan` picked, `kernel` among them: small allocations
/// below 4 GiB first; the kernel (staged and copied by the takeover) may
/// go anywhere mapped. One function for fw_cfg and CBFS instead of an
/// inlined copy in each: saves about 1 KB.
fn read_planned(
    files: &dyn Files,
    plan: &Plan,
    kernel: &File,
    frames: &mut FrameAllocator,
) -> Result<KernelSource, SourceError> {
    let text = |f: &Option<File>| match f {
        Some(f) => files.text(f).map(Some),
        None => Ok(None),
    };
    let initrd = match &plan.initrd {
        Some(f) => Some(files.blob(f, frames, BELOW_4G)?),
        None => None,
    };
    let mut modules = Vec::new();
    for m in &plan.modules {
        modules.push(Module {
            blob: files.blob(&m.file, frames, BELOW_4G)?,
            name: m.file.name.as_str().into(),
            cmdline: text(&m.cmdline)?.unwrap_or_default(),
        });
    }
    let kernel_name = kernel.name.as_str().into();
    let (kernel, kernel_in_part) = files.kernel(kernel, frames)?;
    Ok(KernelSource {
        origin: files.origin(),
        kernel,
        kernel_name,
        kernel_in_part,
        initrd,
        cmdline: text(&plan.cmdline)?.unwrap_or_default(),
        modules,
        config: text(&plan.config)?,
    })
}

/// Decompresses (or copies) a CBFS file into fresh physical memory below `limit`.
fn cbfs_blob(
    cbfs: &Cbfs,
    file: &cbfs::File,
    frames: &mut FrameAllocator,
    limit: u64,
) -> Result<Blob, SourceError> {
    let size = file.size;
    let addr = allocate(&alloc::format!("CBFS {}", file.name), size, frames, limit)?;
    let started = tsc::now();
    // SAFETY: fresh frames from the allocator, identity-mapped, `size` long.
    let out = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, size as usize) };
    cbfs.read_into(file, out)
        .map_err(|e| SourceError::Cbfs(Box::new(e)))?;
    debug!(
        "CBFS: {} ({} bytes {}, {size} bytes) to {addr:#x} in {} ms",
        file.name,
        file.data.len(),
        file.compression,
        tsc::since(started)
    );
    Ok(Blob { addr, len: size })
}

fn from_fw_cfg(
    fw: &FwCfg,
    frames: &mut FrameAllocator,
) -> Result<Option<KernelSource>, SourceError> {
    let files = fw.directory().map_err(SourceError::Directory)?;
    let plan = baton::source::fwcfg::plan(&files);
    for w in &plan.warnings {
        warn!("fw_cfg: {w}");
    }
    let Some(kernel) = &plan.kernel else {
        debug!(
            "fw_cfg: {} files (features {:#x}, {}), none is {}",
            files.len(),
            fw.features,
            fw.method,
            KERNEL
        );
        return Ok(None);
    };
    if kernel.size == 0 {
        return Err(SourceError::Empty {
            file: kernel.name.as_str().into(),
        });
    }
    read_planned(fw, &plan, kernel, frames).map(Some)
}

impl Files for FwCfg {
    fn origin(&self) -> Origin {
        Origin::FwCfg
    }
    fn blob(&self, f: &File, frames: &mut FrameAllocator, limit: u64) -> Result<Blob, SourceError> {
        blob(self, f, frames, limit)
    }
    fn kernel(
        &self,
        f: &File,
        frames: &mut FrameAllocator,
    ) -> Result<(Blob, Option<PartlyRead>), SourceError> {
        kernel_blob(self, f, frames)
    }
    fn text(&self, f: &File) -> Result<String, SourceError> {
        text(self, f)
    }
}

/// Fresh, identity-mapped physical memory for `size` bytes of the file
/// `name`, below `limit` (a zero-byte file still gets a page, so every blob
/// has an address of its own).
fn allocate(
    name: &str,
    size: u64,
    frames: &mut FrameAllocator,
    limit: u64,
) -> Result<u64, SourceError> {
    frames
        .allocate(
            size.max(1),
            PAGE_SIZE,
            limit.min(paging::allocation_limit()),
        )
        .ok_or_else(|| SourceError::OutOfMemory {
            file: name.into(),
            size,
            free: frames.free_bytes(),
        })
}

/// Reads `file` into fresh physical memory below `limit`.
fn blob(
    fw: &FwCfg,
    file: &File,
    frames: &mut FrameAllocator,
    limit: u64,
) -> Result<Blob, SourceError> {
    let size = u64::from(file.size);
    let addr = allocate(&file.name, size, frames, limit)?;
    let started = tsc::now();
    // SAFETY: the range was just taken from the frame allocator (free,
    // identity-mapped RAM below mapped_end) and is at least `size` long.
    unsafe { fw.read_to(file, addr) }.map_err(|e| {
        debug!("fw_cfg: DMA control word {:#x}", e.control);
        SourceError::Dma {
            file: file.name.as_str().into(),
            size,
            addr,
        }
    })?;
    debug!(
        "fw_cfg: {} ({size} bytes) to {addr:#x} by {} in {} ms",
        file.name,
        fw.method,
        tsc::since(started)
    );
    Ok(Blob { addr, len: size })
}

/// The kernel file into fresh memory. With DMA only what the planner
/// reads (`payload_loader::reads`: the head, the program headers, the
/// notes) is read now; the takeover fetches the segments' bytes, straight
/// to their destinations where nothing of baton's lies (Debian's vmlinux:
/// 45 of its 53 MB, and no copy). The whole file where that is not known
/// to be enough (ET_DYN, PT_DYNAMIC, headers that do not parse, which the
/// planner then names) and without DMA.
fn kernel_blob(
    fw: &FwCfg,
    file: &File,
    frames: &mut FrameAllocator,
) -> Result<(Blob, Option<PartlyRead>), SourceError> {
    if fw.method != crate::machine::source::fwcfg::Method::Dma {
        return Ok((blob(fw, file, frames, paging::allocation_limit())?, None));
    }
    let size = u64::from(file.size);
    let addr = allocate(&file.name, size, frames, paging::allocation_limit())?;
    let whole = Blob { addr, len: size };
    let mut bytes_read = 0;
    let mut read = |range: Range| -> Result<(), SourceError> {
        read_part(fw, file, whole, range)?;
        bytes_read += range.end - range.start;
        Ok(())
    };
    read(Range::new(0, size.min(reads::HEAD)))?;
    let head = blob_bytes(Blob {
        addr,
        len: size.min(reads::HEAD),
    });
    // A bzImage plans from its setup sectors alone (in the head): the
    // protected-mode kernel goes straight to its destination after the stop.
    if head.and_then(|h| reads::setup_sectors(h, size)).is_some() {
        return Ok(read_in_part(
            file,
            whole,
            bytes_read,
            "a bzImage's setup sectors",
        ));
    }
    if let Some(table) = head.and_then(|h| reads::program_header_table(h, size)) {
        if table.end > reads::HEAD {
            read(table)?;
        }
        if let Some(notes) = blob_bytes(whole).and_then(reads::metadata_ranges) {
            for r in notes {
                read(r)?;
            }
            let why = "head, program headers, notes";
            return Ok(read_in_part(file, whole, bytes_read, why));
        }
    }
    read_part(fw, file, whole, Range::new(0, size))?;
    Ok((whole, None))
}

/// The kernel file `whole` read in part (`bytes_read` of it, `why`
/// those): one log line for both ways.
fn read_in_part(
    file: &File,
    whole: Blob,
    bytes_read: u64,
    why: &str,
) -> (Blob, Option<PartlyRead>) {
    debug!(
        "fw_cfg: {}: read in part ({bytes_read} of {} bytes: {why})",
        file.name, whole.len
    );
    let part = PartlyRead {
        fw_cfg_select: file.select,
        bytes_read,
    };
    (whole, Some(part))
}

/// Reads `range` of `file` (a kernel file of `blob`'s size) into `blob`
/// at the same offset.
fn read_part(fw: &FwCfg, file: &File, blob: Blob, range: Range) -> Result<(), SourceError> {
    let dma_error = |control| {
        debug!("fw_cfg: DMA control word {control:#x}");
        SourceError::Dma {
            file: file.name.as_str().into(),
            size: range.end - range.start,
            addr: blob.addr + range.start,
        }
    };
    if range.end > blob.len {
        return Err(dma_error(0));
    }
    let len = range.end - range.start;
    // SAFETY: inside `blob`, fresh frames of the kernel source's own.
    unsafe { fw.read_part(file.select, range.start, len, blob.addr + range.start) }
        .map_err(|e| dma_error(e.control))
}

fn text(fw: &FwCfg, file: &File) -> Result<String, SourceError> {
    let size = u64::from(file.size);
    check_text_size(&file.name, size)?;
    let bytes = fw.read_vec(file).map_err(|_| SourceError::Dma {
        file: file.name.as_str().into(),
        size,
        addr: 0,
    })?;
    text_of(file.name.clone(), &bytes)
}

/// The fw_cfg access method, for the log ("DMA", "port I/O"), if fw_cfg is there.
pub fn fw_cfg_method() -> Option<crate::machine::source::fwcfg::Method> {
    FwCfg::detect().map(|f| f.method)
}
