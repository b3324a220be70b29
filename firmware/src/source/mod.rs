//! What baton boots: the kernel and what goes with it, wherever it came
//! from (QEMU fw_cfg, the entry protocol's boot modules, later CBFS). The
//! bytes stay in physical memory (a Linux vmlinux is 60 MB, far more than
//! baton's heap); a `Blob` says where.

pub mod cbfs;
pub mod fwcfg;
pub mod initrd;
pub mod lzma;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// Bytes in physical memory, identity-mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blob {
    /// Physical address of the first byte.
    pub addr: u64,
    /// Length in bytes.
    pub len: u64,
}

impl Blob {
    /// The physical addresses the blob covers.
    pub fn range(&self) -> payload_loader::Range {
        payload_loader::Range::new(self.addr, self.addr.saturating_add(self.len))
    }
}

/// A boot module for the kernel (Multiboot modules, PVH modlist entries
/// after the initrd), with its own command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// The module's bytes.
    pub blob: Blob,
    /// The file's name where it came from (`opt/baton/module/0`, or
    /// `module/N` for the entry protocol's N-th boot module): a Multiboot
    /// kernel gets it as the first word of the module's string.
    pub name: Box<str>,
    /// Its command line.
    pub cmdline: String,
}

/// Where a kernel came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// QEMU's fw_cfg files (`opt/baton/...`).
    FwCfg,
    /// The entry protocol's boot modules.
    BootModules,
    /// coreboot's CBFS.
    Cbfs,
}

impl core::fmt::Display for Origin {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::FwCfg => "QEMU fw_cfg",
            Self::BootModules => "boot modules",
            Self::Cbfs => "CBFS",
        })
    }
}

/// A kernel and what comes with it, as blobs in physical memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelSource {
    /// Where it came from.
    pub origin: Origin,
    /// The kernel file (only its first part when `partial`).
    pub kernel: Blob,
    /// The kernel file's name (`opt/baton/kernel`, or `kernel` for a boot
    /// module): a Multiboot kernel gets it as the first word of its command
    /// line, as GRUB and QEMU give the image's path.
    pub kernel_name: Box<str>,
    /// The initrd, if any.
    pub initrd: Option<Blob>,
    /// The kernel's command line.
    pub cmdline: String,
    /// In the order they are handed to the kernel.
    pub modules: Vec<Module>,
    /// baton's own options from the `config` file (same syntax as its
    /// command line), if there is one.
    pub config: Option<String>,
    /// Set when only the parts of the kernel file the planner reads are in
    /// `kernel` (its head, program headers and notes; the rest of the blob
    /// is not the file's): the takeover fetches the segments' bytes from
    /// here, straight to their destinations where it can.
    pub kernel_in_part: Option<PartlyRead>,
}

/// A kernel file read only in part, and where the rest comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartlyRead {
    /// The fw_cfg item (read by DMA).
    pub fw_cfg_select: u16,
    /// How many of the file's bytes were read.
    pub bytes_read: u64,
}

impl KernelSource {
    /// The initrd file's name (see `kernel_name`).
    pub fn initrd_name(&self) -> &'static str {
        match self.origin {
            Origin::FwCfg | Origin::Cbfs => crate::source::fwcfg::INITRD,
            Origin::BootModules => "initrd",
        }
    }

    /// Every range of memory the source occupies (to keep free until the
    /// kernel is copied into place).
    pub fn ranges(&self) -> Vec<payload_loader::Range> {
        let mut r = alloc::vec![self.kernel.range()];
        r.extend(self.initrd.map(|b| b.range()));
        r.extend(self.modules.iter().map(|m| m.blob.range()));
        r
    }
}

