//! An LZMA decoder for coreboot's `.lzma` files (`cbfstool -c lzma`),
//! written for this one job: the whole output is one buffer in memory, so
//! the output is the dictionary. There is no window to allocate (a Linux
//! vmlinux has a 16 MiB one) and no copy out of it; the only heap is the
//! probability tables (16 KB for the usual lc=3, lp=0).
//!
//! Hand-written rather than a crate's because of size: `lzma-rust2`'s
//! streaming reader (a ring-buffer window behind a generic `Read`, its
//! range coder `#[inline(always)]` at every bit) took 11.4 KB of baton's
//! image; this takes about 3. The host tests decode, against `lzma-rust2`'s
//! own encoder, every setting coreboot and xz produce; the fuzz target
//! `lzma` compares the two decoders on arbitrary input.
//!
//! The algorithm is the one in the LZMA specification (Igor Pavlov's
//! `LzmaSpec.cpp`, in the LZMA SDK): a binary range decoder over adaptive
//! 11-bit probabilities, literals coded with the previous byte as context,
//! matches as (length, distance) with the last four distances kept.

use alloc::vec::Vec;
use core::fmt;

/// Why a stream was refused. `at` is the output byte the decoder had
/// reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LzmaError {
    /// Shorter than the 13-byte .lzma header.
    #[allow(missing_docs)]
    ShortHeader { len: usize },
    /// The properties byte (lc + lp * 9 + pb * 45) is 225 or more.
    #[allow(missing_docs)]
    BadProperties { byte: u8 },
    /// The probability tables for these lc and lp need more than allowed.
    #[allow(missing_docs)]
    TooMuchMemory {
        lc: u32,
        lp: u32,
        need_kib: u64,
        limit_kib: u32,
    },
    /// The range coder's first byte is not 0.
    BadStart,
    /// The compressed data ended before the output was complete.
    #[allow(missing_docs)]
    Truncated { at: u64 },
    /// A match reaches back before the output's start or past the
    /// dictionary size the header announced.
    #[allow(missing_docs)]
    BadDistance { at: u64, distance: u64 },
    /// An end marker before the size the header announced.
    #[allow(missing_docs)]
    EarlyEnd { at: u64 },
}

impl fmt::Display for LzmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ShortHeader { len } => {
                write!(
                    f,
                    "header: {len} bytes, shorter than the 13 of a .lzma header"
                )
            }
            Self::BadProperties { byte } => {
                write!(f, "header: properties byte {byte:#04x} is not below 225")
            }
            Self::TooMuchMemory {
                lc,
                lp,
                need_kib,
                limit_kib,
            } => write!(
                f,
                "header: lc={lc} lp={lp} needs {need_kib} KiB of tables \
                 (the decoder may use {limit_kib} KiB)"
            ),
            Self::BadStart => write!(f, "the range coder's first byte is not 0"),
            Self::Truncated { at } => write!(f, "at output byte {at}: the data ends early"),
            Self::BadDistance { at, distance } => write!(
                f,
                "at output byte {at}: a match {distance} bytes back reaches outside the window"
            ),
            Self::EarlyEnd { at } => {
                write!(
                    f,
                    "at output byte {at}: end marker before the announced size"
                )
            }
        }
    }
}

/// The .lzma header: properties, dictionary size, uncompressed size.
const HEADER: usize = 13;

