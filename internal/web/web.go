// Package web is CareCircle's web app: server-rendered pages (html/template,
// embedded) on the same mux as the JSON API, our own small scripts for what
// must be live (WebSocket updates, the emergency alert, push, the service
// worker), and forms that work without JavaScript. Pages call storage
// directly with the signed-in actor in the context, the same scoped methods
// the API uses; sign-in, registration and password flows go through the
// API server's exported methods so rate limits, policy and emails are the
// same. One file per page or action, like Miniflux's ui/.
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/api"
	"github.com/carecircle/carecircle/internal/storage"
)

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps are the web app's collaborators.
type Deps struct {
	API    *api.Server
	Logger *slog.Logger // default slog.Default()
}

// Handler serves the web app's pages, actions and static files.
type Handler struct {
	api       *api.Server
	db        *storage.DB
	clock     carecircle.Clock
	log       *slog.Logger
	assets    *assets
	pages     *template.Template // every page; see parsePages
	pageNames map[string]bool
	refresh   *refresher
}

// New registers the web app's routes on mux (the API's mux: it owns /api/,
// the health and metrics endpoints) and returns the handler.
func New(mux *http.ServeMux, d Deps) *Handler {
	h, err := newHandler(d)
	if err != nil {
		panic(fmt.Sprintf("web: %v", err)) // embedded files are fixed at build time
	}
	h.routes(mux)
	return h
}

