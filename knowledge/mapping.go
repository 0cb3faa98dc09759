package knowledge

import (
	"fmt"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/char/regexp"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/mapping"
)

// Field names in the bleve documents.
const (
	fieldAnswer    = "answer"
	fieldPhrasings = "phrasings" // question + alternates, indexed only: its dictionary gives document frequencies for Confidence
	fieldCategory  = "category"
	fieldLocale    = "locale"
	fieldTags      = "tags"
	fieldEntry     = "entry" // the entry as JSON, stored only
	// fieldTerms holds each phrasing's analysed terms (see phrasingTerms),
	// stored only, so re-scoring a hit never runs the analyzer.
	fieldTerms = "terms"
)

// localeAnyKey is what an entry with an empty locale is indexed under, so a
// locale filter can match it with a term query.
const localeAnyKey = "any"

// Analyzer names. analyzerMixed is the one the index uses; the others are
// kept so the evaluation can compare them (see docs/retrieval.md).
const (
	// analyzerMixed handles Chinese and English in one field: unicode
	// tokenizer, full/half-width folding, lower case, CJK bigrams plus
	// unigrams, then the English possessive, stop-word (bleve's list less
	// question words, negations and particles: stopwords.go) and
	// Porter-stemming filters (which leave CJK tokens alone). Runs of 5+
	// digits (order and phone numbers) are dropped before tokenising: they
	// never help find an FAQ entry.
	analyzerMixed = "xiaoer_mixed"
	// analyzerMixedAllStop is analyzerMixed with bleve's whole English stop
	// list (the index analyzer before schema 3).
	analyzerMixedAllStop = "xiaoer_mixed_all_stop"
	// analyzerMixedDigits is analyzerMixed without dropping digit runs.
	analyzerMixedDigits = "xiaoer_mixed_digits"
	// analyzerMixedBigram is analyzerMixed with CJK bigrams only (bleve's
	// default cjk_bigram), no unigrams.
	analyzerMixedBigram = "xiaoer_mixed_bigram"
	analyzerCJK         = cjk.AnalyzerName // bleve's "cjk": width, lower case, bigrams
	analyzerEN          = en.AnalyzerName  // bleve's "en": possessive, lower case, stop words, Porter
)

const (
	charFilterDigits   = "xiaoer_digit_runs"
	tokenFilterUnigram = "xiaoer_cjk_bigram_unigram"
	tokenFilterStop    = "xiaoer_stop_en"
	tokenMapStop       = "xiaoer_stop_en_words"
)

// indexConfig holds what can be varied for evaluation. The zero value is
// not valid; use defaultConfig.
type indexConfig struct {
	Analyzer string
	// Query-time field boosts: the phrasings (question and alternates, one
	// field: users paraphrase like the alternates as much as like the
	// question) and the answer.
	BoostPhrasings, BoostAnswer float64
	// RerankDepth is how many bleve hits are re-ranked by the blend of
	// normalised score and confidence.
	RerankDepth int
	// ScoreWeight is the weight of the normalised bleve score in the
	// re-ranking blend; confidence gets 1-ScoreWeight. 1 keeps bleve's order.
	ScoreWeight float64
	// UnknownDF is the document frequency assumed for a query term that no
	// phrasing contains (0 gives such terms the highest weight).
	UnknownDF float64
	// QueryExponent weighs query-side against phrasing-side coverage in
	// Confidence: coverage_q^e * coverage_p^(1-e). 0.5 is the geometric mean.
	QueryExponent float64
	// DropBoundaryBigrams ignores, when computing Confidence, a query CJK
	// bigram that no phrasing contains when both its characters are covered
	// by bigrams some phrasing does contain: such a bigram straddles a word
	// boundary (西收 in 东西收到) rather than naming something the FAQ lacks.
	DropBoundaryBigrams bool
	// CJKGamma calibrates Confidence for Chinese: bigram overlap runs lower
	// than word overlap (about a third of bigrams straddle word boundaries,
	// on both sides), so a query's confidence is raised to the power
	// 1-(1-CJKGamma)*share, share being the part of its terms that are CJK
	// bigrams or unigrams. 1 turns it off.
	CJKGamma float64
	// Synonyms are the groups a new Index starts with (DefaultSynonyms).
	Synonyms []SynonymGroup
	// Lexicon, when set, offers word synonyms for query words, with
	// LexiconCredit (lexicon.go).
	Lexicon       lexicon
	LexiconCredit float64
	// Rerank weighs the re-ranking and confidence signals (rerank.go).
	Rerank rerankConfig
}

