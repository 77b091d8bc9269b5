//! Event decoding plus sanitizing: arbitrary bytes as a Lambda event, through the stream
//! handler with an in-memory store. Seeds: `fuzz/seeds/` (copies of `events/`).
//!
//!   cargo install cargo-fuzz
//!   cargo +nightly fuzz run event .work/fuzz-corpus fuzz/seeds -- -max_total_time=300
//!
//! (new inputs go to the first directory, so fuzz/seeds stays as committed)
#![no_main]

// The property is shared with the stable replay test (tests/fuzz_replay.rs).
#[path = "../../tests/common/fuzz_property.rs"]
mod fuzz_property;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_property::check_event(data));
