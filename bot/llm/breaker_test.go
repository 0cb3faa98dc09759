package llm

import (
	"testing"
	"time"
)

func TestBreakerStates(t *testing.T) {
	type step struct {
		advance time.Duration
		allowed bool    // what allow must return
		v       verdict // reported when allowed
		want    breakerState
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"successes keep it closed", []step{
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictSuccess, stateClosed},
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictFailure, stateClosed}, // 2 in a row, threshold 3
		}},
		{"opens after 3 failures, refuses during the cooldown", []step{
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictFailure, stateOpen},
			{59 * time.Second, false, 0, stateOpen},
		}},
		{"probe success closes", []step{
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictFailure, stateOpen},
			{time.Minute, true, verdictSuccess, stateClosed},
			{0, true, verdictFailure, stateClosed}, // the count starts over
		}},
		{"probe failure reopens for a full cooldown", []step{
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictFailure, stateOpen},
			{time.Minute, true, verdictFailure, stateOpen},
			{59 * time.Second, false, 0, stateOpen},
			{time.Second, true, verdictSuccess, stateClosed},
		}},
		{"neutral probe keeps it half-open", []step{
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictFailure, stateOpen},
			{time.Minute, true, verdictNeutral, stateHalfOpen},
			{0, true, verdictSuccess, stateClosed},
		}},
		{"neutral calls do not count", []step{
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictFailure, stateClosed},
			{0, true, verdictNeutral, stateClosed},
			{0, true, verdictNeutral, stateClosed},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(0, 0)
			b := &breaker{threshold: 3, cooldown: time.Minute, now: func() time.Time { return now }}
			for i, s := range tt.steps {
				now = now.Add(s.advance)
				ok, probe := b.allow()
				if ok != s.allowed {
					t.Fatalf("step %d: allow = %v, want %v", i, ok, s.allowed)
				}
				if ok {
					b.done(probe, s.v)
				}
				if b.state != s.want {
					t.Fatalf("step %d: state %v, want %v", i, b.state, s.want)
				}
			}
		})
	}
}

func TestBreakerOneProbe(t *testing.T) {
	now := time.Unix(0, 0)
	b := &breaker{threshold: 1, cooldown: time.Second, now: func() time.Time { return now }}
	if ok, probe := b.allow(); ok {
		b.done(probe, verdictFailure)
	}
	now = now.Add(time.Second)
	ok1, probe1 := b.allow()
	ok2, _ := b.allow()
	if !ok1 || !probe1 || ok2 {
		t.Fatalf("half-open: first allow = %v (probe %v), second = %v; want one probe only", ok1, probe1, ok2)
	}
	// A call that began before the circuit opened does not decide it.
	b.done(false, verdictSuccess)
	if b.state != stateHalfOpen {
		t.Fatalf("state %v after a stale success, want half-open", b.state)
	}
	b.done(probe1, verdictSuccess)
	if b.state != stateClosed {
		t.Fatalf("state %v after the probe succeeded, want closed", b.state)
	}
}
