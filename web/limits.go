package web

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MessageLimiter is a message budget shared by every socket of one key: a
// shopper ("s:<id>"), a visitor ("v:<id>") or a client IP ("ip:<addr>").
// The in-memory one (NewMessageLimiter) serves one process; several nodes
// would share one backed by a common store. Reserve reports whether one
// more message of key fits now; if it does, the message is counted, and
// the returned cancel gives it back (for a message another limit refused).
type MessageLimiter interface {
	Reserve(key string, now time.Time) (cancel func(), ok bool)
}

// bucketLimiter is the in-memory MessageLimiter: one token bucket
// (golang.org/x/time/rate) per key, refilled at perMinute/60 a second and
// holding at most burst tokens. A bucket that has refilled is the same as
// a new one, so sweeps delete those: memory follows the keys active in
// the last minute, not every key ever seen.
type bucketLimiter struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

// NewMessageLimiter returns an in-memory MessageLimiter allowing each key
// perMinute messages a minute, with bursts of up to burst.
func NewMessageLimiter(perMinute, burst int) MessageLimiter {
	return newBucketLimiter(perMinute, burst)
}

func newBucketLimiter(perMinute, burst int) *bucketLimiter {
	return &bucketLimiter{limit: rate.Limit(float64(perMinute) / 60), burst: max(burst, 1), buckets: map[string]*rate.Limiter{}}
}

// sweepEvery is how often a bucketLimiter drops its full buckets.
const sweepEvery = time.Minute

func (l *bucketLimiter) Reserve(key string, now time.Time) (func(), bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweepLocked(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	if !r.OK() || r.DelayFrom(now) > 0 {
		r.CancelAt(now)
		return nil, false
	}
	return func() { r.CancelAt(now) }, true
}

func (l *bucketLimiter) sweepLocked(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
}

func (l *bucketLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// socketCounter counts the open sockets of each key (a shopper, a visitor
// or an IP) to cap them. Keys with no socket are deleted, so it holds no
// more entries than there are open sockets.
type socketCounter struct {
	mu   sync.Mutex
	open map[string]int
}

// acquire counts one more socket of key and returns true, unless key
// already has max open, when it returns false and counts nothing.
func (c *socketCounter) acquire(key string, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		c.open = map[string]int{}
	}
	if c.open[key] >= max {
		return false
	}
	c.open[key]++
	return true
}

// release uncounts a socket that acquire counted.
func (c *socketCounter) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[key]--; c.open[key] <= 0 {
		delete(c.open, key)
	}
}

func (c *socketCounter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open[key]
}

// acquireSockets counts a new socket against the IP cap and, when owner
// is not empty, the per-shopper cap. When either is full it answers 429
// "too_many_sockets" and returns false; otherwise the caller must call
// the returned release once the socket has closed.
func (s *Server) acquireSockets(w http.ResponseWriter, ip, owner string) (release func(), ok bool) {
	ipKey := "ip:" + ip
	if !s.socketCount.acquire(ipKey, s.cfg.MaxSocketsPerIP) {
		s.log.Warn("socket refused: too many from one address", "limit", s.cfg.MaxSocketsPerIP)
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusTooManyRequests, "too_many_sockets",
			"too many chat connections from this address; close some tabs and try again")
		return nil, false
	}
	if owner != "" && !s.socketCount.acquire(owner, s.cfg.MaxSocketsPerShopper) {
		s.socketCount.release(ipKey)
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusTooManyRequests, "too_many_sockets",
			"too many chat windows are open for this shopper; close some tabs and try again")
		return nil, false
	}
	return func() {
		s.socketCount.release(ipKey)
		if owner != "" {
			s.socketCount.release(owner)
		}
	}, true
}

// withClientIP, with Config.TrustForwardedFor, puts the client's address
// from X-Forwarded-For into r.RemoteAddr once per request (as chi's RealIP
// does), so the per-IP limits, sign-in throttling and the audit log (who
// signed in, exported, erased or revealed what, from where) all record the
// shopper or staff member, not the proxy.
func (s *Server) withClientIP(next http.Handler) http.Handler {
	if !s.cfg.TrustForwardedFor {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, port, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			port = "0"
		}
		r2 := *r
		r2.RemoteAddr = net.JoinHostPort(s.remoteIP(r), port)
		next.ServeHTTP(w, &r2)
	})
}

// remoteIP is the client's address: the peer's, or, with
// Config.TrustForwardedFor, the last address in the last X-Forwarded-For
// header, which is the one our own proxy appended (the ones before it are
// whatever the client sent).
func (s *Server) remoteIP(r *http.Request) string {
	if s.cfg.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				return ip.String()
			}
		}
	}
	return clientIP(r)
}

// allowMessage counts one message against the shared budgets of the
// sender (owner) and its IP, in addition to the socket's own window. It
// is all or nothing: a message one limit refuses is not counted by the
// others. A Server not made by NewServer has no shared budgets.
func (s *Server) allowMessage(owner, ip string, socket *windowLimiter, now time.Time) bool {
	undoShopper, undoIP := func() {}, func() {}
	if s.shopperMessages != nil {
		undo, ok := s.shopperMessages.Reserve(owner, now)
		if !ok {
			return false
		}
		undoShopper = undo
	}
	if s.ipMessages != nil {
		undo, ok := s.ipMessages.Reserve("ip:"+ip, now)
		if !ok {
			undoShopper()
			return false
		}
		undoIP = undo
	}
	if !socket.allow(now) {
		undoShopper()
		undoIP()
		return false
	}
	return true
}
