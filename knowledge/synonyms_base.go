package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SettingStore keeps the knowledge base's settings as JSON documents.
type SettingStore interface {
	// Setting returns a setting with who saved it when; found is false
	// when it was never saved.
	Setting(ctx context.Context, key string) (value []byte, by string, at time.Time, found bool, err error)
	SaveSetting(ctx context.Context, key string, value []byte, by string) error
}

// settingSynonyms is the key of the saved synonym list.
const settingSynonyms = "synonyms"

// SynonymList is the synonym list in force and where it came from.
type SynonymList struct {
	Groups []SynonymGroup `json:"groups"`
	// Default: no list was ever saved, so DefaultSynonyms is in force.
	Default   bool      `json:"default"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Synonyms returns the synonym list in force: the saved one, or the
// shipped defaults when none was saved.
func (b *Base) Synonyms(ctx context.Context) (SynonymList, error) {
	data, by, at, found, err := b.store.Setting(ctx, settingSynonyms)
	if err != nil {
		return SynonymList{}, fmt.Errorf("knowledge: synonyms: %w", err)
	}
	if !found {
		return SynonymList{Groups: DefaultSynonyms(), Default: true}, nil
	}
	var groups []SynonymGroup
	if err := json.Unmarshal(data, &groups); err != nil {
		return SynonymList{}, fmt.Errorf("knowledge: saved synonyms: %w", err)
	}
	if groups == nil {
		groups = []SynonymGroup{}
	}
	return SynonymList{Groups: groups, UpdatedBy: by, UpdatedAt: at}, nil
}

// SetSynonyms replaces the synonym list as user by. The list is checked
// (an invalid one is a *FileError listing every problem, and changes
// nothing), saved, and in force from the next search: no reindex. An
// empty list turns synonyms off.
func (b *Base) SetSynonyms(ctx context.Context, groups []SynonymGroup, by string) (SynonymList, error) {
	for i := range groups {
		g := &groups[i]
		g.Locale = strings.TrimSpace(g.Locale)
		if l, ok := NormalizeLocale(g.Locale); ok {
			g.Locale = l
		}
		terms := g.Terms[:0:0]
		for _, t := range g.Terms {
			if t = strings.TrimSpace(t); t != "" {
				terms = append(terms, t)
			}
		}
		g.Terms = terms
	}
	if groups == nil {
		groups = []SynonymGroup{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// Compile first, on a memory index's analyzer: what the live index
	// would refuse is refused before anything is saved.
	trial, err := b.ix.newMemIndex()
	if err != nil {
		return SynonymList{}, fmt.Errorf("knowledge: set synonyms: %w", err)
	}
	err = trial.SetSynonyms(groups)
	trial.Close()
	if err != nil {
		return SynonymList{}, synonymProblems(err)
	}
	data, err := json.Marshal(groups)
	if err != nil {
		return SynonymList{}, fmt.Errorf("knowledge: set synonyms: %w", err)
	}
	if err := b.store.SaveSetting(ctx, settingSynonyms, data, by); err != nil {
		return SynonymList{}, fmt.Errorf("knowledge: set synonyms: %w", err)
	}
	if err := b.ix.SetSynonyms(groups); err != nil {
		return SynonymList{}, fmt.Errorf("knowledge: set synonyms: saved but not applied: %w", err)
	}
	b.logger.Info("knowledge: synonyms changed", "groups", len(groups), "by", by)
	return SynonymList{Groups: groups, UpdatedBy: by, UpdatedAt: b.now()}, nil
}

// loadSynonyms applies the saved synonym list to the index, if one was
// saved (an index starts with the defaults).
func (b *Base) loadSynonyms(ctx context.Context) error {
	list, err := b.Synonyms(ctx)
	if err != nil {
		return err
	}
	if list.Default {
		return nil
	}
	if err := b.ix.SetSynonyms(list.Groups); err != nil {
		return fmt.Errorf("knowledge: saved synonyms: %w", err)
	}
	return nil
}

// groupPattern finds the 1-based group number in a synonym problem.
var groupPattern = regexp.MustCompile(`^synonym group (\d+)`)

// synonymProblems turns the synonym checks' error (one problem per
// joined error) into a *FileError, so callers report every problem as
// the user's mistake; a problem about one group has its 0-based position
// as Problem.Index.
func synonymProblems(err error) error {
	var ps []Problem
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if u := errors.Unwrap(e); u != nil && strings.HasPrefix(e.Error(), "knowledge: invalid synonyms") {
			walk(u)
			return
		}
		p := fileProblem("%s", e.Error())
		if m := groupPattern.FindStringSubmatch(e.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			p.Index = n - 1
		}
		ps = append(ps, p)
	}
	walk(err)
	return &FileError{Problems: ps}
}
