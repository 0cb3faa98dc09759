package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// CookieName is the session cookie.
const CookieName = "xiaoer_session"

// CSRFHeader carries the session's CSRF token on state-changing requests.
const CSRFHeader = "X-CSRF-Token"

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
)

// UserFrom returns the signed-in user of a request that passed RequireUser
// or Require; ok is false otherwise.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey).(User)
	return u, ok
}

// SessionFrom returns the session of a request that passed RequireUser or
// Require; ok is false otherwise.
func SessionFrom(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey).(Session)
	return s, ok
}

// WithUser returns a context carrying the user and session, as RequireUser
// makes for its handler.
func WithUser(ctx context.Context, u User, sess Session) context.Context {
	return context.WithValue(context.WithValue(ctx, userKey, u), sessionKey, sess)
}

// RequireUser passes only requests with a valid session cookie, with the
// user and session in the context (UserFrom, SessionFrom). Others get 401
// "unauthenticated" (and a stale cookie is cleared). A state-changing
// request (any method but GET, HEAD and OPTIONS) must also carry the
// session's CSRF token in X-CSRF-Token and, when it has an Origin header,
// come from the server's own origin; otherwise it gets 403 "csrf".
func (s *Service) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CookieName)
		if err != nil {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "sign in first")
			return
		}
		u, sess, err := s.Authenticate(r.Context(), c.Value)
		if errors.Is(err, ErrNoSession) {
			s.clearCookie(w, r)
			writeError(w, http.StatusUnauthorized, "unauthenticated", "your session has ended: sign in again")
			return
		}
		if err != nil {
			s.log.Error("authenticate", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "could not check the session")
			return
		}
		if !safeMethod(r.Method) {
			if err := s.checkOrigin(r); err != nil {
				s.log.Warn("csrf: request refused", "reason", err.Error(), "username", u.Username, "ip", clientIP(r), "method", r.Method, "path", r.URL.Path)
				writeError(w, http.StatusForbidden, "csrf", err.Error())
				return
			}
			got := r.Header.Get(CSRFHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
				s.log.Warn("csrf: request refused", "reason", "missing or wrong CSRF token", "username", u.Username, "ip", clientIP(r), "method", r.Method, "path", r.URL.Path)
				writeError(w, http.StatusForbidden, "csrf", "send this session's CSRF token in the X-CSRF-Token header")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u, sess)))
	})
}

// Require returns middleware that passes only signed-in users whose role
// grants p: it is RequireUser (401, 403 "csrf") followed by 403 "forbidden"
// for other roles.
func (s *Service) Require(p Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return s.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _ := UserFrom(r.Context())
			if !u.Role.Can(p) {
				writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("the %s role may not do this", u.Role))
				return
			}
			next.ServeHTTP(w, r)
		}))
	}
}

// CheckOrigin reports whether a request may act for a signed-in browser:
// it has no Origin header (not a browser, or a same-origin GET) or one
// naming this server (scheme and Host) or a trusted origin, and its
// Sec-Fetch-Site, when sent, is "same-origin" or "none". Use it as the
// agent console's websocket.Upgrader.CheckOrigin.
func (s *Service) CheckOrigin(r *http.Request) bool { return s.checkOrigin(r) == nil }

func (s *Service) checkOrigin(r *http.Request) error {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Errorf("cross-site request refused (Sec-Fetch-Site %q)", site)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	if s.trusted[strings.ToLower(origin)] {
		return nil
	}
	o, err := url.Parse(origin)
	if err == nil && strings.EqualFold(o.Scheme, s.scheme(r)) && strings.EqualFold(o.Host, r.Host) &&
		o.Path == "" && o.RawQuery == "" && o.User == nil {
		return nil
	}
	return fmt.Errorf("origin %q is not this server's", origin)
}

// scheme is the scheme the browser used to reach us.
func (s *Service) scheme(r *http.Request) string {
	if r.TLS != nil || s.cfg.BehindTLS {
		return "https"
	}
	return "http"
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// setCookie sets the session cookie: HttpOnly, SameSite=Strict, Path=/,
// Secure over TLS (or behind a TLS proxy), and no Max-Age, so the browser
// drops it when it closes; the server ends the session on its own clock.
func (s *Service) setCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/",
		HttpOnly: true, Secure: s.scheme(r) == "https", SameSite: http.SameSiteStrictMode,
	})
}

func (s *Service) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.scheme(r) == "https", SameSite: http.SameSiteStrictMode,
	})
}

// clientIP is the address the request came from: the peer's, or, when the
// web server trusts its proxy (--trust-forwarded-for), the forwarded one it
// put in RemoteAddr.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
