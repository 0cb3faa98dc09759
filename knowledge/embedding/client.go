// Package embedding turns texts into vectors through an OpenAI-compatible
// embeddings endpoint (OpenAI, DeepSeek, Qwen's compatible mode, vLLM,
// Ollama, ...) with github.com/sashabaranov/go-openai. The knowledge base
// fuses the dense ranking it gives with keyword search when one is
// configured; without one, search is keyword-only.
package embedding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Config configures a Client. Zero values mean the documented defaults.
type Config struct {
	// BaseURL is the API root, e.g. https://api.openai.com/v1 or
	// http://127.0.0.1:11434/v1 (Ollama). Required.
	BaseURL string
	// APIKey is sent as a bearer token; local servers often need none.
	APIKey string
	// Model names the embedding model, e.g. text-embedding-3-small. Required.
	Model string
	// Dimensions asks models that support it for shorter vectors; zero
	// leaves the model's default.
	Dimensions int
	// BatchSize is how many texts go in one request; zero means 64.
	BatchSize int
	// Timeout bounds each request; zero means 30 s.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a client with no timeout of
	// its own (Timeout applies per request).
	HTTPClient *http.Client
}

// Client embeds texts. It is safe for concurrent use.
type Client struct {
	cfg Config
	api *openai.Client
}

// LogValue keeps the API key out of logs.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.cfg.BaseURL), slog.String("model", c.cfg.Model))
}

// New returns a client for the endpoint in cfg.
func New(cfg Config) (*Client, error) {
	cfg.BaseURL = strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	cfg.Model = strings.TrimSpace(cfg.Model)
	if cfg.BaseURL == "" || cfg.Model == "" {
		return nil, errors.New("embedding: a base URL and a model are required")
	}
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, fmt.Errorf("embedding: base URL %q must start with http:// or https://", cfg.BaseURL)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 64
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = cfg.BaseURL
	if cfg.HTTPClient != nil {
		oc.HTTPClient = cfg.HTTPClient
	}
	return &Client{cfg: cfg, api: openai.NewClientWithConfig(oc)}, nil
}

// Model is the embedding model's name; cached vectors are kept per model.
func (c *Client) Model() string { return c.cfg.Model }

// Embed returns one unit-length vector per text, in order. Texts are sent
// in batches; an empty text is embedded as a single space.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += c.cfg.BatchSize {
		batch := texts[start:min(start+c.cfg.BatchSize, len(texts))]
		vecs, err := c.embedBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func (c *Client) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	in := make([]string, len(texts))
	for i, t := range texts {
		// Newlines hurt some models (OpenAI's advice); empty input is refused.
		t = strings.Join(strings.Fields(t), " ")
		if t == "" {
			t = " "
		}
		in[i] = t
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	res, err := c.api.CreateEmbeddings(ctx, openai.EmbeddingRequestStrings{
		Input: in, Model: openai.EmbeddingModel(c.cfg.Model), Dimensions: c.cfg.Dimensions,
		EncodingFormat: openai.EmbeddingEncodingFormatFloat,
	})
	if err != nil {
		return nil, fmt.Errorf("embedding: %s: %w", c.cfg.Model, err)
	}
	if len(res.Data) != len(in) {
		return nil, fmt.Errorf("embedding: %s: asked for %d vectors, got %d", c.cfg.Model, len(in), len(res.Data))
	}
	out := make([][]float32, len(in))
	dim := -1
	for _, d := range res.Data {
		if d.Index < 0 || d.Index >= len(out) || out[d.Index] != nil {
			return nil, fmt.Errorf("embedding: %s: bad or repeated index %d in the answer", c.cfg.Model, d.Index)
		}
		if dim < 0 {
			dim = len(d.Embedding)
		}
		if len(d.Embedding) == 0 || len(d.Embedding) != dim {
			return nil, fmt.Errorf("embedding: %s: vectors of differing or zero length", c.cfg.Model)
		}
		out[d.Index] = normalize(d.Embedding)
	}
	return out, nil
}

// normalize scales v to unit length, so a dot product is the cosine.
func normalize(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(sum))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * inv
	}
	return out
}