/// Why no kernel source could be had. Each names the cause and numbers.
/// Kept narrow (32 bytes of fields), since every result of a kernel source
/// is as wide and moves through each `?`: the CBFS and initrd errors are
/// boxed, the file names are `Box<str>` (2.6 KB of image). The
/// boxing is spelled out at each `map_err`: a `From` impl for `?` to call
/// came out 1.5 KB larger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceError {
    /// Neither fw_cfg nor the entry protocol had a kernel.
    NoKernel,
    /// fw_cfg is there, but its file directory is not readable.
    Directory(crate::source::fwcfg::DirError),
    /// A file of zero bytes where bytes are needed.
    Empty {
        /// The file's name.
        file: Box<str>,
    },
    /// No free physical memory range for a file.
    OutOfMemory {
        /// The file's name.
        file: Box<str>,
        /// Its size in bytes.
        size: u64,
        /// The largest free range.
        free: u64,
    },
    /// A text file (command line, config) above its limit.
    TooBig {
        /// The file's name.
        file: Box<str>,
        /// Its size in bytes.
        size: u64,
        /// The most baton takes.
        max: u64,
    },
    /// The fw_cfg DMA transfer ended with the error bit.
    Dma {
        /// The file's name.
        file: Box<str>,
        /// Its size in bytes.
        size: u64,
        /// Where it was read to.
        addr: u64,
    },
    /// CBFS is corrupt, or a file in it does not decompress.
    Cbfs(Box<crate::source::cbfs::CbfsError>),
    /// A command line or config file that is not text.
    NotText {
        /// The file's name.
        file: Box<str>,
        /// Offset of the byte.
        at: usize,
        /// The byte.
        byte: u8,
    },
    /// The initrd is a cpio archive cut short or malformed.
    Initrd(Box<crate::source::initrd::InitrdError>),
}

impl core::fmt::Display for SourceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoKernel => f.write_str(
                "no kernel: neither fw_cfg nor CBFS has opt/baton/kernel, and the entry protocol gave no modules",
            ),
            // The inner errors' `fmt` called as is, not through
            // `write!(f, "{e}")` (no arguments to build; here and in the
            // entry errors, 128 bytes).
            Self::Directory(e) => core::fmt::Display::fmt(e, f),
            Self::Empty { file } => write!(f, "{file} is empty (0 bytes)"),
            Self::OutOfMemory { file, size, free } => write!(
                f,
                "{file}: no free range of {size} bytes ({} MiB) for it; {free} bytes ({} MiB) free in all",
                size.div_ceil(1 << 20),
                free >> 20
            ),
            Self::TooBig { file, size, max } => {
                write!(f, "{file}: {size} bytes, above the limit of {max} for text")
            }
            Self::Dma { file, size, addr } => write!(
                f,
                "{file}: the fw_cfg DMA read of {size} bytes to {addr:#x} reported an error"
            ),
            Self::Cbfs(e) => core::fmt::Display::fmt(e, f),
            Self::NotText { file, at, byte } => write!(
                f,
                "{file} is not text: byte {byte:#04x} at offset {at} is not printable UTF-8"
            ),
            Self::Initrd(e) => core::fmt::Display::fmt(e, f),
        }
    }
}

/// The first word of a module's command line, and the rest.
fn first_word(cmdline: &str) -> (&str, &str) {
    let s = cmdline.trim_start();
    // By bytes, not `find` on chars (no UTF-8 decoding: saves 128 bytes):
    // an ASCII byte is a char of its own, so `end` is a char boundary;
    // split_at_checked spares the firmware core's panic path for str
    // slicing (and its Unicode tables).
    let end = s
        .bytes()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let (word, rest) = s.split_at_checked(end).unwrap_or((s, ""));
    (word, rest.trim_start())
}

/// The kernel from the entry protocol's boot modules (PVH modlist,
/// Multiboot modules): module 0 unless a module's command line starts with
/// the word `kernel` (then the first such module; the words after it are
/// the kernel's command line, else module 0's whole string is); the first
/// other module starting with `initrd` is the initrd; the rest are handed
/// on as modules in their order, with their command lines.
pub fn from_boot_modules(modules: &[crate::entry::Module]) -> Result<KernelSource, SourceError> {
    let blob = |m: &crate::entry::Module| Blob {
        addr: m.start,
        len: m.len,
    };
    let named = |word: &str, skip: Option<usize>| {
        modules
            .iter()
            .enumerate()
            .position(|(i, m)| Some(i) != skip && first_word(&m.cmdline).0 == word)
    };
    let (kernel_index, cmdline) = match named("kernel", None) {
        Some(i) => (i, first_word(&modules[i].cmdline).1),
        None => (
            0,
            modules.first().ok_or(SourceError::NoKernel)?.cmdline.trim(),
        ),
    };
    let initrd_index = named("initrd", Some(kernel_index));
    // A loop of pushes, not `filter().collect()`: smaller code (saves 832 bytes).
    let mut rest = Vec::new();
    for (i, m) in modules.iter().enumerate() {
        if i != kernel_index && Some(i) != initrd_index {
            rest.push(Module {
                blob: blob(m),
                name: alloc::format!("module/{i}").into(),
                cmdline: m.cmdline.clone(),
            });
        }
    }
    Ok(KernelSource {
        kernel_in_part: None,
        origin: Origin::BootModules,
        kernel: blob(&modules[kernel_index]),
        kernel_name: "kernel".into(),
        initrd: initrd_index.map(|i| blob(&modules[i])),
        cmdline: cmdline.into(),
        modules: rest,
        config: None,
    })
}

