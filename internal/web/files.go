package web

import (
	"encoding/json"
	"net/http"
)

// serviceWorker serves /sw.js: at the root so its scope is the whole site,
// revalidated on every load so a new version installs promptly.
func (h *Handler) serviceWorker(w http.ResponseWriter, r *http.Request) {
	as := h.assets.byName["sw.js"]
	if as == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeAsset(w, r, as)
}

// favicon answers the browsers that ask for /favicon.ico regardless of
// the page's icon link.
func (h *Handler) favicon(w http.ResponseWriter, r *http.Request) {
	as := h.assets.byName["icons/icon-192.png"]
	w.Header().Set("Cache-Control", "public, max-age=86400")
	writeAsset(w, r, as)
}

// manifest is the web app manifest: name, colours, icons and the
// Medications and Emergency shortcuts.
func (h *Handler) manifest(w http.ResponseWriter, r *http.Request) {
	type icon struct {
		Src     string `json:"src"`
		Sizes   string `json:"sizes"`
		Type    string `json:"type"`
		Purpose string `json:"purpose,omitempty"`
	}
	type shortcut struct {
		Name      string `json:"name"`
		ShortName string `json:"short_name"`
		URL       string `json:"url"`
		Icons     []icon `json:"icons,omitempty"`
	}
	a := h.assets
	m := map[string]any{
		"name":             "CareCircle",
		"short_name":       "CareCircle",
		"description":      "Family caregiving: medications, appointments, shifts, timeline, documents and emergency alerts.",
		"id":               "/dashboard",
		"start_url":        "/dashboard",
		"scope":            "/",
		"display":          "standalone",
		"background_color": "#ffffff",
		"theme_color":      "#17457f",
		"icons": []icon{
			{Src: a.URL("icons/icon.svg"), Sizes: "any", Type: "image/svg+xml"},
			{Src: a.URL("icons/icon-192.png"), Sizes: "192x192", Type: "image/png"},
			{Src: a.URL("icons/icon-512.png"), Sizes: "512x512", Type: "image/png"},
			{Src: a.URL("icons/maskable-512.png"), Sizes: "512x512", Type: "image/png", Purpose: "maskable"},
		},
		"shortcuts": []shortcut{
			{Name: "Medications", ShortName: "Medications", URL: "/medications",
				Icons: []icon{{Src: a.URL("icons/icon-192.png"), Sizes: "192x192", Type: "image/png"}}},
			{Name: "Emergency", ShortName: "Emergency", URL: "/emergency",
				Icons: []icon{{Src: a.URL("icons/sos-192.png"), Sizes: "192x192", Type: "image/png"}}},
		},
	}
	b, _ := json.Marshal(m)
	w.Header().Set("Content-Type", "application/manifest+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}
