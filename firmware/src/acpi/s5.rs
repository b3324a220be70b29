//! `\_S5`'s sleep types read straight from the AML bytes, without an
//! interpreter: the DSDT or an SSDT declares `Name (_S5, Package {a, b,
//! ...})`, and power-off needs only `a` and `b`. This is what payloads
//! that carry no AML interpreter do; the full interpreter (cargo feature
//! `aml`) also handles an `_S5` built at run time, which this does not.
//!
//! Encoding (ACPI 6.5, 20.2): NameOp 0x08, an optional root prefix `\`,
//! the NameSeg `_S5_`, PackageOp 0x12, PkgLength, NumElements, then the
//! elements: ZeroOp, OneOp, OnesOp or an integer with a byte, word, dword
//! or qword prefix.

use core::fmt;

const NAME_OP: u8 = 0x08;
const ROOT_CHAR: u8 = b'\\';
const PACKAGE_OP: u8 = 0x12;
const SEGMENT: &[u8; 4] = b"_S5_";

/// SLP_TYPa and SLP_TYPb, each 3 bits wide in PM1 control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SleepType {
    /// SLP_TYPa, for PM1a control.
    pub a: u8,
    /// SLP_TYPb, for PM1b control.
    pub b: u8,
}

/// Why `\_S5` could not be read from the AML bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum S5Error {
    /// `Name (_S5, ...)` whose value is not a package.
    NotAPackage {
        /// Offset in the AML bytes.
        at: usize,
        /// The opcode found there.
        opcode: u8,
    },
    /// The package's PkgLength or contents run past the table.
    Truncated {
        /// Offset in the AML bytes.
        at: usize,
        /// Bytes needed from `at`.
        needs: usize,
        /// Bytes there are.
        len: usize,
    },
    /// An element that is not an integer constant.
    NotAnInteger {
        /// Offset in the AML bytes.
        at: usize,
        /// The opcode found there.
        opcode: u8,
    },
    /// A package with no elements.
    Empty {
        /// Offset in the AML bytes.
        at: usize,
    },
    /// A sleep type wider than the 3-bit SLP_TYP field.
    TooWide {
        /// Offset in the AML bytes.
        at: usize,
        /// The value, which does not fit a sleep type.
        value: u64,
    },
}

impl fmt::Display for S5Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            S5Error::NotAPackage { at, opcode } => write!(
                f,
                "\\_S5 at AML offset {at:#x} is not a package (opcode {opcode:#04x}, need 0x12)"
            ),
            S5Error::Truncated { at, needs, len } => write!(
                f,
                "\\_S5 at AML offset {at:#x} runs to offset {needs:#x}, past the {len}-byte AML"
            ),
            S5Error::NotAnInteger { at, opcode } => write!(
                f,
                "\\_S5 element at AML offset {at:#x} is not an integer constant (opcode {opcode:#04x})"
            ),
            S5Error::Empty { at } => write!(f, "\\_S5 at AML offset {at:#x} has no elements"),
            S5Error::TooWide { at, value } => write!(
                f,
                "\\_S5 element at AML offset {at:#x} is {value:#x}, wider than the 3-bit SLP_TYP field"
            ),
        }
    }
}

/// Looks for `Name (_S5, Package ...)` in `aml` (a DSDT's or SSDT's body,
/// or the whole table: the header cannot hold the pattern). `Ok(None)` if
/// there is none; the first declaration found is used.
pub fn find(aml: &[u8]) -> Result<Option<SleepType>, S5Error> {
    let mut from = 0;
    while let Some(found) = aml
        .get(from..)
        .and_then(|rest| rest.windows(SEGMENT.len()).position(|w| w == SEGMENT))
    {
        let segment = from + found;
        from = segment + 1;
        let named = match segment.checked_sub(1).map(|i| aml[i]) {
            Some(NAME_OP) => true,
            Some(ROOT_CHAR) => segment.checked_sub(2).is_some_and(|i| aml[i] == NAME_OP),
            _ => false,
        };
        if named {
            return package(aml, segment + SEGMENT.len()).map(Some);
        }
    }
    Ok(None)
}

/// The package that starts at `at` with PackageOp.
fn package(aml: &[u8], at: usize) -> Result<SleepType, S5Error> {
    let byte = |i: usize| {
        aml.get(i).copied().ok_or(S5Error::Truncated {
            at,
            needs: i + 1,
            len: aml.len(),
        })
    };
    let opcode = byte(at)?;
    if opcode != PACKAGE_OP {
        return Err(S5Error::NotAPackage { at, opcode });
    }
    // PkgLength counts its own bytes and everything up to the package's end.
    let lead = byte(at + 1)?;
    let extra = usize::from(lead >> 6);
    let mut length = match extra {
        0 => usize::from(lead & 0x3f),
        _ => usize::from(lead & 0x0f),
    };
    for k in 0..extra {
        length |= usize::from(byte(at + 2 + k)?) << (4 + 8 * k);
    }
    let end = at + 1 + length;
    if end > aml.len() {
        return Err(S5Error::Truncated {
            at,
            needs: end,
            len: aml.len(),
        });
    }
    let elements_at = at + 2 + extra;
    let count = match byte(elements_at)? {
        0 => return Err(S5Error::Empty { at }),
        n => n,
    };
    let body = &aml[..end];
    let mut cursor = elements_at + 1;
    let mut next = || -> Result<u8, S5Error> {
        let (value, size) = integer(body, cursor, at)?;
        if value > 7 {
            return Err(S5Error::TooWide { at: cursor, value });
        }
        cursor += size;
        Ok(value as u8)
    };
    let a = next()?;
    // A one-element package (seen in old tables) uses the same type for b.
    let b = if count >= 2 { next()? } else { a };
    Ok(SleepType { a, b })
}

