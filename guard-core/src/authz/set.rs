//! A fixed-size bit set: how roles and permissions are held at run time.
//!
//! A policy numbers its roles and permissions in declaration order; the macros resolve every
//! name to that number at compile time, so a requirement check is a few word-wide `AND`s and
//! never allocates.

use std::fmt;

/// How many distinct roles (and, separately, permissions) one policy may declare.
pub const MAX_ENTRIES: usize = 256;

const WORDS: usize = MAX_ENTRIES / 64;

/// A set of role or permission indices below [`MAX_ENTRIES`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BitSet([u64; WORDS]);

impl BitSet {
    /// The empty set.
    pub const EMPTY: BitSet = BitSet([0; WORDS]);

    /// Builds a set from its raw words, as the macros emit it.
    pub const fn from_words(words: [u64; WORDS]) -> Self {
        BitSet(words)
    }

    /// Builds a set holding exactly `indices`; indices out of range are ignored.
    pub fn from_indices(indices: impl IntoIterator<Item = usize>) -> Self {
        let mut set = Self::EMPTY;
        for index in indices {
            set.insert(index);
        }
        set
    }

    /// Adds `index`; returns false (and changes nothing) when it is out of range.
    pub fn insert(&mut self, index: usize) -> bool {
        if index >= MAX_ENTRIES {
            return false;
        }
        self.0[index / 64] |= 1 << (index % 64);
        true
    }

    /// Whether `index` is in the set.
    pub const fn contains(&self, index: usize) -> bool {
        index < MAX_ENTRIES && self.0[index / 64] & (1 << (index % 64)) != 0
    }

    /// Whether the two sets share at least one member.
    pub const fn intersects(&self, other: &BitSet) -> bool {
        let mut i = 0;
        while i < WORDS {
            if self.0[i] & other.0[i] != 0 {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Whether every member of `other` is in `self`.
    pub const fn is_superset(&self, other: &BitSet) -> bool {
        let mut i = 0;
        while i < WORDS {
            if self.0[i] & other.0[i] != other.0[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Adds every member of `other`.
    pub fn union_with(&mut self, other: &BitSet) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine |= theirs;
        }
    }

    /// Whether the set has no members.
    pub const fn is_empty(&self) -> bool {
        !self.intersects(&Self::FULL)
    }

    /// The members, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..MAX_ENTRIES).filter(|&i| self.contains(i))
    }

    const FULL: BitSet = BitSet([u64::MAX; WORDS]);
}

impl fmt::Debug for BitSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_and_set_algebra() {
        let a = BitSet::from_indices([0, 63, 64, 255]);
        assert!(a.contains(0) && a.contains(63) && a.contains(64) && a.contains(255));
        assert!(!a.contains(1) && !a.contains(256));
        let b = BitSet::from_indices([64]);
        assert!(a.intersects(&b) && a.is_superset(&b) && !b.is_superset(&a));
        assert!(!b.intersects(&BitSet::from_indices([65])));
        assert!(BitSet::EMPTY.is_empty() && !b.is_empty());
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![0, 63, 64, 255]);
        let mut c = BitSet::EMPTY;
        assert!(!c.insert(256));
        c.union_with(&b);
        assert_eq!(c, b);
    }
}
