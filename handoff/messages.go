package handoff

import (
	"fmt"
	"strings"
	"time"
)

// What the shopper is told, in zh-CN and en. Format verbs are filled by say.
const (
	sayQueued = iota
	sayAssigned
	sayAlreadyAssigned
	sayOffline
	sayOfflineHours
	sayTicket
	sayTicketEmail
	sayTicketPhone
	sayTicketOpen
	sayTransferred
	sayRequeued
	sayClosed
	sayRate
	sayAgentLeft
	sayAgentLeftTicket
	sayQueueClosed
)

var sayings = map[int][2]string{
	sayQueued: {"已为您转接人工客服，您目前排在第 %d 位，预计等待%s。",
		"I've asked a person to join. You are number %d in the queue; the wait is %s."},
	sayAssigned:        {"人工客服 %s 已接入，接下来由 TA 为您服务。", "%s, a customer service agent, has joined the chat."},
	sayAlreadyAssigned: {"您正在与人工客服 %s 对话，请直接留言。", "You are chatting with %s, one of our agents: go ahead."},
	sayOffline: {"目前暂无人工客服在线。请留下您的问题和联系方式，客服上线后会第一时间回复您。",
		"No agent is online right now. Leave your question and how to reach you, and an agent will reply as soon as they're back."},
	sayOfflineHours: {"现在不在人工服务时间（%s）。请留下您的问题和联系方式，客服上班后会第一时间回复您。",
		"Our agents are away now (service hours: %s). Leave your question and how to reach you, and an agent will reply as soon as they're back."},
	sayTicket:      {"已收到您的留言，客服上线后会在这里回复您，下次打开对话即可看到。", "Got your message. An agent will reply here; you'll see it next time you open the chat."},
	sayTicketEmail: {"已收到您的留言，客服会通过您留下的邮箱回复您，同时也会在这里回复。", "Got your message. An agent will reply by e-mail, and here too."},
	sayTicketPhone: {"已收到您的留言，客服会通过您留下的电话联系您，同时也会在这里回复。", "Got your message. An agent will call you back, and reply here too."},
	sayTicketOpen:  {"您的留言已在处理中，客服会尽快回复您。", "Your message is with our agents; they'll reply as soon as they can."},
	sayTransferred: {"已为您转接给人工客服 %s。", "You've been passed to %s, another of our agents."},
	sayRequeued:    {"正在为您转接其他客服，您目前排在第 %d 位，预计等待%s。", "I'm finding another agent for you. You are number %d in the queue; the wait is %s."},
	sayClosed: {"人工客服已结束本次对话。如还有问题，AI 助手小二随时为您服务。",
		"The agent has ended this chat. Xiaoer, the AI assistant, is here again if you need anything else."},
	sayAgentLeft: {"负责您的客服暂时离开了，正在为您转接其他客服，您目前排在第 %d 位，预计等待%s。",
		"Your agent had to step away. I'm finding you another one: you are number %d in the queue; the wait is %s."},
	sayAgentLeftTicket: {"负责您的客服暂时离开了，目前没有其他客服在线。您的问题已转为留言，客服上线后会在这里回复您。",
		"Your agent had to step away and nobody else is online right now. Your question is kept as a message; an agent will reply here."},
	sayQueueClosed: {"抱歉，现在没有客服可以接待您。您的问题已转为留言，客服上线后会在这里回复您，下次打开对话即可看到。",
		"Sorry, no agent can take your chat now. Your question is kept as a message; an agent will reply here, and you'll see it next time you open the chat."},
	sayRate: {"请为本次人工服务打个分吧（1–5 星）。", "How would you rate the help you got from our agent? (1–5 stars)"},
}

// say returns the saying key in lang ("zh" or "en") with args filled in.
func say(lang string, key int, args ...any) string {
	s := sayings[key][0]
	if lang == "en" {
		s = sayings[key][1]
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// waitText says an estimated wait in words.
func waitText(lang string, eta time.Duration) string {
	min := int((eta + 59*time.Second) / time.Minute)
	if lang == "en" {
		if min <= 1 {
			return "under a minute or two"
		}
		return fmt.Sprintf("about %d minutes", min)
	}
	if min <= 1 {
		return "一两分钟"
	}
	return fmt.Sprintf("约 %d 分钟", min)
}

var zhDays = strings.NewReplacer("mon", "周一", "tue", "周二", "wed", "周三", "thu", "周四", "fri", "周五",
	"sat", "周六", "sun", "周日", "closed", "休息", "-", "至", ";", "；")

// describe says the service hours in lang.
func (h *Hours) describe(lang string) string {
	if h == nil {
		return ""
	}
	if lang == "en" {
		return h.String()
	}
	// Day ranges read "周一至周五", times keep their dash.
	var parts []string
	for _, p := range strings.Split(h.spec, ";") {
		days, times, _ := strings.Cut(strings.TrimSpace(p), " ")
		parts = append(parts, zhDays.Replace(days)+" "+strings.ReplaceAll(times, "closed", "休息"))
	}
	return strings.Join(parts, "；") + "，" + h.Loc.String() + " 时间"
}
