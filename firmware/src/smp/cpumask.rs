//! A set of CPUs by slot number that many CPUs update at once: the online
//! mask of bring-up and, later, the stop mask of the takeover.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

/// A set of CPU slots (0..len), changed atomically: the online and stop masks.
/// Its words are read with `get`, not indexing: no panic path in each
/// inlined copy of its small methods (saves 192 bytes).
pub struct CpuMask {
    words: Vec<AtomicU64>,
    len: usize,
}

impl CpuMask {
    /// An empty mask for slots `0..len`.
    pub fn new(len: usize) -> Self {
        Self {
            words: (0..len.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
            len,
        }
    }

    /// How many slots the mask has.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no slot is set.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| w.load(Ordering::Acquire) == 0)
    }

    /// Sets `slot`'s bit (release: what the CPU wrote before is visible to
    /// whoever sees the bit). Out-of-range slots are ignored.
    pub fn set(&self, slot: usize) {
        if slot < self.len
            && let Some(w) = self.words.get(slot / 64)
        {
            w.fetch_or(1 << (slot % 64), Ordering::AcqRel);
        }
    }

    /// Clears `slot`'s bit.
    pub fn clear(&self, slot: usize) {
        if slot < self.len
            && let Some(w) = self.words.get(slot / 64)
        {
            w.fetch_and(!(1 << (slot % 64)), Ordering::AcqRel);
        }
    }

    /// Whether `slot`'s bit is set.
    pub fn contains(&self, slot: usize) -> bool {
        slot < self.len
            && self
                .words
                .get(slot / 64)
                .is_some_and(|w| w.load(Ordering::Acquire) & (1 << (slot % 64)) != 0)
    }

    /// How many slots are set.
    pub fn count(&self) -> usize {
        self.words
            .iter()
            .map(|w| w.load(Ordering::Acquire).count_ones() as usize)
            .sum()
    }

    /// The word holding `slot`'s bit and the bit's number in it: for code
    /// that clears the bit itself (the park area's `lock btr`).
    pub fn word_and_bit(&self, slot: usize) -> Option<(&AtomicU64, u64)> {
        let word = self.words.get(slot / 64).filter(|_| slot < self.len)?;
        Some((word, (slot % 64) as u64))
    }

    /// The slots whose bits are set, in order.
    pub fn slots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter(|&s| self.contains(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn set_clear_count_across_words() {
        let m = CpuMask::new(130);
        assert!(m.is_empty());
        for s in [0, 63, 64, 129, 130, 1000] {
            m.set(s);
        }
        assert_eq!(m.count(), 4);
        assert_eq!(m.slots().collect::<Vec<_>>(), [0, 63, 64, 129]);
        m.clear(63);
        assert!(!m.contains(63) && m.contains(64));
        assert!(!m.contains(1000));
        let (word, bit) = m.word_and_bit(129).unwrap();
        assert_eq!((word.load(Ordering::Relaxed), bit), (1 << 1, 1));
        assert!(m.word_and_bit(130).is_none());
    }

    #[test]
    fn concurrent_setters_lose_no_bit() {
        let m = Arc::new(CpuMask::new(256));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let m = m.clone();
                std::thread::spawn(move || (0..32).for_each(|i| m.set(t * 32 + i)))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(m.count(), 256);
    }
}
