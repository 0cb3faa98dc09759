package knowledge

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot/pii"
)

// Gap reasons: why a shopper's question counts as one the knowledge base
// did not answer well.
const (
	GapUnanswered = "unanswered"  // no confident answer
	GapThumbsDown = "thumbs_down" // the shopper voted the answer down
	GapHandoff    = "handoff"     // the conversation went to a person after it
)

// Gap statuses.
const (
	GapOpen      = "open"
	GapResolved  = "resolved"  // turned into an entry or an alternate phrasing
	GapDismissed = "dismissed" // ops decided it needs no entry
)

// GapEvent is one shopper question the bot did not answer well.
type GapEvent struct {
	Question string // what the shopper asked, as typed
	Locale   string // zh-CN or en
	Reason   string // GapUnanswered, GapThumbsDown or GapHandoff
	// BestID and BestConfidence are the best candidate entry the search
	// found, if any.
	BestID         string
	BestConfidence float64
	At             time.Time // zero means now
}

// Gap is a question shoppers asked that the knowledge base did not answer
// well, counted over every time it was asked (by its normalised text).
type Gap struct {
	ID      int64  `json:"id"`
	Text    string `json:"text"`    // normalised: lower case, no punctuation, personal data masked
	Example string `json:"example"` // the latest wording, personal data masked
	Locale  string `json:"locale"`
	Count   int    `json:"count"`
	// Counts per reason.
	Unanswered int `json:"unanswered"`
	ThumbsDown int `json:"thumbs_down"`
	Handoff    int `json:"handoff"`

	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`

	BestID         string  `json:"best_id,omitempty"`
	BestQuestion   string  `json:"best_question,omitempty"` // the best candidate's question, if it still exists
	BestConfidence float64 `json:"best_confidence"`

	Status     string    `json:"status"`
	ResolvedTo string    `json:"resolved_to,omitempty"` // the entry it was added to
	ResolvedBy string    `json:"resolved_by,omitempty"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// GapFilter selects gaps. The zero value lists open gaps, most asked first.
type GapFilter struct {
	Status string // "" = GapOpen; "all" for every status
	Locale string
	Limit  int // zero means 50; at most 500
}

// MaxGapText caps the stored length of a gap's text and example, in bytes.
const MaxGapText = 500

var (
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	// Phone numbers, ID-card, bank-card, order and tracking numbers: any
	// run of 5 or more digits, possibly split by spaces or dashes, with an
	// optional leading + and a trailing X (Chinese ID cards).
	longNumberPattern = regexp.MustCompile(`\+?\d(?:[ \-]?\d){4,}[Xx]?`)
)

// MaskPersonal replaces personal data in s with placeholders, so a
// shopper's question can be shown to ops staff: e-mail addresses become
// [email], street addresses [address] (found by bot/pii, the detector the
// model's masking uses), and phone, ID-card, bank-card, order and tracking
// numbers (any run of 5 or more digits) [number]. Names of people are not
// detected.
func MaskPersonal(s string) string {
	s = emailPattern.ReplaceAllString(s, "[email]")
	var b strings.Builder
	prev := 0
	for _, f := range pii.Find(s) {
		if f.Kind != pii.KindAddress {
			continue // numbers are masked below, e-mails above
		}
		b.WriteString(s[prev:f.Start])
		b.WriteString("[address]")
		prev = f.End
	}
	b.WriteString(s[prev:])
	return longNumberPattern.ReplaceAllString(b.String(), "[number]")
}

// GapExample is the wording of a question as a gap stores it: personal
// data masked, spaces collapsed, at most MaxGapText bytes. Erasure uses it
// to find the gaps whose example is an erased shopper's question.
func GapExample(question string) string {
	return truncateUTF8(strings.Join(strings.Fields(MaskPersonal(question)), " "), MaxGapText)
}

// NormalizeQuestion is the key gaps are counted by: personal data masked,
// full-width characters folded, lower case, punctuation and symbols
// dropped, spaces collapsed, at most MaxGapText bytes.
func NormalizeQuestion(s string) string {
	s = MaskPersonal(foldWidth(s))
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '[': // a placeholder from MaskPersonal is a word of its own
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		case r == ']':
			b.WriteRune(r)
			space = true
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return truncateUTF8(b.String(), MaxGapText)
}

// foldWidth maps full-width ASCII variants and the ideographic space to
// their ASCII forms.
func foldWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u3000':
			return ' '
		case r >= '\uff01' && r <= '\uff5e':
			return r - 0xfee0
		}
		return r
	}, s)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// RecordGap counts a question the bot did not answer well. The question is
