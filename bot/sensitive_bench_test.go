package bot

import "testing"

// BenchmarkSensitiveMatter: every turn checks the text for a sensitive
// matter before answering.
func BenchmarkSensitiveMatter(b *testing.B) {
	for _, c := range []struct {
		name string
		qs   []string
	}{
		{"zh", []string{"如何申请七天无理由退货", "我的订单什么时候发货", "会员积分怎么用，可以抵扣运费吗"}},
		{"en", []string{"How long does shipping take to Shanghai?", "Can I pay with Alipay or WeChat Pay when I check out my order?", "how do I return an item"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				sensitiveMatter(c.qs[i%len(c.qs)])
			}
		})
	}
}
