package main

import (
	"strings"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
)

// The scripted model of `xiaoer bench --fake-llm`: an OpenAI-compatible
// chat-completions endpoint (bot/llm/llmtest, real server-sent events) that
// answers every request with a short fixed answer, never a tool call, so
// that a load run measures Xiaoer with a model of known, fixed latency.
// Point the server at it with `serve --llm-url http://ADDR/v1 --llm-model
// NAME` (any name; no API key is needed); the server calls the model only
// for turns, never at start-up, and embeddings are a separate endpoint
// (--embed-url) that the load run leaves off.
//
// Each FAQ turn with a model is one call: the bot offers tools, the script
// answers in text, and a text answer ends the turn. Small talk and requests
// for a person are answered without the model.

// Scripted answers: each cites reference [1], as a grounded model does, so
// the bot keeps it (an answer that cites nothing is replaced by the bot's
// own unsure reply). fakeLLMMarker is in both, so the bench can tell the
// model's replies from the bot's own.
const (
	fakeLLMMarker = "(scripted)"
	fakeLLMTextEN = "Here is what the shop's policy says (scripted): the details are in the help centre, and our team replies within one working day [1]."
	fakeLLMTextZH = "根据本店的规定 (scripted)：详情请见帮助中心，客服会在一个工作日内回复 [1]。"
)

// fakeLLMChunks is how many chunks an answer streams in: the first after
// the latency, the rest --fake-llm-chunk-delay apart.
const fakeLLMChunks = 4

// fakeLLMScript answers after firstDelay (the time to the first token),
// then streams the rest of the answer in a few chunks, chunkDelay apart. A
// turn without a reference gets NO_ANSWER, as the bot's instructions ask
// of a model with nothing to go on.
func fakeLLMScript(firstDelay, chunkDelay time.Duration) llmtest.Script {
	en := splitInto(fakeLLMTextEN, fakeLLMChunks)
	zh := splitInto(fakeLLMTextZH, fakeLLMChunks)
	return func(r *llmtest.Received) llmtest.Reply {
		reply := llmtest.Reply{FirstDelay: firstDelay, ChunkDelay: chunkDelay, Chunks: en}
		grounded := false
		for _, m := range r.Messages {
			if strings.Contains(m.Content, `<reference n="1">`) {
				grounded = true
			}
			if strings.Contains(m.Content, "Reply language: Simplified Chinese") {
				reply.Chunks = zh
			}
		}
		if !grounded {
			reply.Chunks = []string{"NO_ANSWER"}
		}
		return reply
	}
}

// splitInto splits s into n pieces of about equal length in runes; joined
// they give s.
func splitInto(s string, n int) []string {
	rs := []rune(s)
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, string(rs[i*len(rs)/n:(i+1)*len(rs)/n]))
	}
	return out
}

// startFakeLLM starts the scripted model on addr.
func startFakeLLM(addr string, firstDelay, chunkDelay time.Duration) (*llmtest.Server, error) {
	return llmtest.Start(addr, fakeLLMScript(firstDelay, chunkDelay))
}
