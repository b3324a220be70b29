//! What baton boots: the kernel and what goes with it, wherever it came
//! from (QEMU fw_cfg, the entry protocol's boot modules, later CBFS). The
//! bytes stay in physical memory (a Linux vmlinux is 60 MB, far more than
//! baton's heap); a `Blob` says where.

use alloc::string::String;
use alloc::vec::Vec;

/// Bytes in physical memory, identity-mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blob {
    pub addr: u64,
    pub len: u64,
}

impl Blob {
    pub fn range(&self) -> core::ops::Range<u64> {
        self.addr..self.addr.saturating_add(self.len)
    }
}

/// A boot module for the kernel (Multiboot modules, PVH modlist entries
/// after the initrd), with its own command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    pub blob: Blob,
    pub cmdline: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    FwCfg,
    BootModules,
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelSource {
    pub origin: Origin,
    pub kernel: Blob,
    pub initrd: Option<Blob>,
    /// The kernel's command line.
    pub cmdline: String,
    /// In the order they are handed to the kernel.
    pub modules: Vec<Module>,
    /// baton's own options from the `config` file (same syntax as its
    /// command line), if there is one.
    pub config: Option<String>,
}

impl KernelSource {
    /// Every range of memory the source occupies (to keep free until the
    /// kernel is copied into place).
    pub fn ranges(&self) -> Vec<core::ops::Range<u64>> {
        let mut r = alloc::vec![self.kernel.range()];
        r.extend(self.initrd.map(|b| b.range()));
        r.extend(self.modules.iter().map(|m| m.blob.range()));
        r
    }
}
