//! PT_DYNAMIC and the `R_X86_64_RELATIVE` relocations of an ET_DYN image.

use alloc::boxed::Box;
use alloc::vec::Vec;

use goblin::elf::program_header::PT_DYNAMIC;

use crate::bytes::u64_at;
use crate::error::{Error, Result};

use super::image::{ElfClass, ElfImage};

impl<'a> ElfImage<'a> {
    /// The `R_X86_64_RELATIVE` relocations of an ET_DYN image as `(r_offset, r_addend)`.
    pub fn relative_relocations(&self) -> Result<Vec<(u64, i64)>> {
        if self.class != ElfClass::Elf64 {
            return Err(bad_dynamic("ELF32 ET_DYN is not supported", 0));
        }
        let Some(dynp) = self.phdrs.iter().find(|p| p.p_type == PT_DYNAMIC) else {
            return Ok(Vec::new());
        };
        let dynamic = self.file_bytes(dynp)?;
        let (mut rela, mut relasz, mut relaent) = (None, 0u64, 24u64);
        let mut off = 0usize;
        while let (Some(tag), Some(val)) = (u64_at(dynamic, off), u64_at(dynamic, off + 8)) {
            match tag {
                0 => break,
                7 => rela = Some(val),
                8 => relasz = val,
                9 => relaent = val,
                17..=19 => {
                    return Err(bad_dynamic("DT_REL is not supported", tag));
                }
                23 => {
                    return Err(bad_dynamic("DT_JMPREL is not supported", val));
                }
                35..=37 => {
                    return Err(bad_dynamic("DT_RELR is not supported", tag));
                }
                _ => {}
            }
            off += 16;
        }
        if relaent != 24 {
            return Err(bad_dynamic("DT_RELAENT is not 24", relaent));
        }
        let Some(rela) = rela else {
            return Ok(Vec::new());
        };
        // Map DT_RELA (a virtual address) to file bytes through the PT_LOAD that holds it.
        let seg = self
            .loads()
            .find(|p| p.vaddr <= rela && rela - p.vaddr < p.filesz)
            .ok_or_else(|| {
                bad_dynamic("DT_RELA is not inside a loaded segment's file bytes", rela)
            })?;
        let in_seg = rela - seg.vaddr;
        if relasz > seg.filesz - in_seg {
            return Err(bad_dynamic("DT_RELASZ runs past its segment", relasz));
        }
        let bytes = self.file_bytes(seg)?;
        let start = usize::try_from(in_seg).map_err(|_| bad_dynamic("DT_RELA", rela))?;
        let count = (relasz / 24) as usize;
        let mut out = Vec::with_capacity(count.min(1 << 16));
        for index in 0..count {
            let at = start + index * 24;
            let (Some(r_offset), Some(info), Some(addend)) = (
                u64_at(bytes, at),
                u64_at(bytes, at + 8),
                u64_at(bytes, at + 16),
            ) else {
                return Err(bad_dynamic("relocation table truncated", index as u64));
            };
            let r_type = (info & 0xffff_ffff) as u32;
            match r_type {
                0 => {}
                8 => out.push((r_offset, addend as i64)),
                _ => return Err(Box::new(Error::UnsupportedRelocation { index, r_type })),
            }
        }
        Ok(out)
    }
}

/// One out-of-line constructor for this file's BadDynamic errors, not one inlined per site.
#[inline(never)]
fn bad_dynamic(detail: &'static str, value: u64) -> Box<Error> {
    Box::new(Error::BadDynamic { detail, value })
}
