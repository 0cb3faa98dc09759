package bot

import "testing"

func TestInterestInName(t *testing.T) {
	tv := Product{NameEN: "Smart TV Stand", NameZH: "智能电视架"}
	shoes := Product{NameEN: "Cushioned Running Shoes", NameZH: "缓震跑步鞋"}
	for _, c := range []struct {
		interest string
		p        Product
		want     bool
	}{
		{"TV", shoes, false},     // a short word matches only as a whole word
		{"TV", tv, true},         // ...which it is here
		{"TVs", tv, true},        // plural ignored
		{"AI", shoes, false},     // not a substring of "Cushioned"
		{"a", shoes, false},      // no usable word: matches nothing
		{"!!", shoes, false},     // no word at all
		{"running", shoes, true}, // whole word
		{"shoe", shoes, true},    // plural ignored
		{"run", shoes, false},    // not a whole word
		{"跑步", shoes, true},      // Han as a substring of the Chinese name
		{"running TV", shoes, false},
	} {
		if got := interestInName(c.interest, c.p); got != c.want {
			t.Errorf("interestInName(%q, %q) = %v, want %v", c.interest, c.p.NameEN, got, c.want)
		}
	}
}