func newHandler(d Deps) (*Handler, error) {
	h := &Handler{api: d.API, db: d.API.DB(), log: d.Logger, refresh: newRefresher()}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.clock = h.db.Clock
	if h.clock == nil {
		h.clock = carecircle.SystemClock{}
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	if h.assets, err = loadAssets(static); err != nil {
		return nil, err
	}
	if err := h.assets.addIcons(); err != nil {
		return nil, err
	}
	if h.pages, h.pageNames, err = parsePages(h.assets); err != nil {
		return nil, err
	}
	return h, nil
}

// routes maps every page and action. Pages (GET) render; actions (POST)
// redirect with 303 or re-render their form with messages.
func (h *Handler) routes(mux *http.ServeMux) {
	// Files.
	mux.HandleFunc("GET /static/", h.serveStatic)
	mux.HandleFunc("GET /sw.js", h.serviceWorker)
	mux.HandleFunc("GET /manifest.webmanifest", h.manifest)
	mux.HandleFunc("GET /favicon.ico", h.favicon)
	mux.HandleFunc("GET /offline", h.public(h.offlinePage))

	// Public pages.
	mux.HandleFunc("GET /{$}", h.public(h.homePage))
	mux.HandleFunc("GET /login", h.public(h.loginPage))
	mux.HandleFunc("POST /login", h.public(h.loginSubmit))
	mux.HandleFunc("GET /register", h.public(h.registerPage))
	mux.HandleFunc("POST /register", h.public(h.registerSubmit))
	mux.HandleFunc("GET /forgot-password", h.public(h.forgotPasswordPage))
	mux.HandleFunc("POST /forgot-password", h.public(h.forgotPasswordSubmit))
	mux.HandleFunc("GET /reset-password", h.public(h.resetPasswordPage))
	mux.HandleFunc("POST /reset-password", h.public(h.resetPasswordSubmit))
	mux.HandleFunc("GET /verify-email", h.public(h.verifyEmailPage))
	mux.HandleFunc("POST /verify-email", h.public(h.verifyEmailSubmit))
	mux.HandleFunc("GET /accept-invite/{token}", h.public(h.acceptInvitePage))
	mux.HandleFunc("POST /accept-invite/{token}", h.public(h.acceptInviteSubmit))
	mux.HandleFunc("POST /logout", h.public(h.logout))
	mux.HandleFunc("GET /session", h.sessionCheck)

	// The app.
	mux.HandleFunc("GET /dashboard", h.app(h.dashboardPage))
	mux.HandleFunc("GET /emergency", h.app(h.chooseRecipient("emergency", "Emergency")))
	mux.HandleFunc("GET /family", h.app(h.familyPage))
	mux.HandleFunc("POST /family", h.app(h.familyCreate))
	mux.HandleFunc("POST /family/{id}/rename", h.app(h.familyRename))
	mux.HandleFunc("POST /family/{id}/invites", h.app(h.inviteCreate))
	mux.HandleFunc("POST /family/{id}/invites/{inviteId}/revoke", h.app(h.inviteRevoke))
	mux.HandleFunc("POST /family/{id}/members/{uid}/role", h.app(h.memberRole))
	mux.HandleFunc("POST /family/{id}/members/{uid}/remove", h.app(h.memberRemove))
	mux.HandleFunc("GET /settings", h.app(h.settingsPage))
	mux.HandleFunc("POST /settings/profile", h.app(h.settingsProfile))
	mux.HandleFunc("POST /settings/password", h.app(h.settingsPassword))
	mux.HandleFunc("POST /settings/verify", h.app(h.settingsResendVerification))
	mux.HandleFunc("POST /settings/sessions/{sid}/revoke", h.app(h.sessionRevoke))
	mux.HandleFunc("POST /settings/notifications", h.app(h.settingsNotifications))
	mux.HandleFunc("GET /notifications", h.app(h.notificationsPage))
	mux.HandleFunc("POST /notifications/read-all", h.app(h.notificationsReadAll))
	mux.HandleFunc("POST /notifications/{nid}/open", h.app(h.notificationOpen))

	mux.HandleFunc("GET /care/new", h.app(h.recipientNewPage))
	mux.HandleFunc("POST /care", h.app(h.recipientCreate))
	mux.HandleFunc("GET /care/{id}", h.app(h.recipientPage))
	mux.HandleFunc("GET /care/{id}/edit", h.app(h.recipientEditPage))
	mux.HandleFunc("POST /care/{id}/edit", h.app(h.recipientSave))
	mux.HandleFunc("POST /care/{id}/delete", h.app(h.recipientDelete))

	mux.HandleFunc("GET /care/{id}/calendar", h.app(h.calendarPage))
	mux.HandleFunc("GET /care/{id}/calendar/new", h.app(h.appointmentNewPage))
	mux.HandleFunc("POST /care/{id}/calendar", h.app(h.appointmentCreate))
	mux.HandleFunc("GET /care/{id}/calendar/{aid}/edit", h.app(h.appointmentEditPage))
	mux.HandleFunc("POST /care/{id}/calendar/{aid}/edit", h.app(h.appointmentSave))
	mux.HandleFunc("POST /care/{id}/calendar/{aid}/cancel", h.app(h.appointmentCancel))
	mux.HandleFunc("POST /care/{id}/calendar/subscribe", h.app(h.calendarSubscribe))

	mux.HandleFunc("GET /care/{id}/timeline", h.app(h.timelinePage))
	mux.HandleFunc("POST /care/{id}/timeline", h.app(h.timelineCreate))
	mux.HandleFunc("GET /care/{id}/timeline/{eid}/edit", h.app(h.timelineEditPage))
	mux.HandleFunc("POST /care/{id}/timeline/{eid}/edit", h.app(h.timelineSave))
	mux.HandleFunc("POST /care/{id}/timeline/{eid}/delete", h.app(h.timelineDelete))

	mux.HandleFunc("GET /care/{id}/shifts", h.app(h.shiftsPage))
	mux.HandleFunc("POST /care/{id}/shifts", h.app(h.shiftCreate))
	mux.HandleFunc("POST /care/{id}/shifts/{sid}/check-in", h.app(h.shiftCheckIn))
	mux.HandleFunc("POST /care/{id}/shifts/{sid}/check-out", h.app(h.shiftCheckOut))
	mux.HandleFunc("POST /care/{id}/shifts/{sid}/delete", h.app(h.shiftDelete))

	mux.HandleFunc("GET /medications", h.app(h.chooseRecipient("medications", "Medications")))
	mux.HandleFunc("GET /care/{id}/medications", h.app(h.medicationsPage))
	mux.HandleFunc("GET /care/{id}/medications/new", h.app(h.medicationNewPage))
	mux.HandleFunc("POST /care/{id}/medications", h.app(h.medicationCreate))
	mux.HandleFunc("GET /care/{id}/medications/{mid}/edit", h.app(h.medicationEditPage))
	mux.HandleFunc("POST /care/{id}/medications/{mid}/edit", h.app(h.medicationSave))
	mux.HandleFunc("POST /care/{id}/medications/{mid}/deactivate", h.app(h.medicationDeactivate))
	mux.HandleFunc("POST /care/{id}/medications/{mid}/reactivate", h.app(h.medicationReactivate))
	mux.HandleFunc("GET /care/{id}/medications/{mid}/history", h.app(h.medicationHistoryPage))
	mux.HandleFunc("POST /care/{id}/doses", h.app(h.doseLog))

	mux.HandleFunc("GET /care/{id}/documents", h.app(h.documentsPage))
	mux.HandleFunc("POST /care/{id}/documents", h.app(h.documentUpload))
	mux.HandleFunc("GET /care/{id}/documents/{did}/download", h.app(h.documentDownload))
	mux.HandleFunc("POST /care/{id}/documents/{did}/delete", h.app(h.documentDelete))

	mux.HandleFunc("GET /care/{id}/emergency", h.app(h.emergencyPage))
	mux.HandleFunc("POST /care/{id}/emergency", h.app(h.alertRaise))
	mux.HandleFunc("GET /care/{id}/emergency/card", h.app(h.emergencyCardPage))
	mux.HandleFunc("GET /alerts/{aid}", h.app(h.alertPage))
	mux.HandleFunc("POST /alerts/{aid}/acknowledge", h.app(h.alertAcknowledge))
	mux.HandleFunc("POST /alerts/{aid}/resolve", h.app(h.alertResolve))

	// Anything else is a page we don't have.
	mux.HandleFunc("/", h.public(h.notFoundPage))
}
