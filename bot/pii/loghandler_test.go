package pii_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot/pii"
)

// TestLogHandlerMasksEveryPlace logs personal data in each place a caller
// can put it and checks that none reaches the output, in both formats.
func TestLogHandlerMasksEveryPlace(t *testing.T) {
	const (
		phone   = "13812345678"
		email   = "lin.xiaoyu@example.com"
		address = "上海市徐汇区示例路88弄6号1202室"
		idCard  = "11010519491231002X"
	)
	type profile struct{ Phone, Address string }
	cases := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"message", func(l *slog.Logger) { l.Info("shopper wrote " + phone) }},
		{"string attr", func(l *slog.Logger) { l.Info("turn", "text", "call me at "+phone) }},
		{"error attr", func(l *slog.Logger) {
			l.Warn("failed", "err", fmt.Errorf("order for %s: %w", email, errors.New("boom")))
		}},
		{"struct attr", func(l *slog.Logger) { l.Info("profile", "p", profile{Phone: phone, Address: address}) }},
		{"group", func(l *slog.Logger) { l.Info("x", slog.Group("shopper", "email", email, "id", idCard)) }},
		{"with attrs", func(l *slog.Logger) { l.With("address", address).Info("ready") }},
		{"with group", func(l *slog.Logger) { l.WithGroup("g").Info("x", "phone", phone) }},
		{"stringer", func(l *slog.Logger) { l.Info("x", "v", stringer(address)) }},
	}
	for _, format := range []string{"text", "json"} {
		for _, c := range cases {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				var buf bytes.Buffer
				var h slog.Handler = slog.NewTextHandler(&buf, nil)
				if format == "json" {
					h = slog.NewJSONHandler(&buf, nil)
				}
				c.log(slog.New(pii.NewLogHandler(h)))
				out := buf.String()
				for _, secret := range []string{phone, email, address, idCard, "示例路88弄"} {
					if strings.Contains(out, secret) {
						t.Errorf("log line carries %q: %s", secret, out)
					}
				}
				if !strings.Contains(out, "[") {
					t.Errorf("no placeholder in %s", out)
				}
			})
		}
	}
}

// TestLogHandlerKeepsOrdinaryValues checks that masking leaves everything
// else readable: ids, counts, durations and levels.
func TestLogHandlerKeepsOrdinaryValues(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(pii.NewLogHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l.Debug("hidden")
	l.Info("handoff requested", "conversation", "c_8f3a", "position", 3, "ok", true)
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("debug record passed an info level: %s", out)
	}
	for _, want := range []string{`msg="handoff requested"`, "conversation=c_8f3a", "position=3", "ok=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s: %s", want, out)
		}
	}
	if !l.Handler().Enabled(context.Background(), slog.LevelWarn) {
		t.Error("warn not enabled")
	}
}

func TestRedact(t *testing.T) {
	got := pii.Redact("手机 13812345678，邮箱 a.b@example.com")
	if got != "手机 [PHONE]，邮箱 [EMAIL]" {
		t.Errorf("Redact = %q", got)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }
