package pii

import "testing"

// goldenCases are texts and their masking by a fresh Masker. Positives and
// negatives in Chinese and English; the positives also round-trip.
var goldenCases = []struct {
	name, in, want string
}{
	// Phones.
	{"mobile", "我的手机13800138000", "我的手机[PHONE_1]"},
	{"mobile spaced", "电话 138 0013 8000 谢谢", "电话 [PHONE_1] 谢谢"},
	{"mobile +86 hyphens", "call +86-138-0013-8000", "call [PHONE_1]"},
	{"mobile 0086", "0086 139 1234 5678", "[PHONE_1]"},
	{"mobile 86 glued", "8613912345678", "[PHONE_1]"},
	{"mobile full-width", "手机１３８００１３８０００", "手机[PHONE_1]"},
	{"mobile after letters", "tel:13800138000.", "tel:[PHONE_1]."},
	{"landline Beijing", "座机010-12345678", "座机[PHONE_1]"},
	{"landline Shenzhen 7", "0755-1234567 转人工", "[PHONE_1] 转人工"},
	{"landline brackets", "（021）12345678", "[PHONE_1]"},
	{"landline glued", "02112345678", "[PHONE_1]"},
	{"international US", "my number is +1 650 253 0000", "my number is [PHONE_1]"},
	{"international UK", "+44 20 7946 0958", "[PHONE_1]"},
	{"same phone twice", "13800138000 或 13800138000", "[PHONE_1] 或 [PHONE_1]"},
	{"two phones", "13800138000 / 13912345678", "[PHONE_1] / [PHONE_2]"},
	{"400 hotline kept", "客服热线 400-820-8820", "客服热线 400-820-8820"},
	{"800 hotline kept", "call 800-820-8820 or 4008208820", "call 800-820-8820 or 4008208820"},
	{"order number kept", "订单XE2026051388已发货", "订单XE2026051388已发货"},
	{"12-digit run kept", "运单号 113800138000", "运单号 113800138000"},
	{"20-digit tracking kept", "tracking 12345678901234567890", "tracking 12345678901234567890"},
	{"short numbers kept", "买2件共199元, 2026-05-13 到货", "买2件共199元, 2026-05-13 到货"},
	{"non-Luhn 16 kept", "单号1234567890123456", "单号1234567890123456"},

	// E-mail.
	{"email", "邮箱 foo.bar+shop@example.com.cn 收", "邮箱 [EMAIL_1] 收"},
	{"email with phone local part", "13800138000@qq.com", "[EMAIL_1]"},
	{"email en", "Write to Jane_Doe@mail.example.org.", "Write to [EMAIL_1]."},
	{"at sign kept", "@客服 你好, price @ 5 USD", "@客服 你好, price @ 5 USD"},

	// ID cards.
	{"id X", "身份证11010519491231002X", "身份证[IDCARD_1]"},
	{"id lower x", "id 11010519491231002x ok", "id [IDCARD_1] ok"},
	{"id digits", "440524198001010014", "[IDCARD_1]"},
	{"id grouped", "110105 19491231 002X", "[IDCARD_1]"},
	{"18 digits no date kept", "123456789012345678 不是", "123456789012345678 不是"},

	// Bank cards.
	{"card contiguous", "卡号6222021234567890128", "卡号[CARD_1]"},
	{"card grouped", "card 4111 1111 1111 1111 exp", "card [CARD_1] exp"},
	{"card hyphens", "4111-1111-1111-1111", "[CARD_1]"},
	{"card amex", "3782 822463 10005", "[CARD_1]"},
	{"card 19 grouped", "6222 0212 3456 7890 128", "[CARD_1]"},

	// Chinese addresses.
	{"zh road", "地址是上海市浦东新区世纪大道100号，请尽快发货", "地址是[ADDRESS_1]，请尽快发货"},
	{"zh building room", "北京市朝阳区建国路88号SOHO现代城5号楼1203室", "[ADDRESS_1]"},
	{"zh spaced number", "寄到杭州市西湖区文三路 478 号", "寄到[ADDRESS_1]"},
	{"zh estate", "我住阳光小区3栋2单元501", "我住[ADDRESS_1]"},
	{"zh province", "广东省深圳市南山区科技园路1号A座2层", "[ADDRESS_1]"},
	{"zh lane", "上海市黄浦区南京东路100弄5号", "[ADDRESS_1]"},
	{"zh village", "浙江省湖州市安吉县天荒坪镇余村12号", "[ADDRESS_1]"},
	{"zh full-width number", "文三路４７８号", "[ADDRESS_1]"},
	{"zh city only kept", "上海发货，北京时间下午发出", "上海发货，北京时间下午发出"},
	{"zh warehouse kept", "浦东仓库已发出", "浦东仓库已发出"},
	{"zh district only kept", "上海市浦东新区的仓库", "上海市浦东新区的仓库"},
	{"zh road no number kept", "世纪大道附近有自提点", "世纪大道附近有自提点"},
	{"zh knowledge kept", "7天无理由退货，3号前发货", "7天无理由退货，3号前发货"},
	{"zh date kept", "5月3号到货，1号线地铁站", "5月3号到货，1号线地铁站"},

	// English addresses.
	{"en street", "Ship to 123 Main Street please", "Ship to [ADDRESS_1] please"},
	{"en apt", "42 Baker St, Apt 5B.", "[ADDRESS_1]."},
	{"en city zip", "1600 Amphitheatre Parkway, Mountain View, CA 94043", "[ADDRESS_1]"},
	{"en ordinal", "350 5th Avenue, New York, NY 10118", "[ADDRESS_1]"},
	{"en lower", "send it to 12 elm street", "send it to [ADDRESS_1]"},
	{"en uk", "221B Baker Street, London NW1 6XE", "[ADDRESS_1]"},
	{"en city only kept", "shipping to Shanghai takes 3 days", "shipping to Shanghai takes 3 days"},
	{"en phrase kept", "I need 2 for the road and 3 on the way", "I need 2 for the road and 3 on the way"},
	{"en quantity kept", "Order 12 Blue Shirts, size M", "Order 12 Blue Shirts, size M"},

	// Mixed and placeholders.
	{"mixed", "张三 13800138000 上海市浦东新区世纪大道100号 zs@example.com",
		"张三 [PHONE_1] [ADDRESS_1] [EMAIL_1]"},
	{"placeholders kept", "[PHONE_1] 和 [ADDRESS_2] 13912345678", "[PHONE_1] 和 [ADDRESS_2] [PHONE_1]"},
	{"empty", "", ""},
}

func TestMaskGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMasker()
			got := m.Mask(tc.in)
			if got != tc.want {
				t.Errorf("Mask(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if again := m.Mask(got); again != got {
				t.Errorf("Mask(Mask(%q)) = %q, want it unchanged", tc.in, again)
			}
		})
	}
}

func TestRestoreRoundTrip(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMasker()
			if got := m.Restore(m.Mask(tc.in)); got != tc.in && tc.name != "placeholders kept" {
				t.Errorf("Restore(Mask(%q)) = %q", tc.in, got)
			}
		})
	}
}

func TestFind(t *testing.T) {
	s := "电话13800138000，邮箱a@b.cn"
	got := Find(s)
	want := []Finding{
		{Kind: KindPhone, Value: "13800138000", Start: 6, End: 17},
		{Kind: KindEmail, Value: "a@b.cn", Start: 26, End: 32},
	}
	if len(got) != len(want) {
		t.Fatalf("Find(%q) = %+v, want %+v", s, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Find(%q)[%d] = %+v, want %+v", s, i, got[i], want[i])
		}
		if s[got[i].Start:got[i].End] != got[i].Value {
			t.Errorf("finding %d: offsets %d:%d do not hold %q", i, got[i].Start, got[i].End, got[i].Value)
		}
	}
}
