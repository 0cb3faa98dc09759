package auth

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
)

// maxBody bounds the JSON body of every request these handlers read.
const maxBody = 64 << 10

// Routes registers every handler of this package on mux:
//
//	POST  /api/v1/auth/login
//	POST  /api/v1/auth/logout
//	GET   /api/v1/auth/me
//	GET   /api/v1/admin/users
//	POST  /api/v1/admin/users
//	PATCH /api/v1/admin/users/{id}
//
// The handlers carry their own protection (RequireUser or Require), so a
// caller that lists the routes itself can mount the makers directly.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/auth/login", s.HandleLogin())
	mux.Handle("POST /api/v1/auth/logout", s.HandleLogout())
	mux.Handle("GET /api/v1/auth/me", s.HandleMe())
	mux.Handle("GET /api/v1/admin/users", s.HandleListUsers())
	mux.Handle("POST /api/v1/admin/users", s.HandleCreateUser())
	mux.Handle("PATCH /api/v1/admin/users/{id}", s.HandleUpdateUser())
}

// userJSON is a user as the API shows it.
type userJSON struct {
	ID          int64        `json:"id"`
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	Role        Role         `json:"role"`
	Permissions []Permission `json:"permissions"`
	Disabled    bool         `json:"disabled"`
	LockedUntil *time.Time   `json:"locked_until,omitempty"`
	LastLoginAt *time.Time   `json:"last_login_at,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
}

func (s *Service) userView(u User) userJSON {
	v := userJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role,
		Permissions: u.Role.Permissions(), Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC()}
	if u.Locked(s.cfg.Now()) {
		t := u.LockedUntil.UTC()
		v.LockedUntil = &t
	}
	if !u.LastLoginAt.IsZero() {
		t := u.LastLoginAt.UTC()
		v.LastLoginAt = &t
	}
	return v
}

// sessionJSON answers login and me: the user and the CSRF token to send
// back on state-changing requests.
type sessionJSON struct {
	User      userJSON `json:"user"`
	CSRFToken string   `json:"csrf_token"`
}

// HandleLogin answers POST /api/v1/auth/login {username, password}: 200
// with the user, the CSRF token and the session cookie; 401
// "invalid_credentials" for an unknown user, a wrong password or a disabled
// account alike; 423 "locked" with Retry-After; 403 "csrf" from a foreign
// origin.
func (s *Service) HandleLogin() http.Handler {
	type request struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkOrigin(r); err != nil {
			s.log.Warn("csrf: login refused", "reason", err.Error(), "ip", clientIP(r))
			writeError(w, http.StatusForbidden, "csrf", err.Error())
			return
		}
		var req request
		if !decodeJSON(w, r, &req) {
			return
		}
		client := Client{IP: clientIP(r), UserAgent: r.UserAgent()}
		res, err := s.Login(r.Context(), req.Username, req.Password, client)
		if err != nil {
			s.writeServiceError(w, err)
			return
		}
		// A browser that was signed in as someone (or as the same person)
		// gets only the new session.
		if c, err := r.Cookie(CookieName); err == nil {
			if _, old, err := s.Authenticate(r.Context(), c.Value); err == nil {
				if err := s.endSession(r.Context(), old, EndReplaced); err != nil {
					s.log.Error("end replaced session", "err", err)
				}
			}
		}
		s.setCookie(w, r, res.Token)
		writeJSON(w, http.StatusOK, sessionJSON{User: s.userView(res.User), CSRFToken: res.Session.CSRFToken})
	})
}

// HandleLogout answers POST /api/v1/auth/logout (with the CSRF token): 204,
// the session deleted and the cookie cleared.
func (s *Service) HandleLogout() http.Handler {
	return s.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		sess, _ := SessionFrom(r.Context())
		if err := s.Logout(r.Context(), sess); err != nil {
			s.writeServiceError(w, err)
			return
		}
		s.log.Info("logout", "username", u.Username, "ip", clientIP(r), "session", sess.ID)
		s.clearCookie(w, r)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}))
}

// HandleMe answers GET /api/v1/auth/me: the signed-in user and the
// session's CSRF token, or 401.
func (s *Service) HandleMe() http.Handler {
	return s.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		sess, _ := SessionFrom(r.Context())
		writeJSON(w, http.StatusOK, sessionJSON{User: s.userView(u), CSRFToken: sess.CSRFToken})
	}))
}

// HandleListUsers answers GET /api/v1/admin/users (admins only): {users: [...]}.
func (s *Service) HandleListUsers() http.Handler {
	return s.Require(PermUsers)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		us, err := s.Users(r.Context())
		if err != nil {
			s.writeServiceError(w, err)
			return
		}
		out := struct {
			Users []userJSON `json:"users"`
		}{Users: []userJSON{}}
		for _, u := range us {
			out.Users = append(out.Users, s.userView(u))
		}
		writeJSON(w, http.StatusOK, out)
	}))
}

// HandleCreateUser answers POST /api/v1/admin/users (admins only)
// {username, password, role, display_name}: 201 {user}; 400 "invalid";
// 409 "username_taken".
func (s *Service) HandleCreateUser() http.Handler {
	type request struct {
		Username    string `json:"username"`
		Password    string `json:"password"`
		Role        string `json:"role"`
		DisplayName string `json:"display_name"`
	}
	return s.Require(PermUsers)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if !decodeJSON(w, r, &req) {
			return
		}
		role, err := ParseRole(req.Role)
		if err != nil {
			s.writeServiceError(w, err)
			return
		}
		u, err := s.CreateUser(r.Context(), NewUser{Username: req.Username, Password: req.Password, Role: role, DisplayName: req.DisplayName})
		if err != nil {
			s.writeServiceError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, struct {
			User userJSON `json:"user"`
		}{s.userView(u)})
	}))
}

// HandleUpdateUser answers PATCH /api/v1/admin/users/{id} (admins only)
// with any of {role, display_name, disabled, password}: 200 {user}; 400
// "invalid"; 404 "not_found"; 409 "last_admin" when the change would leave
// no enabled admin.
func (s *Service) HandleUpdateUser() http.Handler {
	type request struct {
		Role        *string `json:"role"`
		DisplayName *string `json:"display_name"`
		Disabled    *bool   `json:"disabled"`
		Password    *string `json:"password"`
	}
	return s.Require(PermUsers)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			writeError(w, http.StatusNotFound, "not_found", "no such user")
			return
		}
		var req request
		if !decodeJSON(w, r, &req) {
			return
		}
		if req.Role == nil && req.DisplayName == nil && req.Disabled == nil && req.Password == nil {
			writeError(w, http.StatusBadRequest, "invalid", "nothing to change: send role, display_name, disabled or password")
			return
		}
		up := UserUpdate{DisplayName: req.DisplayName, Disabled: req.Disabled, Password: req.Password}
		if req.Role != nil {
			role, err := ParseRole(*req.Role)
			if err != nil {
				s.writeServiceError(w, err)
				return
			}
			up.Role = &role
		}
		u, err := s.UpdateUser(r.Context(), id, up)
		if err != nil {
			s.writeServiceError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, struct {
			User userJSON `json:"user"`
		}{s.userView(u)})
	}))
}

// writeServiceError maps the Service's errors to HTTP, in one place.
// Unexpected errors are logged here and shown as "internal".
func (s *Service) writeServiceError(w http.ResponseWriter, err error) {
	var invalid *InvalidError
	var locked *LockedError
	switch {
	case errors.As(err, &invalid):
		writeError(w, http.StatusBadRequest, "invalid", invalid.Field+": "+invalid.Msg)
	case errors.As(err, &locked):
		wait := locked.Until.Sub(s.cfg.Now())
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		writeError(w, http.StatusLocked, "locked", "too many failed logins: this account is locked for a while; try again later")
	case errors.Is(err, ErrInvalidCredentials):
		writeError(w, http.StatusUnauthorized, "invalid_credentials", "wrong username or password")
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such user")
	case errors.Is(err, ErrUsernameTaken):
		writeError(w, http.StatusConflict, "username_taken", "that username is already in use")
	case errors.Is(err, ErrLastAdmin):
		writeError(w, http.StatusConflict, "last_admin", "this is the last enabled admin: make another admin first")
	default:
		s.log.Error("auth request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "something went wrong")
	}
}

// decodeJSON reads one JSON object of at most maxBody bytes into v and
// rejects unknown fields; on failure it writes the error (400 "invalid" or
// 413 "too_large") and returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the request body is larger than 64 KiB")
		return false
	}
	writeError(w, http.StatusBadRequest, "invalid", "the body must be one JSON object with the documented fields: "+err.Error())
	return false
}

// writeJSON and writeError copy package web's helpers (importing web would
// make a cycle): the body of every error is {"error":{"code","message"}}.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}
