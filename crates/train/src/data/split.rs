//! Which rows train and which validate, and the order the training rows are visited in.
//!
//! Rows are named by `u32` index into one [`Dataset`](crate::Dataset), so a split or a
//! shuffle costs 4 bytes per row and never copies the data.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Training and validation rows of one data set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Rows that train, ascending.
    pub train: Vec<u32>,
    /// Rows held out for validation, ascending.
    pub valid: Vec<u32>,
}

impl Split {
    /// Every one of `rows` rows trains; none validate.
    pub fn all(rows: usize) -> Self {
        Self {
            train: (0..rows as u32).collect(),
            valid: Vec::new(),
        }
    }

    /// Holds out `round(rows × fraction)` rows chosen at random with `seed` (at least one
    /// row is always left to train). The same rows, seed and fraction give the same split.
    pub fn random(rows: usize, fraction: f64, seed: u64) -> Self {
        let mut order: Vec<u32> = (0..rows as u32).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed ^ SPLIT_STREAM));
        let held = ((rows as f64 * fraction).round() as usize).min(rows.saturating_sub(1));
        let mut valid = order[..held].to_vec();
        let mut train = order;
        train.drain(..held);
        valid.sort_unstable();
        train.sort_unstable();
        Self { train, valid }
    }
}

/// Separates the random stream of the split from that of the initial weights, which uses
/// the same seed.
const SPLIT_STREAM: u64 = 0x5EED_0F5B_11D0_0001;

/// Reorders `rows` for epoch `epoch` (0-based): a shuffle drawn from `seed` and the epoch
/// number alone, applied to the previous epoch's order. Replaying epochs `0..k` therefore
/// reproduces the order of epoch `k` exactly, which is what makes a resumed run identical to
/// an uninterrupted one.
pub fn shuffle_for_epoch(rows: &mut [u32], seed: u64, epoch: usize) {
    let stream = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(epoch as u64 + 1);
    rows.shuffle(&mut StdRng::seed_from_u64(stream));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_splits_are_disjoint_complete_and_repeatable() {
        let a = Split::random(100, 0.2, 7);
        assert_eq!((a.train.len(), a.valid.len()), (80, 20));
        let mut all: Vec<u32> = a.train.iter().chain(&a.valid).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<u32>>());
        assert_eq!(a, Split::random(100, 0.2, 7));
        assert_ne!(a, Split::random(100, 0.2, 8));
        // Never everything: one row is left to train.
        assert_eq!(Split::random(3, 1.0, 0).train.len(), 1);
    }

    #[test]
    fn epoch_shuffles_are_repeatable_and_differ_between_epochs() {
        let mut a: Vec<u32> = (0..50).collect();
        let mut b = a.clone();
        shuffle_for_epoch(&mut a, 3, 0);
        shuffle_for_epoch(&mut b, 3, 0);
        assert_eq!(a, b);
        let first = a.clone();
        shuffle_for_epoch(&mut a, 3, 1);
        assert_ne!(a, first);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<u32>>());
    }
}