// The probability tables, one array; these are the offsets of each part.
const POS_STATES: usize = 16; // 1 << the largest pb (4)
const STATES: usize = 12;
const IS_MATCH: usize = 0;
const IS_REP: usize = IS_MATCH + STATES * POS_STATES;
const IS_REP_G0: usize = IS_REP + STATES;
const IS_REP_G1: usize = IS_REP_G0 + STATES;
const IS_REP_G2: usize = IS_REP_G1 + STATES;
const IS_REP0_LONG: usize = IS_REP_G2 + STATES;
const POS_SLOT: usize = IS_REP0_LONG + STATES * POS_STATES; // 4 trees of 6 bits
const SPEC_POS: usize = POS_SLOT + 4 * 64; // distance slots 4..13
const ALIGN: usize = SPEC_POS + 115; // the low 4 bits of far distances
const LEN: usize = ALIGN + 16;
const REP_LEN: usize = LEN + LEN_SIZE;
const LITERAL: usize = REP_LEN + LEN_SIZE; // 0x300 per literal context
/// A length coder: choice, choice 2, low (3 bits per pos state), mid (3
/// bits per pos state), high (8 bits).
const LEN_SIZE: usize = 2 + 2 * POS_STATES * 8 + 256;
const LEN_LOW: usize = 2;
const LEN_MID: usize = LEN_LOW + POS_STATES * 8;
const LEN_HIGH: usize = LEN_MID + POS_STATES * 8;

/// The heap the decoder takes for a stream starting with `stored`: its
/// probability tables (0 if the header is unreadable; decoding says why).
pub fn heap_needed(stored: &[u8]) -> u64 {
    match stored.first().map(|&b| properties(b)) {
        Some(Ok((lc, lp, _))) => table_bytes(lc, lp),
        _ => 0,
    }
}

fn table_bytes(lc: u32, lp: u32) -> u64 {
    (LITERAL as u64 + (0x300 << (lc + lp))) * 2
}

/// lc, lp and pb from the properties byte.
fn properties(byte: u8) -> Result<(u32, u32, u32), LzmaError> {
    if byte >= 9 * 5 * 5 {
        return Err(LzmaError::BadProperties { byte });
    }
    let b = u32::from(byte);
    Ok((b % 9, b / 9 % 5, b / 45))
}

/// Decodes the .lzma stream `stored` into `out`, up to the size its header
/// announces or `out`'s length, whichever is less, with at most
/// `limit_kib` KiB of tables. Returns the bytes written.
pub fn decode(stored: &[u8], out: &mut [u8], limit_kib: u32) -> Result<usize, LzmaError> {
    let header = stored
        .get(..HEADER)
        .ok_or(LzmaError::ShortHeader { len: stored.len() })?;
    let (lc, lp, pb) = properties(header[0])?;
    let need = table_bytes(lc, lp);
    if need > u64::from(limit_kib) << 10 {
        return Err(LzmaError::TooMuchMemory {
            lc,
            lp,
            need_kib: need.div_ceil(1024),
            limit_kib,
        });
    }
    let dict_size = u32::from_le_bytes([header[1], header[2], header[3], header[4]]).max(4096);
    let mut size = [0; 8];
    size.copy_from_slice(&header[5..HEADER]);
    // u64::MAX: unknown, the stream ends with an end marker.
    let announced = u64::from_le_bytes(size);
    let end = usize::try_from(announced).map_or(out.len(), |n| n.min(out.len()));
    let mut probs = Vec::new();
    probs.resize(LITERAL + (0x300 << (lc + lp)), 1024u16);
    let mut rc = RangeDecoder::new(&stored[HEADER..], probs)?;
    let lzma = Stream {
        lc,
        lp_mask: (1 << lp) - 1,
        pb_mask: (1 << pb) - 1,
        dict_size: u64::from(dict_size),
        end_marker_only: announced == u64::MAX,
    };
    lzma.run(&mut rc, &mut out[..end])
}

/// A stream's settings from its header.
struct Stream {
    lc: u32,
    lp_mask: usize,
    pb_mask: usize,
    dict_size: u64,
    /// The size is unknown: only an end marker ends the stream.
    end_marker_only: bool,
}

