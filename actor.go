package carecircle

import "context"

// Actor is the signed-in user on whose behalf a request runs. Storage reads it
// from the context to scope queries and to stamp events and audit entries.
type Actor struct {
	UserID    string
	SessionID string
	Name      string
}

type actorKey struct{}

// WithActor returns a context carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok && a.UserID != ""
}

// EventBase returns the routing fields of an event caused by the actor in ctx
// for the given family and care recipient.
func EventBase(ctx context.Context, familyID, recipientID string) EventData {
	a, _ := ActorFrom(ctx)
	return EventData{
		FamilyID:        familyID,
		CareRecipientID: recipientID,
		ActorID:         a.UserID,
		ActorName:       a.Name,
		SessionID:       a.SessionID,
	}
}
