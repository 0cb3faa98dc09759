package knowledge

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// wordNetDir is where Debian's wordnet-base package puts the database.
const wordNetDir = "/usr/share/wordnet"

// readWordNet reads WordNet's index and data files for nouns, verbs,
// adjectives and adverbs and returns, for every single-word lemma, the other
// lemmas of its first senses (at most maxSenses, and only senses seen in
// WordNet's tagged corpus, tagsense_cnt). Multi-word lemmas are kept as
// space-separated phrases.
func readWordNet(tb testing.TB, dir string, maxSenses int) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	for _, pos := range []string{"noun", "verb", "adj", "adv"} {
		synsets := readWordNetData(tb, filepath.Join(dir, "data."+pos))
		f, err := os.Open(filepath.Join(dir, "index."+pos))
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, " ") {
				continue
			}
			fs := strings.Fields(line)
			if len(fs) < 6 || strings.Contains(fs[0], "_") {
				continue
			}
			lemma := fs[0]
			pcnt, _ := strconv.Atoi(fs[3])
			rest := fs[4+pcnt:]
			if len(rest) < 2 {
				continue
			}
			tagged, _ := strconv.Atoi(rest[1])
			offsets := rest[2:]
			n := min(len(offsets), maxSenses, max(tagged, 0))
			seen := map[string]bool{lemma: true}
			for _, s := range out[lemma] {
				seen[s] = true
			}
			for _, off := range offsets[:n] {
				for _, w := range synsets[off] {
					if !seen[w] {
						seen[w] = true
						out[lemma] = append(out[lemma], w)
					}
				}
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// readWordNetData maps each synset offset in a data file to its lemmas
// (lower case, underscores as spaces, adjective markers removed).
func readWordNetData(tb testing.TB, path string) map[string][]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, " ") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 5 {
			continue
		}
		n, err := strconv.ParseInt(fs[3], 16, 32)
		if err != nil {
			continue
		}
		var ws []string
		for i := 0; i < int(n) && 4+2*i < len(fs); i++ {
			w := strings.ToLower(fs[4+2*i])
			if j := strings.IndexByte(w, '('); j > 0 { // adjective marker: beautiful(a)
				w = w[:j]
			}
			ws = append(ws, strings.ReplaceAll(w, "_", " "))
		}
		out[fs[0]] = ws
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// readWordNetExceptions reads the irregular inflections of verbs and nouns
// (verb.exc, noun.exc): inflected form → base form (the first one listed).
func readWordNetExceptions(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, pos := range []string{"verb", "noun"} {
		b, err := os.ReadFile(filepath.Join(dir, pos+".exc"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			fs := strings.Fields(line)
			if len(fs) < 2 || strings.Contains(fs[0], "_") || strings.Contains(fs[1], "_") {
				continue
			}
			if _, ok := out[fs[0]]; !ok {
				out[fs[0]] = fs[1]
			}
		}
	}
	return out
}
