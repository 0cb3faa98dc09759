package knowledge

import (
	"errors"
	"slices"
	"time"
)

// Errors returned by the knowledge base and its stores; wrap them with %w.
var (
	// ErrNotFound: no entry (or version, gap, regression case) with that id.
	ErrNotFound = errors.New("knowledge: not found")
	// ErrConflict: the entry changed since the version the caller edited.
	ErrConflict = errors.New("knowledge: conflict")
	// ErrExists: an entry with that id already exists (deleted ones count).
	ErrExists = errors.New("knowledge: the id is taken")
)

// Record is an entry as the knowledge base keeps it: its content and the
// bookkeeping of its history.
type Record struct {
	Entry
	// Version counts the entry's saved states, from 1; every change makes
	// a new one.
	Version   int       `json:"version"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedAt time.Time `json:"created_at"`
	// Deleted entries are kept (soft deletion) and can be restored; they
	// are never searched.
	Deleted bool `json:"deleted,omitempty"`
	// Flags say what the safe-content check (Sanitize) found: on a record
	// just saved, everything it changed and found; on one read back, what
	// an editor should still look at (instruction-like text, images,
	// links that are not http(s)).
	Flags []Flag `json:"flags,omitempty"`
}

// Searchable reports whether the bot may answer with the entry.
func (r Record) Searchable() bool { return !r.Deleted && !r.Disabled }

// Version actions: what made a version.
const (
	ActionCreate   = "create"
	ActionUpdate   = "update"
	ActionDisable  = "disable"
	ActionEnable   = "enable"
	ActionDelete   = "delete"
	ActionRestore  = "restore"
	ActionRollback = "rollback"
	ActionImport   = "import"
)

// Version is one saved state of an entry.
type Version struct {
	EntryID string    `json:"entry_id"`
	Version int       `json:"version"`
	Action  string    `json:"action"`
	Entry   Entry     `json:"entry"`
	Deleted bool      `json:"deleted,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	// From is the version a rollback restored; 0 otherwise.
	From int `json:"from,omitempty"`
}

// Entry statuses for listing.
const (
	StatusActive   = "active"   // not deleted (enabled or disabled); the default
	StatusEnabled  = "enabled"  // not deleted, not disabled: what search sees
	StatusDisabled = "disabled" // not deleted, disabled
	StatusDeleted  = "deleted"  // soft-deleted
	StatusAll      = "all"
)

// EntryFilter selects entries for listing. The zero value lists the first
// page of active entries.
type EntryFilter struct {
	// Text matches a substring of the id, question, alternates or answer,
	// case-insensitively.
	Text     string
	Locale   string // zh-CN or en: that locale only; "any": entries for both locales; "" = every entry
	Category string // exact category; "" = any
	Tag      string // has this tag; "" = any
	Status   string // one of the Status constants; "" = StatusActive
	Offset   int
	Limit    int // zero means 50; at most 500
}

// Default and maximum page sizes for listing entries.
const (
	DefaultPage = 50
	MaxPage     = 500
)

// sameContent reports whether two normalised entries say the same thing.
func sameContent(a, b Entry) bool {
	return a.ID == b.ID && a.Locale == b.Locale && a.Question == b.Question && a.Answer == b.Answer &&
		a.Category == b.Category && a.Disabled == b.Disabled &&
		slices.Equal(a.Alternates, b.Alternates) && slices.Equal(a.Tags, b.Tags)
}

// SameContent reports whether two entries say the same thing once
// normalised: saving one over the other would make no new version.
func SameContent(a, b Entry) bool { return sameContent(a.Normalize(), b.Normalize()) }
