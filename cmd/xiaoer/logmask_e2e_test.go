package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// TestLogsCarryNoPersonalData drives a shopper's personal data into the
// paths that log what a client or a model sent: a model that calls a tool
// whose name is the shopper's phone number and e-mail (the server logs
// unknown tool names), and a shopper who writes their phone, address and
// ID-card number. The server must still log the events, masked: the check
// in startServer's cleanup fails the test on any unmasked finding.
func TestLogsCarryNoPersonalData(t *testing.T) {
	const (
		phone = "13987654321"
		email = "zhang.wei@example.com"
	)
	model := llmtest.NewServer(t, func(r *llmtest.Received) llmtest.Reply {
		if len(r.ToolResults()) == 0 {
			return llmtest.Calls(llmtest.Call("tel"+phone, `{}`), llmtest.Call(email, `{}`))
		}
		return llmtest.Text("I could not do that; let me find someone who can.")
	})
	s := startServer(t, t.TempDir(), "--demo", "--llm-url", model.URL, "--llm-model", "scripted")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-cn")})
	if _, err := c.Ask(ctx, "我的手机 "+phone+"，地址上海市徐汇区示例路88弄6号1202室，身份证 11010519491231002X，帮我改一下收货信息"); err != nil {
		t.Fatal(err)
	}
	// The event was logged, with the data masked in place.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.Logs.String(), "model called an unknown tool") {
		if time.Now().After(deadline) {
			t.Fatalf("no log line for the unknown tool; logs:\n%s", s.Logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	deadline = time.Now().Add(10 * time.Second)
	for strings.Count(s.Logs.String(), "model called an unknown tool") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	line := grepLines(s.Logs.String(), "unknown tool")
	if !strings.Contains(line, "[PHONE]") || !strings.Contains(line, "[EMAIL]") {
		t.Errorf("the unknown tool's log line does not show the masked name: %s", line)
	}
}

// TestLoggerMasksBothFormats checks the logger every command builds.
func TestLoggerMasksBothFormats(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log, err := newLogger(&buf, format, "info")
		if err != nil {
			t.Fatal(err)
		}
		log.Info("shopper wrote 13812345678", "address", "北京市朝阳区示例路66号5号楼1203室", "email", "a.b@example.com")
		if strings.Contains(buf.String(), "13812345678") || strings.Contains(buf.String(), "示例路66号") || strings.Contains(buf.String(), "a.b@example.com") {
			t.Errorf("%s log carries personal data: %s", format, buf.String())
		}
	}
}
