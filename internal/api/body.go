package api

import (
	"io"
	"net/http"
	"strings"
)

// emptyBodyAsObject reads an absent body of an API write as {}, the way
// NestJS's validation pipe does, so a client that forgot the body learns
// every required field by name ("name should not be empty") instead of a
// bare "request body is required".
func emptyBodyAsObject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			ct := r.Header.Get("Content-Type")
			if r.ContentLength == 0 && strings.HasPrefix(r.URL.Path, "/api/v1/") && (ct == "" || strings.Contains(ct, "json")) {
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader("{}")), 2
				r.Header.Set("Content-Type", "application/json")
			}
		}
		next.ServeHTTP(w, r)
	})
}
