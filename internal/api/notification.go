package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/push"
	"github.com/carecircle/carecircle/internal/storage"
)

// NotificationRoutes registers the notification endpoints: the in-app
// inbox, Web Push subscriptions (signed with the VAPID key whose public
// half is given) and preferences. Everything is the caller's own: another
// member's notice is not found.
func NotificationRoutes(vapidPublicKey string) Register {
	return func(s *Server, api huma.API) {
		h := notificationHandlers{s: s, vapidPublicKey: vapidPublicKey}
		const tag = "Notifications"
		get := op("getVapidPublicKey", http.MethodGet, "/notifications/vapid-public-key",
			"The VAPID public key browsers subscribe with (applicationServerKey)", tag, 200, false)
		huma.Register(api, get, h.vapidKey)
		huma.Register(api, op("subscribePush", http.MethodPost, "/notifications/subscribe",
			"Subscribe this browser to Web Push (201 new, 200 already subscribed)", tag, 201, true), h.subscribe)
		huma.Register(api, op("unsubscribePush", http.MethodDelete, "/notifications/subscribe",
			"Unsubscribe a browser from Web Push", tag, 204, true), h.unsubscribe)
		huma.Register(api, op("listPushSubscriptions", http.MethodGet, "/notifications/subscriptions",
			"The caller's subscribed browsers", tag, 200, true), h.subscriptions)
		huma.Register(api, op("listNotifications", http.MethodGet, "/notifications",
			"The caller's inbox, newest first, with the unread count", tag, 200, true), h.list)
		huma.Register(api, op("countUnreadNotifications", http.MethodGet, "/notifications/unread-count",
			"How many inbox notices are unread", tag, 200, true), h.unreadCount)
		huma.Register(api, op("readNotification", http.MethodPost, "/notifications/{id}/read",
			"Mark a notice read", tag, 200, true), h.read)
		huma.Register(api, op("readAllNotifications", http.MethodPost, "/notifications/read-all",
			"Mark every notice read", tag, 200, true), h.readAll)
		huma.Register(api, op("getNotificationPreferences", http.MethodGet, "/notifications/preferences",
			"The caller's channels per category and quiet hours", tag, 200, true), h.preferences)
		huma.Register(api, op("putNotificationPreferences", http.MethodPut, "/notifications/preferences",
			"Change notification preferences; fields left out keep their value", tag, 200, true), h.putPreferences)
	}
}

type notificationHandlers struct {
	s              *Server
	vapidPublicKey string
}

type vapidKeyOutput struct {
	Body struct {
		PublicKey string `json:"publicKey" doc:"uncompressed P-256 point, unpadded base64url"`
	}
}

func (h notificationHandlers) vapidKey(ctx context.Context, _ *struct{}) (*vapidKeyOutput, error) {
	out := &vapidKeyOutput{}
	out.Body.PublicKey = h.vapidPublicKey
	return out, nil
}

type subscribeInput struct {
	UserAgent string `header:"User-Agent"`
	Body      struct {
		Endpoint string `json:"endpoint" maxLength:"2048" doc:"the push service URL from PushSubscription.endpoint"`
		Keys     struct {
			P256dh string `json:"p256dh" maxLength:"200"`
			Auth   string `json:"auth" maxLength:"100"`
		} `json:"keys"`
	}
}

type subscribeOutput struct {
	Status int
	Body   storage.PushSubscription
}

func (h notificationHandlers) subscribe(ctx context.Context, in *subscribeInput) (*subscribeOutput, error) {
	sub := push.Subscription{Endpoint: in.Body.Endpoint, P256dh: in.Body.Keys.P256dh, Auth: in.Body.Keys.Auth}
	if err := sub.Validate(); err != nil {
		return nil, err
	}
	saved, created, err := h.s.db.SubscribePush(ctx, storage.PushSubscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh,
		Auth: sub.Auth, UserAgent: in.UserAgent})
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &subscribeOutput{Status: status, Body: saved}, nil
}

type unsubscribeInput struct {
	Body struct {
		Endpoint string `json:"endpoint" maxLength:"2048"`
	}
}

func (h notificationHandlers) unsubscribe(ctx context.Context, in *unsubscribeInput) (*NoContent, error) {
	if in.Body.Endpoint == "" {
		return nil, carecircle.Invalid("endpoint should not be empty")
	}
	return &NoContent{}, h.s.db.UnsubscribePush(ctx, in.Body.Endpoint)
}

func (h notificationHandlers) subscriptions(ctx context.Context, in *PageQuery) (*Body[List[storage.PushSubscription]], error) {
	subs, err := h.s.db.PushSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	page, err := pageOf(subs, func(s storage.PushSubscription) string { return s.ID }, *in)
	return &Body[List[storage.PushSubscription]]{Body: page}, err
}

type listNotificationsInput struct {
	Unread bool `query:"unread" doc:"only unread notices"`
	PageQuery
}

// Inbox is a page of the inbox with the caller's unread count.
type Inbox struct {
	Items       []storage.Notification `json:"items"`
	NextCursor  string                 `json:"nextCursor,omitempty"`
	UnreadCount int                    `json:"unreadCount"`
}

