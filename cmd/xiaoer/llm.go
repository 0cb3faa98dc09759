package main

import (
	"flag"
	"log/slog"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/llm"
)

// llmFlags are serve's flags for the optional chat model.
type llmFlags struct {
	baseURL, model, shopName *string
	convBudget, dayBudget    *int64
	shopperBudget            *int64
	priceIn, priceOut        *float64
}

func addLLMFlags(fs *flag.FlagSet, getenv func(string) string) llmFlags {
	convBudget, _ := strconv.ParseInt(envOr(getenv, "XIAOER_LLM_CONVERSATION_TOKENS", "0"), 10, 64)
	dayBudget, _ := strconv.ParseInt(envOr(getenv, "XIAOER_LLM_DAILY_TOKENS", "0"), 10, 64)
	shopperBudget, _ := strconv.ParseInt(envOr(getenv, "XIAOER_LLM_SHOPPER_DAILY_TOKENS", "0"), 10, 64)
	priceIn, _ := strconv.ParseFloat(envOr(getenv, "XIAOER_LLM_PRICE_INPUT", "0"), 64)
	priceOut, _ := strconv.ParseFloat(envOr(getenv, "XIAOER_LLM_PRICE_OUTPUT", "0"), 64)
	return llmFlags{
		baseURL: fs.String("llm-url", envOr(getenv, "XIAOER_LLM_BASE_URL", ""),
			"OpenAI-compatible chat endpoint that phrases answers and calls tools, e.g. https://api.openai.com/v1, https://api.deepseek.com/v1, http://127.0.0.1:11434/v1; empty: answers without a model (env XIAOER_LLM_BASE_URL)"),
		model: fs.String("llm-model", envOr(getenv, "XIAOER_LLM_MODEL", ""),
			"chat model, e.g. gpt-4o-mini, deepseek-chat, qwen-plus, qwen2.5:7b (env XIAOER_LLM_MODEL)"),
		shopName: fs.String("shop-name", envOr(getenv, "XIAOER_SHOP_NAME", ""),
			"the shop's name, as the model introduces it (env XIAOER_SHOP_NAME)"),
		convBudget: fs.Int64("llm-conversation-tokens", convBudget,
			"token budget per conversation; over it, turns are answered without the model; 0: 60000, -1: none (env XIAOER_LLM_CONVERSATION_TOKENS)"),
		shopperBudget: fs.Int64("llm-shopper-daily-tokens", shopperBudget,
			"token budget per shopper (or visitor) per day, across their conversations; 0: 100000, -1: none (env XIAOER_LLM_SHOPPER_DAILY_TOKENS)"),
		dayBudget: fs.Int64("llm-daily-tokens", dayBudget,
			"token budget per day across all conversations; 0: 5000000, -1: none (env XIAOER_LLM_DAILY_TOKENS)"),
		priceIn: fs.Float64("llm-price-input", priceIn,
			"estimated price per million prompt tokens, for the cost figures (env XIAOER_LLM_PRICE_INPUT)"),
		priceOut: fs.Float64("llm-price-output", priceOut,
			"estimated price per million completion tokens (env XIAOER_LLM_PRICE_OUTPUT)"),
	}
}

// client returns the chat model the flags ask for, or nil when none is
// configured. The API key comes from XIAOER_LLM_API_KEY, the file named by
// XIAOER_LLM_API_KEY_FILE, or OPENAI_API_KEY, never a flag; it may be empty
// for a local server.
func (f llmFlags) client(getenv func(string) string, reg prometheus.Registerer, log *slog.Logger) (*llm.Client, *llm.Metrics, error) {
	if *f.baseURL == "" {
		if *f.model != "" {
			return nil, nil, usageError{"--llm-model needs --llm-url (XIAOER_LLM_BASE_URL)"}
		}
		return nil, nil, nil
	}
	if *f.model == "" {
		return nil, nil, usageError{"--llm-url needs --llm-model (XIAOER_LLM_MODEL)"}
	}
	key, err := apiKey(getenv, "XIAOER_LLM_API_KEY", "model")
	if err != nil {
		return nil, nil, err
	}
	metrics := llm.NewMetrics(reg)
	c, err := llm.New(llm.Config{
		BaseURL:         *f.baseURL,
		Model:           *f.model,
		APIKey:          key,
		PriceInputPerM:  *f.priceIn,
		PriceOutputPerM: *f.priceOut,
		Metrics:         metrics,
	}, log)
	if err != nil {
		return nil, nil, err
	}
	return c, metrics, nil
}

// botLLMConfig is the bot's model configuration from the flags.
func (f llmFlags) botConfig() bot.LLMConfig {
	return bot.LLMConfig{ShopName: *f.shopName, ConversationTokens: *f.convBudget, ShopperDailyTokens: *f.shopperBudget,
		DailyTokens: *f.dayBudget}
}
