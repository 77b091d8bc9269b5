//! # dynamo-shadow-testkit
//!
//! What the tests and benchmarks share, and nothing a production binary links
//! (`publish = false`, dev-dependency only; `dynamo-shadow eval` uses it behind the `eval`
//! feature):
//!
//! | module | what it is |
//! |---|---|
//! | [`rng`] | a seeded PRNG, so every corpus and model test replays from its seed |
//! | [`corpus`] | the labeled evaluation corpus and the recall/precision scoring |
//! | [`memory`] | [`MemoryStore`]: every store trait in memory, with injected faults |
//! | [`local`] | clients for the local endpoint `make test` starts |

pub mod corpus;
pub mod local;
pub mod memory;
pub mod rng;

pub use memory::MemoryStore;
pub use rng::Rng;
pub mod hostile;