func (h notificationHandlers) list(ctx context.Context, in *listNotificationsInput) (*Body[Inbox], error) {
	items, next, err := h.s.db.Notifications(ctx, in.Unread, in.page())
	if err != nil {
		return nil, err
	}
	n, err := h.s.db.UnreadNotifications(ctx)
	return &Body[Inbox]{Body: Inbox{Items: items, NextCursor: next, UnreadCount: n}}, err
}

type unreadCount struct {
	Count int `json:"count"`
}

func (h notificationHandlers) unreadCount(ctx context.Context, _ *struct{}) (*Body[unreadCount], error) {
	n, err := h.s.db.UnreadNotifications(ctx)
	return &Body[unreadCount]{Body: unreadCount{Count: n}}, err
}

type notificationIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

func (h notificationHandlers) read(ctx context.Context, in *notificationIDInput) (*Body[storage.Notification], error) {
	n, err := h.s.db.ReadNotification(ctx, in.ID)
	return &Body[storage.Notification]{Body: n}, err
}

type readAllOutput struct {
	Updated     int `json:"updated" doc:"how many notices were unread"`
	UnreadCount int `json:"unreadCount"`
}

func (h notificationHandlers) readAll(ctx context.Context, _ *struct{}) (*Body[readAllOutput], error) {
	n, err := h.s.db.ReadAllNotifications(ctx)
	if err != nil {
		return nil, err
	}
	left, err := h.s.db.UnreadNotifications(ctx)
	return &Body[readAllOutput]{Body: readAllOutput{Updated: n, UnreadCount: left}}, err
}

func (h notificationHandlers) current(ctx context.Context) (notify.Preferences, error) {
	raw, tz, err := h.s.db.NotificationPreferences(ctx)
	if err != nil {
		return notify.Preferences{}, err
	}
	p := notify.ParsePreferences(raw)
	p.Timezone = tz
	return p, nil
}

func (h notificationHandlers) preferences(ctx context.Context, _ *struct{}) (*Body[notify.Preferences], error) {
	p, err := h.current(ctx)
	return &Body[notify.Preferences]{Body: p}, err
}

// channelsPatch changes some channels of a category.
type channelsPatch struct {
	InApp *bool `json:"inApp,omitempty"`
	Push  *bool `json:"push,omitempty"`
	Email *bool `json:"email,omitempty"`
}

func (c *channelsPatch) apply(dst *notify.Channels) {
	if c == nil {
		return
	}
	if c.InApp != nil {
		dst.InApp = *c.InApp
	}
	if c.Push != nil {
		dst.Push = *c.Push
	}
	if c.Email != nil {
		dst.Email = *c.Email
	}
}

type putPreferencesInput struct {
	Body struct {
		Categories *struct {
			DoseReminders  *channelsPatch `json:"doseReminders,omitempty"`
			MissedDoses    *channelsPatch `json:"missedDoses,omitempty"`
			Refills        *channelsPatch `json:"refills,omitempty"`
			Appointments   *channelsPatch `json:"appointments,omitempty"`
			Shifts         *channelsPatch `json:"shifts,omitempty"`
			Emergencies    *channelsPatch `json:"emergencies,omitempty"`
			FamilyActivity *channelsPatch `json:"familyActivity,omitempty"`
			Documents      *channelsPatch `json:"documents,omitempty"`
		} `json:"categories,omitempty"`
		QuietHours *struct {
			Enabled *bool   `json:"enabled,omitempty"`
			Start   *string `json:"start,omitempty" maxLength:"5" doc:"HH:MM in the caller's time zone"`
			End     *string `json:"end,omitempty" maxLength:"5" doc:"HH:MM in the caller's time zone"`
		} `json:"quietHours,omitempty"`
	}
}

func (h notificationHandlers) putPreferences(ctx context.Context, in *putPreferencesInput) (*Body[notify.Preferences], error) {
	p, err := h.current(ctx)
	if err != nil {
		return nil, err
	}
	if c := in.Body.Categories; c != nil {
		c.DoseReminders.apply(&p.Categories.DoseReminders)
		c.MissedDoses.apply(&p.Categories.MissedDoses)
		c.Refills.apply(&p.Categories.Refills)
		c.Appointments.apply(&p.Categories.Appointments)
		c.Shifts.apply(&p.Categories.Shifts)
		c.Emergencies.apply(&p.Categories.Emergencies)
		c.FamilyActivity.apply(&p.Categories.FamilyActivity)
		c.Documents.apply(&p.Categories.Documents)
	}
	if q := in.Body.QuietHours; q != nil {
		if q.Enabled != nil {
			p.QuietHours.Enabled = *q.Enabled
		}
		if q.Start != nil {
			p.QuietHours.Start = *q.Start
		}
		if q.End != nil {
			p.QuietHours.End = *q.End
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := h.s.db.SaveNotificationPreferences(ctx, p.Encode()); err != nil {
		return nil, err
	}
	return &Body[notify.Preferences]{Body: p}, nil
}
