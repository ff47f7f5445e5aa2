//! Seeded random inputs for robustness tests: every file squiggle reads (configs, CSV data,
//! checkpoints) is fed mutated copies of valid ones, and must give an answer — a value or a
//! one-line error — never a panic, a hang or an unbounded allocation.
//!
//! The mutations are what breaks parsers: bytes replaced, inserted or deleted, runs
//! duplicated, the file cut short, digits grown into huge numbers, separators and control
//! characters (NUL, quotes, newlines) dropped in. A [`Budget`] bounds a pass: a fixed number
//! of cases by default (CI), or `SQUIGGLE_FUZZ_SECONDS` of wall time for a long run.

use std::time::{Duration, Instant};

/// A seeded generator of mutated inputs (xorshift64*: fast, no dependencies, the same cases
/// on every machine).
#[derive(Clone, Debug)]
pub struct Mutator {
    state: u64,
}

/// Bytes that parsers of these formats treat specially.
const SPECIAL: &[u8] = b"\0\n\r\t,\"'[]{}=.-+eE9 #\\";

impl Mutator {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// `input` with one to eight random mutations.
    pub fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..1 + self.below(8) {
            let at = self.below(out.len() + 1);
            match self.below(7) {
                0 if at < out.len() => out[at] = self.next() as u8,
                1 => out.insert(at, SPECIAL[self.below(SPECIAL.len())]),
                2 if at < out.len() => {
                    out.remove(at);
                }
                3 => {
                    let len = self.below(16).min(out.len() - at.min(out.len()));
                    let run: Vec<u8> = out[at..at + len].to_vec();
                    out.splice(at..at, run);
                }
                4 => out.truncate(at),
                5 => {
                    let digits = "9".repeat(1 + self.below(40));
                    out.splice(at..at, digits.into_bytes());
                }
                _ if at < out.len() => out[at] ^= 1 << self.below(8),
                _ => out.push(self.next() as u8),
            }
        }
        out
    }
}

/// How long a fuzzing pass runs.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    cases: usize,
    until: Option<Instant>,
}

impl Budget {
    /// `cases` cases, or `SQUIGGLE_FUZZ_SECONDS` seconds when that is set.
    pub fn from_env(cases: usize) -> Self {
        let seconds = std::env::var("SQUIGGLE_FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        Self {
            cases,
            until: seconds.map(|s| Instant::now() + Duration::from_secs(s)),
        }
    }

    /// Whether case `done` (0-based) is still within the budget.
    pub fn allows(&self, done: usize) -> bool {
        match self.until {
            Some(until) => Instant::now() < until,
            None => done < self.cases,
        }
    }
}

/// Runs `case` on mutations of `seeds` (round robin) within `budget`; returns how many ran.
/// A panic in `case` fails the caller's test with the seed that caused it.
pub fn run(seeds: &[Vec<u8>], budget: Budget, mut case: impl FnMut(&[u8])) -> usize {
    let mut done = 0;
    while budget.allows(done) {
        let mut mutator = Mutator::new(done as u64);
        let input = mutator.mutate(&seeds[done % seeds.len()]);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&input)));
        if outcome.is_err() {
            panic!(
                "case {done} panicked on input {:?}",
                String::from_utf8_lossy(&input)
            );
        }
        done += 1;
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_seeded_and_change_the_input() {
        let input = b"x,y\n0.5,1\n".to_vec();
        let a = Mutator::new(3).mutate(&input);
        assert_eq!(a, Mutator::new(3).mutate(&input));
        let changed = (0..50)
            .filter(|&s| Mutator::new(s).mutate(&input) != input)
            .count();
        assert!(changed > 40, "{changed} of 50 mutated");
    }
}
