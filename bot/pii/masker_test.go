package pii

import "testing"

func TestRestore(t *testing.T) {
	m := NewMasker()
	masked := m.Mask("手机13800138000，邮箱zs@example.com")
	if want := "手机[PHONE_1]，邮箱[EMAIL_1]"; masked != want {
		t.Fatalf("Mask = %q, want %q", masked, want)
	}
	tests := []struct {
		name, reply, want string
	}{
		{"issued", "已为您登记 [PHONE_1] 和 [EMAIL_1]。", "已为您登记 13800138000 和 zs@example.com。"},
		{"invented number", "请拨打 [PHONE_7]", "请拨打 ***"},
		{"invented kind", "寄到 [ADDRESS_1]", "寄到 ***"},
		{"not a placeholder", "[PHONE] [phone_1] [PHONE_01] [x]", "[PHONE] [phone_1] [PHONE_01] [x]"},
		{"partial", "[PHONE_1", "[PHONE_1"},
		{"no brackets", "plain text 13800138000", "plain text 13800138000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.Restore(tc.reply); got != tc.want {
				t.Errorf("Restore(%q) = %q, want %q", tc.reply, got, tc.want)
			}
		})
	}
}

func TestMaskSameValueSamePlaceholder(t *testing.T) {
	m := NewMasker()
	first := m.Mask("13800138000")
	second := m.Mask("again: 13800138000, new: 13912345678")
	if first != "[PHONE_1]" || second != "again: [PHONE_1], new: [PHONE_2]" {
		t.Errorf("got %q then %q, want [PHONE_1] then again: [PHONE_1], new: [PHONE_2]", first, second)
	}
}

func TestKnown(t *testing.T) {
	tests := []struct {
		name        string
		kind, value string
		in, want    string
	}{
		{"address without number", KindAddress, "上海市浦东新区世纪大道", "送到上海市浦东新区世纪大道附近", "送到[ADDRESS_1]附近"},
		{"full address", KindAddress, "上海市浦东新区世纪大道100号", "上海市浦东新区世纪大道100号5楼", "[ADDRESS_1]5楼"},
		{"odd phone", KindPhone, "1-800-FLOWERS", "call 1-800-FLOWERS now", "call [PHONE_1] now"},
		{"email", KindEmail, "zs@example.com", "zs@example.com", "[EMAIL_1]"},
		{"trimmed", KindAddress, "  Rose Cottage  ", "at Rose Cottage.", "at [ADDRESS_1]."},
		{"too short ignored", KindAddress, "王五", "王五你好", "王五你好"},
		{"unknown kind ignored", "NAME", "Zhang San", "Zhang San", "Zhang San"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMasker()
			m.Known(tc.kind, tc.value)
			got := m.Mask(tc.in)
			if got != tc.want {
				t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if back := m.Restore(got); back != tc.in {
				t.Errorf("Restore(%q) = %q, want %q", got, back, tc.in)
			}
		})
	}
}

func TestKnownLongestFirst(t *testing.T) {
	m := NewMasker()
	m.Known(KindAddress, "世纪大道")
	m.Known(KindAddress, "上海市浦东新区世纪大道")
	if got, want := m.Mask("上海市浦东新区世纪大道；世纪大道"), "[ADDRESS_1]；[ADDRESS_2]"; got != want {
		t.Errorf("Mask = %q, want %q", got, want)
	}
}

func TestIsPlaceholderPrefix(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"[", true},
		{"[PH", true},
		{"[PHONE", true},
		{"[PHONE_", true},
		{"[PHONE_1", true},
		{"[ADDRESS_123456", true},
		{"[CARD_", true},
		{"[I", true},
		{"", false},
		{"[PHONE_1]", false},
		{"[PHONE_0", false},
		{"[PHONE_1234567", false},
		{"[PHONE_1a", false},
		{"[X", false},
		{"[phone", false},
		{"PHONE_1", false},
	}
	for _, tc := range tests {
		if got := IsPlaceholderPrefix(tc.s); got != tc.want {
			t.Errorf("IsPlaceholderPrefix(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestCutPartial(t *testing.T) {
	tests := []struct {
		s, ready, partial string
	}{
		{"请拨打 [PHO", "请拨打 ", "[PHO"},
		{"请拨打 [PHONE_1]", "请拨打 [PHONE_1]", ""},
		{"[PHONE_1] 或 [", "[PHONE_1] 或 ", "["},
		{"数组 [1, 2]", "数组 [1, 2]", ""},
		{"no bracket", "no bracket", ""},
	}
	for _, tc := range tests {
		ready, partial := CutPartial(tc.s)
		if ready != tc.ready || partial != tc.partial {
			t.Errorf("CutPartial(%q) = %q, %q; want %q, %q", tc.s, ready, partial, tc.ready, tc.partial)
		}
	}
}

func TestStreamingRestore(t *testing.T) {
	m := NewMasker()
	m.Mask("13800138000")
	var out, held string
	for _, chunk := range []string{"您的号码是 [PH", "ONE", "_1] 对", "吗？[", "PHONE_9]"} {
		var ready string
		ready, held = CutPartial(held + chunk)
		out += m.Restore(ready)
	}
	out += m.Restore(held)
	if want := "您的号码是 13800138000 对吗？***"; out != want {
		t.Errorf("streamed %q, want %q", out, want)
	}
}
