package pii

import "testing"

// benchText is about 500 bytes of a typical mixed turn.
const benchText = "您好，我想查一下订单 XE2026051388 的物流，还没收到。" +
	"收货地址是上海市浦东新区世纪大道100号，电话 138 0013 8000。" +
	"Also my e-mail is jane.doe@example.com, and the backup address is " +
	"42 Baker St, Apt 5B. 退款请退到卡号 6222 0212 3456 7890 128。" +
	"客服热线 400-820-8820 打不通，7天无理由退货可以吗？" +
	"The parcel was shipped from Shanghai on 2026-05-13, tracking 773123456789, " +
	"please call me before 6 pm. 谢谢！"

func BenchmarkMask(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		NewMasker().Mask(benchText)
	}
}
