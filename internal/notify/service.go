// Package notify decides who is told what, when and how: it turns domain
// events and scheduled reminders into notices for family members, applies
// each member's preferences and quiet hours, stores the in-app inbox and
// sends Web Push and email through retried delivery jobs.
//
// Two event consumers feed it: "notifications" (HandleEvent: a dose logged,
// an emergency raised, a missed dose...) and "reminders" (PlanEvent: a
// medication, appointment or shift changed, so its reminder jobs are
// planned). Reminders themselves are jobs (see planner.go and
// reminders.go) run by package jobs, keyed so each fires once however many
// workers run.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/push"
	"github.com/carecircle/carecircle/internal/storage"
)

// Timing rules.
const (
	// PlanAhead is how far ahead reminder jobs exist: a day plus margin,
	// so a planner outage of two hours loses nothing.
	PlanAhead = 26 * time.Hour
	// PlanEvery is how often the periodic planner runs; it extends a
	// horizon once that is less than PlanAhead-PlanSlice ahead, so the
	// reads of every medication happen about once per PlanSlice.
	PlanEvery = 15 * time.Minute
	PlanSlice = time.Hour
	// AlertRepeatEvery is how often an unacknowledged emergency is sent
	// again by push and email.
	AlertRepeatEvery = 5 * time.Minute
	// AlertMaxRepeats bounds the repeats (three hours): an alert nobody
	// acknowledged by then has been seen in the app by someone, and a
	// phone buzzing all night helps no one.
	AlertMaxRepeats = 36
	// NotificationRetention is how long notices stay in the inbox.
	NotificationRetention = 90 * 24 * time.Hour
	// ShiftReminderBefore is how long before a shift its caregiver is told.
	ShiftReminderBefore = time.Hour
	// RefillReminderAt is the recipient's local time of the daily refill
	// reminder while supply stays low.
	RefillReminderAt = "09:00"
	// DocumentReminderAt is the recipient's local time of document expiry
	// reminders, sent DocumentReminderDays days before the expiry day.
	DocumentReminderAt = "09:00"
)

// DocumentReminderDays are the days before a document's expiry on which
// the family's ADMINs are reminded.
var DocumentReminderDays = []int{30, 7, 1}

// Job kinds this package runs.
const (
	jobPlan        = "plan-reminders"
	jobDose        = "dose"
	jobAppointment = "apt-reminder"
	jobShift       = "shift-reminder"
	jobRefill      = "refill-reminder"
	jobAlertRepeat = "alert-repeat"
	jobDocument    = "doc-expiry"
	jobPrune       = "prune-notifications"
	horizonDocs    = "documents"
	horizonDoses   = "doses"
	horizonAppts   = "appointments"
	horizonShifts  = "shifts"
)

// Config wires a Service.
type Config struct {
	DB     *storage.DB
	Runner *jobs.Runner
	Clock  carecircle.Clock
	Logger *slog.Logger
	// Push sends Web Push; Mail sends email synchronously (the delivery job
	// retries, so no queue in between).
	Push *push.Sender
	Mail mail.Sender
	// BaseURL prefixes links in emails.
	BaseURL string
	// Registerer receives the delivery metrics (optional).
	Registerer prometheus.Registerer
}

// Service is the notification pipeline of one process.
type Service struct {
	db      *storage.DB
	runner  *jobs.Runner
	clock   carecircle.Clock
	log     *slog.Logger
	push    *push.Sender
	mail    mail.Sender
	baseURL string

	deliveries *prometheus.CounterVec
}

// New builds the pipeline and registers its jobs on cfg.Runner.
func New(cfg Config) *Service {
	s := &Service{db: cfg.DB, runner: cfg.Runner, clock: cfg.Clock, log: cfg.Logger, push: cfg.Push, mail: cfg.Mail,
		baseURL: cfg.BaseURL}
	if s.clock == nil {
		s.clock = carecircle.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "carecircle_notification_deliveries_total",
		Help: "Notification deliveries by channel and outcome (SENT, RETRYING, DEAD, GONE)."}, []string{"channel", "status"})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(s.deliveries)
	}
	r := cfg.Runner
	r.Register(jobs.Kind{Name: jobPlan, Handler: s.runPlanner, Timeout: 10 * time.Minute})
	// Off the round minutes, when reminders come in bursts.
	r.Every(jobPlan, PlanEvery, 7*time.Minute)
	r.Register(jobs.Kind{Name: jobDose, Handler: s.runDose})
	r.Register(jobs.Kind{Name: jobAppointment, Handler: s.runAppointmentReminder})
	r.Register(jobs.Kind{Name: jobShift, Handler: s.runShiftReminder})
	r.Register(jobs.Kind{Name: jobRefill, Handler: s.runRefillReminder})
	r.Register(jobs.Kind{Name: jobDocument, Handler: s.runDocumentReminder})
	r.Register(jobs.Kind{Name: jobPrune, Handler: s.runPrune, Timeout: 10 * time.Minute})
	r.Every(jobPrune, 6*time.Hour, 3*time.Hour+11*time.Minute)
	r.Register(jobs.Kind{Name: jobAlertRepeat, Handler: s.runAlertRepeat,
		Backoff: jobs.ExponentialBackoff(5*time.Second, time.Minute)})
	r.Register(jobs.Kind{Name: storage.JobDeliverPush, Handler: s.deliverPush, OnDead: s.deliveryDead})
	r.Register(jobs.Kind{Name: storage.JobDeliverEmail, Handler: s.deliverEmail, OnDead: s.deliveryDead})
	return s
}

