//! ELF kernel or Linux bzImage -> [`LoadPlan`], boot-protocol detection and boot-info builders.
//!
//! `no_std` + `alloc`; everything here runs and is tested on the host. The firmware hands in
//! the kernel bytes, its memory map and the ranges it occupies; it gets back a [`LoadPlan`]
//! and builds the boot information for addresses it allocates from that plan:
//!
//! ```
//! # use payload_loader::*;
//! # fn demo(kernel: &[u8], map: &[MemoryRegion], fw: &[Range], initrd: &[u8]) -> Result<()> {
//! let mut plan = plan(kernel, &PlanConfig::new(map, fw))?;
//! let initrd_at = plan.allocate("initrd", initrd.len() as u64, plan.module_align)?;
//! let modules = [Module { addr: initrd_at, size: initrd.len() as u64, cmdline: "" }];
//! let input = BootInfoInput { cmdline: "console=ttyS0", loader_name: "baton", memory_map: map, machine_map: &[], modules: &modules, rsdp: None, display: None };
//! let size = plan.boot_info_size(&input)?;
//! let at = plan.allocate("boot info", size as u64, 8)?;
//! let blob = plan.build_boot_info(&input, at)?; // copy to `at`, pass `at` in EBX/RDI (RSI: Linux)
//! # let _ = blob; Ok(()) }
//! ```
//!
//! For a bzImage place the initrd with [`LoadPlan::allocate_below`] and
//! [`LoadPlan::initrd_limit`]; [`LoadPlan::enters_long_mode`] tells which entry `entry` is.
//!
//! # What is checked
//! The ELF header and program headers are goblin's structs, copied out of the file once their
//! extent was bounded here; section headers are never read. Class and machine (ELF32 + EM_386 or
//! ELF64 + EM_X86_64), little-endian, version 1, ET_EXEC or ET_DYN (ET_DYN only for plain ELF64
//! or a Multiboot2 header with a relocatable tag; only `R_X86_64_RELATIVE` relocations). Every
//! PT_LOAD: `filesz <= memsz`, file range inside the file, no wrap past 2^64 (2^32 for ELF32)
//! of `paddr + memsz` or `vaddr + memsz`, `p_align` a power of two with `vaddr == offset`
//! modulo it, no overlap between destinations. The entry must lie in an executable segment
//! (PVH note entry, Multiboot entry address, or `e_entry` translated vaddr -> paddr).
//! Destinations must lie in usable RAM; overlapping firmware memory is allowed and marked.
//!
//! A bzImage ([`bzimage`]): boot_flag and "HdrS", protocol 2.06 or later, a header long enough
//! for its version, setup sectors and `syssize` inside the file, LOADED_HIGH, a power-of-two
//! `kernel_alignment` when relocatable, an entry inside the protected-mode kernel.
//!
//! # Protocol precedence
//! With an override (baton's config, [`PlanConfig::protocol`]) only that protocol is tried and
//! it must be present. A file that is not ELF and has "HdrS" at 0x202 is a **bzImage** (Linux
//! boot protocol, `protocol=linux`). For ELF files, the first present of: **PVH note** (Xen note type 18) >
//! **Multiboot2** header > **Multiboot1** header > **plain ELF64**. A header that is present but
//! malformed is an error, not a fall-through. Note that QEMU's own `-kernel` prefers Multiboot1
//! over PVH; baton prefers PVH because it gives the kernel the richest handoff.
//!
//! Multiboot address fields (Multiboot1 flag 16, the Multiboot2 address tag) replace the
//! program headers, as GRUB does: one segment from the header, bss up to `bss_end_addr`.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

extern crate alloc;

mod blob;
pub mod boot_params;
mod bootinfo;
mod bytes;
pub mod bzimage;
pub mod display;
pub mod elf;
mod error;
pub mod memory;
pub mod memory_map;
pub mod mode_request;
pub mod multiboot1;
pub mod multiboot2;
// Its items get their doc lines with the planner's next change; then this
// allowance goes.
mod linux_plan;
mod load_plan;
mod planner;
mod protocol;
pub mod pvh;
pub mod reads;
pub mod screen_info;
pub mod sort;