impl Stream {
    fn run(&self, rc: &mut RangeDecoder, out: &mut [u8]) -> Result<usize, LzmaError> {
        let mut state = 0usize;
        // The last four match distances, minus one.
        let mut reps = [0usize; 4];
        let mut pos = 0usize;
        while pos < out.len() {
            let pos_state = pos & self.pb_mask;
            let at = pos as u64;
            if rc.overrun {
                return Err(LzmaError::Truncated { at });
            }
            if rc.bit(IS_MATCH + state * POS_STATES + pos_state) == 0 {
                out[pos] = self.literal(rc, out, pos, state, reps[0]);
                pos += 1;
                state = match state {
                    0..4 => 0,
                    4..10 => state - 3,
                    _ => state - 6,
                };
            } else {
                let len = if rc.bit(IS_REP + state) == 0 {
                    // A new distance.
                    reps = [reps[0], reps[0], reps[1], reps[2]];
                    let len = rc.length(LEN, pos_state);
                    state = if state < 7 { 7 } else { 10 };
                    let distance = rc.distance(len);
                    if distance == 0xffff_ffff {
                        if rc.overrun {
                            return Err(LzmaError::Truncated { at });
                        }
                        if self.end_marker_only {
                            break;
                        }
                        return Err(LzmaError::EarlyEnd { at });
                    }
                    reps[0] = distance as usize;
                    len
                } else {
                    if rc.bit(IS_REP_G0 + state) == 0 {
                        if rc.bit(IS_REP0_LONG + state * POS_STATES + pos_state) == 0 {
                            // One byte from the last distance.
                            state = if state < 7 { 9 } else { 11 };
                            let from = self.back(pos, reps[0])?;
                            out[pos] = out[from];
                            pos += 1;
                            continue;
                        }
                    } else {
                        let which = if rc.bit(IS_REP_G1 + state) == 0 {
                            1
                        } else if rc.bit(IS_REP_G2 + state) == 0 {
                            2
                        } else {
                            3
                        };
                        reps[..=which].rotate_right(1);
                    }
                    state = if state < 7 { 8 } else { 11 };
                    rc.length(REP_LEN, pos_state)
                };
                let from = self.back(pos, reps[0])?;
                // Lengths are 2..=273; a match may overlap what it writes,
                // so byte by byte.
                let len = (len + 2).min(out.len() - pos);
                for i in 0..len {
                    out[pos + i] = out[from + i];
                }
                pos += len;
            }
        }
        if rc.overrun {
            return Err(LzmaError::Truncated { at: pos as u64 });
        }
        Ok(pos)
    }

    /// Where a match `rep` + 1 bytes back from `pos` starts.
    fn back(&self, pos: usize, rep: usize) -> Result<usize, LzmaError> {
        let distance = rep as u64 + 1;
        if distance > pos as u64 || distance > self.dict_size {
            return Err(LzmaError::BadDistance {
                at: pos as u64,
                distance,
            });
        }
        Ok(pos - distance as usize)
    }

    /// A literal: coded with the previous byte's top lc bits as context
    /// and, right after a match, against the byte at the last distance.
    fn literal(
        &self,
        rc: &mut RangeDecoder,
        out: &[u8],
        pos: usize,
        state: usize,
        rep0: usize,
    ) -> u8 {
        let prev = if pos > 0 { out[pos - 1] } else { 0 };
        let context = ((pos & self.lp_mask) << self.lc) + (usize::from(prev) >> (8 - self.lc));
        let base = LITERAL + 0x300 * context;
        let mut symbol = 1usize;
        if state >= 7 && rep0 < pos {
            let mut match_byte = usize::from(out[pos - rep0 - 1]);
            while symbol < 0x100 {
                let match_bit = (match_byte >> 7) & 1;
                match_byte <<= 1;
                let bit = rc.bit(base + ((1 + match_bit) << 8) + symbol);
                symbol = (symbol << 1) | bit;
                if bit != match_bit {
                    break;
                }
            }
        }
        while symbol < 0x100 {
            symbol = (symbol << 1) | rc.bit(base + symbol);
        }
        symbol as u8
    }
}