// masked (MaskPersonal) before it is stored; an empty one is ignored.
func (b *Base) RecordGap(ctx context.Context, ev GapEvent) error {
	text := NormalizeQuestion(ev.Question)
	if text == "" {
		return nil
	}
	switch ev.Reason {
	case GapUnanswered, GapThumbsDown, GapHandoff:
	default:
		return fmt.Errorf("knowledge: record gap: unknown reason %q", ev.Reason)
	}
	if l, ok := NormalizeLocale(ev.Locale); ok {
		ev.Locale = l
	}
	if ev.At.IsZero() {
		ev.At = b.now()
	}
	if err := b.store.RecordGap(ctx, text, GapExample(ev.Question), ev); err != nil {
		return fmt.Errorf("knowledge: record gap: %w", err)
	}
	return nil
}

// Gaps lists gaps, most asked first.
func (b *Base) Gaps(ctx context.Context, f GapFilter) ([]Gap, error) {
	switch f.Status {
	case "":
		f.Status = GapOpen
	case GapOpen, GapResolved, GapDismissed, StatusAll:
	default:
		return nil, invalid("status %q is not one of open, resolved, dismissed, all", f.Status)
	}
	if f.Limit <= 0 {
		f.Limit = DefaultPage
	}
	f.Limit = min(f.Limit, MaxPage)
	gs, err := b.store.Gaps(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("knowledge: gaps: %w", err)
	}
	return gs, nil
}

// GapToEntry turns a gap into a new entry in one step: it creates e (whose
// question defaults to the gap's wording) and marks the gap resolved.
func (b *Base) GapToEntry(ctx context.Context, gapID int64, e Entry, by string) (Record, error) {
	g, err := b.store.Gap(ctx, gapID)
	if err != nil {
		return Record{}, fmt.Errorf("knowledge: gap %d: %w", gapID, err)
	}
	if strings.TrimSpace(e.Question) == "" {
		e.Question = g.Example
	}
	// An empty locale takes the gap's; "any" makes an entry for both.
	if strings.TrimSpace(e.Locale) == "" {
		e.Locale = g.Locale
	}
	rec, err := b.Create(ctx, e, by)
	if err != nil {
		return Record{}, err
	}
	if _, err := b.store.SetGapStatus(ctx, gapID, GapResolved, rec.ID, by); err != nil {
		return rec, fmt.Errorf("knowledge: gap %d: created %q but could not mark the gap resolved: %w", gapID, rec.ID, err)
	}
	return rec, nil
}

// GapToAlternate adds a gap's wording (or phrasing, when given) to an
// existing entry as an alternate phrasing, in one step, and marks the gap
// resolved. The bot answers that wording with the entry from then on.
func (b *Base) GapToAlternate(ctx context.Context, gapID int64, entryID, phrasing, by string) (Record, error) {
	g, err := b.store.Gap(ctx, gapID)
	if err != nil {
		return Record{}, fmt.Errorf("knowledge: gap %d: %w", gapID, err)
	}
	phrasing = strings.TrimSpace(phrasing)
	if phrasing == "" {
		phrasing = g.Example
	}
	cur, err := b.Get(ctx, entryID)
	if err != nil {
		return Record{}, err
	}
	if cur.Deleted {
		return Record{}, invalid("entry %q is deleted; restore it first", entryID)
	}
	e := cur.Entry
	e.Alternates = append(slices.Clone(e.Alternates), phrasing)
	rec, err := b.put(ctx, "add alternate", Change{Entry: e, Action: ActionUpdate, By: by, BaseVersion: cur.Version})
	if err != nil {
		return Record{}, err
	}
	if _, err := b.store.SetGapStatus(ctx, gapID, GapResolved, rec.ID, by); err != nil {
		return rec, fmt.Errorf("knowledge: gap %d: updated %q but could not mark the gap resolved: %w", gapID, rec.ID, err)
	}
	return rec, nil
}

// SetGapStatus dismisses a gap (GapDismissed) or reopens it (GapOpen).
func (b *Base) SetGapStatus(ctx context.Context, gapID int64, status, by string) (Gap, error) {
	if status != GapDismissed && status != GapOpen {
		return Gap{}, invalid("status %q: a gap can only be dismissed or reopened here", status)
	}
	g, err := b.store.SetGapStatus(ctx, gapID, status, "", by)
	if err != nil {
		return Gap{}, fmt.Errorf("knowledge: gap %d: %w", gapID, err)
	}
	return g, nil
}
