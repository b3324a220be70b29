//! One small sort for the few lists baton orders (memory-map bounds and
//! ranges, segment ranges, the firmware's staged file ranges): a heapsort, O(n log n) with no recursion and
//! no buffer, a few hundred bytes of code per element type where core's
//! `sort_unstable` costs 2-3 KiB each (baton's image has a size goal, and
//! under emulation every byte of new code also costs its translation).
//! Lists from outside input (program headers, memory maps) can be long,
//! so nothing quadratic.

/// Sorts `v` in place, ascending (not stable).
pub fn heapsort<T: Ord>(v: &mut [T]) {
    heapsort_by(v, |a, b| a < b);
}

/// Sorts `v` in place, ascending by `less` (not stable).
pub fn heapsort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = v.len();
    sort(&mut ByLess { v, less }, n);
}

/// What the heapsort needs of a list: compare and swap by index. The
/// algorithm is compiled once, behind `dyn`; each element type adds only
/// these two small functions (one generic heapsort per type cost more).
trait Heap {
    fn less(&self, a: usize, b: usize) -> bool;
    fn swap(&mut self, a: usize, b: usize);
}

struct ByLess<'a, T, F> {
    v: &'a mut [T],
    less: F,
}

// `sort` passes indices below the length only; the checks here answer "no" and do nothing
// instead of panicking, which costs less code in every element type's copy.
impl<T, F: Fn(&T, &T) -> bool> Heap for ByLess<'_, T, F> {
    fn less(&self, a: usize, b: usize) -> bool {
        match (self.v.get(a), self.v.get(b)) {
            (Some(x), Some(y)) => (self.less)(x, y),
            _ => false,
        }
    }
    fn swap(&mut self, a: usize, b: usize) {
        if a < self.v.len() && b < self.v.len() {
            self.v.swap(a, b);
        }
    }
}

/// Heapsorts the `n` elements of `h`.
fn sort(h: &mut dyn Heap, n: usize) {
    for root in (0..n / 2).rev() {
        sift_down(h, root, n);
    }
    for end in (1..n).rev() {
        h.swap(0, end);
        sift_down(h, 0, end);
    }
}

/// Moves element `root` down the max-heap of the first `end` elements to where it belongs.
fn sift_down(h: &mut dyn Heap, mut root: usize, end: usize) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && h.less(child, child + 1) {
            child += 1;
        }
        if !h.less(root, child) {
            return;
        }
        h.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_sort() {
        // A fixed pseudo-random sequence of lists of every length to 200,
        // with duplicates.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..200usize {
            let mut v: Vec<u64> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x % 50
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            heapsort(&mut v);
            assert_eq!(v, want, "length {len}");
        }
        let mut pairs = vec![(3u64, 1u64, 0usize), (1, 2, 1), (3, 0, 2), (0, 9, 3)];
        heapsort(&mut pairs);
        assert_eq!(pairs, [(0, 9, 3), (1, 2, 1), (3, 0, 2), (3, 1, 0)]);
        let mut ranges = vec![5..9u64, 0..4, 7..8, 2..3];
        heapsort_by(&mut ranges, |a, b| a.start < b.start);
        assert_eq!(ranges, [0..4, 2..3, 5..9, 7..8]);
    }
}
