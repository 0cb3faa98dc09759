package bot

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Mood is how upset a message reads.
type Mood struct {
	Score int      // 0 = calm; the sum of the cue weights
	Cues  []string // what was found, e.g. "lexicon:垃圾", "exclaim", "caps"
}

// UpsetThreshold is the score at which a message brings a person in: one
// severe word (骗子, "fed up"), a strong one said with feeling (太生气,
// "really angry", "useless!!"), or a mild one shouted.
const UpsetThreshold = 3

// Upset reports whether the mood should bring a person in: Score >= UpsetThreshold.
func (m Mood) Upset() bool { return m.Score >= UpsetThreshold }

// moodTerm is one entry of the mood lexicon.
type moodTerm struct {
	text   string   // Chinese as written; English in lower case, words separated by one space
	weight int      // 1 mild, 2 strong, 3 severe
	curse  bool     // profanity, which a negation does not cancel ("not fucking happy")
	unless []string // what, right after the term, makes it something else: 垃圾袋 is a bin bag
	words  []string // an English term's words, filled in by indexMoodTerms
}

// zhMoodLexicon is matched as substrings, leftmost and longest first, so
// 他妈的 is one cue and not also 妈的. 投诉 is not here: it is a sensitive
// matter (sensitive.go), not a mood. 很 is not an intensifier: it is in
// nearly every Chinese adjective phrase ("我很生气" is plain "I'm angry").
var zhMoodLexicon = []moodTerm{
	// mild
	{text: "不满意", weight: 1},
	{text: "不太满意", weight: 1},
	{text: "失望", weight: 1},
	{text: "无语", weight: 1},
	{text: "郁闷", weight: 1},
	{text: "不爽", weight: 1},
	{text: "糟心", weight: 1},
	{text: "心累", weight: 1},
	{text: "着急", weight: 1},
	// strong
	{text: "生气", weight: 2},
	{text: "太差", weight: 2},
	{text: "差劲", weight: 2},
	{text: "垃圾", weight: 2, unless: []string{"袋", "桶", "箱", "篓", "分类", "处理", "短信", "邮件", "电话"}},
	{text: "坑人", weight: 2},
	{text: "坑爹", weight: 2},
	{text: "离谱", weight: 2},
	{text: "崩溃", weight: 2},
	{text: "急死", weight: 2},
	{text: "烦死", weight: 2},
	{text: "什么破", weight: 2},
	{text: "恶心", weight: 2},
	{text: "过分", weight: 2},
	{text: "忽悠", weight: 2},
	{text: "敷衍", weight: 2},
	{text: "火大", weight: 2},
	{text: "恼火", weight: 2},
	{text: "受不了", weight: 2},
	{text: "骗人", weight: 2},
	// severe
	{text: "气死", weight: 3},
	{text: "骗子", weight: 3},
	{text: "欺骗", weight: 3},
	{text: "忍无可忍", weight: 3},
	{text: "受够了", weight: 3},
	{text: "愤怒", weight: 3},
	// profanity
	{text: "他妈的", weight: 3, curse: true},
	{text: "妈的", weight: 3, curse: true},
	{text: "傻逼", weight: 3, curse: true},
	{text: "卧槽", weight: 2, curse: true},
	{text: "特么", weight: 2, curse: true},
}

