//! # dynamo-shadow-ops
//!
//! The lifecycle operations, written against the store traits (so each is unit-tested with
//! the test kit's in-memory store, and run against DynamoDB by the CLI and the backfill
//! function):
//!
//! | module | what it is |
//! |---|---|
//! | [`backfill`] | fill the shadow table from a parallel Scan, safely racing the stream |
//! | [`verify`] | reconcile shadow against source, the leak audit, repairs |
//! | [`redrive`] | read dead-lettered stream batches back from the stream |
//! | [`batch`] | batch calls within DynamoDB's limits, with retries of unprocessed items |

pub mod backfill;
pub mod batch;
pub mod error;
pub mod redrive;
pub mod verify;

pub use error::OpsError;
