package knowledge

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
)

// LabelledQuery is a query with the entry that should answer it.
type LabelledQuery struct {
	Line       int    // 1-based line in the file it was read from
	Query      string // what the user asked
	ExpectedID string // the entry that answers it; "" means out of scope: the bot should decline
}

// ReadLabelledQueries reads a CSV file with the header `query,expected_id`
// (columns in any order). It returns a *FileError listing every problem.
func ReadLabelledQueries(r io.Reader) ([]LabelledQuery, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("knowledge: read labelled queries: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("knowledge: read labelled queries: file is larger than %d bytes", MaxFileSize)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &FileError{Problems: []Problem{fileProblem("file is empty (want the header query,expected_id)")}}
	}
	if err != nil {
		return nil, &FileError{Problems: []Problem{csvProblem(err)}}
	}
	qCol, idCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "query":
			qCol = i
		case "expected_id":
			idCol = i
		}
	}
	if qCol < 0 || idCol < 0 {
		return nil, &FileError{Problems: []Problem{lineProblem(1, "header must have columns query and expected_id")}}
	}
	var (
		out []LabelledQuery
		ps  []Problem
	)
	ps = eachCSVRow(cr, len(header), ps, func(line int, rec []string) string {
		q := strings.TrimSpace(rec[qCol])
		if q == "" {
			return "query is empty"
		}
		out = append(out, LabelledQuery{Line: line, Query: q, ExpectedID: strings.TrimSpace(rec[idCol])})
		return ""
	})
	if len(ps) > 0 {
		return nil, &FileError{Problems: ps}
	}
	return out, nil
}

// Report holds retrieval quality figures over a set of labelled queries.
// Rates are in 0..1.
type Report struct {
	Queries    int // all queries
	InScope    int // queries with an expected entry
	OutOfScope int // queries without one
	Threshold  float64

	Hit1 float64 // in-scope queries whose expected entry is the top hit
	Hit3 float64 // ... is among the top 3
	MRR3 float64 // mean reciprocal rank of the expected entry, 0 when below 3

	InScopeAnswered        float64 // in-scope queries the bot would answer (Result.Answerable)
	InScopeAnsweredCorrect float64 // ... answered with the expected entry
	AnsweredPrecision      float64 // answered queries (in or out of scope) answered with the expected entry
	OOSDeclined            float64 // out-of-scope queries the bot would decline

	Categories []GroupReport // per category of the expected entry, by name (out-of-scope queries have none)
	Scripts    []GroupReport // per script of the query: "zh" when it has Han characters, else "en"
	Misses     []Miss        // in-scope queries with a wrong top hit, and out-of-scope queries answered
	UnknownIDs []string      // expected ids that are not in the index
	Errors     []string      // search errors, by query
}

// GroupReport holds the figures for a group of queries.
type GroupReport struct {
	Name            string
	InScope         int
	Hit1, Hit3      float64
	MRR3            float64
	InScopeAnswered float64
	// InScopeAnsweredCorrect is the share of in-scope queries answered with the expected entry.
	InScopeAnsweredCorrect float64
	OutOfScope             int
	OOSDeclined            float64
}

// Miss is a query the bot gets wrong.
type Miss struct {
	Line       int
	Query      string
	ExpectedID string  // "" for out of scope
	GotID      string  // the top hit, "" when none
	Confidence float64 // of the top hit
	Answerable bool
	Rank       int // of the expected entry among the top 3; 0 when absent
}

func (r Report) String() string {
	return fmt.Sprintf("queries=%d in-scope=%d oos=%d hit@1=%.3f hit@3=%.3f mrr@3=%.3f in-scope-answered=%.3f (correct %.3f) precision=%.3f oos-declined=%.3f threshold=%.2f",
		r.Queries, r.InScope, r.OutOfScope, r.Hit1, r.Hit3, r.MRR3,
		r.InScopeAnswered, r.InScopeAnsweredCorrect, r.AnsweredPrecision, r.OOSDeclined, r.Threshold)
}

// outcome is one query's result, kept so figures can be recomputed for
// other thresholds without searching again.
type outcome struct {
	q        LabelledQuery
	category string
	rank     int // 1-based rank of the expected entry in the top 3; 0 when absent
	topID    string
	topConf  float64
}

// Evaluate runs every query against ix with opts (Limit raised to at
// least 3) and reports the figures. A search error is recorded in
// Report.Errors and the query counted as a miss.
func Evaluate(ctx context.Context, ix *Index, queries []LabelledQuery, opts SearchOptions) Report {
	outs, unknown, errs := evaluate(ctx, ix, queries, opts)
	threshold := opts.Threshold
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	r := summarise(outs, threshold)
	r.UnknownIDs = unknown
	r.Errors = errs
	return r
}