/// The range decoder and the probabilities it adapts.
struct RangeDecoder<'a> {
    input: &'a [u8],
    next: usize,
    range: u32,
    code: u32,
    /// The input ran out: zeros were read instead, and the stream fails
    /// (checked once per symbol, not per bit).
    overrun: bool,
    probs: Vec<u16>,
}

impl<'a> RangeDecoder<'a> {
    fn new(input: &'a [u8], probs: Vec<u16>) -> Result<Self, LzmaError> {
        if input.first() != Some(&0) {
            return Err(if input.is_empty() {
                LzmaError::Truncated { at: 0 }
            } else {
                LzmaError::BadStart
            });
        }
        let mut rc = Self {
            input,
            next: 1,
            range: u32::MAX,
            code: 0,
            overrun: false,
            probs,
        };
        for _ in 0..4 {
            rc.code = (rc.code << 8) | rc.byte();
        }
        Ok(rc)
    }

    fn byte(&mut self) -> u32 {
        let b = self.input.get(self.next).copied();
        self.next += 1;
        self.overrun |= b.is_none();
        u32::from(b.unwrap_or(0))
    }

    #[inline(always)] // two callers; a call per bit costs 10% speed
    fn normalize(&mut self) {
        if self.range < 1 << 24 {
            self.range <<= 8;
            self.code = (self.code << 8) | self.byte();
        }
    }

    /// One bit under the probability at `index` (of a 0, in 2048ths).
    fn bit(&mut self, index: usize) -> usize {
        let p = &mut self.probs[index];
        let bound = (self.range >> 11) * u32::from(*p);
        let bit = if self.code < bound {
            self.range = bound;
            *p += (2048 - *p) >> 5;
            0
        } else {
            self.range -= bound;
            self.code -= bound;
            *p -= *p >> 5;
            1
        };
        self.normalize();
        bit
    }

    /// `bits` bits, most significant first, from the tree at `base`.
    fn tree(&mut self, base: usize, bits: u32) -> usize {
        let mut m = 1usize;
        for _ in 0..bits {
            m = (m << 1) | self.bit(base + m);
        }
        m - (1 << bits)
    }

    /// `bits` bits, least significant first, from the tree at `base`.
    fn reverse_tree(&mut self, base: usize, bits: u32) -> u32 {
        let (mut m, mut symbol) = (1usize, 0u32);
        for i in 0..bits {
            let bit = self.bit(base + m);
            m = (m << 1) | bit;
            symbol |= (bit as u32) << i;
        }
        symbol
    }

    /// A match length, minus 2, from the length coder at `base`.
    fn length(&mut self, base: usize, pos_state: usize) -> usize {
        if self.bit(base) == 0 {
            self.tree(base + LEN_LOW + pos_state * 8, 3)
        } else if self.bit(base + 1) == 0 {
            8 + self.tree(base + LEN_MID + pos_state * 8, 3)
        } else {
            16 + self.tree(base + LEN_HIGH, 8)
        }
    }

    /// A match distance, minus 1, for a match of `len` + 2 bytes
    /// (0xffff_ffff is the end marker).
    fn distance(&mut self, len: usize) -> u32 {
        let slot = self.tree(POS_SLOT + len.min(3) * 64, 6) as u32;
        if slot < 4 {
            return slot;
        }
        let direct = (slot >> 1) - 1;
        let mut distance = (2 | (slot & 1)) << direct;
        if slot < 14 {
            distance += self.reverse_tree(SPEC_POS + distance as usize - slot as usize, direct);
        } else {
            let mut direct_bits = 0u32;
            for _ in 0..direct - 4 {
                self.range >>= 1;
                let one = self.code >= self.range;
                if one {
                    self.code -= self.range;
                }
                direct_bits = (direct_bits << 1) | u32::from(one);
                self.normalize();
            }
            distance = distance.wrapping_add(direct_bits << 4);
            distance = distance.wrapping_add(self.reverse_tree(ALIGN, 4));
        }
        distance
    }
}

#[cfg(test)]
mod tests;
