//! Background work: writing buffered activity behind, following the change feed, sweeping dead
//! records into tombstones, pruning the deny set and rotating signing keys when due. Tests call
//! [`Engine::flush_activity`] and [`Engine::sweep`] directly, with an injected clock.

use std::time::Duration;

use ward_store::{SweepPolicy, SweepStats};

use crate::{Engine, EngineError};

impl Engine {
    /// Writes buffered last-use times to the store now.
    pub async fn flush_activity(&self) -> Result<usize, EngineError> {
        Ok(self.0.activity.flush(self.0.store.as_ref()).await?)
    }

    /// Runs one sweep at the clock's current time: dead records older than `dead_record_grace`
    /// become tombstones, tombstones older than `tombstone_retention` go, at most `sweep_batch`
    /// of each per table; deny entries no token can outlive are dropped from memory.
    pub async fn sweep(&self) -> Result<SweepStats, EngineError> {
        let p = &self.0.policy;
        let now = self.now();
        let stats = self
            .0
            .store
            .sweep(&SweepPolicy {
                now,
                dead_after: p.dead_record_grace,
                tombstone_retention: p.tombstone_retention,
                batch: p.sweep_batch,
            })
            .await?;
        if stats.tombstoned > 0 {
            // Cached copies of swept records must not outlive them.
            self.0.cache.invalidate_all();
        } else if stats.purged > 0 {
            // Nor the remembered stories of purged tombstones.
            self.0.cache.forget_gone();
        }
        self.0.deny.prune(now);
        // In-memory guard state that has nothing left to remember.
        self.0.throttle.prune(now);
        self.0.limits.backend.prune();
        Ok(stats)
    }
}

fn every(period: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval(period.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// Starts the background tasks; [`Engine::shutdown`] stops them.
pub(crate) fn start(engine: &Engine) {
    let stop = engine.0.stop.subscribe();
    engine.spawn(engine.clone().follow(stop));

    let e = engine.clone();
    let mut stop = engine.0.stop.subscribe();
    engine.spawn(async move {
        let mut tick = every(e.0.policy.activity_flush_interval);
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = tick.tick() => {
                    if let Err(err) = e.flush_activity().await {
                        tracing::warn!(error = %err, "could not write activity behind; will retry");
                    }
                }
            }
        }
    });

    let e = engine.clone();
    let mut stop = engine.0.stop.subscribe();
    engine.spawn(async move {
        let mut tick = every(e.0.policy.sweep_interval.max(Duration::from_secs(1)));
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = tick.tick() => {
                    match e.sweep().await {
                        Ok(s) if s.tombstoned + s.purged > 0 => {
                            tracing::info!(tombstoned = s.tombstoned, purged = s.purged, "swept")
                        }
                        Ok(_) => {}
                        Err(err) => tracing::warn!(error = %err, "sweep failed; will retry"),
                    }
                    if let Err(err) = e.rotate_due_keys().await {
                        tracing::warn!(error = %err, "scheduled key rotation failed; will retry");
                    }
                }
            }
        }
    });
}