// enMoodLexicon is matched word by word, case-insensitively: "scampi" is not
// "scam" and "damnation" is not "damn". Inflections are listed as they are
// meant ("scammed", "fucking"); nothing is stemmed.
var enMoodLexicon = []moodTerm{
	// mild
	{text: "frustrated", weight: 1},
	{text: "frustrating", weight: 1},
	{text: "disappointed", weight: 1},
	{text: "disappointing", weight: 1},
	{text: "annoyed", weight: 1},
	{text: "annoying", weight: 1},
	{text: "upset", weight: 1, unless: []string{"stomach"}},
	{text: "unhappy", weight: 1},
	{text: "dissatisfied", weight: 1},
	{text: "not happy", weight: 1},
	{text: "not impressed", weight: 1},
	// strong
	{text: "angry", weight: 2},
	{text: "ridiculous", weight: 2},
	{text: "unacceptable", weight: 2},
	{text: "worst", weight: 2, unless: []string{"case"}},
	{text: "useless", weight: 2},
	{text: "terrible", weight: 2},
	{text: "horrible", weight: 2},
	{text: "awful", weight: 2},
	{text: "pathetic", weight: 2},
	{text: "disgusting", weight: 2},
	{text: "disgraceful", weight: 2},
	{text: "incompetent", weight: 2},
	{text: "sick of", weight: 2},
	{text: "rip off", weight: 2},
	{text: "ripoff", weight: 2},
	{text: "ripped off", weight: 2},
	{text: "waste of time", weight: 2},
	{text: "waste of money", weight: 2},
	{text: "sucks", weight: 2, unless: []string{"up"}},
	{text: "pissed", weight: 2},
	{text: "what the hell", weight: 2},
	// severe
	{text: "furious", weight: 3},
	{text: "livid", weight: 3},
	{text: "outraged", weight: 3},
	{text: "scam", weight: 3},
	{text: "scams", weight: 3},
	{text: "scammed", weight: 3},
	{text: "scammer", weight: 3},
	{text: "scammers", weight: 3},
	{text: "liar", weight: 3},
	{text: "liars", weight: 3},
	{text: "fed up", weight: 3},
	{text: "sick and tired", weight: 3},
	{text: "enough is enough", weight: 3},
	{text: "pissed off", weight: 3},
	// profanity
	{text: "wtf", weight: 3, curse: true},
	{text: "fuck", weight: 3, curse: true},
	{text: "fucking", weight: 3, curse: true},
	{text: "fuckin", weight: 3, curse: true},
	{text: "fucked", weight: 3, curse: true},
	{text: "bullshit", weight: 3, curse: true},
	{text: "shit", weight: 2, curse: true},
	{text: "shitty", weight: 2, curse: true},
	{text: "goddamn", weight: 2, curse: true},
	{text: "crappy", weight: 2, curse: true},
	{text: "crap", weight: 1, curse: true},
	{text: "damn", weight: 1, curse: true},
	{text: "dammit", weight: 1, curse: true},
}

// Words right before a term that make it stronger (+1), or cancel it. The
// Chinese ones are matched as the end of the text before the term, the
// English ones as the word before it.
var (
	zhIntensifiers = []string{"非常", "真的", "真是", "极其", "极度", "特别", "十分", "超级", "太", "超", "巨"}
	zhNegations    = []string{"没有", "不是", "不会", "不用", "不要", "不", "没", "别", "未"}
	enIntensifiers = map[string]bool{
		"very": true, "so": true, "extremely": true, "really": true, "totally": true, "absolutely": true,
		"incredibly": true, "utterly": true, "completely": true, "super": true, "truly": true,
	}
	enNegations = map[string]bool{
		"not": true, "no": true, "never": true, "nor": true, "hardly": true, "dont": true, "isnt": true,
		"wasnt": true, "arent": true, "werent": true, "didnt": true, "doesnt": true, "cant": true,
		"wont": true, "aint": true, "havent": true,
	}
	// enNegationGap are words that may stand between a negation and its
	// term: "not at all angry", "not a scam", "not the worst".
	enNegationGap = map[string]bool{"a": true, "an": true, "the": true, "that": true, "at": true, "all": true}
)

// Indexes of the lexicons by first rune (Chinese) and first word
// (English), longest term first. Built once from the tables above and never
// changed.
var (
	zhMoodIndex = indexMoodTerms(zhMoodLexicon, func(t moodTerm) string {
		r, _ := utf8.DecodeRuneInString(t.text)
		return string(r)
	})
	enMoodIndex = indexMoodTerms(enMoodLexicon, func(t moodTerm) string {
		first, _, _ := strings.Cut(t.text, " ")
		return first
	})
)

func indexMoodTerms(terms []moodTerm, key func(moodTerm) string) map[string][]moodTerm {
	idx := map[string][]moodTerm{}
	for _, t := range terms {
		t.words = strings.Fields(t.text)
		idx[key(t)] = append(idx[key(t)], t)
	}
	for _, ts := range idx {
		slices.SortStableFunc(ts, func(a, b moodTerm) int { return len(b.text) - len(a.text) })
	}
	return idx
}

