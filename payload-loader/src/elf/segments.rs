//! The PT_LOAD segments: their checks, their file bytes, the entry's physical address.

use alloc::boxed::Box;
use alloc::vec::Vec;

use goblin::elf::program_header::PT_LOAD;

use crate::error::{Error, Result};

use super::image::{ElfClass, ElfImage, ElfType, Phdr};

impl<'a> ElfImage<'a> {
    /// PT_LOAD headers with a non-zero memory size, in table order.
    pub fn loads(&self) -> impl Iterator<Item = &Phdr> {
        self.phdrs
            .iter()
            .filter(|p| p.p_type == PT_LOAD && p.memsz != 0)
    }

    fn addr_limit(&self) -> u64 {
        match self.class {
            ElfClass::Elf32 => 1 << 32,
            ElfClass::Elf64 => u64::MAX,
        }
    }

    pub(super) fn check_loads(&self) -> Result<()> {
        let limit = self.addr_limit();
        let mut ranges: Vec<(u64, u64, usize)> = Vec::new();
        for p in self.loads() {
            let segment = p.index;
            if p.filesz > p.memsz {
                return Err(Box::new(Error::FileSizeExceedsMemSize {
                    segment,
                    filesz: p.filesz,
                    memsz: p.memsz,
                }));
            }
            match p.offset.checked_add(p.filesz) {
                Some(end) if end <= self.bytes.len() as u64 => {}
                _ => {
                    return Err(Box::new(Error::SegmentOutOfFile {
                        segment,
                        offset: p.offset,
                        filesz: p.filesz,
                        file_len: self.bytes.len(),
                    }));
                }
            }
            for addr in [p.paddr, p.vaddr] {
                match addr.checked_add(p.memsz) {
                    Some(end) if end <= limit => {}
                    _ => {
                        return Err(Box::new(Error::SegmentWraps {
                            segment,
                            addr,
                            memsz: p.memsz,
                        }));
                    }
                }
            }
            if p.align > 1
                && (!p.align.is_power_of_two() || p.vaddr % p.align != p.offset % p.align)
            {
                return Err(Box::new(Error::BadAlignment {
                    segment,
                    align: p.align,
                    vaddr: p.vaddr,
                    offset: p.offset,
                }));
            }
            // Checked above: no wrap. ET_DYN images are placed by their virtual addresses.
            let at = if self.elf_type == ElfType::Dyn {
                p.vaddr
            } else {
                p.paddr
            };
            ranges.push((at, at + p.memsz, segment));
        }
        if ranges.is_empty() {
            return Err(Box::new(Error::NoLoadableSegments));
        }
        crate::sort::heapsort(&mut ranges);
        for w in ranges.windows(2) {
            let (a, b) = (w[0], w[1]);
            if b.0 < a.1 {
                // Report in table order: the later segment overlaps the earlier one.
                let (first, second) = if a.2 < b.2 { (a, b) } else { (b, a) };
                return Err(Box::new(Error::SegmentOverlap {
                    segment: second.2,
                    start: second.0,
                    end: second.1,
                    other: first.2,
                    other_start: first.0,
                    other_end: first.1,
                }));
            }
        }
        Ok(())
    }

    /// The file bytes of a program header (bounds were checked for PT_LOAD; checked again here).
    pub fn file_bytes(&self, p: &Phdr) -> Result<&'a [u8]> {
        // Every failed check is the same error, built in one place (not cloned per check).
        let in_file = || {
            let start = usize::try_from(p.offset).ok()?;
            let len = usize::try_from(p.filesz).ok()?;
            self.bytes.get(start..start.checked_add(len)?)
        };
        in_file().ok_or_else(|| {
            Box::new(Error::SegmentOutOfFile {
                segment: p.index,
                offset: p.offset,
                filesz: p.filesz,
                file_len: self.bytes.len(),
            })
        })
    }

    /// Translates an entry address to a physical address: first by the executable PT_LOAD whose
    /// virtual range holds it, then by one whose physical range holds it (Linux's vmlinux has a
    /// physical `e_entry`).
    pub fn entry_physical(&self, entry: u64) -> Option<u64> {
        let exec = || self.loads().filter(|p| p.is_executable());
        if let Some(p) = exec().find(|p| p.vaddr <= entry && entry - p.vaddr < p.memsz) {
            return Some(p.paddr + (entry - p.vaddr));
        }
        exec()
            .find(|p| p.paddr <= entry && entry - p.paddr < p.memsz)
            .map(|_| entry)
    }
}
