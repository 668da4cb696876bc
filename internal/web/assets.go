package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
)

// asset is one static file held in memory with its gzip form, so a request
// for it costs a map lookup and a write.
type asset struct {
	name    string // as in static/: "app.css"
	url     string // with its content hash: "/static/app.3f2a9c1e.css"
	ctype   string
	hash    string
	raw     []byte
	gzipped []byte // nil when compression doesn't pay
}

// assets are the embedded static files, addressed by name and by hashed URL.
type assets struct {
	byName map[string]*asset
	byURL  map[string]*asset
	// version changes whenever any asset does; the service worker's cache
	// name carries it.
	version string
}

// loadAssets reads every file of fsys, fingerprints it and compresses it.
// sw.js gets the shell list and version substituted: it is served at /sw.js
// (its scope must be the whole site), so it can't carry a hash in its URL.
func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list static files: %w", err)
	}
	sort.Strings(names)
	all := sha256.New()
	for _, n := range names {
		if n == "sw.js" {
			continue
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read static %s: %w", n, err)
		}
		as := newAsset(n, b)
		all.Write([]byte(as.hash))
		a.byName[n], a.byURL[as.url] = as, as
	}
	a.version = hex.EncodeToString(all.Sum(nil))[:12]
	if b, err := fs.ReadFile(fsys, "sw.js"); err == nil {
		var shell []string
		for _, n := range names {
			if inShell(n) {
				shell = append(shell, a.byName[n].url)
			}
		}
		list, _ := json.Marshal(shell)
		b = bytes.Replace(b, []byte(`"__VERSION__"`), []byte(`"`+a.version+`"`), 1)
		b = bytes.Replace(b, []byte(`["__SHELL__"]`), list, 1)
		as := newAsset("sw.js", b)
		as.url = "/sw.js"
		a.byName["sw.js"] = as
	}
	return a, nil
}

// inShell reports whether the service worker precaches a static file: the
// app's own CSS, scripts and icon, not the API docs' stylesheet or the
// large install icons.
func inShell(name string) bool {
	switch {
	case name == "sw.js" || name == "docs.css":
		return false
	case strings.HasPrefix(name, "icons/"):
		return name == "icons/icon.svg"
	}
	return true
}

func newAsset(name string, b []byte) *asset {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])[:10]
	ext := path.Ext(name)
	as := &asset{name: name, hash: h, raw: b, url: "/static/" + strings.TrimSuffix(name, ext) + "." + h + ext,
		ctype: mime.TypeByExtension(ext)}
	switch ext {
	case ".webmanifest":
		as.ctype = "application/manifest+json"
	case ".js":
		as.ctype = "text/javascript; charset=utf-8"
	case ".svg":
		as.ctype = "image/svg+xml"
	}
	if as.ctype == "" {
		as.ctype = "application/octet-stream"
	}
	if compressible(as.ctype) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		if buf.Len() < len(b) {
			as.gzipped = buf.Bytes()
		}
	}
	return as
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

// URL returns the fingerprinted URL of a static file, for templates.
func (a *assets) URL(name string) string {
	if as := a.byName[name]; as != nil {
		return as.url
	}
	return "/static/" + name
}

// serveStatic serves /static/{file}: by fingerprinted URL with a year of
// caching, or by plain name (docs.css, icons named in the manifest) with
// revalidation by ETag.
func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	as := h.assets.byURL[r.URL.Path]
	immutable := as != nil
	if as == nil {
		as = h.assets.byName[strings.TrimPrefix(r.URL.Path, "/static/")]
	}
	if as == nil || as.name == "sw.js" {
		http.NotFound(w, r)
		return
	}
	if immutable {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, no-cache")
	}
	writeAsset(w, r, as)
}

// writeAsset writes an in-memory file, gzipped when the client accepts it,
// answering 304 to a matching If-None-Match.
func writeAsset(w http.ResponseWriter, r *http.Request, as *asset) {
	etag := `"` + as.hash + `"`
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Set("Content-Type", as.ctype)
	if as.gzipped != nil {
		hd.Add("Vary", "Accept-Encoding")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := as.raw
	if as.gzipped != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = as.gzipped
	}
	hd.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(part, ";")
		enc = strings.TrimSpace(enc)
		if !strings.EqualFold(enc, "gzip") && enc != "*" {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if q, err := strconv.ParseFloat(v, 64); err == nil && q == 0 {
				return false
			}
		}
		return true
	}
	return false
}
