package knowledge

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RegressionCase is a saved question with the entry that must answer it,
// or with no entry when the bot must decline it. The saved set runs on
// demand and before every import.
type RegressionCase struct {
	ID         int64     `json:"id"`
	Query      string    `json:"query"`
	ExpectedID string    `json:"expected_id"`      // "" = out of scope: the bot must decline
	Locale     string    `json:"locale,omitempty"` // search in this locale; "" = the bot's default search
	Note       string    `json:"note,omitempty"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// MaxRegressionCases caps the saved set.
const MaxRegressionCases = 5000

// CaseResult is how one regression case fared.
type CaseResult struct {
	Case       RegressionCase `json:"case"`
	GotID      string         `json:"got_id"` // the top hit, "" when none
	Confidence float64        `json:"confidence"`
	Answerable bool           `json:"answerable"`
	// Pass: an in-scope case passes when the expected entry is the top hit
	// and the bot would answer with it; an out-of-scope case when the bot
	// would decline.
	Pass bool `json:"pass"`
}

// RegressionReport is the outcome of running the saved set.
type RegressionReport struct {
	Cases      int `json:"cases"`
	InScope    int `json:"in_scope"`
	OutOfScope int `json:"out_of_scope"`
	Passed     int `json:"passed"`
	// Hit1 is the share of in-scope cases whose expected entry is the top
	// hit (answerable or not); OOSDeclined the share of out-of-scope cases
	// declined. Both are 1 when there is no such case.
	Hit1        float64      `json:"hit1"`
	OOSDeclined float64      `json:"oos_declined"`
	Results     []CaseResult `json:"results"`
}

// Failures returns the cases that did not pass.
func (r RegressionReport) Failures() []CaseResult {
	var out []CaseResult
	for _, c := range r.Results {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}

// RegressionError refuses a change that makes the saved regression set
// worse: its hit@1 or its out-of-scope declined rate drops.
type RegressionError struct {
	Before, After RegressionReport
	// NewFailures are the cases that passed before the change and fail after it.
	NewFailures []CaseResult
}

func (e *RegressionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "knowledge: refused: the regression set gets worse (hit@1 %.3f → %.3f, out-of-scope declined %.3f → %.3f)",
		e.Before.Hit1, e.After.Hit1, e.Before.OOSDeclined, e.After.OOSDeclined)
	for i, f := range e.NewFailures {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.NewFailures)-10)
			break
		}
		want := f.Case.ExpectedID
		if want == "" {
			want = "(decline)"
		}
		fmt.Fprintf(&b, "; %q now gets %q, want %s", f.Case.Query, f.GotID, want)
	}
	return b.String()
}

// runCases runs the cases against ix.
func runCases(ctx context.Context, ix *Index, cases []RegressionCase) (RegressionReport, error) {
	r := RegressionReport{Cases: len(cases), Results: make([]CaseResult, 0, len(cases))}
	hits, declined := 0, 0
	for _, c := range cases {
		res, err := ix.Search(ctx, c.Query, SearchOptions{Locale: c.Locale})
		if err != nil {
			return r, fmt.Errorf("knowledge: regression case %d %q: %w", c.ID, c.Query, err)
		}
		cr := CaseResult{Case: c, Answerable: res.Answerable}
		if len(res.Hits) > 0 {
			cr.GotID, cr.Confidence = res.Hits[0].ID, res.Hits[0].Confidence
		}
		if c.ExpectedID == "" {
			r.OutOfScope++
			cr.Pass = !res.Answerable
			if cr.Pass {
				declined++
			}
		} else {
			r.InScope++
			if cr.GotID == c.ExpectedID {
				hits++
			}
			cr.Pass = cr.GotID == c.ExpectedID && res.Answerable
		}
		if cr.Pass {
			r.Passed++
		}
		r.Results = append(r.Results, cr)
	}
	r.Hit1, r.OOSDeclined = 1, 1
	if r.InScope > 0 {
		r.Hit1 = float64(hits) / float64(r.InScope)
	}
	if r.OutOfScope > 0 {
		r.OOSDeclined = float64(declined) / float64(r.OutOfScope)
	}
	return r, nil
}

// compareRuns returns a *RegressionError when after is worse than before.
func compareRuns(before, after RegressionReport) error {
	if after.Hit1 >= before.Hit1 && after.OOSDeclined >= before.OOSDeclined {
		return nil
	}
	e := &RegressionError{Before: before, After: after}
	for i, b := range before.Results {
		if b.Pass && !after.Results[i].Pass {
			e.NewFailures = append(e.NewFailures, after.Results[i])
		}
	}
	return e
}

// RegressionCases returns the saved set.
func (b *Base) RegressionCases(ctx context.Context) ([]RegressionCase, error) {
	cs, err := b.store.RegressionCases(ctx)
	if err != nil {
		return nil, fmt.Errorf("knowledge: regression cases: %w", err)
	}
	return cs, nil
}

// AddRegressionCase saves a case. The expected entry must exist (and not
// be deleted) unless the case expects the bot to decline.
func (b *Base) AddRegressionCase(ctx context.Context, c RegressionCase) (RegressionCase, error) {
	c.Query = strings.TrimSpace(c.Query)
	c.ExpectedID = strings.TrimSpace(c.ExpectedID)
	c.Note = strings.TrimSpace(c.Note)
	switch {
	case c.Query == "":
		return c, invalid("the question is empty")
	case len(c.Query) > MaxQueryLen:
		return c, invalid("the question is longer than %d bytes", MaxQueryLen)
	case len(c.Note) > MaxFieldLen:
		return c, invalid("the note is longer than %d bytes", MaxFieldLen)
	}
	l, ok := NormalizeLocale(c.Locale)
	if !ok {
		return c, invalid("locale %q is not supported", c.Locale)
	}
	c.Locale = l
	if c.ExpectedID != "" {
		r, err := b.store.Record(ctx, c.ExpectedID)
		if err != nil {
			return c, fmt.Errorf("knowledge: regression case: expected entry %q: %w", c.ExpectedID, err)
		}
		if r.Deleted {
			return c, invalid("the expected entry %q is deleted", c.ExpectedID)
		}
	}
	cs, err := b.store.RegressionCases(ctx)
	if err != nil {
		return c, fmt.Errorf("knowledge: regression case: %w", err)
	}
	if len(cs) >= MaxRegressionCases {
		return c, invalid("the regression set already has %d cases, the most it may hold", MaxRegressionCases)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = b.now()
	}
	saved, err := b.store.AddRegressionCase(ctx, c)
	if err != nil {
		return c, fmt.Errorf("knowledge: regression case: %w", err)
	}
	return saved, nil
}

// DeleteRegressionCase removes a case from the saved set.
func (b *Base) DeleteRegressionCase(ctx context.Context, id int64) error {
	if err := b.store.DeleteRegressionCase(ctx, id); err != nil {
		return fmt.Errorf("knowledge: delete regression case %d: %w", id, err)
	}
	return nil
}

// RunRegression runs the saved set against the live index.
func (b *Base) RunRegression(ctx context.Context) (RegressionReport, error) {
	cs, err := b.RegressionCases(ctx)
	if err != nil {
		return RegressionReport{}, err
	}
	return runCases(ctx, b.ix, cs)
}