func defaultConfig() indexConfig {
	return indexConfig{
		Analyzer:            analyzerMixed,
		BoostPhrasings:      2,
		BoostAnswer:         0.3,
		RerankDepth:         20,
		ScoreWeight:         0.3,
		UnknownDF:           1,
		QueryExponent:       0.5,
		DropBoundaryBigrams: true,
		CJKGamma:            0.8,
		Synonyms:            DefaultSynonyms(),
		Rerank:              defaultRerank(),
	}
}

// schemaVersion changes whenever the document mapping changes in a way that
// needs a reindex; an index with another version is recreated on open.
// 3: one phrasings field (no question and alternates fields); the index
// analyzer keeps question words, negations and particles.
// 4: the phrasings' analysed terms are stored (fieldTerms).
const schemaVersion = 4

func (c indexConfig) schema() string {
	return fmt.Sprintf("v%d/%s", schemaVersion, c.Analyzer)
}

// newMapping returns the index mapping: text fields analysed with
// c.Analyzer, keyword fields for category and locale, and the entry JSON
// stored so a search returns whole entries.
func newMapping(c indexConfig) (*mapping.IndexMappingImpl, error) {
	m := mapping.NewIndexMapping()
	if err := m.AddCustomCharFilter(charFilterDigits, map[string]any{
		"type":    regexp.Name,
		"regexp":  `[0-9]{5,}`,
		"replace": " ",
	}); err != nil {
		return nil, err
	}
	if err := m.AddCustomTokenFilter(tokenFilterUnigram, map[string]any{
		"type":           cjk.BigramName,
		"output_unigram": true,
	}); err != nil {
		return nil, err
	}
	if err := m.AddCustomTokenMap(tokenMapStop, map[string]any{
		"type":   tokenmap.Name,
		"tokens": stopWords(),
	}); err != nil {
		return nil, err
	}
	if err := m.AddCustomTokenFilter(tokenFilterStop, map[string]any{
		"type":           stop.Name,
		"stop_token_map": tokenMapStop,
	}); err != nil {
		return nil, err
	}
	filters := func(bigram, stop string) []any {
		return []any{cjk.WidthName, lowercase.Name, bigram, en.PossessiveName, stop, porter.Name}
	}
	for _, a := range []struct {
		name        string
		charFilters []any
		bigram      string
		stop        string
	}{
		{analyzerMixed, []any{charFilterDigits}, tokenFilterUnigram, tokenFilterStop},
		{analyzerMixedAllStop, []any{charFilterDigits}, tokenFilterUnigram, en.StopName},
		{analyzerMixedDigits, nil, tokenFilterUnigram, tokenFilterStop},
		{analyzerMixedBigram, []any{charFilterDigits}, cjk.BigramName, tokenFilterStop},
	} {
		cfg := map[string]any{
			"type":          custom.Name,
			"tokenizer":     unicode.Name,
			"token_filters": filters(a.bigram, a.stop),
		}
		if a.charFilters != nil {
			cfg["char_filters"] = a.charFilters
		}
		if err := m.AddCustomAnalyzer(a.name, cfg); err != nil {
			return nil, err
		}
	}
	if m.AnalyzerNamed(c.Analyzer) == nil {
		return nil, fmt.Errorf("unknown analyzer %q", c.Analyzer)
	}

	text := func() *mapping.FieldMapping {
		f := mapping.NewTextFieldMapping()
		f.Analyzer = c.Analyzer
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	kw := func() *mapping.FieldMapping {
		f := mapping.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	stored := mapping.NewTextFieldMapping()
	stored.Index = false
	stored.Store = true
	stored.IncludeTermVectors = false
	stored.IncludeInAll = false
	stored.DocValues = false

	doc := mapping.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fieldAnswer, text())
	doc.AddFieldMappingsAt(fieldPhrasings, text())
	doc.AddFieldMappingsAt(fieldCategory, kw())
	doc.AddFieldMappingsAt(fieldLocale, kw())
	doc.AddFieldMappingsAt(fieldTags, kw())
	doc.AddFieldMappingsAt(fieldEntry, stored)
	doc.AddFieldMappingsAt(fieldTerms, stored)

	m.DefaultMapping = doc
	m.DefaultAnalyzer = c.Analyzer
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	return m, nil
}
