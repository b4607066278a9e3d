//! The `cleanup` Lambda's library: reads its orders from the event (the
//! EventBridge schedule, or an operator's `{"dryRun": true}` /
//! `{"tenantIds": [...]}`) and runs the clean-up use case.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use shared::config::ConfigError;
use shared::domain::{TenantId, Timestamp};
use shared::service::cleanup::{self, Run, Summary};
use shared::App;

/// What the function reads from the environment at init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `RETENTION_DAYS`: how long a tenant stays retired before it is purged (default 30).
    pub retention_days: u32,
    /// `CLEANUP_MARGIN_SECONDS`: how long before the deadline a run stops starting work (default 20).
    pub margin: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name: &'static str, default: u32, min: u32, max: u32| match get(name).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    name,
                    message: format!("must be a whole number from {min} to {max}, not '{v}'"),
                }),
        };
        Ok(Self {
            // 0 (purge whatever is retired) is for trying it out locally; the template allows 1 to 3650.
            retention_days: number("RETENTION_DAYS", 30, 0, 3650)?,
            margin: Duration::from_secs(u64::from(number("CLEANUP_MARGIN_SECONDS", 20, 1, 600)?)),
        })
    }
}

/// What the event asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Orders {
    pub dry_run: bool,
    pub tenant_ids: Option<Vec<TenantId>>,
}

/// The orders of an event: the scheduled event (defaults), or an object with
/// `dryRun` and/or `tenantIds` (nothing else).
pub fn orders(event: &Value) -> Result<Orders, String> {
    let Value::Object(fields) = event else {
        return Err("the event must be a JSON object".into());
    };
    if fields.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        return Ok(Orders::default());
    }
    let mut orders = Orders::default();
    for (key, value) in fields {
        match key.as_str() {
            "dryRun" => orders.dry_run = value.as_bool().ok_or("dryRun must be true or false")?,
            "tenantIds" => {
                let ids = value.as_array().ok_or("tenantIds must be an array of tenant ids")?;
                if ids.is_empty() || ids.len() > 100 {
                    return Err("tenantIds must name 1 to 100 tenants".into());
                }
                let parsed = ids
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .ok_or_else(|| "tenantIds must be strings".to_owned())
                            .and_then(TenantId::parse)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                orders.tenant_ids = Some(parsed);
            }
            other => return Err(format!("'{other}' is not a known field: use dryRun and tenantIds")),
        }
    }
    Ok(orders)
}

/// The instant of a Lambda deadline given in milliseconds since the epoch.
pub fn deadline_instant(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// Runs one clean-up for `event`, stopping `settings.margin` before `deadline`.
pub async fn handle(app: &App, settings: &Settings, event: &Value, deadline: Instant) -> Result<Summary, String> {
    let orders = orders(event)?;
    let run = Run {
        dry_run: orders.dry_run,
        tenant_ids: orders.tenant_ids,
        now: Timestamp::now(),
        retention_days: settings.retention_days,
        stop_at: deadline.checked_sub(settings.margin).unwrap_or_else(Instant::now),
    };
    cleanup::run(&app.store, &run).await.map_err(|e| {
        tracing::error!(error = ?e, "cleanup failed");
        format!("cleanup failed: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_schedule_and_operator_orders() {
        let scheduled = json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        assert_eq!(orders(&scheduled), Ok(Orders::default()));
        let by_hand = orders(&json!({"dryRun": true, "tenantIds": ["acme"]})).unwrap();
        assert!(by_hand.dry_run && by_hand.tenant_ids.unwrap()[0].as_str() == "acme");
        for bad in [
            json!([]),
            json!({"dryRun": "yes"}),
            json!({"tenantIds": []}),
            json!({"tenantIds": ["Bad Id"]}),
            json!({"force": true}),
        ] {
            assert!(orders(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_default_and_refuse_nonsense() {
        let s = Settings::from_lookup(|_| None).unwrap();
        assert_eq!((s.retention_days, s.margin), (30, Duration::from_secs(20)));
        assert!(Settings::from_lookup(|n| (n == "RETENTION_DAYS").then(|| "x".into())).is_err());
        assert!(Settings::from_lookup(|n| (n == "CLEANUP_MARGIN_SECONDS").then(|| "0".into())).is_err());
    }
}
