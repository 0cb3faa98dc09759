package bot

// Message keys of the bot's fixed replies.
const (
	msgInternalError = iota
	msgGreeting
	msgGreetingNamed
	msgThanks
	msgBye
	msgUnsure
	msgUnsureSuggest
	msgTalkToPerson
	msgLoginForOrders
	msgNoOrders
	msgOrderNotFound
	msgOrdersIntro
	msgOnlyPastOrders
	msgCannotHelp
	msgHandoffIntro
	msgUnsureTwice
	msgUpsetIntro
	msgSensitiveIntro
	msgGreetingFormal
	msgRecommendPersonal
	msgRecommendGeneral
	msgRecommendNone
	msgRecommendConsent
	msgCloseRecommend
	msgNextStepReturn
	msgNextStepLastDay
	msgChipReturn
	msgChipRecommend
)

// replies holds every fixed reply in zh-CN and en. Format verbs are filled
// by the caller.
var replies = map[int][2]string{
	msgInternalError: {"抱歉，系统开了个小差，请稍后再发一次。", "Sorry, something went wrong on our side. Please send that again in a moment."},
	msgGreeting: {"您好！我是小二，商城的 AI 客服。可以帮您查订单、解答退换货、配送、发票、会员等问题。",
		"Hi! I'm Xiaoer, the shop's AI assistant. I can look up your orders and answer questions about returns, shipping, invoices, membership and more."},
	msgGreetingNamed: {"%s，您好！我是小二，商城的 AI 客服。可以帮您查订单、解答退换货、配送、发票、会员等问题。",
		"Hi %s! I'm Xiaoer, the shop's AI assistant. I can look up your orders and answer questions about returns, shipping, invoices, membership and more."},
	msgThanks: {"不客气！还有其他问题随时找我。", "You're welcome! Ask me anytime if anything else comes up."},
	msgBye:    {"感谢光临，祝您购物愉快，再见！", "Thanks for visiting, and happy shopping. Goodbye!"},
	msgUnsure: {"抱歉，这个问题我还不太确定，不想给您错误的答复。您可以换个说法，或者转人工客服。",
		"Sorry, I'm not sure about that, and I'd rather not guess. You could rephrase it, or talk to a person."},
	msgUnsureSuggest: {"抱歉，这个问题我还不太确定。您想问的是不是下面这些？也可以转人工客服。",
		"Sorry, I'm not sure I understood. Did you mean one of these? You can also talk to a person."},
	msgTalkToPerson: {"转人工", "Talk to a person"},
	msgLoginForOrders: {"查询订单需要先登录商城账号。登录后我只会显示您本人的订单；您也可以在“我的订单”页面查看物流。",
		"Please log in to the shop first so I can look up your orders: I only ever show orders to their owner. You can also follow your parcels under My Orders."},
	msgNoOrders:       {"您的账户里还没有订单。", "There are no orders in your account yet."},
	msgOrderNotFound:  {"在您的账户中没有找到订单 %s，请核对订单号；所有订单都可以在“我的订单”中查看。", "I couldn't find order %s in your account. Please check the number; all your orders are listed under My Orders."},
	msgOrdersIntro:    {"为您找到以下订单：", "Here is what I found:"},
	msgOnlyPastOrders: {"您目前没有进行中的订单，这是最近的一笔：", "You have no orders in progress; here is your most recent one:"},
	msgCannotHelp: {"抱歉，这个我无法提供。还有其他可以帮您的吗？也可以转人工客服。",
		"Sorry, I can't help with that. Is there anything else I can do for you? You can also talk to a person."},
	msgHandoffIntro: {"我来为您转接人工客服。", "Let me get a person to help you with this."},
	msgUnsureTwice: {"抱歉，我还是没能帮上忙。我来为您转接人工客服。",
		"Sorry, I still can't help with that. Let me get a person for you."},
	msgUpsetIntro: {"非常抱歉给您带来了不好的体验。我马上为您转接人工客服，由专人为您处理。",
		"I'm really sorry about this. Let me get a person to sort it out for you right away."},
	msgSensitiveIntro: {"这件事需要由人工客服为您处理，我这就为您转接。",
		"This is something a person on our team needs to handle. Let me connect you."},
	msgGreetingFormal: {"%s，您好！我是小二，商城的 AI 客服。可以帮您查订单、解答退换货、配送、发票、会员等问题。",
		"Good day, %s. I'm Xiaoer, the shop's AI assistant. I can look up your orders and answer questions about returns, shipping, invoices, membership and more."},
	msgRecommendPersonal: {"根据您的兴趣和购买记录，为您挑了几件：", "Based on your interests and what you've bought, you might like these:"},
	msgRecommendGeneral:  {"这几件是店里的热门好物：", "Here are a few popular picks from the shop:"},
	msgRecommendNone:     {"暂时没有可以推荐的商品。", "I have nothing to recommend right now."},
	msgRecommendConsent: {"如需按您的喜好推荐，请在菜单中打开“个性化推荐”。",
		" For suggestions based on your interests, turn on personalised recommendations in the menu."},
	msgCloseRecommend: {"临走前，也许您会喜欢这些：", "Before you go, you might like these:"},
	msgNextStepReturn: {"这笔订单的七天无理由退货还剩 %d 天（至 %s 24:00）；用得满意的话，欢迎在订单页评价或一键再次购买。",
		"You have %d days left to return it without reason (until the end of %s). Happy with it? You can leave a review or buy it again from the order page."},
	msgNextStepLastDay: {"今天是这笔订单七天无理由退货的最后一天（至 24:00）；用得满意的话，欢迎在订单页评价或一键再次购买。",
		"Today is the last day to return it without reason. Happy with it? You can leave a review or buy it again from the order page."},
	msgChipReturn:    {"我要退货", "I want to return it"},
	msgChipRecommend: {"有什么推荐", "Recommend something"},
}

// text returns the reply with the given key in lang ("zh" or "en").
func text(lang string, key int) string {
	r := replies[key]
	if lang == "en" {
		return r[1]
	}
	return r[0]
}

// starterQuestions are offered as chips after a greeting or when the bot
// has nothing better to suggest.
var starterQuestions = map[string][]string{
	"zh": {"我的订单到哪了", "如何申请七天无理由退货", "多久能发货", "怎么开发票"},
	"en": {"Where is my order?", "How do I return an item?", "How long does shipping take?", "How do I get an invoice?"},
}