func evaluate(ctx context.Context, ix *Index, queries []LabelledQuery, opts SearchOptions) ([]outcome, []string, []string) {
	opts.Limit = max(opts.Limit, 3)
	cats, err := ix.categories(ctx)
	var errs []string
	if err != nil {
		errs = append(errs, err.Error())
	}
	var unknown []string
	seenUnknown := map[string]bool{}
	outs := make([]outcome, 0, len(queries))
	for _, q := range queries {
		o := outcome{q: q}
		if q.ExpectedID != "" {
			cat, ok := cats[q.ExpectedID]
			if !ok && cats != nil && !seenUnknown[q.ExpectedID] {
				seenUnknown[q.ExpectedID] = true
				unknown = append(unknown, q.ExpectedID)
			}
			o.category = cat
		}
		res, err := ix.Search(ctx, q.Query, opts)
		if err != nil {
			errs = append(errs, fmt.Sprintf("line %d: %q: %v", q.Line, q.Query, err))
		}
		if len(res.Hits) > 0 {
			o.topID = res.Hits[0].ID
			o.topConf = res.Hits[0].Confidence
		}
		for i, h := range res.Hits {
			if i == 3 {
				break
			}
			if q.ExpectedID != "" && h.ID == q.ExpectedID {
				o.rank = i + 1
				break
			}
		}
		outs = append(outs, o)
	}
	return outs, unknown, errs
}

func summarise(outs []outcome, threshold float64) Report {
	r := Report{Queries: len(outs), Threshold: threshold}
	all, byCat, byScript := &acc{}, map[string]*acc{}, map[string]*acc{}
	group := func(m map[string]*acc, k string) *acc {
		if m[k] == nil {
			m[k] = &acc{}
		}
		return m[k]
	}
	answered, answeredRight := 0, 0
	for _, o := range outs {
		ans := o.topID != "" && o.topConf >= threshold
		right := o.q.ExpectedID != "" && o.topID == o.q.ExpectedID
		if ans {
			answered++
			if right {
				answeredRight++
			}
		}
		groups := []*acc{all, group(byScript, scriptOf(o.q.Query))}
		if o.q.ExpectedID != "" {
			groups = append(groups, group(byCat, o.category))
		}
		for _, a := range groups {
			a.add(o, ans)
		}
		switch {
		case o.q.ExpectedID == "" && ans:
			r.Misses = append(r.Misses, miss(o, ans))
		case o.q.ExpectedID != "" && !right:
			r.Misses = append(r.Misses, miss(o, ans))
		}
	}
	g := all.report("")
	r.InScope, r.OutOfScope = g.InScope, g.OutOfScope
	r.Hit1, r.Hit3, r.MRR3, r.InScopeAnswered, r.OOSDeclined = g.Hit1, g.Hit3, g.MRR3, g.InScopeAnswered, g.OOSDeclined
	r.InScopeAnsweredCorrect = g.InScopeAnsweredCorrect
	r.AnsweredPrecision = rate(answeredRight, answered)
	r.Categories = reports(byCat)
	r.Scripts = reports(byScript)
	return r
}

// acc accumulates a group's counts.
type acc struct {
	in, h1, h3, answered, answeredRight, oos, declined int
	rr                                                 float64
}

func (a *acc) add(o outcome, ans bool) {
	if o.q.ExpectedID == "" {
		a.oos++
		if !ans {
			a.declined++
		}
		return
	}
	a.in++
	if o.rank == 1 {
		a.h1++
	}
	if o.rank > 0 {
		a.h3++
		a.rr += 1 / float64(o.rank)
	}
	if ans {
		a.answered++
		if o.rank == 1 {
			a.answeredRight++
		}
	}
}

func (a *acc) report(name string) GroupReport {
	return GroupReport{
		Name: name, InScope: a.in,
		Hit1: rate(a.h1, a.in), Hit3: rate(a.h3, a.in), MRR3: ratef(a.rr, a.in),
		InScopeAnswered:        rate(a.answered, a.in),
		InScopeAnsweredCorrect: rate(a.answeredRight, a.in),
		OutOfScope:             a.oos, OOSDeclined: rate(a.declined, a.oos),
	}
}

func reports(m map[string]*acc) []GroupReport {
	out := make([]GroupReport, 0, len(m))
	for name, a := range m {
		out = append(out, a.report(name))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func rate(n, d int) float64 { return ratef(float64(n), d) }

func ratef(n float64, d int) float64 {
	if d == 0 {
		return 0
	}
	return n / float64(d)
}

// scriptOf is "zh" for text with Han characters, else "en".
func scriptOf(s string) string {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return "zh"
		}
	}
	return "en"
}

func miss(o outcome, ans bool) Miss {
	return Miss{Line: o.q.Line, Query: o.q.Query, ExpectedID: o.q.ExpectedID, GotID: o.topID,
		Confidence: o.topConf, Answerable: ans, Rank: o.rank}
}

// categories maps every indexed entry's id to its category.
func (ix *Index) categories(ctx context.Context) (map[string]string, error) {
	idx, err := ix.open()
	if err != nil {
		return nil, err
	}
	defer ix.mu.RUnlock()
	n, err := idx.DocCount()
	if err != nil {
		return nil, err
	}
	req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), int(n), 0, false)
	req.Fields = []string{fieldEntry}
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(res.Hits))
	for _, h := range res.Hits {
		e, err := fromStored(h.Fields[fieldEntry])
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", h.ID, err)
		}
		out[e.ID] = e.Category
	}
	return out, nil
}