// runPrune deletes notices older than NotificationRetention.
func (s *Service) runPrune(ctx context.Context, j *storage.Job) error {
	n, err := s.db.PruneNotifications(ctx, s.clock.Now().Add(-NotificationRetention))
	if n > 0 {
		s.log.Info("old notifications pruned", "notifications", n)
	}
	return err
}

// member is a family member with their zone and preferences parsed.
type member struct {
	storage.AudienceMember
	loc   *time.Location
	prefs Preferences
}

// audience returns the family's members.
func (s *Service) audience(ctx context.Context, familyID string) ([]member, error) {
	raw, err := s.db.NoticeAudience(ctx, familyID)
	if err != nil {
		return nil, err
	}
	out := make([]member, len(raw))
	for i, m := range raw {
		out[i] = member{AudienceMember: m, loc: zone(m.Timezone), prefs: ParsePreferences(m.Preferences)}
	}
	return out, nil
}

// who selects members.
type who func(m member) bool

func caregivers(m member) bool { return m.Role.CanWriteCare() }
func admins(m member) bool     { return m.Role == carecircle.RoleAdmin }
func everyone(member) bool     { return true }
func except(userID string, w who) who {
	return func(m member) bool { return m.UserID != userID && w(m) }
}
func only(ids ...string) who {
	return func(m member) bool {
		for _, id := range ids {
			if m.UserID == id {
				return true
			}
		}
		return false
	}
}
func anyOf(ws ...who) who {
	return func(m member) bool {
		for _, w := range ws {
			if w(m) {
				return true
			}
		}
		return false
	}
}

// notice is what one member is told, before their preferences apply.
type notice struct {
	category    Category
	familyID    string
	recipientID string
	sourceKey   string
	eventID     string
	urgent      bool
	pushOnly    bool // emergency repeats: push and email, not another inbox item
	text        func(m member) message
}

// build applies each selected member's preferences to the notice.
func (s *Service) build(members []member, w who, n notice, now time.Time) []storage.NewNotification {
	var out []storage.NewNotification
	for _, m := range members {
		if !w(m) {
			continue
		}
		ch, held := m.prefs.Route(n.category, now, m.loc)
		if n.pushOnly {
			ch.InApp = false
		}
		if !ch.InApp && !ch.Push && !ch.Email && len(held) == 0 {
			continue
		}
		t := n.text(m)
		out = append(out, storage.NewNotification{
			UserID: m.UserID, FamilyID: n.familyID, RecipientID: n.recipientID, Category: string(n.category),
			Title: t.Title, Body: t.Body, URL: t.URL, Tag: t.Tag, SourceKey: n.sourceKey, EventID: n.eventID,
			InApp: ch.InApp, Push: ch.Push, Email: ch.Email, Urgent: n.urgent, Held: held,
		})
	}
	return out
}

// save stores notices and follow-up jobs in one transaction, finishing
// (or, with next, rescheduling) job j when it is set, and wakes the runner
// for the deliveries.
func (s *Service) save(ctx context.Context, notes []storage.NewNotification, j *storage.Job, next *reschedule, follow ...storage.JobSpec) error {
	if len(notes) == 0 && len(follow) == 0 && j == nil {
		return nil
	}
	var lock *storage.JobLock
	if j != nil {
		lock = &j.Lock
	}
	if err := s.withSubscriptions(ctx, notes); err != nil {
		return err
	}
	// On SQLite, writes of jobs running together share one commit (the
	// storage layer's group commit): a burst of reminders doesn't queue for
	// an fsync each.
	err := s.db.Write(ctx, func(tx *storage.Tx) error {
		if _, err := tx.CreateNotifications(ctx, notes); err != nil {
			return err
		}
		if _, err := tx.EnqueueJobs(ctx, follow...); err != nil {
			return err
		}
		switch {
		case lock == nil:
			return nil
		case next != nil:
			return tx.RescheduleJob(ctx, *lock, next.at, next.payload)
		default:
			return tx.FinishJob(ctx, *lock)
		}
	})
	if err != nil {
		return fmt.Errorf("save notifications: %w", err)
	}
	if j != nil {
		j.Finished = true
	}
	s.runner.Wake()
	return nil
}

// withSubscriptions fills in the browsers of each notice that goes (or
// would go) by push. They are read before the write transaction, which
// SQLite's single writer holds for less time that way; a browser removed
// in between is found gone when its delivery runs.
func (s *Service) withSubscriptions(ctx context.Context, notes []storage.NewNotification) error {
	var users []string
	for _, n := range notes {
		if n.Push || slices.Contains(n.Held, storage.ChannelPush) {
			users = append(users, n.UserID)
		}
	}
	if len(users) == 0 {
		return nil
	}
	subs, err := s.db.SubscriptionIDs(ctx, users)
	if err != nil {
		return err
	}
	for i := range notes {
		notes[i].Subscriptions = subs[notes[i].UserID]
	}
	return nil
}

// reschedule is a job's next phase, saved with its notices.
type reschedule struct {
	at      time.Time
	payload any
}
