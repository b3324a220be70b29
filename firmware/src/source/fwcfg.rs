//! QEMU's fw_cfg: the file directory and baton's naming scheme in it (the
//! port and DMA access is `machine/fwcfg.rs`).
//!
//! # The directory
//!
//! Selector 0x19 reads as a big-endian `u32` count followed by that many
//! 64-byte entries `{ u32 size (BE), u16 select (BE), u16 reserved,
//! char name[56] }`, each name NUL-terminated. [`parse_count`] and
//! [`parse_entry`] check one piece each (the port side reads them one at a
//! time); [`parse_directory`] does a whole image.
//!
//! # baton's files
//!
//! | fw_cfg file | what it is |
//! | --- | --- |
//! | `opt/baton/kernel` | the kernel (an ELF image); required |
//! | `opt/baton/initrd` | the initrd / initramfs (PVH module 0, Multiboot module 0) |
//! | `opt/baton/cmdline` | the kernel's command line (text) |
//! | `opt/baton/config` | baton's own options, same syntax as its command line |
//! | `opt/baton/module/N` | boot module N, N = 0, 1, 2, ... (decimal, no leading zeros) |
//! | `opt/baton/module/N/cmdline` | that module's command line (text, optional) |
//!
//! Modules go to the kernel in index order, after the initrd. Numbering
//! starts at 0 and must not skip: the first missing index ends the list and
//! every later module is ignored with a warning. At most [`MAX_MODULES`]
//! are taken. Text files may end in NULs (QEMU's `string=` adds none; a
//! file may carry one); trailing NULs and the final newline are dropped.
//!
//! With QEMU: `-fw_cfg name=opt/baton/kernel,file=vmlinux
//! -fw_cfg name=opt/baton/cmdline,string="console=ttyS0"`
//! (`cargo xtask run --kernel/--initrd/--kernel-cmdline/--module` does this).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Selector of the signature ("QEMU").
pub const SELECT_SIGNATURE: u16 = 0x0000;
/// Selector of the feature bits (little-endian u32).
pub const SELECT_FEATURES: u16 = 0x0001;
/// Selector of the file directory.
pub const SELECT_FILE_DIR: u16 = 0x0019;
/// File selectors start here.
pub const FIRST_FILE_SELECT: u16 = 0x0020;
/// Selectors with this bit or above are architecture-local, never files.
pub const ARCH_LOCAL: u16 = 0x4000;

/// What the signature selector reads on QEMU.
pub const SIGNATURE: [u8; 4] = *b"QEMU";
/// Feature bit: the traditional (port) interface.
pub const FEATURE_TRADITIONAL: u32 = 1 << 0;
/// Feature bit: the DMA interface.
pub const FEATURE_DMA: u32 = 1 << 1;

/// Bytes in one directory entry, and in its name field.
pub const ENTRY_LEN: usize = 64;
/// Bytes in a directory entry's name field.
pub const NAME_LEN: usize = 56;
/// The most directory entries accepted (QEMU's default has 32 slots; its
/// selector space ends at 0x4000).
pub const MAX_FILES: u32 = 1024;

/// The kernel baton boots.
pub const KERNEL: &str = "opt/baton/kernel";
/// The initrd handed to the kernel.
pub const INITRD: &str = "opt/baton/initrd";
/// The kernel's command line.
pub const CMDLINE: &str = "opt/baton/cmdline";
/// baton's own options (same syntax as its command line).
pub const CONFIG: &str = "opt/baton/config";
/// The prefix of all of baton's files.
pub const PREFIX: &str = "opt/baton/";
const MODULE_PREFIX: &str = "opt/baton/module/";
/// Boot modules taken from fw_cfg, at most.
pub const MAX_MODULES: usize = 16;

/// One file of the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// The file's name.
    pub name: String,
    /// Its size in bytes.
    pub size: u32,
    /// The selector that reads it.
    pub select: u16,
}

/// Why the directory could not be read. Each names the entry and numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirError {
    /// The directory is shorter than its count says.
    Truncated {
        /// Bytes the count needs.
        need: usize,
        /// Bytes there are.
        have: usize,
    },
    /// More directory entries than baton accepts.
    TooMany {
        /// The count given.
        count: u32,
        /// The most baton accepts.
        max: u32,
    },
    /// A file name without its NUL.
    Unterminated {
        /// The entry's index.
        index: u32,
    },
    /// A file name that is not text.
    BadName {
        /// The entry's index.
        index: u32,
    },
    /// A file whose selector lies outside the file range.
    BadSelect {
        /// The entry's index.
        index: u32,
        /// The file's name.
        name: Box<str>,
        /// Its selector.
        select: u16,
    },
    /// Two files of the same name.
    Duplicate {
        /// The entry's index.
        index: u32,
        /// The file's name.
        name: Box<str>,
    },
}

