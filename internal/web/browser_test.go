package web_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/carecircle/carecircle/internal/apptest"
)

// The browser tests drive Debian's Chromium (CARECIRCLE_TEST_CHROMIUM, set
// by .ci/run) against a real server. Each tab is its own browser with its
// own profile, so two tabs are two people with separate cookies. Every
// console error and uncaught exception fails the test at the next step.

// stepTimeout bounds one browser step: a load, a click, a wait.
const stepTimeout = 20 * time.Second

type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string

	mu      sync.Mutex
	errs    []string
	offline bool // network errors are expected
}

func chromiumPath(t *testing.T) string {
	p := os.Getenv("CARECIRCLE_TEST_CHROMIUM")
	if p == "" {
		t.Skip("CARECIRCLE_TEST_CHROMIUM is not set (the path of a Chromium binary)")
	}
	return p
}

// newTab starts a browser with a fresh profile.
func newTab(t *testing.T, e *apptest.Env, name string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	tb := &tab{t: t, name: name, ctx: ctx, base: e.URL}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: start Chromium: %v", name, err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			// A page answered with 4xx (a form re-rendered with its
			// messages) is logged by the browser but is no script error;
			// a missing script, style or icon is.
			if m.Source == "network" && (tb.offline || !isAsset(m.URL)) {
				continue
			}
			tb.mu.Lock()
			{
				tb.errs = append(tb.errs, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line+1))
			}
			tb.mu.Unlock()
		}
	}()
	return tb
}

func isAsset(u string) bool {
	return strings.Contains(u, "/static/") || strings.HasSuffix(u, "/sw.js") || strings.HasSuffix(u, ".webmanifest")
}

// checkConsole fails the test if the pages so far wrote an error or threw.
func (b *tab) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	errs := b.errs
	b.errs = nil
	b.mu.Unlock()
	for _, e := range errs {
		b.t.Errorf("%s: console: %s", b.name, e)
	}
}

func (b *tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// do runs actions with the step timeout.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v (at %s)", b.name, what, err, b.location())
	}
}

// open loads a page and checks the console.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
	b.checkConsole()
}

// submit clicks a button that submits a form and waits for the page that
// answers (after the redirect); it returns that page's status.
func (b *tab) submit(button string) int64 {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		b.t.Fatalf("%s: submit %s: %v (at %s)", b.name, button, err, b.location())
	}
	b.checkConsole()
	return res.Status
}

// fill sets form fields by CSS selector.
func (b *tab) fill(fields map[string]string) {
	b.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for sel, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(sel), v))
	}
	b.do("fill form", steps...)
}

// waitFor polls a JavaScript condition until it is true.
func (b *tab) waitFor(what, cond string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	err := retryContext(ctx, func() error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond)))
		return err
	})
	if err != nil {
		b.t.Fatalf("%s: waiting for %s (%s): %v\npage text: %.1500s", b.name, what, cond, err, b.text())
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	var v T
	err := retryContext(ctx, func() error {
		var err error
		v, err = chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
		return err
	})
	if err != nil {
		b.t.Fatalf("%s: eval %s: %v", b.name, expr, err)
	}
	return v
}

// retryContext runs fn again while it fails because the page's JavaScript
// context was being replaced (right after a load, DevTools can still hold
// the old document's context id), until ctx ends.
func retryContext(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		if err == nil || !strings.Contains(err.Error(), "Cannot find context with specified id") &&
			!strings.Contains(err.Error(), "Execution context was destroyed") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (b *tab) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

func (b *tab) path() string {
	return strings.TrimPrefix(b.location(), b.base)
}

func (b *tab) text() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

// hasText reports whether the page shows s.
func (b *tab) hasText(s string) bool { return strings.Contains(b.text(), s) }

// disableScripts turns JavaScript off for the pages this tab opens next.
func (b *tab) disableScripts() {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		b.t.Fatalf("disable scripts: %v", err)
	}
}

// goOffline cuts this tab and its service worker off the network: the
// page's requests and the worker's fetches both fail, as on a phone with
// no signal.
func (b *tab) goOffline() {
	b.t.Helper()
	b.mu.Lock()
	b.offline = true
	b.mu.Unlock()
	b.emulateOffline(b.ctx)
	b.waitAsync("the service worker", `navigator.serviceWorker.ready.then(r => !!r.active)`)
	infos, err := chromedp.Targets(b.ctx)
	if err != nil {
		b.t.Fatalf("list targets: %v", err)
	}
	n := 0
	for _, info := range infos {
		if info.Type == "service_worker" && strings.HasPrefix(info.URL, b.base) {
			// The context stays attached until the test ends: its
			// cancellation would close the worker.
			swctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(info.TargetID))
			b.t.Cleanup(cancel)
			b.emulateOffline(swctx)
			n++
		}
	}
	if n == 0 {
		b.t.Fatalf("%s: no service worker to take offline", b.name)
	}
}

func (b *tab) emulateOffline(ctx context.Context) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	yes := true
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		b.t.Fatalf("network enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &yes,
		MatchedNetworkConditions:    []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		b.t.Fatalf("go offline: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: true, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		b.t.Logf("navigator.onLine not overridden: %v", err)
	}
}

// waitAsync polls a JavaScript expression that may return a promise (the
// Cache API, fetch) until it is true.
func (b *tab) waitAsync(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := b.step()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: waiting for %s: %v", b.name, what, err)
		}
		<-tick.C
	}
}

// id returns the path segment after prefix in the tab's location
// ("/care/" gives the care recipient id).
func (b *tab) id(prefix string) string {
	p := b.path()
	i := strings.Index(p, prefix)
	if i < 0 {
		b.t.Fatalf("%s: location %s has no %s", b.name, p, prefix)
	}
	rest := p[i+len(prefix):]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// waitLive waits until the page's WebSocket is open.
func (b *tab) waitLive() {
	b.t.Helper()
	b.waitFor("the live connection", `document.body.getAttribute('data-live-state') === 'open'`)
}

// clickCSS clicks the first element matching a CSS selector.
func clickCSS(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}
