//! Where records go: one shadow table and sanitizer, or one per source table.

use std::collections::HashMap;

use dynamo_shadow_core::sanitize::BuildError;
use dynamo_shadow_core::{Policy, Sanitizer};

use crate::config::{Config, ConfigError};

/// One source table's destination.
pub struct Route {
    pub source_table: Option<String>,
    pub shadow_table: String,
    pub sanitizer: Sanitizer,
    /// During a key rotation, the sanitizer with the previous tokenization key: a REMOVE
    /// also tombstones the shadow item under the previous key's token of a tokenized key.
    pub previous: Option<Sanitizer>,
}

/// Routes built from a policy at cold start.
pub struct Routes {
    routes: Vec<Route>,
    by_source: HashMap<String, usize>,
}

/// Why routes could not be built: a missing setting or a sanitizer that cannot compile.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// Why a record has no route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoRoute {
    #[error("record has no eventSourceARN naming its table; the policy routes by table")]
    NoSource,
    /// A table name is configuration, not item data.
    #[error("no policy section for source table `{0}`: not written (add [tables.{0}])")]
    UnknownTable(String),
}

impl Routes {
    /// One shadow table for every record.
    pub fn single(shadow_table: impl Into<String>, sanitizer: Sanitizer) -> Self {
        Routes {
            routes: vec![Route { source_table: None, shadow_table: shadow_table.into(), sanitizer, previous: None }],
            by_source: HashMap::new(),
        }
    }

    /// From a policy: its `[tables.NAME]` sections, or the single-table policy with
    /// `SHADOW_TABLE`.
    pub fn from_policy(policy: &Policy, config: &Config, token_key: Option<Vec<u8>>) -> Result<Self, RouteError> {
        if policy.tables.is_empty() {
            let Some(shadow) = config.shadow_table.clone() else {
                return Err(ConfigError {
                    var: "SHADOW_TABLE",
                    reason: "must name the shadow table (or give the policy [tables.NAME] sections)".into(),
                }
                .into());
            };
            return Ok(Self::single(shadow, Sanitizer::build(policy, &policy.default, token_key)?));
        }
        let mut routes = Vec::new();
        let mut by_source = HashMap::new();
        for (name, table) in &policy.tables {
            by_source.insert(name.clone(), routes.len());
            routes.push(Route {
                source_table: Some(name.clone()),
                shadow_table: table.shadow.clone().expect("validated by the policy"),
                sanitizer: Sanitizer::build(policy, table, token_key.clone())?,
                previous: None,
            });
        }
        Ok(Routes { routes, by_source })
    }

    /// The previous tokenization key, during a rotation (for routes that tokenize).
    pub fn with_previous_key(mut self, key: Option<Vec<u8>>) -> Self {
        if let Some(key) = key {
            for r in &mut self.routes {
                if r.sanitizer.table().uses_tokenize() {
                    r.previous = Some(r.sanitizer.with_token_key(key.clone()));
                }
            }
        }
        self
    }

    pub fn all(&self) -> &[Route] {
        &self.routes
    }

    pub fn get(&self, index: usize) -> &Route {
        &self.routes[index]
    }

    /// The route for a source table by name (the only route of a single-table policy).
    pub fn for_table(&self, table: &str) -> Option<&Route> {
        if self.by_source.is_empty() {
            return self.routes.first();
        }
        self.by_source.get(table).map(|&i| &self.routes[i])
    }

    /// The route for a record, by the table name in its `eventSourceARN`.
    pub fn for_arn(&self, arn: Option<&str>) -> Result<usize, NoRoute> {
        if self.by_source.is_empty() {
            return Ok(0);
        }
        let table = arn.and_then(source_table_name).ok_or(NoRoute::NoSource)?;
        self.by_source.get(table).copied().ok_or_else(|| NoRoute::UnknownTable(table.to_string()))
    }
}

/// `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL` -> `NAME`.
pub fn source_table_name(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":table/")?.1;
    Some(rest.split('/').next().unwrap_or(rest)).filter(|t| !t.is_empty())
}
