//! The memory-mapped CBFS coreboot booted from (below 4 GiB, inside the
//! boot identity map), read through the portable `baton::source::cbfs` reader.

use alloc::boxed::Box;
use alloc::string::String;
use baton::source::cbfs::{self, Cbfs};
use baton::source::{SourceError, check_text_size, text_of};
use payload_loader::Range;

/// The CBFS at `range`, as coreboot's boot-media record gave it.
pub fn at(range: Range) -> Cbfs<'static> {
    let len = (range.end - range.start) as usize;
    // SAFETY: `cbfs_range` keeps the region below 4 GiB, which the boot
    // identity map covers; the flash is only read, and stays mapped.
    Cbfs::new(unsafe { core::slice::from_raw_parts(range.start as *const u8, len) })
}

/// The text of the CBFS file `opt/baton/config` (baton's own options), or
/// "" without one or when it cannot be read: the kernel-source step reads
/// it again and stops there with the named error.
pub fn config(range: Range) -> String {
    let cbfs = at(range);
    let text = match cbfs.find(baton::source::fwcfg::CONFIG) {
        Ok(None) => return String::new(),
        Ok(Some(file)) => text(&cbfs, &file),
        Err(e) => Err(SourceError::Cbfs(Box::new(e))),
    };
    text.unwrap_or_else(|e| {
        warn!("CBFS: {e}; no config");
        String::new()
    })
}

/// A CBFS text file (command line, config): at most MAX_TEXT, and text.
pub fn text(cbfs: &Cbfs, file: &cbfs::File) -> Result<String, SourceError> {
    let name = alloc::format!("CBFS {}", file.name);
    check_text_size(&name, file.size)?;
    text_of(
        name,
        &cbfs
            .read(file)
            .map_err(|e| SourceError::Cbfs(Box::new(e)))?,
    )
}
