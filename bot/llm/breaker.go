package llm

import (
	"sync"
	"time"
)

// breakerState is the state of a circuit breaker.
type breakerState int

const (
	stateClosed   breakerState = iota // calls pass; failures are counted
	stateOpen                         // calls are refused until the cooldown ends
	stateHalfOpen                     // one probe call passes; the others are refused
)

func (s breakerState) String() string {
	switch s {
	case stateClosed:
		return "closed"
	case stateOpen:
		return "open"
	default:
		return "half-open"
	}
}

// verdict is what a finished call tells the breaker.
type verdict int

const (
	// verdictSuccess: the endpoint works (it answered, even if it rejected
	// the request as invalid).
	verdictSuccess verdict = iota
	// verdictFailure: the endpoint failed (timeout, 5xx or 429 after
	// retries, connection errors, 401/403/404 which mean a broken config).
	verdictFailure
	// verdictNeutral: the call says nothing about the endpoint (the caller
	// canceled it).
	verdictNeutral
)

// breaker is a consecutive-failure circuit breaker. After threshold failed
// calls in a row it opens and refuses calls for cooldown; then it lets one
// probe call through (half-open): success closes it, failure opens it again.
// It holds no goroutine; time is read from now at each call.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	// onChange is called, with mu held, when the breaker moves between
	// states; it must be fast and must not call the breaker.
	onChange func(from, to breakerState, failures int)

	mu       sync.Mutex
	state    breakerState
	failures int       // consecutive failures while closed
	openedAt time.Time // when the breaker last opened
	probing  bool      // a half-open probe call is in flight
}

// allow reports whether a call may go ahead. When it returns true, the
// caller must report the call's end with done, passing probe back.
func (b *breaker) allow() (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case stateClosed:
		return true, false
	case stateOpen:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false, false
		}
		b.set(stateHalfOpen)
		fallthrough
	default: // half-open
		if b.probing {
			return false, false
		}
		b.probing = true
		return true, true
	}
}

// done records the end of a call that allow let through.
func (b *breaker) done(probe bool, v verdict) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
		switch v {
		case verdictSuccess:
			b.failures = 0
			b.set(stateClosed)
		case verdictFailure:
			b.openedAt = b.now()
			b.set(stateOpen)
		}
		// Neutral: stay half-open; the next call probes.
		return
	}
	if b.state != stateClosed {
		// A call that started before the breaker opened; the breaker has
		// already decided.
		return
	}
	switch v {
	case verdictSuccess:
		b.failures = 0
	case verdictFailure:
		b.failures++
		if b.failures >= b.threshold {
			b.openedAt = b.now()
			b.set(stateOpen)
		}
	}
}

// set moves to state s, with mu held.
func (b *breaker) set(s breakerState) {
	if s == b.state {
		return
	}
	from := b.state
	b.state = s
	if b.onChange != nil {
		b.onChange(from, s, b.failures)
	}
}
