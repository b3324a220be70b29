//! Why a takeover did not happen, for every step that may fail.

use alloc::boxed::Box;
use alloc::vec::Vec;

use baton::source::Blob;

use crate::machine::smp::park_area::ParkAreaError;

#[derive(Debug)]
pub enum TakeoverError {
    KernelUnmapped {
        blob: Blob,
        mapped_end: u64,
    },
    Plan(Box<payload_loader::Error>),
    Place(Box<payload_loader::Error>),
    BootInfo(Box<payload_loader::Error>),
    BootInfoTooLarge {
        size: usize,
        room: u64,
    },
    ParkArea(ParkAreaError),
    ApsStillRunning {
        apic_ids: Vec<u32>,
    },
    Fetch {
        offset: u64,
        len: u64,
        addr: u64,
        control: u32,
    },
}

impl core::fmt::Display for TakeoverError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::KernelUnmapped { blob, mapped_end } => write!(
                f,
                "the kernel's bytes [{:#x}..{:#x}) lie beyond the identity map ({mapped_end:#x})",
                blob.addr,
                blob.addr + blob.len
            ),
            Self::Plan(e) => write!(f, "the kernel cannot be loaded: {e}"),
            Self::Place(e) => write!(f, "no room for the handoff: {e}"),
            Self::BootInfo(e) => write!(f, "the boot information cannot be built: {e}"),
            Self::BootInfoTooLarge { size, room } => {
                write!(
                    f,
                    "the boot information takes {size} bytes, more than its {room}"
                )
            }
            Self::ParkArea(e) => write!(f, "{e}"),
            Self::Fetch {
                offset,
                len,
                addr,
                control,
            } => write!(
                f,
                "reading the kernel's bytes [{offset:#x}..+{len:#x}) from fw_cfg to {addr:#x} failed (DMA control word {control:#x})"
            ),
            Self::ApsStillRunning { apic_ids } => write!(
                f,
                "APs {} did not stop; with ap-handoff=hlt they would run on memory the kernel overwrites: refusing the jump",
                baton::support::quote::HexList(apic_ids)
            ),
        }
    }
}
