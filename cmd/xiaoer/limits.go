package main

import (
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/xiaoer-cs/xiaoer/web"
)

// The HTTP server's timeouts (docs/limits.md). Websockets are hijacked
// from the server, so ReadTimeout and WriteTimeout end with their
// handshake: the sockets' own deadlines (pongs, WriteWait) take over.
const (
	// readHeaderTimeout bounds reading a request's headers (slowloris).
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds reading a whole request: a 64 MiB knowledge-base
	// import must arrive within it (about 4.5 Mbit/s).
	readTimeout = 2 * time.Minute
	// writeTimeout bounds a request from its headers to the end of its
	// response: the longest are a knowledge-base import with its
	// regression run and a knowledge-base or shopper-data export.
	writeTimeout = 5 * time.Minute
	// idleTimeout closes kept-alive connections idle this long.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds the request line and headers.
	maxHeaderBytes = 64 << 10
)

// limitFlags are serve's flags for the abuse limits of web.Config.
type limitFlags struct {
	socketsPerShopper, socketsPerIP *int
	shopperRate, ipRate             *int
	trustForwardedFor               *bool
	envErr                          error // a malformed XIAOER_* number
}

func addLimitFlags(fs *flag.FlagSet, getenv func(string) string) *limitFlags {
	l := &limitFlags{}
	intFlag := func(name, env string, def int, usage string) *int {
		v := def
		if s := envOr(getenv, env, ""); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				l.envErr = fmt.Errorf("%s must be a whole number of at least 1, got %q", env, s)
			} else {
				v = n
			}
		}
		return fs.Int(name, v, usage+" (env "+env+")")
	}
	l.socketsPerShopper = intFlag("max-sockets-per-shopper", "XIAOER_MAX_SOCKETS_PER_SHOPPER", 5,
		"chat sockets one shopper or visitor may hold open; more are refused with 429")
	l.socketsPerIP = intFlag("max-sockets-per-ip", "XIAOER_MAX_SOCKETS_PER_IP", 50,
		"chat and console sockets one client IP may hold open; more are refused with 429")
	l.shopperRate = intFlag("shopper-messages-per-minute", "XIAOER_SHOPPER_MESSAGES_PER_MINUTE", 100,
		"messages one shopper or visitor may send a minute across all their sockets; the excess gets rate_limited")
	l.ipRate = intFlag("ip-messages-per-minute", "XIAOER_IP_MESSAGES_PER_MINUTE", 1000,
		"messages one client IP may send a minute across all its sockets; the excess gets rate_limited")
	l.trustForwardedFor = fs.Bool("trust-forwarded-for", envBool(getenv, "XIAOER_TRUST_FORWARDED_FOR"),
		"take the client IP of the per-IP limits from the last X-Forwarded-For address: only behind a proxy that appends it (--behind-tls does not imply it) (env XIAOER_TRUST_FORWARDED_FOR)")
	return l
}

// apply copies the parsed flags into cfg.
func (l *limitFlags) apply(cfg *web.Config) error {
	if l.envErr != nil {
		return usageError{l.envErr.Error()}
	}
	for name, v := range map[string]int{
		"--max-sockets-per-shopper": *l.socketsPerShopper, "--max-sockets-per-ip": *l.socketsPerIP,
		"--shopper-messages-per-minute": *l.shopperRate, "--ip-messages-per-minute": *l.ipRate,
	} {
		if v < 1 {
			return usageError{fmt.Sprintf("%s must be at least 1, got %d", name, v)}
		}
	}
	cfg.MaxSocketsPerShopper, cfg.MaxSocketsPerIP = *l.socketsPerShopper, *l.socketsPerIP
	cfg.ShopperMessagesPerMinute, cfg.IPMessagesPerMinute = *l.shopperRate, *l.ipRate
	cfg.TrustForwardedFor = *l.trustForwardedFor
	return nil
}