impl fmt::Display for DirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { need, have } => write!(
                f,
                "fw_cfg directory: {have} bytes, the count says {need} are needed"
            ),
            Self::TooMany { count, max } => write!(
                f,
                "fw_cfg directory: {count} files, more than the limit of {max}"
            ),
            Self::Unterminated { index } => write!(
                f,
                "fw_cfg directory entry {index}: name has no NUL within {NAME_LEN} bytes"
            ),
            Self::BadName { index } => write!(
                f,
                "fw_cfg directory entry {index}: name is empty or not UTF-8"
            ),
            Self::BadSelect {
                index,
                name,
                select,
            } => write!(
                f,
                "fw_cfg directory entry {index} ({name}): selector {select:#x} is outside the file range [{FIRST_FILE_SELECT:#x}..{ARCH_LOCAL:#x})"
            ),
            Self::Duplicate { index, name } => {
                write!(f, "fw_cfg directory entry {index}: {name} appears twice")
            }
        }
    }
}

/// The directory's count word, bounded.
pub fn parse_count(bytes: [u8; 4]) -> Result<u32, DirError> {
    let count = u32::from_be_bytes(bytes);
    if count > MAX_FILES {
        return Err(DirError::TooMany {
            count,
            max: MAX_FILES,
        });
    }
    Ok(count)
}

/// One 64-byte directory entry; `index` is for the error message.
pub fn parse_entry(index: u32, e: &[u8; ENTRY_LEN]) -> Result<File, DirError> {
    let size = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
    let select = u16::from_be_bytes([e[4], e[5]]);
    let raw = &e[8..];
    let len = raw
        .iter()
        .position(|&b| b == 0)
        .ok_or(DirError::Unterminated { index })?;
    let name = core::str::from_utf8(&raw[..len])
        .ok()
        .filter(|n| !n.is_empty())
        .ok_or(DirError::BadName { index })?;
    if !(FIRST_FILE_SELECT..ARCH_LOCAL).contains(&select) {
        return Err(DirError::BadSelect {
            index,
            name: name.into(),
            select,
        });
    }
    Ok(File {
        name: name.into(),
        size,
        select,
    })
}

/// A whole directory image (count word, then the entries). Bytes after the
/// last entry are ignored.
pub fn parse_directory(bytes: &[u8]) -> Result<Vec<File>, DirError> {
    let head: [u8; 4] =
        bytes
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or(DirError::Truncated {
                need: 4,
                have: bytes.len(),
            })?;
    let count = parse_count(head)?;
    let need = 4 + count as usize * ENTRY_LEN;
    if bytes.len() < need {
        return Err(DirError::Truncated {
            need,
            have: bytes.len(),
        });
    }
    let mut files: Vec<File> = Vec::with_capacity(count as usize);
    for (index, chunk) in (0..count).zip(bytes[4..need].chunks_exact(ENTRY_LEN)) {
        let entry: &[u8; ENTRY_LEN] = chunk.try_into().map_err(|_| DirError::Truncated {
            need,
            have: bytes.len(),
        })?;
        let file = parse_entry(index, entry)?;
        check_unique(&files, index, &file)?;
        files.push(file);
    }
    Ok(files)
}

/// Refuses a second file of the same name (QEMU never makes one; the
/// scheme below would be ambiguous).
pub fn check_unique(files: &[File], index: u32, file: &File) -> Result<(), DirError> {
    if files.iter().any(|f| f.name == file.name) {
        return Err(DirError::Duplicate {
            index,
            name: file.name.as_str().into(),
        });
    }
    Ok(())
}

/// `opt/baton/module/N`.
pub fn module_name(index: usize) -> String {
    format!("{MODULE_PREFIX}{index}")
}

/// `opt/baton/module/N/cmdline`.
pub fn module_cmdline_name(index: usize) -> String {
    format!("{MODULE_PREFIX}{index}/cmdline")
}

