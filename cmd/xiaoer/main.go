// Command xiaoer is the Xiaoer customer-service chatbot: one binary that
// serves the shopper chat, and the tools to load its knowledge base and sign
// shopper tokens.
//
//	xiaoer serve [--demo] [--addr 127.0.0.1:8080] [--data DIR]
//	xiaoer kb import [--data DIR] [--replace] [--dry-run] [--force] [--locale L] FILE.csv|FILE.json|FILE.md
//	xiaoer kb export [--data DIR] [--format csv|json|md] [--out FILE]
//	xiaoer kb eval [--data DIR] --queries FILE.csv
//	xiaoer token [--data DIR] --shopper ID [--ttl 1h]
//	xiaoer token [--data DIR] --service --name NAME | --revoke NAME | --list
//	xiaoer import [--data DIR] FILE.jsonl
//	xiaoer user add|list|passwd|disable|enable [--data DIR] ...
//	xiaoer bench [--url ws://HOST/ws/chat] [--shoppers N] [--rate R | --think D] [--idle M] ...
//	xiaoer version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // service hours in any zone, on hosts without zone files
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "xiaoer:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError marks a mistake in the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `usage: xiaoer <command> [flags]

commands:
  serve        run the chat server (--demo loads the demo shop into an empty data folder)
  kb import    load FAQ entries from a CSV, JSON or Markdown file
  kb export    write the FAQ entries as CSV, JSON or Markdown
  kb eval      measure how well the knowledge base answers labelled questions
  token        print a signed shopper token for testing an integration, or
               manage the shop backend's service tokens (--service)
  import       load shoppers, orders, shipments and products from a JSONL file
  user         manage staff accounts: add, list, passwd, disable, enable
  bench        load a running server like many shoppers and report replies/s,
               latency percentiles, errors and the server's memory
  version      print the version

Run "xiaoer <command> -h" for the flags of a command. Every flag has an
environment variable (XIAOER_ADDR, XIAOER_DATA, ...), listed in its help.`

// run is the whole program: main only adds the process's signals,
// arguments, environment and standard streams. Tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	case "kb":
		if len(args) < 2 {
			return usageError{"kb needs a subcommand: import, export or eval"}
		}
		switch args[1] {
		case "import":
			return runKBImport(ctx, args[2:], getenv, stdout, stderr)
		case "export":
			return runKBExport(ctx, args[2:], getenv, stdout, stderr)
		case "eval":
			return runKBEval(ctx, args[2:], getenv, stdout, stderr)
		}
		return usageError{fmt.Sprintf("unknown kb subcommand %q: want import, export or eval", args[1])}
	case "token":
		return runToken(ctx, args[1:], getenv, stdout, stderr)
	case "import":
		return runImport(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "user":
		return runUser(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "xiaoer", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}