// capsAcronyms are upper-case words that say nothing about shouting; the
// all-caps rule skips them, as it skips words with digits (order numbers).
var capsAcronyms = map[string]bool{
	"DHL": true, "SF": true, "EMS": true, "UPS": true, "USPS": true, "TNT": true, "JD": true,
	"VIP": true, "ID": true, "OK": true, "FAQ": true, "APP": true, "SMS": true, "PDF": true, "QR": true,
	"COD": true, "USB": true, "TV": true, "LED": true, "LCD": true, "PC": true, "GPS": true, "SKU": true,
	"US": true, "USA": true, "UK": true, "EU": true, "CN": true, "HK": true, "PRC": true,
	"XS": true, "XL": true, "XXL": true, "AM": true, "PM": true, "ETA": true, "ASAP": true,
	"RMB": true, "CNY": true, "USD": true, "EUR": true, "VAT": true, "GST": true, "AI": true,
}

// moodOf reads how upset text is. The score adds, each counted once per
// message:
//   - each distinct lexicon term found, at its weight (1 mild, 2 strong,
//     3 severe), +1 when an intensifier stands right before it; a negation
//     right before a term (or before its intensifier) cancels it, except
//     for profanity;
//   - repeated exclamation: a run of 2 marks (! ！ and ? ？ with at least
//     one ! among them, so "?!" counts) adds 1, a run of 3 or more adds 2;
//   - all caps: at least 3 Latin words of 2+ letters, not counting words
//     with digits or the acronyms in capsAcronyms, with 70% or more of
//     their letters upper case, adds 2.
func moodOf(text string) Mood {
	var hits []moodHit
	hits = zhMoodHits(text, hits)
	hits = enMoodHits(text, hits)
	var m Mood
	for _, h := range hits {
		m.Score += h.weight
		m.Cues = append(m.Cues, "lexicon:"+h.term)
		if h.intensifier != "" {
			m.Cues = append(m.Cues, "intensifier:"+h.intensifier)
		}
	}
	if n := exclamationRun(text); n >= 3 {
		m.Score += 2
		m.Cues = append(m.Cues, "exclaim")
	} else if n == 2 {
		m.Score++
		m.Cues = append(m.Cues, "exclaim")
	}
	if shouting(text) {
		m.Score += 2
		m.Cues = append(m.Cues, "caps")
	}
	return m
}

// moodHit is a lexicon term found in a message, with its weight after any
// intensifier.
type moodHit struct {
	term        string
	weight      int
	intensifier string
}

// addMoodHit records a hit; a term found twice counts once, at its
// strongest.
func addMoodHit(hits []moodHit, h moodHit) []moodHit {
	for i := range hits {
		if hits[i].term == h.term {
			if h.weight > hits[i].weight {
				hits[i] = h
			}
			return hits
		}
	}
	return append(hits, h)
}

func zhMoodHits(text string, hits []moodHit) []moodHit {
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r < utf8.RuneSelf {
			i += size
			continue
		}
		term, ok := zhTermAt(text, i)
		if !ok {
			i += size
			continue
		}
		before := text[:i]
		intensifier := suffixIn(before, zhIntensifiers)
		negated := !term.curse && suffixIn(strings.TrimSuffix(before, intensifier), zhNegations) != ""
		if !negated {
			h := moodHit{term: term.text, weight: term.weight, intensifier: intensifier}
			if intensifier != "" {
				h.weight++
			}
			hits = addMoodHit(hits, h)
		}
		i += len(term.text)
	}
	return hits
}

// zhTermAt returns the longest Chinese lexicon term that starts at byte i.
func zhTermAt(text string, i int) (moodTerm, bool) {
	r, _ := utf8.DecodeRuneInString(text[i:])
	for _, t := range zhMoodIndex[string(r)] {
		if !strings.HasPrefix(text[i:], t.text) {
			continue
		}
		rest := text[i+len(t.text):]
		if slices.ContainsFunc(t.unless, func(u string) bool { return strings.HasPrefix(rest, u) }) {
			continue
		}
		return t, true
	}
	return moodTerm{}, false
}

// suffixIn returns the first of words that s ends with, or "".
func suffixIn(s string, words []string) string {
	for _, w := range words {
		if strings.HasSuffix(s, w) {
			return w
		}
	}
	return ""
}