/// A module to load: its file and the file with its command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedModule {
    /// The module's file.
    pub file: File,
    /// Its command line's file, if any.
    pub cmdline: Option<File>,
}

/// baton's files in a directory, per the scheme above.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// `opt/baton/kernel`.
    pub kernel: Option<File>,
    /// `opt/baton/initrd`.
    pub initrd: Option<File>,
    /// `opt/baton/cmdline`.
    pub cmdline: Option<File>,
    /// `opt/baton/config`.
    pub config: Option<File>,
    /// `opt/baton/module/N`, in index order.
    pub modules: Vec<PlannedModule>,
    /// `opt/baton/` files that were not taken, with the reason.
    pub warnings: Vec<String>,
}

/// Picks baton's files out of `files`.
pub fn plan(files: &[File]) -> Plan {
    let find = |name: &str| files.iter().find(|f| f.name == name).cloned();
    let mut plan = Plan {
        kernel: find(KERNEL),
        initrd: find(INITRD),
        cmdline: find(CMDLINE),
        config: find(CONFIG),
        ..Plan::default()
    };
    let mut end = None;
    // Modules by their parsed names, not by names formatted for each index
    // and compared (saves 64 bytes).
    let find_module = |index, cmdline| {
        files
            .iter()
            .find(|f| module_file(&f.name) == Some((index, cmdline)))
            .cloned()
    };
    for index in 0..MAX_MODULES {
        match find_module(index, false) {
            Some(file) => plan.modules.push(PlannedModule {
                file,
                cmdline: find_module(index, true),
            }),
            None => {
                end = Some(index);
                break;
            }
        }
    }
    for f in files.iter().filter(|f| f.name.starts_with(PREFIX)) {
        if [KERNEL, INITRD, CMDLINE, CONFIG].contains(&f.name.as_str()) {
            continue;
        }
        let taken = plan
            .modules
            .iter()
            .any(|m| m.file == *f || m.cmdline.as_ref() == Some(f));
        if taken {
            continue;
        }
        let why = match (module_index(&f.name), end) {
            (Some(i), Some(gap)) if i > gap => format!(
                "{} is ignored: {} is missing (modules are numbered from 0 without gaps)",
                f.name,
                module_name(gap)
            ),
            (Some(i), _) if i >= MAX_MODULES => format!(
                "{} is ignored: at most {MAX_MODULES} modules are taken",
                f.name
            ),
            (Some(i), _) => format!("{} is ignored: there is no {}", f.name, module_name(i)),
            (None, _) => format!("{} is ignored: not a name baton knows", f.name),
        };
        plan.warnings.push(why);
    }
    plan
}

/// N of `opt/baton/module/N` or `opt/baton/module/N/cmdline`, where N is
/// canonical decimal.
fn module_index(name: &str) -> Option<usize> {
    module_file(name).map(|(index, _)| index)
}

/// `(N, false)` for `opt/baton/module/N`, `(N, true)` for
/// `opt/baton/module/N/cmdline`, where N is canonical decimal.
fn module_file(name: &str) -> Option<(usize, bool)> {
    let rest = name.strip_prefix(MODULE_PREFIX)?;
    let (digits, cmdline) = match rest.strip_suffix("/cmdline") {
        Some(digits) => (digits, true),
        None => (rest, false),
    };
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    // The digits are checked above: a fold, not `parse` (saves 192 bytes).
    let number = || {
        digits.bytes().try_fold(0usize, |n, d| {
            n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
        })
    };
    Some((canonical.then(number).flatten()?, cmdline))
}

/// A byte that makes a command line or config file not text: invalid
/// UTF-8, or a control character other than tab, CR and LF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotText {
    /// Its offset.
    pub at: usize,
    /// The byte.
    pub byte: u8,
}

/// A text file's bytes as a string: trailing NULs and one final newline
/// dropped; anything else that is not text is refused.
pub fn text(bytes: &[u8]) -> Result<String, NotText> {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let bytes = &bytes[..end];
    let control = bytes
        .iter()
        .position(|&b| b.is_ascii_control() && !matches!(b, b'\t' | b'\n' | b'\r'));
    let invalid = core::str::from_utf8(bytes).err().map(|e| e.valid_up_to());
    // The first byte that is not text, whichever kind it is.
    if let Some(at) = control.into_iter().chain(invalid).min() {
        return Err(NotText {
            at,
            byte: bytes[at],
        });
    }
    let mut s = crate::support::text::lossy(bytes);
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests;
