package web

import (
	"net/http"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

type notificationsData struct {
	Items      []storage.Notification
	Next       string
	UnreadOnly bool
}

// notificationsPage is the in-app inbox, newest first.
func (h *Handler) notificationsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := r.URL.Query()
	d := notificationsData{UnreadOnly: q.Get("unread") == "1"}
	var err error
	if d.Items, d.Next, err = h.db.Notifications(r.Context(), d.UnreadOnly, storage.Page{Limit: 50, Cursor: q.Get("cursor")}); err != nil {
		h.fail(w, r, v, err)
		return
	}
	p := h.newPage(w, r, v, "Notifications")
	p.Tab = "notifications"
	p.Data = d
	h.render(w, r, http.StatusOK, "notifications", p)
}

// notificationOpen marks a notice read and opens the page it is about.
func (h *Handler) notificationOpen(w http.ResponseWriter, r *http.Request, v *viewer) {
	n, err := h.db.ReadNotification(r.Context(), r.PathValue("nid"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	target := localPath(n.URL)
	if target == "" {
		target = "/notifications"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// notificationsReadAll marks every notice read.
func (h *Handler) notificationsReadAll(w http.ResponseWriter, r *http.Request, v *viewer) {
	n, err := h.db.ReadAllNotifications(r.Context())
	if err != nil {
		redirect(w, r, "/notifications", "error", errorText(err))
		return
	}
	redirect(w, r, "/notifications", "ok", "Marked "+plural(n, "notification")+" as read.")
}

// unreadCount is the viewer's unread notices for the bell; a failure shows
// no count rather than failing the page.
func (h *Handler) unreadCount(r *http.Request) int {
	n, err := h.db.UnreadNotifications(r.Context())
	if err != nil && carecircle.ErrorCode(err) != carecircle.EUNAUTHORIZED {
		h.logger(r.Context()).WarnContext(r.Context(), "unread notifications", "err", err)
	}
	return n
}
