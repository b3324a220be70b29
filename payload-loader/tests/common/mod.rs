//! Test helpers: a tiny ELF writer, memory maps, and the real-kernel assets.
#![allow(dead_code)]

use payload_loader::{MemoryKind, MemoryRegion};
use std::path::PathBuf;

mod bz;
#[allow(unused_imports)] // not every test file writes bzImages
pub use bz::TestBz;

pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_NOTE: u32 = 4;
pub const R: u32 = 4;
pub const W: u32 = 2;
pub const X: u32 = 1;

#[derive(Clone, Debug)]
pub struct Seg {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub paddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
    /// Written at `offset` (may be shorter than filesz; the rest is zero).
    pub data: Vec<u8>,
}

impl Seg {
    pub fn load(offset: u64, addr: u64, filesz: u64, memsz: u64, flags: u32) -> Self {
        Seg {
            p_type: PT_LOAD,
            flags,
            offset,
            vaddr: addr,
            paddr: addr,
            filesz,
            memsz,
            align: 0x1000,
            data: vec![],
        }
    }
    pub fn note(offset: u64, data: Vec<u8>) -> Self {
        Seg {
            p_type: PT_NOTE,
            flags: R,
            offset,
            vaddr: 0,
            paddr: 0,
            filesz: data.len() as u64,
            memsz: 0,
            align: 4,
            data,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TestElf {
    pub class64: bool,
    pub e_type: u16,
    pub machine: u16,
    pub entry: u64,
    pub segs: Vec<Seg>,
    /// Raw bytes written at file offsets after everything else (Multiboot headers, ...).
    pub patches: Vec<(usize, Vec<u8>)>,
    /// Minimum file length.
    pub min_len: usize,
}

impl TestElf {
    /// A valid ELF64 kernel: text at 0x200000 (file 0x1000, 0x1000 bytes, RX), data at
    /// 0x201000 (file 0x2000, filesz 0x800, memsz 0x2000, RW), entry 0x200010.
    pub fn kernel64() -> Self {
        TestElf {
            class64: true,
            e_type: 2,
            machine: 62,
            entry: 0x200010,
            segs: vec![
                Seg::load(0x1000, 0x200000, 0x1000, 0x1000, R | X),
                Seg::load(0x2000, 0x201000, 0x800, 0x2000, R | W),
            ],
            patches: vec![],
            min_len: 0,
        }
    }

    /// The same layout as an ELF32 EM_386 kernel.
    pub fn kernel32() -> Self {
        TestElf {
            class64: false,
            machine: 3,
            ..Self::kernel64()
        }
    }

    pub fn with_note(mut self, data: Vec<u8>) -> Self {
        self.segs.push(Seg::note(0x3000, data));
        self
    }

    pub fn patch(mut self, at: usize, bytes: Vec<u8>) -> Self {
        self.patches.push((at, bytes));
        self
    }

    pub fn build(&self) -> Vec<u8> {
        let (ehsize, phentsize) = if self.class64 {
            (64usize, 56usize)
        } else {
            (52, 32)
        };
        let mut out = vec![0u8; ehsize + phentsize * self.segs.len()];
        out[0..4].copy_from_slice(b"\x7fELF");
        out[4] = if self.class64 { 2 } else { 1 };
        out[5] = 1;
        out[6] = 1;
        let mut h = Vec::new();
        h.extend_from_slice(&self.e_type.to_le_bytes());
        h.extend_from_slice(&self.machine.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        if self.class64 {
            h.extend_from_slice(&self.entry.to_le_bytes());
            h.extend_from_slice(&(ehsize as u64).to_le_bytes()); // phoff
            h.extend_from_slice(&0u64.to_le_bytes()); // shoff
        } else {
            h.extend_from_slice(&(self.entry as u32).to_le_bytes());
            h.extend_from_slice(&(ehsize as u32).to_le_bytes());
            h.extend_from_slice(&0u32.to_le_bytes());
        }
        h.extend_from_slice(&0u32.to_le_bytes()); // flags
        h.extend_from_slice(&(ehsize as u16).to_le_bytes());
        h.extend_from_slice(&(phentsize as u16).to_le_bytes());
        h.extend_from_slice(&(self.segs.len() as u16).to_le_bytes());
        h.extend_from_slice(&[0; 6]); // shentsize, shnum, shstrndx
        out[16..16 + h.len()].copy_from_slice(&h);
        for (i, s) in self.segs.iter().enumerate() {
            let mut p = Vec::new();
            if self.class64 {
                p.extend_from_slice(&s.p_type.to_le_bytes());
                p.extend_from_slice(&s.flags.to_le_bytes());
                for v in [s.offset, s.vaddr, s.paddr, s.filesz, s.memsz, s.align] {
                    p.extend_from_slice(&v.to_le_bytes());
                }
            } else {
                p.extend_from_slice(&s.p_type.to_le_bytes());
                for v in [s.offset, s.vaddr, s.paddr, s.filesz, s.memsz] {
                    p.extend_from_slice(&(v as u32).to_le_bytes());
                }
                p.extend_from_slice(&s.flags.to_le_bytes());
                p.extend_from_slice(&(s.align as u32).to_le_bytes());
            }
            let at = ehsize + i * phentsize;
            out[at..at + phentsize].copy_from_slice(&p);
        }
        let mut need = self.min_len;
        for s in &self.segs {
            // Only grow for segments whose file range is reasonable (malformed tests lie).
            let end = s.offset.saturating_add(s.filesz.max(s.data.len() as u64));
            if end < 1 << 24 {
                need = need.max(end as usize);
            }
        }
        for (at, b) in &self.patches {
            need = need.max(at + b.len());
        }
        if out.len() < need {
            out.resize(need, 0);
        }
        for s in &self.segs {
            if !s.data.is_empty() && s.offset < 1 << 24 {
                let at = s.offset as usize;
                out[at..at + s.data.len()].copy_from_slice(&s.data);
            }
        }
        for (at, b) in &self.patches {
            out[*at..at + b.len()].copy_from_slice(b);
        }
        out
    }
}

/// One ELF note.
pub fn note(name: &[u8], n_type: u32, desc: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let namesz = if name.is_empty() { 0 } else { name.len() + 1 };
    v.extend_from_slice(&(namesz as u32).to_le_bytes());
    v.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    v.extend_from_slice(&n_type.to_le_bytes());
    v.extend_from_slice(name);
    if namesz > 0 {
        v.push(0);
    }
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v.extend_from_slice(desc);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

/// The PVH note with a 4-byte descriptor.
pub fn pvh_note(entry: u32) -> Vec<u8> {
    note(b"Xen", 18, &entry.to_le_bytes())
}

/// A Multiboot1 header (with address fields if `addr` is given).
pub fn mb1_header(flags: u32, addr: Option<[u32; 5]>) -> Vec<u8> {
    let mut v = Vec::new();
    let magic = 0x1BADB002u32;
    v.extend_from_slice(&magic.to_le_bytes());
    v.extend_from_slice(&flags.to_le_bytes());
    v.extend_from_slice(&(0u32.wrapping_sub(magic).wrapping_sub(flags)).to_le_bytes());
    if let Some(a) = addr {
        for x in a {
            v.extend_from_slice(&x.to_le_bytes());
        }
    }
    v
}

/// A Multiboot2 header from `(type, flags, body)` tags; the end tag is appended.
pub fn mb2_header(tags: &[(u16, u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (t, f, b) in tags.iter().chain(std::iter::once(&(0u16, 0u16, vec![]))) {
        while body.len() % 8 != 0 {
            body.push(0);
        }
        body.extend_from_slice(&t.to_le_bytes());
        body.extend_from_slice(&f.to_le_bytes());
        body.extend_from_slice(&(8 + b.len() as u32).to_le_bytes());
        body.extend_from_slice(b);
    }
    let magic = 0xE85250D6u32;
    let len = 16 + body.len() as u32;
    let mut v = Vec::new();
    v.extend_from_slice(&magic.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(&(0u32.wrapping_sub(magic).wrapping_sub(len)).to_le_bytes());
    v.extend_from_slice(&body);
    v
}

pub fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A q35-like memory map with 2 GiB of RAM.
pub fn memory_map() -> Vec<MemoryRegion> {
    vec![
        MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
        MemoryRegion::new(0x9fc00, 0xa0000, MemoryKind::Reserved),
        MemoryRegion::new(0xf0000, 0x100000, MemoryKind::Reserved),
        MemoryRegion::new(0x100000, 0x7ffe0000, MemoryKind::Usable),
        MemoryRegion::new(0x7ffe0000, 0x80000000, MemoryKind::Acpi),
        MemoryRegion::new(0xfeffc000, 0xff000000, MemoryKind::Reserved),
        MemoryRegion::new(0xfffc0000, 0x100000000, MemoryKind::Reserved),
        MemoryRegion::new(0x100000000, 0x180000000, MemoryKind::Usable),
    ]
}

/// `target/test-assets` of the workspace.
pub fn assets_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-assets")
}
