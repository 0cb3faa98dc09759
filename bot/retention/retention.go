// Package retention deletes conversations nobody has touched for longer
// than the shop keeps them (docs/privacy.md), once a day, and refreshes
// the shoppers' profile features on the same beat, since recency and so
// segments move with time.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Store deletes idle conversations; package bot/sqlite implements it.
type Store interface {
	// DeleteIdleConversations deletes the conversations whose last
	// activity is before cutoff, except those with an open handoff case,
	// and returns their ids.
	DeleteIdleConversations(ctx context.Context, cutoff time.Time) ([]string, error)
}

// FeatureRefresher recomputes every shopper's features as of now (recency
// and so the segment move with time) and says how many it refreshed.
type FeatureRefresher interface {
	RefreshFeatures(ctx context.Context, now time.Time) (int, error)
}

// Config configures a Job. Zero values mean the documented defaults.
type Config struct {
	// Keep is how long a conversation is kept after its last message;
	// zero keeps conversations forever (features are still refreshed).
	Keep time.Duration
	// Tick is how often the job runs; zero means 24 hours. It also runs
	// once when Run starts.
	Tick time.Duration
	// Now returns the current time; zero means time.Now.
	Now func() time.Time
	// Deleted, when set, is called after a pass that deleted
	// conversations, with their ids, so that whoever shows them (the chat
	// hub, the handoff desk) can forget them.
	Deleted func(ctx context.Context, ids []string)
}

// Job is the daily retention job.
type Job struct {
	cfg      Config
	store    Store
	features FeatureRefresher // nil: nothing to refresh
	log      *slog.Logger
}

// New returns a job. features may be nil.
func New(cfg Config, store Store, features FeatureRefresher, log *slog.Logger) *Job {
	if cfg.Tick <= 0 {
		cfg.Tick = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Job{cfg: cfg, store: store, features: features, log: log}
}

// Run runs the job at once and then every Tick until ctx ends. A failed
// pass is logged and retried at the next tick. It always returns nil.
func (j *Job) Run(ctx context.Context) error {
	t := time.NewTicker(j.cfg.Tick)
	defer t.Stop()
	for {
		if _, err := j.Once(ctx); err != nil && ctx.Err() == nil {
			j.log.Error("retention pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once runs one pass: it deletes the conversations idle for longer than
// Keep (none when Keep is zero) and refreshes features. It returns how
// many conversations it deleted.
func (j *Job) Once(ctx context.Context) (int, error) {
	now := j.cfg.Now()
	deleted := 0
	if j.cfg.Keep > 0 {
		ids, err := j.store.DeleteIdleConversations(ctx, now.Add(-j.cfg.Keep))
		if err != nil {
			return 0, err
		}
		deleted = len(ids)
		if deleted > 0 {
			j.log.Info("retention: conversations deleted", "count", deleted, "keep", j.cfg.Keep.String())
			if j.cfg.Deleted != nil {
				j.cfg.Deleted(ctx, ids)
			}
		}
	}
	if j.features != nil {
		n, err := j.features.RefreshFeatures(ctx, now)
		if err != nil {
			return deleted, fmt.Errorf("retention: refresh features: %w", err)
		}
		j.log.Info("retention: profile features refreshed", "shoppers", n)
	}
	return deleted, nil
}
