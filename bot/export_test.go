package bot

import (
	"context"
	"log/slog"

	"github.com/xiaoer-cs/xiaoer/bot/llm"
)

// Exports for the external tests (package bot_test), which use the real
// SQLite store: package bot's own tests cannot import bot/sqlite.

type ToolOutcome = toolOutcome

func (b *Bot) RunTool(ctx context.Context, t Turn, name, arguments string, log *slog.Logger) ToolOutcome {
	return b.runTool(ctx, t, name, arguments, log)
}

func ToolDefinitions() []llm.Tool { return toolDefinitions() }

// NoAnswerForTest is the word the model is told to reply when nothing answers.
const NoAnswerForTest = noAnswer
