//! Background work: writing buffered activity behind, loading signed-token revocations every
//! second, sweeping dead records into tombstones, and rotating signing keys when due.
//! Tests call [`flush_activity`] and [`sweep`] directly, with an injected clock.

use std::time::Duration;

use ward_store::{StoreError, SweepPolicy, SweepStats};

use crate::AppState;

/// Writes buffered last-use times to the store now.
pub async fn flush_activity(state: &AppState) -> Result<usize, StoreError> {
    state.verifier.activity.flush(state).await
}

/// Runs one sweep at the clock's current time: dead records older than `dead_record_grace`
/// become tombstones, tombstones older than `tombstone_retention` go, at most `sweep_batch` of
/// each per table.
pub async fn sweep(state: &AppState) -> Result<SweepStats, StoreError> {
    let c = &state.config;
    let stats = state
        .store
        .sweep(&SweepPolicy {
            now: state.clock.now(),
            dead_after: c.dead_record_grace,
            tombstone_retention: c.tombstone_retention,
            batch: c.sweep_batch,
        })
        .await?;
    if stats.tombstoned > 0 {
        // Cached copies of swept records must not outlive them.
        state.verifier.invalidate_all();
    }
    Ok(stats)
}

/// Starts the background tasks; they run until the runtime stops. Call once per server.
pub fn spawn(state: AppState) {
    let deny_state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = deny_state.deny.refresh(&deny_state).await {
                tracing::warn!(error = %e, "could not load signed-token revocations; will retry");
            }
        }
    });
    let flush_state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(flush_state.config.activity_flush_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = flush_activity(&flush_state).await {
                tracing::warn!(error = %e, "could not write activity behind; will retry");
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.sweep_interval.max(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep(&state).await {
                Ok(s) if s.tombstoned + s.purged > 0 => {
                    tracing::info!(tombstoned = s.tombstoned, purged = s.purged, "swept")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sweep failed; will retry"),
            }
            if let Err(e) = crate::keyring::rotate_due(&state).await {
                tracing::warn!(error = ?e, "scheduled key rotation failed; will retry");
            }
        }
    });
}
