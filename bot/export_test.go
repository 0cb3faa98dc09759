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

// EditInstructionsForTest replaces the instructions template of a bot with
// a model by edit(template); call it before the bot's first turn. The
// injection suite uses it to show that enforcement does not rest on a line
// of the prompt.
func EditInstructionsForTest(b *Bot, edit func(template string) string) {
	b.llm.instructions = edit(b.llm.instructions)
}
