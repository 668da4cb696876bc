package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
)

// ErrorBody is the error shape of the contract:
// {"statusCode":400,"message":["dosage should not be empty"],"error":"Bad Request"}.
// Message is a list of per-field messages for validation errors and a string
// otherwise. Extra carries structured details some conflicts add (the
// existing dose log, when the next dose is allowed).
type ErrorBody struct {
	StatusCode int            `json:"statusCode"`
	Message    any            `json:"message"`
	ErrorText  string         `json:"error"`
	Extra      map[string]any `json:"-"`
	headers    http.Header
}

func (e *ErrorBody) Error() string { return e.ErrorText }

// GetStatus lets huma write the status code.
func (e *ErrorBody) GetStatus() int { return e.StatusCode }

// GetHeaders lets huma write headers such as Retry-After.
func (e *ErrorBody) GetHeaders() http.Header { return e.headers }

// MarshalJSON writes statusCode, message and error first, then Extra.
func (e *ErrorBody) MarshalJSON() ([]byte, error) {
	msg, err := json.Marshal(e.Message)
	if err != nil {
		return nil, err
	}
	txt, _ := json.Marshal(e.ErrorText)
	b := []byte(`{"statusCode":` + strconv.Itoa(e.StatusCode) + `,"message":` + string(msg) + `,"error":` + string(txt))
	keys := make([]string, 0, len(e.Extra))
	for k := range e.Extra {
		if k != "statusCode" && k != "message" && k != "error" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(e.Extra[k])
		if err != nil {
			return nil, err
		}
		b = append(append(append(append(b, ','), kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

var codeStatus = map[string]int{
	carecircle.EINVALID:      http.StatusBadRequest,
	carecircle.EUNAUTHORIZED: http.StatusUnauthorized,
	carecircle.EFORBIDDEN:    http.StatusForbidden,
	carecircle.ENOTFOUND:     http.StatusNotFound,
	carecircle.ECONFLICT:     http.StatusConflict,
	carecircle.EGONE:         http.StatusGone,
	carecircle.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	carecircle.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	carecircle.ERATELIMITED:  http.StatusTooManyRequests,
	carecircle.EUNAVAILABLE:  http.StatusServiceUnavailable,
	carecircle.EINTERNAL:     http.StatusInternalServerError,
}

// StatusFor maps an application error code to its HTTP status.
func StatusFor(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorFrom converts any error to the contract's body. Internal errors are
// logged with the request's logger and shown only as "internal error".
func errorFrom(ctx context.Context, err error) *ErrorBody {
	var body *ErrorBody
	if errors.As(err, &body) {
		return body
	}
	var ce *carecircle.Error
	if !errors.As(err, &ce) {
		logger(ctx).ErrorContext(ctx, "request failed", "err", err)
		return newErrorBody(http.StatusInternalServerError, "internal error")
	}
	status := StatusFor(ce.Code)
	if status >= 500 {
		logger(ctx).ErrorContext(ctx, "request failed", "err", err)
	}
	b := newErrorBody(status, ce.Message)
	if len(ce.Fields) > 0 {
		b.Message = ce.Fields
	}
	if m, ok := ce.Detail.(map[string]any); ok {
		b.Extra = m
	}
	return b
}

func newErrorBody(status int, msg string) *ErrorBody {
	return &ErrorBody{StatusCode: status, Message: msg, ErrorText: http.StatusText(status)}
}

var requiredProp = regexp.MustCompile(`^expected required property (\S+) to be present$`)

// fieldMessage rewrites one of huma's validation details as a message that
// names its field, the way a person would read it.
func fieldMessage(d *huma.ErrorDetail) string {
	loc := strings.TrimPrefix(strings.TrimPrefix(d.Location, "body"), ".")
	for _, p := range []string{"query.", "path.", "header.", "cookie."} {
		loc = strings.TrimPrefix(loc, p)
	}
	msg := d.Message
	if m := requiredProp.FindStringSubmatch(msg); m != nil {
		if loc != "" {
			return loc + "." + m[1] + " should not be empty"
		}
		return m[1] + " should not be empty"
	}
	if loc == "" {
		loc = "body"
	}
	// class-validator's wording for an enum: "role must be one of the
	// following values: ADMIN, CAREGIVER, VIEWER".
	if rest, ok := strings.CutPrefix(msg, "expected value to be one of "); ok {
		return loc + " must be one of the following values: " + strings.Trim(rest, `"`)
	}
	// A query value that does not parse ("invalid integer").
	if rest, ok := strings.CutPrefix(msg, "invalid "); ok && !strings.Contains(rest, " ") {
		return loc + " must be a valid " + rest
	}
	replacements := []struct{ from, to string }{
		{"expected string", "must be a string"},
		{"expected integer", "must be an integer"},
		{"expected number", "must be a number"},
		{"expected boolean", "must be a boolean"},
		{"expected array length >= ", "must have at least "},
		{"expected array length <= ", "must have at most "},
		{"expected array", "must be an array"},
		{"expected object", "must be an object"},
		{"expected length >= ", "must be at least "},
		{"expected length <= ", "must be at most "},
		{"expected number >= ", "must not be less than "},
		{"expected number <= ", "must not be greater than "},
		{"unexpected property", "is not a known field"},
	}
	// Longest prefix first: "expected number <= " before "expected number".
	sort.Slice(replacements, func(i, j int) bool { return len(replacements[i].from) > len(replacements[j].from) })
	for _, r := range replacements {
		if strings.HasPrefix(msg, r.from) {
			msg = r.to + strings.TrimPrefix(msg, r.from)
			if strings.HasPrefix(r.from, "expected length") {
				msg += " characters"
			}
			if strings.HasPrefix(r.from, "expected array length") {
				msg += " items"
			}
			return loc + " " + msg
		}
	}
	return loc + ": " + msg
}

// installErrors makes huma produce the contract's error shape for every error
// it raises itself (bad JSON, schema violations, body too large) and for
// application errors returned by handlers.
func installErrors() {
	huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		ctx := context.Background()
		if hctx != nil {
			ctx = hctx.Context()
		}
		for _, e := range errs {
			var ce *carecircle.Error
			var eb *ErrorBody
			if errors.As(e, &ce) || errors.As(e, &eb) {
				return errorFrom(ctx, e)
			}
		}
		if status == http.StatusUnprocessableEntity {
			status = http.StatusBadRequest
		}
		if status >= 500 {
			logger(ctx).ErrorContext(ctx, "request failed", "msg", msg, "errs", errs)
			return newErrorBody(status, "internal error")
		}
		if status == http.StatusBadRequest && badPathOnly(errs) {
			// A path id too long to exist names nothing: 404, like any
			// other id that isn't there.
			return newErrorBody(http.StatusNotFound, "not found")
		}
		var fields []string
		for _, e := range errs {
			if e == nil {
				continue
			}
			var d *huma.ErrorDetail
			if errors.As(e, &d) {
				fields = append(fields, fieldMessage(d))
			} else if dd, ok := e.(huma.ErrorDetailer); ok {
				fields = append(fields, fieldMessage(dd.ErrorDetail()))
			} else {
				fields = append(fields, e.Error())
			}
		}
		b := newErrorBody(status, msg)
		if msg == "" {
			b.Message = http.StatusText(status)
		}
		if len(fields) > 0 && status == http.StatusBadRequest {
			b.Message = fields
		} else if len(fields) > 0 {
			b.Message = strings.Join(fields, "; ")
		}
		return b
	}
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return huma.NewErrorWithContext(nil, status, msg, errs...)
	}
}

// badPathOnly reports whether every validation detail is about a path
// parameter.
func badPathOnly(errs []error) bool {
	n := 0
	for _, e := range errs {
		if e == nil {
			continue
		}
		var d *huma.ErrorDetail
		if !errors.As(e, &d) || !strings.HasPrefix(d.Location, "path.") {
			return false
		}
		n++
	}
	return n > 0
}

// writeError writes err in the contract's shape from plain net/http code.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	b := errorFrom(r.Context(), err)
	writeErrorBody(w, b)
}

func writeErrorBody(w http.ResponseWriter, b *ErrorBody) {
	for k, vs := range b.headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(b.StatusCode)
	_ = json.NewEncoder(w).Encode(b)
}

// rateLimited is the 429 answer with its Retry-After header.
func rateLimited(retryAfterSeconds int) *ErrorBody {
	b := newErrorBody(http.StatusTooManyRequests, "too many attempts; try again later")
	b.headers = http.Header{"Retry-After": []string{itoa(retryAfterSeconds)}}
	return b
}

func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

type loggerKey struct{}
