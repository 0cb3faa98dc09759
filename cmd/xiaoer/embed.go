package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/xiaoer-cs/xiaoer/knowledge"
	"github.com/xiaoer-cs/xiaoer/knowledge/embedding"
)

// embedFlags are the settings of the optional embeddings endpoint.
type embedFlags struct {
	baseURL, model *string
	dimensions     *int
	similarity     *float64
}

func addEmbedFlags(fs *flag.FlagSet, getenv func(string) string) embedFlags {
	dims, _ := strconv.Atoi(envOr(getenv, "XIAOER_EMBED_DIMENSIONS", "0"))
	sim, _ := strconv.ParseFloat(envOr(getenv, "XIAOER_EMBED_SIMILARITY", "0"), 64)
	return embedFlags{
		baseURL: fs.String("embed-url", envOr(getenv, "XIAOER_EMBED_BASE_URL", ""),
			"OpenAI-compatible embeddings endpoint, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1; empty: keyword search only (env XIAOER_EMBED_BASE_URL)"),
		model: fs.String("embed-model", envOr(getenv, "XIAOER_EMBED_MODEL", ""),
			"embedding model, e.g. text-embedding-3-small or bge-m3 (env XIAOER_EMBED_MODEL)"),
		dimensions: fs.Int("embed-dimensions", dims, "ask the model for vectors this long, if it supports it; 0: its default (env XIAOER_EMBED_DIMENSIONS)"),
		similarity: fs.Float64("embed-similarity", sim,
			"cosine similarity at which a dense match alone is answered; 0: 0.8; calibrate per model with kb eval (env XIAOER_EMBED_SIMILARITY)"),
	}
}

// apiKey returns an endpoint's key: the environment variable named prefix,
// the file named by prefix_FILE, or OPENAI_API_KEY, in that order. Keys
// come from the environment or a file, never from a flag.
func apiKey(getenv func(string) string, prefix, what string) (string, error) {
	key := strings.TrimSpace(getenv(prefix))
	if path := strings.TrimSpace(getenv(prefix + "_FILE")); key == "" && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read the %s API key: %w", what, err)
		}
		key = strings.TrimSpace(string(b))
	}
	if key == "" {
		key = strings.TrimSpace(getenv("OPENAI_API_KEY"))
	}
	return key, nil
}

// embedder returns the embeddings client the flags ask for, or nil when
// none is configured. The API key comes from XIAOER_EMBED_API_KEY, the file
// named by XIAOER_EMBED_API_KEY_FILE, or OPENAI_API_KEY, never a flag.
func (f embedFlags) embedder(getenv func(string) string) (*embedding.Client, knowledge.DenseConfig, error) {
	cfg := knowledge.DenseConfig{AnswerSimilarity: *f.similarity}
	if *f.baseURL == "" {
		if *f.model != "" {
			return nil, cfg, usageError{"--embed-model needs --embed-url (XIAOER_EMBED_BASE_URL)"}
		}
		return nil, cfg, nil
	}
	if *f.model == "" {
		return nil, cfg, usageError{"--embed-url needs --embed-model (XIAOER_EMBED_MODEL)"}
	}
	if s := *f.similarity; s < 0 || s >= 1 {
		return nil, cfg, usageError{fmt.Sprintf("--embed-similarity %v: want a number between 0 and 1", s)}
	}
	key, err := apiKey(getenv, "XIAOER_EMBED_API_KEY", "embeddings")
	if err != nil {
		return nil, cfg, err
	}
	c, err := embedding.New(embedding.Config{BaseURL: *f.baseURL, APIKey: key, Model: *f.model, Dimensions: *f.dimensions})
	if err != nil {
		return nil, cfg, usageError{err.Error()}
	}
	return c, cfg, nil
}