func enMoodHits(text string, hits []moodHit) []moodHit {
	words := enWords(text)
	for i := 0; i < len(words); {
		term, n, ok := enTermAt(words, i)
		if !ok {
			i++
			continue
		}
		intensifier := ""
		if i > 0 && !words[i].clause && enIntensifiers[words[i-1].text] {
			intensifier = words[i-1].text
		}
		if term.curse || !enNegated(words, i) {
			h := moodHit{term: term.text, weight: term.weight, intensifier: intensifier}
			if intensifier != "" {
				h.weight++
			}
			hits = addMoodHit(hits, h)
		}
		i += n
	}
	return hits
}

// enTermAt returns the longest English lexicon term that starts at words[i]
// and how many words it takes.
func enTermAt(words []enWord, i int) (moodTerm, int, bool) {
	for _, t := range enMoodIndex[words[i].text] {
		parts := t.words
		if i+len(parts) > len(words) {
			continue
		}
		match := true
		for k, p := range parts {
			if words[i+k].text != p || k > 0 && words[i+k].clause {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		if next := i + len(parts); next < len(words) && !words[next].clause && slices.Contains(t.unless, words[next].text) {
			continue
		}
		return t, len(parts), true
	}
	return moodTerm{}, 0, false
}

// enNegated reports whether a negation stands before words[i] in the same
// clause, with at most intensifiers and a few small words between them.
func enNegated(words []enWord, i int) bool {
	for j := i - 1; j >= 0 && !words[j+1].clause; j-- {
		w := words[j].text
		switch {
		case enNegations[w] || strings.HasSuffix(w, "n't"):
			return true
		case enIntensifiers[w] || enNegationGap[w]:
			continue
		default:
			return false
		}
	}
	return false
}

// enWord is one lower-case English word of a message.
type enWord struct {
	text   string
	clause bool // punctuation (or Chinese text) stands between it and the word before
}

// enWords splits text into lower-case words of ASCII letters, digits and
// apostrophes (’ is read as '). Hyphens and spaces join words of one
// clause ("rip-off" is "rip off"); other punctuation and non-ASCII text
// start a new clause.
func enWords(text string) []enWord {
	var words []enWord
	clause := false
	start := -1
	var b []byte // the current word in lower case
	flush := func() {
		if start >= 0 {
			if w := strings.Trim(string(b), "'"); w != "" {
				words = append(words, enWord{text: w, clause: clause})
				clause = false
			}
			start, b = -1, b[:0]
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '\'':
			if start < 0 {
				start = i
			}
			b = append(b, c)
			i++
		case c >= 'A' && c <= 'Z':
			if start < 0 {
				start = i
			}
			b = append(b, c+'a'-'A')
			i++
		case strings.HasPrefix(text[i:], "’"):
			if start < 0 {
				start = i
			}
			b = append(b, '\'')
			i += len("’")
		default:
			flush()
			if c == ' ' || c == '\t' || c == '-' || c == '"' || c == '\n' || c == '\r' {
				i++
				continue
			}
			clause = true
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
		}
	}
	flush()
	return words
}

// exclamationRun returns the number of marks in the longest run of ! ！ ?
// ？ that holds at least one exclamation mark; "???" alone is 0.
func exclamationRun(text string) int {
	best, run, bang := 0, 0, false
	for _, r := range text + " " {
		switch r {
		case '!', '！':
			run++
			bang = true
		case '?', '？':
			run++
		default:
			if bang && run > best {
				best = run
			}
			run, bang = 0, false
		}
	}
	return best
}

// shouting reports whether the Latin words of text are in capitals: at
// least 3 words of 2+ letters (words with digits and known acronyms do not
// count) with 70% or more of their letters upper case.
func shouting(text string) bool {
	words, letters, upper := 0, 0, 0
	for i := 0; i < len(text); {
		if !isASCIIAlnum(text[i]) {
			i++
			continue
		}
		j := i
		digit := false
		up := 0
		for j < len(text) && isASCIIAlnum(text[j]) {
			c := text[j]
			digit = digit || c >= '0' && c <= '9'
			if c >= 'A' && c <= 'Z' {
				up++
			}
			j++
		}
		w := text[i:j]
		i = j
		if digit || len(w) < 2 || up == len(w) && capsAcronyms[w] {
			continue
		}
		words++
		letters += len(w)
		upper += up
	}
	return words >= 3 && upper*10 >= letters*7
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
