package knowledge

import (
	"errors"
	"fmt"
	"strings"
)

// SynonymGroup is a set of words or short phrases that mean the same thing
// to shoppers (快递 = 物流 = 包裹; refund = money back). A query that holds
// one term of a group also matches phrasings that hold another, with a
// little less weight than the word itself (see Index.SetSynonyms).
type SynonymGroup struct {
	// Locale is "zh-CN", "en" or "" (any). A group with a locale is used
	// only by searches for that locale or for all locales.
	Locale string   `json:"locale"`
	Terms  []string `json:"terms"`
}

// Limits checked by ValidateSynonyms.
const (
	MaxSynonymGroups  = 2000
	MaxSynonymTerms   = 32 // terms per group
	MaxSynonymTermLen = 64 // bytes per term
)

// ValidateSynonyms checks groups: at most MaxSynonymGroups groups, each
// with a supported locale and 2 to MaxSynonymTerms distinct terms, none
// empty or longer than MaxSynonymTermLen bytes. It returns every problem
// found, one per line, each naming the group by its position (1-based).
func ValidateSynonyms(groups []SynonymGroup) error {
	var errs []error
	if len(groups) > MaxSynonymGroups {
		errs = append(errs, fmt.Errorf("%d synonym groups, at most %d allowed", len(groups), MaxSynonymGroups))
	}
	for i, g := range groups {
		where := fmt.Sprintf("synonym group %d", i+1)
		if len(g.Terms) > 0 {
			where += fmt.Sprintf(" (%q)", g.Terms[0])
		}
		if _, ok := NormalizeLocale(g.Locale); !ok {
			errs = append(errs, fmt.Errorf("%s: locale %q is not supported (want zh-CN, en or empty)", where, g.Locale))
		}
		if len(g.Terms) > MaxSynonymTerms {
			errs = append(errs, fmt.Errorf("%s: %d terms, at most %d allowed", where, len(g.Terms), MaxSynonymTerms))
		}
		distinct := map[string]bool{}
		for j, t := range g.Terms {
			t = strings.TrimSpace(t)
			switch {
			case t == "":
				errs = append(errs, fmt.Errorf("%s: term %d is empty", where, j+1))
			case len(t) > MaxSynonymTermLen:
				errs = append(errs, fmt.Errorf("%s: term %d is %d bytes long, at most %d allowed", where, j+1, len(t), MaxSynonymTermLen))
			default:
				distinct[strings.ToLower(t)] = true
			}
		}
		switch {
		case len(g.Terms) == 0:
			errs = append(errs, fmt.Errorf("%s: has no terms", where))
		case len(distinct) == 1 && len(g.Terms) >= 1:
			errs = append(errs, fmt.Errorf("%s: has one distinct term; a group needs at least two", where))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("knowledge: invalid synonyms:\n%w", errors.Join(errs...))
	}
	return nil
}

// SetSynonyms replaces the synonym groups the index applies to queries.
// They take effect for the next search, without reindexing; searches
// already running finish with the groups they started with. nil or an
// empty list turns synonyms off. An index starts with DefaultSynonyms.
//
// It returns an error, and keeps the groups it had, when ValidateSynonyms
// rejects groups or a term has nothing searchable (only stop words or
// punctuation, such as "the").
func (ix *Index) SetSynonyms(groups []SynonymGroup) error {
	set, err := ix.compileSynonyms(groups)
	if err != nil {
		return err
	}
	ix.synonyms.Store(set)
	ix.gen.Add(1)
	return nil
}

// Synonyms returns the synonym groups in use.
func (ix *Index) Synonyms() []SynonymGroup {
	set := ix.synonyms.Load()
	if set == nil {
		return nil
	}
	out := make([]SynonymGroup, len(set.groups))
	for i, g := range set.groups {
		out[i] = SynonymGroup{Locale: g.Locale, Terms: append([]string(nil), g.Terms...)}
	}
	return out
}

// synonymSet is a compiled, immutable list of synonym groups.
type synonymSet struct {
	groups []SynonymGroup // as given, for Synonyms
	// forms holds every term of every group analysed into index terms,
	// grouped as the groups are.
	forms  [][]synonymForm
	locale []string // normalised locale of each group
}

type synonymForm struct {
	terms []string // distinct analysed terms; the form is in a query that holds all of them
}

func (ix *Index) compileSynonyms(groups []SynonymGroup) (*synonymSet, error) {
	if err := ValidateSynonyms(groups); err != nil {
		return nil, err
	}
	set := &synonymSet{}
	var errs []error
	for i, g := range groups {
		loc, _ := NormalizeLocale(g.Locale)
		var forms []synonymForm
		seen := map[string]bool{}
		for _, t := range g.Terms {
			terms := ix.terms(blankDigitRuns(strings.TrimSpace(t)))
			if len(terms) == 0 {
				errs = append(errs, fmt.Errorf("synonym group %d: term %q has nothing searchable (stop words or punctuation only)", i+1, t))
				continue
			}
			key := strings.Join(terms, "\x00")
			if seen[key] {
				continue
			}
			seen[key] = true
			forms = append(forms, synonymForm{terms: terms})
		}
		set.groups = append(set.groups, SynonymGroup{Locale: loc, Terms: append([]string(nil), g.Terms...)})
		set.forms = append(set.forms, forms)
		set.locale = append(set.locale, loc)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("knowledge: invalid synonyms:\n%w", errors.Join(errs...))
	}
	return set, nil
}

// synonymSet returns the groups in use, nil when there are none.
func (ix *Index) synonymSet() *synonymSet {
	s := ix.synonyms.Load()
	if s == nil || len(s.forms) == 0 {
		return nil
	}
	return s
}

// expand adds, to every query term that belongs to a form of a group found
// in the query, the group's other forms as alternatives.
func (s *synonymSet) expand(aq *analysedQuery, locale string, credit func(term string) float64) {
	pos := make(map[string]int, len(aq.terms))
	for i, qt := range aq.terms {
		pos[qt.term] = i
	}
	for g, forms := range s.forms {
		if s.locale[g] != LocaleAny && locale != LocaleAny && s.locale[g] != locale {
			continue
		}
		for f, form := range forms {
			if !containsAll(pos, form.terms) {
				continue
			}
			for o, other := range forms {
				if o == f {
					continue
				}
				for _, t := range form.terms {
					qt := &aq.terms[pos[t]]
					if c := credit(t); c > 0 {
						qt.alts = appendAlt(qt.alts, alt{terms: other.terms, credit: c})
					}
				}
			}
		}
	}
}

func containsAll(pos map[string]int, terms []string) bool {
	for _, t := range terms {
		if _, ok := pos[t]; !ok {
			return false
		}
	}
	return true
}

// appendAlt adds a to alts unless an alternative with the same terms is
// there already (then the higher credit wins).
func appendAlt(alts []alt, a alt) []alt {
	for i, b := range alts {
		if equalTerms(a.terms, b.terms) {
			alts[i].credit = max(b.credit, a.credit)
			return alts
		}
	}
	return append(alts, a)
}

func equalTerms(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