/// Command lines and config files longer than this are refused.
pub const MAX_TEXT: u64 = 64 * 1024;

/// Command lines and config files above MAX_TEXT are refused.
pub fn check_text_size(name: &str, size: u64) -> Result<(), SourceError> {
    match size > MAX_TEXT {
        true => Err(SourceError::TooBig {
            file: name.into(),
            size,
            max: MAX_TEXT,
        }),
        false => Ok(()),
    }
}

/// `bytes` as text (UTF-8 without control characters but tab and newline), named
/// `file` in the error.
pub fn text_of(file: String, bytes: &[u8]) -> Result<String, SourceError> {
    crate::source::fwcfg::text(bytes).map_err(|e| SourceError::NotText {
        file: file.into(),
        at: e.at,
        byte: e.byte,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Module as BootModule;

    fn m(start: u64, cmdline: &str) -> BootModule {
        BootModule {
            start,
            len: 0x1000,
            cmdline: cmdline.into(),
        }
    }

    fn at(addr: u64) -> Blob {
        Blob { addr, len: 0x1000 }
    }

    #[test]
    fn no_modules_is_no_kernel() {
        let e = from_boot_modules(&[]).unwrap_err();
        assert_eq!(e, SourceError::NoKernel);
        assert_eq!(
            e.to_string(),
            "no kernel: neither fw_cfg nor CBFS has opt/baton/kernel, and the entry protocol gave no modules"
        );
    }

    #[test]
    fn module_0_is_the_kernel_by_default() {
        let s = from_boot_modules(&[m(0x10000, " console=ttyS0 "), m(0x20000, "dom0")]).unwrap();
        assert_eq!(s.origin, Origin::BootModules);
        assert_eq!(s.kernel, at(0x10000));
        assert_eq!(s.cmdline, "console=ttyS0");
        assert_eq!(s.initrd, None);
        assert_eq!(
            s.modules,
            [Module {
                blob: at(0x20000),
                name: "module/1".into(),
                cmdline: "dom0".into()
            }]
        );
        assert_eq!(s.ranges().len(), 2);
    }

    #[test]
    fn named_kernel_and_initrd_are_picked_wherever_they_are() {
        let s = from_boot_modules(&[
            m(0x10000, "extra one"),
            m(0x20000, "initrd"),
            m(0x30000, "kernel\tconsole=ttyS0 quiet"),
            m(0x40000, "kernel second"),
            m(0x50000, "initrd second"),
        ])
        .unwrap();
        assert_eq!(s.kernel, at(0x30000));
        assert_eq!(s.cmdline, "console=ttyS0 quiet");
        assert_eq!(s.initrd, Some(at(0x20000)));
        let rest: Vec<_> = s.modules.iter().map(|m| m.blob.addr).collect();
        assert_eq!(rest, [0x10000, 0x40000, 0x50000]);
    }

    #[test]
    fn a_word_must_match_whole() {
        let s = from_boot_modules(&[
            m(0x10000, ""),
            m(0x20000, "kernels x"),
            m(0x30000, "initrd.img"),
        ])
        .unwrap();
        assert_eq!(s.kernel, at(0x10000));
        assert_eq!(s.initrd, None);
        assert_eq!(s.modules.len(), 2);
    }

    #[test]
    fn errors_name_the_numbers() {
        let e = SourceError::OutOfMemory {
            file: "opt/baton/kernel".into(),
            size: 53_243_444,
            free: 40 << 20,
        };
        assert_eq!(
            e.to_string(),
            "opt/baton/kernel: no free range of 53243444 bytes (51 MiB) for it; 41943040 bytes (40 MiB) free in all"
        );
    }
}
