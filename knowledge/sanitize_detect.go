package knowledge

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What Sanitize flags without changing: instruction-like text, Markdown
// images and links to anything but http(s).

// instructionsEN match in a lower-cased copy of the text with full-width
// letters folded, "*", "`" and "~" dropped, "_" a space and white space
// collapsed to one space. The "ignore ..." patterns match inside a word too,
// as hidden text is often glued to the text before it ("OKIgnore all...").
var instructionsEN = compileAll(
	`(?:ignore|disregard|forget|bypass|override|skip)\b(?: \S+){0,3}? (?:previous|prior|above|earlier|preceding|foregoing|former|initial|original|system|all|any|your|these|those)\b(?: \S+){0,2}? (?:instructions?|prompts?|rules|directions?|guidelines|messages?|context|commands?|constraints|restrictions|programming)\b`,
	`(?:ignore|disregard|forget) (?:(?:everything|all|anything|the|what was|what is) )*(?:(?:said|written|stated) )?(?:above|before|so far)\b`,
	`\b(?:ignore|disregard|forget|override|bypass|reveal|show|print|output|repeat|display|leak|dump|share|tell me|give me|what is|what are|what's)\b.{0,30}\b(?:system prompt|system message|initial instructions?|hidden instructions?|original instructions?|your instructions|your prompt)\b`,
	`\bsystem prompt\b`,
	`\byou are now\b`,
	`\bfrom now on,? you\b`,
	`\b(?:act|behave|respond) as (?:a|an|if|though|my|the|dan)\b`,
	`\bpretend (?:to be|you are|you're|that you)\b`,
	`\brole ?-?play as\b`,
	`\bnew (?:instructions?|rules|system prompt) ?:`,
	`\b(?:developer|dan|god|jailbreak|unrestricted) mode\b`,
	`\bjailbr[eo]a?k`,
	`\bdo anything now\b`,
	`<\| ?(?:im start|im end|system|user|assistant|endoftext) ?\|>|\[/?inst\]|<</?sys>>`,
)

// instructionsZH match in a copy of the text with full-width letters
// folded, ASCII lower-cased, and white space, punctuation and symbols
// dropped, so "忽 略，之前的「指令」" reads "忽略之前的指令".
var instructionsZH = compileAll(
	`(?:忽略|无视|忽视|不要理会|别理会|不用理会|不要管|别管|跳过|忘记|忘掉|忘了|抛开|抛弃|丢弃|违背|绕过|覆盖)掉?(?:你|我)?(?:之前|以前|此前|先前|前面|上面|以上|上述|前述|原来|原有|原先|原始|最初|所有|全部|一切|任何|你的|系统|给你|收到)+.{0,8}?(?:指令|指示|规则|提示|设定|要求|命令|约束|限制|说明|规定|对话|内容|信息|消息)`,
	`你现在(?:是|扮演|作为|变成|成为|就是|的身份)`,
	`从现在(?:开始|起)你`,
	`扮演`,
	`假装(?:你是|自己是|成为|是)`,
	`(?:输出|显示|打印|告诉我|泄露|透露|重复|展示|给出|说出|列出|复述|发给我|写出)(?:一下)?(?:你的|你)?.{0,6}?(?:系统提示|系统指令|系统消息|系统设定|初始指令|原始指令|提示词|prompt)`,
	`系统提示词`,
	`(?:开发者|上帝|越狱|无限制)模式`,
	`越狱`,
	`不受(?:任何)?(?:限制|约束)`,
	`新的?指令`,
)

func compileAll(exprs ...string) []*regexp.Regexp {
	res := make([]*regexp.Regexp, len(exprs))
	for i, e := range exprs {
		res[i] = regexp.MustCompile(e)
	}
	return res
}

// foldedText is a copy of a text made for matching, with the byte span of
// the original each of its bytes came from.
type foldedText struct {
	s          string
	start, end []int
}

func fold(s string, zh bool) foldedText {
	var (
		b          strings.Builder
		start, end []int
		lastSpace  = true
	)
	emit := func(c rune, from, to int) {
		n := utf8.RuneLen(c)
		b.WriteRune(c)
		for range n {
			start = append(start, from)
			end = append(end, to)
		}
	}
	for i, c := range s {
		to := i + utf8.RuneLen(c)
		switch {
		case 0xFF01 <= c && c <= 0xFF5E: // full-width ASCII
			c -= 0xFEE0
		case c == 0x3000:
			c = ' '
		}
		c = unicode.ToLower(c)
		if zh {
			if unicode.IsSpace(c) || unicode.IsPunct(c) || unicode.IsSymbol(c) {
				continue
			}
			emit(c, i, to)
			continue
		}
		switch {
		case c == '*' || c == '`' || c == '~':
			continue
		case c == '_' || unicode.IsSpace(c):
			if !lastSpace {
				emit(' ', i, to)
			}
			lastSpace = true
			continue
		}
		lastSpace = false
		emit(c, i, to)
	}
	return foldedText{s: b.String(), start: start, end: end}
}

// findInstructions flags each stretch of s that matches an instruction-like
// pattern; overlapping matches are one flag.
func findInstructions(s string, r *recorder) {
	type span struct{ from, to int }
	var spans []span
	for _, set := range []struct {
		zh  bool
		res []*regexp.Regexp
	}{{false, instructionsEN}, {true, instructionsZH}} {
		f := fold(s, set.zh)
		for _, re := range set.res {
			for _, m := range re.FindAllStringIndex(f.s, -1) {
				if m[1] > m[0] {
					spans = append(spans, span{f.start[m[0]], f.end[m[1]-1]})
				}
			}
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	for i := 0; i < len(spans); {
		cur := spans[i]
		for i++; i < len(spans) && spans[i].from < cur.to; i++ {
			cur.to = max(cur.to, spans[i].to)
		}
		r.find(FlagInstructionLike, cur.from, s[cur.from:cur.to])
	}
}

/* ---------- Markdown images and links ---------- */

// mdLinkRe matches a Markdown link or image as the widget reads one
// (MD_LINK in widget.js): [text](target) or [text](<target> "title"), where
// the target may hold one level of parentheses, as in javascript:alert(1).
var mdLinkRe = regexp.MustCompile(`(!?)\[([^\[\]\n]{0,1000})\]\( *<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?: +"[^"\n]*")? *\)`)

// safeLinkTarget reports whether a Markdown link target is an http or
// https URL with a host, the only links the widget makes clickable.
func safeLinkTarget(target string) bool {
	t := strings.ToLower(target)
	for _, p := range []string{"https://", "http://"} {
		if rest, ok := strings.CutPrefix(t, p); ok {
			return rest != "" && rest[0] != '/'
		}
	}
	return false
}

// findMarkdownMedia flags Markdown images and links to anything but http(s).
func findMarkdownMedia(s string, r *recorder) {
	if !strings.Contains(s, "](") {
		return
	}
	for _, m := range mdLinkRe.FindAllStringSubmatchIndex(s, -1) {
		whole := s[m[0]:m[1]]
		switch {
		case m[3] > m[2]: // "!["
			r.find(FlagImage, m[0], whole)
		case !safeLinkTarget(s[m[6]:m[7]]):
			r.find(FlagUnsafeLink, m[0], whole)
		}
	}
}
