package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/xiaoer-cs/xiaoer/bot/ingest"
)

// Ingester writes the records the shop's backend posts (package
// bot/ingest implements it): each record validated and upserted on its
// own, invalid ones reported in the result.
type Ingester interface {
	PutAll(ctx context.Context, kind string, records []json.RawMessage) (ingest.Result, error)
}

// ServiceTokens verifies the bearer tokens of the shop's backend; it
// returns the token's name, or ingest.ErrBadToken.
type ServiceTokens interface {
	Verify(ctx context.Context, token string) (name string, err error)
}

// requireServiceToken lets a request through only with a live service
// token in "Authorization: Bearer ..." (the scheme in any case, as RFC
// 9110 has it); others get 401.
func requireServiceToken(tokens ServiceTokens, log *slog.Logger, next func(w http.ResponseWriter, r *http.Request, tokenName string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		name, err := "", ingest.ErrBadToken
		if ok && strings.EqualFold(scheme, "Bearer") {
			name, err = tokens.Verify(r.Context(), strings.TrimSpace(tok))
		}
		switch {
		case errors.Is(err, ingest.ErrBadToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="xiaoer-ingest"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a valid service token is required: Authorization: Bearer <token>")
		case err != nil:
			log.Error("verify service token", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "could not verify the token")
		default:
			next(w, r, name)
		}
	})
}

// handleIngest answers POST /api/v1/ingest/{kind}: a JSON array of records
// (or {"records": [...]}) of one kind. Valid records are written even when
// others fail: the answer is 200 with {"upserted", "failed", "errors"},
// each error naming the record's index and id. 400 is for a body that is
// not such an array, 413 for one over maxBytes or maxRecords.
func handleIngest(kind string, ing Ingester, tokens ServiceTokens, maxBytes int64, maxRecords int, log *slog.Logger) http.Handler {
	return requireServiceToken(tokens, log, func(w http.ResponseWriter, r *http.Request, tokenName string) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes: send fewer records per request", maxBytes))
			return
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", "could not read the body")
			return
		}
		records, err := ingestRecords(body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		if len(records) > maxRecords {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("%d records: at most %d per request", len(records), maxRecords))
			return
		}
		res, err := ing.PutAll(r.Context(), kind, records)
		if err != nil {
			log.Error("ingest", "kind", kind, "token", tokenName, "err", err, "upserted", res.Upserted)
			writeError(w, http.StatusInternalServerError, "internal", fmt.Sprintf("storage failed after %d records were written: retry the request (it is safe)", res.Upserted))
			return
		}
		log.Info("ingested", "kind", kind, "token", tokenName, "upserted", res.Upserted, "failed", res.Failed)
		writeJSON(w, http.StatusOK, res)
	})
}

// ingestRecords splits a body into its records: a JSON array, or an
// object whose only field is "records", an array.
func ingestRecords(body []byte) ([]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	var records []json.RawMessage
	switch {
	case len(body) > 0 && body[0] == '[':
		if err := json.Unmarshal(body, &records); err != nil {
			return nil, fmt.Errorf("bad JSON: %v", err)
		}
	case len(body) > 0 && body[0] == '{':
		var wrapped struct {
			Records *[]json.RawMessage `json:"records"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&wrapped); err != nil || wrapped.Records == nil {
			return nil, errors.New(`the body must be a JSON array of records or {"records": [...]}`)
		}
		records = *wrapped.Records
	default:
		return nil, errors.New(`the body must be a JSON array of records or {"records": [...]}`)
	}
	return records, nil
}