/// The integer constant at `at` and its size in bytes.
fn integer(body: &[u8], at: usize, package: usize) -> Result<(u64, usize), S5Error> {
    let opcode = *body.get(at).ok_or(S5Error::Truncated {
        at: package,
        needs: at + 1,
        len: body.len(),
    })?;
    let width = match opcode {
        0x00 => return Ok((0, 1)),
        0x01 => return Ok((1, 1)),
        0xff => return Ok((u64::MAX, 1)),
        0x0a => 1,
        0x0b => 2,
        0x0c => 4,
        0x0e => 8,
        _ => return Err(S5Error::NotAnInteger { at, opcode }),
    };
    let bytes = body.get(at + 1..at + 1 + width).ok_or(S5Error::Truncated {
        at: package,
        needs: at + 1 + width,
        len: body.len(),
    })?;
    let value = bytes
        .iter()
        .rev()
        .fold(0u64, |v, &b| (v << 8) | u64::from(b));
    Ok((value, 1 + width))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// QEMU's q35 DSDT: `Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero })`.
    const QEMU: &[u8] = &[0x08, b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0, 0, 0, 0];

    #[test]
    fn qemus_s5_is_zero_zero() {
        assert_eq!(find(QEMU), Ok(Some(SleepType { a: 0, b: 0 })));
    }

    #[test]
    fn byte_prefixed_values_under_the_root_prefix() {
        // Name (\_S5, Package () { 0x07, 0x05, Zero, Zero }), after other AML.
        let aml = [
            0x10, 0x05, b'\\', 0x00, 0x08, b'\\', b'_', b'S', b'5', b'_', 0x12, 0x08, 0x04, 0x0a,
            0x07, 0x0a, 0x05, 0x00, 0x00,
        ];
        assert_eq!(find(&aml), Ok(Some(SleepType { a: 7, b: 5 })));
    }

    #[test]
    fn word_prefix_and_a_two_byte_pkglength() {
        let mut aml = vec![0x08, b'_', b'S', b'5', b'_', 0x12, 0x40 | 0x09, 0x00, 0x02];
        aml.extend([0x0b, 0x03, 0x00, 0x01, 0, 0]);
        assert_eq!(find(&aml), Ok(Some(SleepType { a: 3, b: 1 })));
    }

    #[test]
    fn one_element_means_the_same_type_for_b() {
        let aml = [0x08, b'_', b'S', b'5', b'_', 0x12, 0x04, 0x01, 0x0a, 0x05];
        assert_eq!(find(&aml), Ok(Some(SleepType { a: 5, b: 5 })));
    }

    #[test]
    fn a_mention_that_is_no_declaration_is_passed_over() {
        // A string "_S5_" (StringPrefix 0x0d) and a method call are not Name().
        let mut aml = vec![0x0d, b'_', b'S', b'5', b'_', 0x00, 0x70];
        assert_eq!(find(&aml), Ok(None));
        aml.extend(QEMU);
        assert_eq!(find(&aml), Ok(Some(SleepType { a: 0, b: 0 })));
    }

    #[test]
    fn no_s5_at_all() {
        assert_eq!(find(&[]), Ok(None));
        assert_eq!(find(b"_S5"), Ok(None));
    }

    #[test]
    fn faults_are_named_with_their_offsets() {
        let not_package = [0x08, b'_', b'S', b'5', b'_', 0x0a, 0x05];
        assert_eq!(
            find(&not_package),
            Err(S5Error::NotAPackage {
                at: 5,
                opcode: 0x0a
            })
        );
        let cut = &QEMU[..9];
        assert_eq!(
            find(cut),
            Err(S5Error::Truncated {
                at: 5,
                needs: 12,
                len: 9
            })
        );
        let string_element = [0x08, b'_', b'S', b'5', b'_', 0x12, 0x04, 0x02, 0x0d, 0x00];
        assert_eq!(
            find(&string_element),
            Err(S5Error::NotAnInteger {
                at: 8,
                opcode: 0x0d
            })
        );
        let empty = [0x08, b'_', b'S', b'5', b'_', 0x12, 0x02, 0x00];
        assert_eq!(find(&empty), Err(S5Error::Empty { at: 5 }));
        let wide = [
            0x08, b'_', b'S', b'5', b'_', 0x12, 0x05, 0x02, 0x0a, 0x08, 0x00,
        ];
        assert_eq!(find(&wide), Err(S5Error::TooWide { at: 8, value: 8 }));
        // The package claims more elements than its length holds.
        let short = [
            0x08, b'_', b'S', b'5', b'_', 0x12, 0x03, 0x02, 0x0a, 0x01, 0x0a, 0x01,
        ];
        assert_eq!(
            find(&short),
            Err(S5Error::Truncated {
                at: 5,
                needs: 10,
                len: 9
            })
        );
        for e in [
            S5Error::Empty { at: 5 },
            S5Error::TooWide { at: 8, value: 8 },
        ] {
            assert!(format!("{e}").contains("0x"));
        }
    }
}
