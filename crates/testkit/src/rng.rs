//! A small deterministic PRNG, so corpora and model tests need no dependency and replay
//! exactly from a seed.

/// A small deterministic PRNG (xorshift64*), so the corpus needs no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    pub fn chars(&mut self, n: usize, alphabet: &str) -> String {
        let a: Vec<char> = alphabet.chars().collect();
        (0..n).map(|_| *self.pick(&a)).collect()
    }
    /// `min` plus up to `extra - 1` characters.
    pub fn chars_var(&mut self, min: usize, extra: usize, alphabet: &str) -> String {
        let n = min + self.below(extra);
        self.chars(n, alphabet)
    }
    pub fn digits(&mut self, n: usize) -> String {
        self.chars(n, DIGITS)
    }
}

const DIGITS: &str = "0123456789";
