//! Runtime settings of the stream function, read and validated once at cold start.

use std::fmt;

/// Runtime settings, read and validated once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The shadow table for a single-table policy; a policy with `[tables]` names its own.
    pub shadow_table: Option<String>,
    pub concurrency: usize,
    pub tombstone_ttl_secs: u64,
    pub max_attempts: u32,
    /// How long before the invocation's deadline the function stops starting writes and
    /// reports what it has not applied as failed (time to answer Lambda).
    pub deadline_margin_ms: u64,
}

/// A bad setting: names the variable and what is wrong (settings are not user data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    /// What is wrong with the setting (settings are not user data).
    pub reason: String,
}

fn num_var<T: std::str::FromStr + PartialOrd + fmt::Display + Copy>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(s) => match s.trim().parse::<T>() {
            Ok(v) if v >= min && v <= max => Ok(v),
            _ => Err(ConfigError {
                var,
                reason: format!("must be a whole number from {min} to {max} (default {default})"),
            }),
        },
    }
}

impl Config {
    /// The instant to stop starting writes, from the invocation's deadline (epoch ms) and
    /// the clock now (epoch ms): the margin before it, at most half the time left (so a short
    /// timeout still leaves time to write).
    pub fn write_deadline(&self, deadline_ms: u64, now_ms: u64) -> std::time::Instant {
        let total = deadline_ms.saturating_sub(now_ms);
        let left = total - self.deadline_margin_ms.min(total / 2);
        std::time::Instant::now() + std::time::Duration::from_millis(left)
    }

    /// [`Config::write_deadline`], or `None` when the deadline cannot be a point in time
    /// (before 2001): Lambda sends epoch milliseconds, but `cargo lambda watch` sends the
    /// timeout as a duration, which read as a time lies decades in the past and would fail
    /// every record of every local invocation.
    pub fn checked_write_deadline(&self, deadline_ms: u64, now_ms: u64) -> Option<std::time::Instant> {
        const YEAR_2001_MS: u64 = 978_307_200_000;
        (deadline_ms >= YEAR_2001_MS).then(|| self.write_deadline(deadline_ms, now_ms))
    }

    /// Reads `SHADOW_TABLE` (required unless the policy has `[tables]`), `SHADOW_CONCURRENCY` (1-256, default 16),
    /// `SHADOW_TOMBSTONE_TTL_HOURS` (48-8760, default 72), `SHADOW_MAX_ATTEMPTS` (1-20, default 6),
    /// `SHADOW_DEADLINE_MARGIN_MS` (100-60000, default 2000).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let table = get("SHADOW_TABLE").filter(|t| !t.is_empty());
        let valid = table.as_ref().is_none_or(|t| {
            (3..=255).contains(&t.len())
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        });
        if !valid {
            return Err(ConfigError {
                var: "SHADOW_TABLE",
                reason: "must name the shadow table (3-255 characters: letters, digits, _ - .)".into(),
            });
        }
        Ok(Config {
            shadow_table: table,
            concurrency: num_var(&get, "SHADOW_CONCURRENCY", 16, 1, 256)?,
            tombstone_ttl_secs: num_var(&get, "SHADOW_TOMBSTONE_TTL_HOURS", 72u64, 48, 8760)? * 3600,
            max_attempts: num_var(&get, "SHADOW_MAX_ATTEMPTS", 6u32, 1, 20)?,
            deadline_margin_ms: num_var(&get, "SHADOW_DEADLINE_MARGIN_MS", 2000u64, 100, 60_000)?,
        })
    }
}
