//! PT_NOTE segments and the notes in them.

use alloc::boxed::Box;
use alloc::vec::Vec;

use goblin::elf::program_header::PT_NOTE;

use crate::bytes::u32_at;
use crate::error::{Error, Result};

use super::image::{ElfImage, Note};

impl<'a> ElfImage<'a> {
    /// Every note of every PT_NOTE, read by `p_offset` / `p_filesz` (some PT_NOTE headers carry
    /// a zero paddr/memsz). A malformed note is an error, not skipped.
    pub fn notes(&self) -> Result<Vec<Note<'a>>> {
        let mut out = Vec::new();
        for p in self.phdrs.iter().filter(|p| p.p_type == PT_NOTE) {
            let data = self.file_bytes(p)?;
            let align = if p.align == 8 { 8 } else { 4 };
            parse_notes(p.index, data, align, &mut out)?;
        }
        Ok(out)
    }
}

/// Parses the notes in one PT_NOTE's bytes.
pub fn parse_notes<'a>(
    segment: usize,
    data: &'a [u8],
    align: usize,
    out: &mut Vec<Note<'a>>,
) -> Result<()> {
    let mut off = 0usize;
    while off < data.len() {
        let avail = (data.len() - off) as u64;
        let trunc = |namesz, descsz| Error::NoteTruncated {
            segment,
            offset: off as u64,
            namesz,
            descsz,
            avail,
        };
        let (Some(namesz), Some(descsz), Some(n_type)) = (
            u32_at(data, off),
            u32_at(data, off + 4),
            u32_at(data, off + 8),
        ) else {
            return Err(Box::new(trunc(0, 0)));
        };
        let name_start = off + 12;
        let name_end = name_start
            .checked_add(namesz as usize)
            .ok_or(trunc(namesz, descsz))?;
        let desc_start = crate::bytes::align_up(name_end, align).ok_or(trunc(namesz, descsz))?;
        let desc_end = desc_start
            .checked_add(descsz as usize)
            .ok_or(trunc(namesz, descsz))?;
        if desc_end > data.len() || desc_start > data.len() {
            return Err(Box::new(trunc(namesz, descsz)));
        }
        let mut name = &data[name_start..name_end];
        if let [rest @ .., 0] = name {
            name = rest;
        }
        out.push(Note {
            segment,
            name,
            n_type,
            desc: &data[desc_start..desc_end],
        });
        let next = crate::bytes::align_up(desc_end, align).ok_or(trunc(namesz, descsz))?;
        // `next >= off + 12`, so the loop always advances.
        off = next.min(data.len());
    }
    Ok(())
}
