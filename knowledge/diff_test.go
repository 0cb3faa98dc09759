package knowledge

import (
	"reflect"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	a := Entry{ID: "x", Locale: "zh-CN", Question: "如何申请退货", Alternates: []string{"怎么退", "能退吗"},
		Answer: "Returns within 7 days of delivery.", Category: "returns", Tags: []string{"policy"}}
	b := a
	b.Question = "如何申请七天无理由退货"
	b.Alternates = []string{"能退吗", "七天无理由怎么退"}
	b.Answer = "Returns within 7 days of signing for the parcel."
	b.Tags = []string{"policy", "legal"}
	b.Disabled = true

	got := Diff(a, b)
	var fields []string
	for _, d := range got {
		fields = append(fields, d.Field)
	}
	if want := []string{"question", "alternates", "answer", "tags", "disabled"}; !reflect.DeepEqual(fields, want) {
		t.Fatalf("changed fields = %v, want %v", fields, want)
	}
	if want := []DiffOp{{"=", "如何申请"}, {"+", "七天无理由"}, {"=", "退货"}}; !reflect.DeepEqual(got[0].Ops, want) {
		t.Errorf("question ops = %v, want %v", got[0].Ops, want)
	}
	if !reflect.DeepEqual(got[1].Removed, []string{"怎么退"}) || !reflect.DeepEqual(got[1].Added, []string{"七天无理由怎么退"}) {
		t.Errorf("alternates diff = %+v", got[1])
	}
	// The answer's ops rebuild both texts.
	var old, new strings.Builder
	for _, op := range got[2].Ops {
		if op.Op != "+" {
			old.WriteString(op.Text)
		}
		if op.Op != "-" {
			new.WriteString(op.Text)
		}
	}
	if old.String() != a.Answer || new.String() != b.Answer {
		t.Errorf("answer ops rebuild %q / %q", old.String(), new.String())
	}
	if !strings.Contains(opsText(got[2].Ops, "-"), "delivery") || !strings.Contains(opsText(got[2].Ops, "+"), "signing") {
		t.Errorf("answer ops = %v: want delivery removed and signing added", got[2].Ops)
	}
	if len(Diff(a, a)) != 0 {
		t.Errorf("an entry differs from itself")
	}
}

func opsText(ops []DiffOp, op string) string {
	var b strings.Builder
	for _, o := range ops {
		if o.Op == op {
			b.WriteString(o.Text)
		}
	}
	return b.String()
}

func TestDiffLongTextFallsBackToWhole(t *testing.T) {
	a := strings.Repeat("word ", 3000)
	b := strings.Repeat("other ", 3000)
	ops := diffText(a, b)
	if len(ops) != 2 || ops[0].Text != a || ops[1].Text != b {
		t.Errorf("long diff = %d ops, want the texts removed and added whole", len(ops))
	}
}