pub use boot_params::BootParamsInput;
pub use bootinfo::{BootInfoInput, DecodedModule, Module, Rsdp};
pub use bzimage::SetupHeader;
pub use display::{ColorField, LinearFramebuffer, Screen, TextConsole};
pub use elf::{ElfClass, ElfImage, ElfType};
pub use error::{Error, MemoryKindName, Result};
pub use load_plan::{
    BootProtocol, FLAG_R, FLAG_W, FLAG_X, LOW_ALLOC_MAX, LOW_ALLOC_MIN, LoadPlan, PlanConfig,
    PlannedSegment, Relocation,
};
pub use memory::{FreeList, MemoryKind, MemoryRegion, Range, mem_lower_upper, with_reserved};
pub use memory_map::{MemoryMap, MemoryMapError, RawEntry};
pub use mode_request::{ModeNeed, ModeRequest};
pub use planner::{detect, plan};
pub use protocol::Protocol;

/// Loader name baton puts into Multiboot information.
pub const LOADER_NAME: &str = "baton";

/// Builds the boot information `protocol` hands the kernel, for the blob to live at `base`:
/// PVH `hvm_start_info`, Multiboot1 info, or a Multiboot2 MBI (Multiboot2 and plain ELF64).
/// Linux `boot_params` need the kernel's setup header: [`LoadPlan::build_boot_info`].
pub fn build_boot_info(
    protocol: Protocol,
    input: &BootInfoInput<'_>,
    base: u64,
) -> Result<alloc::vec::Vec<u8>> {
    match protocol {
        Protocol::Pvh => pvh::build_start_info(input, base),
        Protocol::Multiboot1 => multiboot1::build_info(input, base),
        Protocol::Multiboot2 | Protocol::Elf64 => multiboot2::build_info(input, base),
        Protocol::Linux => Err(alloc::boxed::Box::new(Error::BootParamsNeedPlan)),
    }
}

impl LoadPlan {
    /// The boot information this plan's kernel is handed, for the blob to live at `base`: as
    /// [`build_boot_info`] once the kernel's mode request (Multiboot1 flag 2, Multiboot2
    /// framebuffer tag) is met by `input.display`, and Linux `boot_params` (pass `base` in RSI, or ESI for the 32-bit
    /// entry) built from the kernel's setup header and load address.
    pub fn build_boot_info(
        &self,
        input: &BootInfoInput<'_>,
        base: u64,
    ) -> Result<alloc::vec::Vec<u8>> {
        let request = match &self.protocol {
            BootProtocol::Multiboot1(h) => h.mode_request(),
            BootProtocol::Multiboot2(h) => h.mode_request(),
            _ => None,
        };
        if let Some(request) = request {
            request.check(input.display.as_ref())?;
        }
        match &self.protocol {
            BootProtocol::Linux(header) => {
                let load_addr = self.segments.first().map_or(0, |s| s.dest);
                boot_params::build(
                    &BootParamsInput {
                        header,
                        load_addr,
                        info: input,
                    },
                    base,
                )
            }
            other => build_boot_info(other.kind(), input, base),
        }
    }

    /// Size of [`LoadPlan::build_boot_info`]'s blob (it does not depend on `base`).
    pub fn boot_info_size(&self, input: &BootInfoInput<'_>) -> Result<usize> {
        self.build_boot_info(input, 0).map(|b| b.len())
    }

    /// Whether the kernel is entered in long mode: plain ELF64, and a bzImage with
    /// `XLF_KERNEL_64` (at its 64-bit entry, load address + 0x200).
    pub fn enters_long_mode(&self) -> bool {
        match &self.protocol {
            // The plan's class says which entry it chose (ELF64: the 64-bit one).
            BootProtocol::Linux(_) => self.class == ElfClass::Elf64,
            other => !other.kind().is_32bit(),
        }
    }
}

/// Size of [`build_boot_info`]'s blob (it does not depend on `base`).
pub fn boot_info_size(protocol: Protocol, input: &BootInfoInput<'_>) -> Result<usize> {
    build_boot_info(protocol, input, 0).map(|b| b.len())
}
