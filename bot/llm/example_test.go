package llm_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xiaoer-cs/xiaoer/bot/llm"
)

// ExampleNew shows the configuration for the endpoints Xiaoer is meant to
// run against. Every one speaks OpenAI's chat-completions API; only the base
// URL, the model name and the key differ. BaseURL is always the part before
// "/chat/completions".
//
//   - OpenAI: BaseURL "https://api.openai.com/v1", Model e.g. "gpt-4o-mini",
//     APIKey from the OpenAI dashboard.
//   - DeepSeek: BaseURL "https://api.deepseek.com/v1", Model "deepseek-chat",
//     APIKey from platform.deepseek.com.
//   - Qwen (Alibaba Cloud Model Studio, OpenAI-compatible mode): BaseURL
//     "https://dashscope.aliyuncs.com/compatible-mode/v1" (international:
//     "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"), Model e.g.
//     "qwen-plus", APIKey the DashScope key.
//   - vLLM: start "vllm serve <model>" (add --enable-auto-tool-choice and a
//     --tool-call-parser for tool calls); BaseURL "http://127.0.0.1:8000/v1",
//     Model the served name, APIKey empty unless started with --api-key.
//   - Ollama: BaseURL "http://127.0.0.1:11434/v1", Model e.g. "qwen2.5:7b"
//     (pulled beforehand), APIKey empty.
//
// Local models are slower to the first token on a cold start; raise
// FirstTokenTimeout for them rather than lowering the retries.
func ExampleNew() {
	metrics := llm.NewMetrics(prometheus.NewRegistry()) // the server's registry in real use
	client, err := llm.New(llm.Config{
		BaseURL:         "https://api.deepseek.com/v1",
		Model:           "deepseek-chat",
		APIKey:          os.Getenv("XIAOER_LLM_API_KEY"),
		ReplyTimeout:    30 * time.Second,
		PriceInputPerM:  2, // CNY per million prompt tokens, say
		PriceOutputPerM: 8,
		Metrics:         metrics,
	}, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(client)
	// Output: llm https://api.deepseek.com/v1 model deepseek-chat
}

// ExampleClient_Stream streams a reply to a local Ollama model, showing each
// piece as it arrives.
func ExampleClient_Stream() {
	client, err := llm.New(llm.Config{BaseURL: "http://127.0.0.1:11434/v1", Model: "qwen2.5:7b"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := client.Stream(context.Background(), llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: "You are Xiaoer, the shop's assistant."},
		{Role: llm.RoleUser, Content: "我的订单什么时候发货？"},
	}}, func(text string) { fmt.Print(text) })
	if err != nil {
		fmt.Println("\nerror:", err) // errors.Is(err, llm.ErrTimeout) etc.
		return
	}
	fmt.Printf("\n%d tokens, cost %.6f\n", resp.Usage.Total(), client.Cost(resp.Usage))
}
