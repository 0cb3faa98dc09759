package bot

import "testing"

func TestSensitiveMatter(t *testing.T) {
	tests := []struct{ text, want string }{
		// Nothing sensitive.
		{"我的订单到哪了", ""},
		{"Where is my order?", ""},
		{"Thanks!", ""},

		// Safety: an injury or a reaction that happened.
		{"用了以后过敏了，脸都肿了", SensitiveSafety},
		{"擦完脸上起了过敏反应", SensitiveSafety},
		{"孩子被烫伤了", SensitiveSafety},
		{"充电器起火了", SensitiveSafety},
		{"手机电池爆炸了", SensitiveSafety},
		{"这个插座漏电", SensitiveSafety},
		{"吃了以后食物中毒", SensitiveSafety},
		{"My son was injured by the toy", SensitiveSafety},
		{"the charger caught fire", SensitiveSafety},
		{"I had an allergic reaction to this cream", SensitiveSafety},
		{"it gave me a severe allergic reaction", SensitiveSafety},
		{"the kettle burned my hand", SensitiveSafety},
		{"the battery exploded", SensitiveSafety},
		{"got an electric shock from the lamp", SensitiveSafety},
		{"this toy is a choking hazard", SensitiveSafety},
		{"we had to go to the hospital", SensitiveSafety},
		// ...not a question about allergens or a figure of speech.
		{"allergy information for this cream", ""},
		{"Is this cream OK if I'm allergic to nuts?", ""},
		{"这款面霜有过敏原吗", ""},
		{"敏感肌用了会过敏吗", ""},
		{"I got a shock when I saw the price", ""},

		// Legal.
		{"我要找律师", SensitiveLegal},
		{"我要起诉你们", SensitiveLegal},
		{"再不处理我就打12315", SensitiveLegal},
		{"I'll sue you", SensitiveLegal},
		{"I'm going to take you to court", SensitiveLegal},
		{"see you in court", SensitiveLegal},
		{"my lawyer will contact you", SensitiveLegal},
		{"I will take legal action", SensitiveLegal},
		// ...not shoes, a name or a number that contains 12315.
		{"Do you sell court shoes?", ""},
		{"Is this a good shoe for the tennis court?", ""},
		{"My sister Sue will pick it up", ""},
		{"订单 XE2012315998 到哪了", ""},

		// Payment disputes.
		{"我被扣了两次款", SensitivePayment},
		{"怎么重复扣款了", SensitivePayment},
		{"信用卡被盗刷了", SensitivePayment},
		{"I was charged twice", SensitivePayment},
		{"you double charged me", SensitivePayment},
		{"there's an unauthorized charge on my card", SensitivePayment},
		{"someone used it: fraud on my card", SensitivePayment},
		{"I want to dispute the charge", SensitivePayment},
		{"I'll file a chargeback", SensitivePayment},
		// ...not an ordinary payment or refund question.
		{"my card was charged", ""},
		{"When will my card be charged?", ""},
		{"退款没到账", ""}, // a refund's status is the bot's to look up

		// Data deletion.
		{"请删除我的个人信息", SensitiveDataDeletion},
		{"我要注销账号", SensitiveDataDeletion},
		{"please delete my data", SensitiveDataDeletion},
		{"erase my personal data", SensitiveDataDeletion},
		{"close my account", SensitiveDataDeletion},
		{"This is a GDPR request", SensitiveDataDeletion},
		// ...not the cart or an address.
		{"how do I delete an item from my cart", ""},
		{"删除购物车里的商品", ""},
		{"how do I remove my address", ""},

		// Complaints, including asking for the complaints line.
		{"我要投诉", SensitiveComplaint},
		{"投诉电话是多少", SensitiveComplaint},
		{"我要举报你们", SensitiveComplaint},
		{"I want to file a complaint", SensitiveComplaint},
		{"I'd like to make a formal complaint", SensitiveComplaint},
		{"I want to complain", SensitiveComplaint},
		{"What's your complaints number?", SensitiveComplaint},
		// ...not praise or a denial.
		{"No complaints, great service!", ""},
		{"I can't complain, thanks", ""},
		{"我不是要投诉，只是问问", ""},

		// Priority: safety > legal > payment_dispute > data_deletion > complaint.
		{"充电器起火了，我要起诉你们", SensitiveSafety},
		{"我去消协投诉你们", SensitiveLegal},
		{"I was charged twice, my lawyer will call you", SensitiveLegal},
		{"charged twice, I want to file a complaint", SensitivePayment},
		{"delete my data or I will complain", SensitiveDataDeletion},
	}
	for _, tt := range tests {
		if got := sensitiveMatter(tt.text); got != tt.want {
			t.Errorf("sensitiveMatter(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestSensitiveMatterMixedScripts: the patterns are split by script, and a
// text in both scripts still meets the patterns of each.
func TestSensitiveMatterMixedScripts(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"我要找 lawyer 告你们", SensitiveLegal},
		{"我要找lawyer", SensitiveLegal},
		{"I will call 12315 about this", SensitiveLegal},
		{"打12315", SensitiveLegal},
		{"My card was CHARGED TWICE 两次", SensitivePayment},
		{"GDPR 删除", SensitiveDataDeletion},
		{"no complaints, 谢谢", ""},
		{"订单 XE2026051388 到哪了", ""},
	} {
		if got := sensitiveMatter(c.text); got != c.want {
			t.Errorf("sensitiveMatter(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}
