package storage

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/carecircle/carecircle"
)

// This file holds the document vault's rows: document metadata and each
// family's wrapped data key. The files themselves live in the blob store
// (internal/docstore); the API streams them there before a row is written
// and removes them after a row is deleted.

// DocumentFilter narrows a document listing; a zero Category lists all.
type DocumentFilter struct {
	Category carecircle.DocumentCategory
	Page     Page
}

// DocumentUpload is what the API needs to store a new document's file: the
// care recipient's scope, the new document's id, the object key to write
// and the family's data key, wrapped by the master key.
type DocumentUpload struct {
	Scope      Scope
	DocumentID string
	StorageKey string
	WrappedKey []byte
}

// DocumentBlob locates a document's stored file and the wrapped key that
// opens it.
type DocumentBlob struct {
	FamilyID   string
	StorageKey string
	WrappedKey []byte
}

const documentColumns = `d.id, d.care_recipient_id, d.name, d.file_name, d.category, d.mime_type, d.size_bytes,
	d.sha256, d.expires_at, d.uploaded_by, u.full_name, d.created_at, d.updated_at`

const documentFrom = ` FROM documents d JOIN users u ON u.id = d.uploaded_by`

func scanDocument(row rowScanner) (carecircle.Document, error) {
	var d carecircle.Document
	var expires sql.NullInt64
	var created, updated int64
	err := row.Scan(&d.ID, &d.CareRecipientID, &d.Name, &d.FileName, &d.Category, &d.MimeType, &d.SizeBytes,
		&d.SHA256, &expires, &d.UploadedBy.ID, &d.UploadedBy.FullName, &created, &updated)
	if err != nil {
		return d, err
	}
	d.ExpiresAt, d.CreatedAt, d.UpdatedAt = fromNullMS(expires), fromMS(created), fromMS(updated)
	return d, nil
}

// documentEventData is what a notification or the audit log needs about a
// document.
func documentEventData(s Scope, d carecircle.Document) map[string]any {
	return map[string]any{
		"documentId": d.ID, "name": d.Name, "fileName": d.FileName, "category": d.Category,
		"mimeType": d.MimeType, "sizeBytes": d.SizeBytes, "expiresAt": d.ExpiresAt,
		"uploadedById": d.UploadedBy.ID, "uploadedByName": d.UploadedBy.FullName, "careRecipientName": s.Name,
	}
}

// PrepareDocumentUpload checks the caller may add documents for the care
// recipient (ADMIN, CAREGIVER) and returns where the file goes. The family's
// data key is created on its first upload: newWrappedKey makes a wrapped key,
// and when two first uploads race, both end up with the one stored first.
func (db *DB) PrepareDocumentUpload(ctx context.Context, recipientID string, newWrappedKey func() ([]byte, error)) (DocumentUpload, error) {
	s, err := recipientScope(ctx, db.r, recipientID)
	if err != nil {
		return DocumentUpload{}, err
	}
	if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
		return DocumentUpload{}, err
	}
	wrapped, err := familyKey(ctx, db.r, s.FamilyID)
	if errors.Is(err, sql.ErrNoRows) {
		wrapped, err = db.createFamilyKey(ctx, s.FamilyID, newWrappedKey)
	}
	if err != nil {
		return DocumentUpload{}, err
	}
	id := carecircle.NewID(carecircle.PrefixDocument)
	return DocumentUpload{Scope: s, DocumentID: id, StorageKey: s.FamilyID + "/" + id, WrappedKey: wrapped}, nil
}

// familyKey reads a family's wrapped data key; sql.ErrNoRows when it has
// none yet. Callers have scoped the family already.
func familyKey(ctx context.Context, q querier, familyID string) ([]byte, error) {
	var enc string
	err := q.QueryRowContext(ctx, `SELECT wrapped_key FROM family_keys WHERE family_id = $1`, familyID).Scan(&enc)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("read family key: %w", err)
	}
	k, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("family key of %s is not base64: %w", familyID, err)
	}
	return k, nil
}

// createFamilyKey stores a new wrapped key unless another upload stored one
// first, and returns the one stored.
func (db *DB) createFamilyKey(ctx context.Context, familyID string, newWrappedKey func() ([]byte, error)) ([]byte, error) {
	fresh, err := newWrappedKey()
	if err != nil {
		return nil, fmt.Errorf("new family key: %w", err)
	}
	var wrapped []byte
	err = db.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO family_keys (family_id, wrapped_key, created_at)
			VALUES ($1, $2, $3) ON CONFLICT (family_id) DO NOTHING`,
			familyID, base64.StdEncoding.EncodeToString(fresh), tx.now); err != nil {
			return fmt.Errorf("create family key: %w", err)
		}
		var err error
		wrapped, err = familyKey(ctx, tx, familyID)
		return err
	})
	return wrapped, err
}

// CreateDocument records an uploaded document whose file is stored already
// under storageKey (ADMIN, CAREGIVER). d carries the id from
// PrepareDocumentUpload, the recipient, and what the upload measured.
func (db *DB) CreateDocument(ctx context.Context, d carecircle.Document, storageKey string) (carecircle.Document, error) {
	err := db.write(ctx, func(tx *Tx) error {
		a, err := actor(ctx)
		if err != nil {
			return err
		}
		s, err := recipientScope(ctx, tx, d.CareRecipientID)
		if err != nil {
			return err
		}
		if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		if err := d.Validate(); err != nil {
			return err
		}
		d.UploadedBy = carecircle.MemberRef{ID: a.UserID, FullName: a.Name}
		d.CreatedAt, d.UpdatedAt = tx.nowT, tx.nowT
		if _, err := tx.ExecContext(ctx, `INSERT INTO documents (id, family_id, care_recipient_id, name, file_name,
			category, mime_type, size_bytes, sha256, storage_key, expires_at, uploaded_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
			d.ID, s.FamilyID, s.RecipientID, d.Name, d.FileName, d.Category, d.MimeType, d.SizeBytes, d.SHA256,
			storageKey, msPtr(d.ExpiresAt), a.UserID, tx.now); err != nil {
			return fmt.Errorf("create document: %w", err)
		}
		return tx.emit(ctx, carecircle.EventDocumentUploaded, "/api/v1/documents/"+d.ID, s.FamilyID, s.RecipientID,
			documentEventData(s, d))
	})
	return d, err
}

// Documents lists a care recipient's documents (any member), newest first,
// one page at a time. It returns the cursor of the next page, or "".
func (db *DB) Documents(ctx context.Context, recipientID string, f DocumentFilter) ([]carecircle.Document, string, error) {
	if _, err := recipientScope(ctx, db.r, recipientID); err != nil {
		return nil, "", err
	}
	if f.Category != "" && !f.Category.Valid() {
		return nil, "", carecircle.Invalid("category must be one of INSURANCE, MEDICAL, LEGAL, IDENTIFICATION, PRESCRIPTION, OTHER")
	}
	afterKey, afterID := int64(math.MaxInt64), ""
	if f.Page.Cursor != "" {
		var err error
		if afterKey, afterID, err = DecodeCursor(f.Page.Cursor); err != nil {
			return nil, "", err
		}
	}
	limit := f.Page.size()
	rows, err := db.r.QueryContext(ctx, `SELECT `+documentColumns+documentFrom+`
		WHERE d.care_recipient_id = $1 AND d.deleted_at IS NULL AND ($2 = '' OR d.category = $2)
		AND (d.created_at < $3 OR (d.created_at = $3 AND d.id < $4))
		ORDER BY d.created_at DESC, d.id DESC LIMIT $5`,
		recipientID, string(f.Category), afterKey, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list documents: %w", err)
	}
	out, err := collect(rows, scanDocument)
	if err != nil {
		return nil, "", fmt.Errorf("list documents: %w", err)
	}
	out, next := cutPage(out, limit, func(d *carecircle.Document) (time.Time, string) { return d.CreatedAt, d.ID })
	return out, next, nil
}

func documentScope(ctx context.Context, q querier, id string) (Scope, error) {
	if !carecircle.HasPrefix(id, carecircle.PrefixDocument) {
		return Scope{}, notFound("document")
	}
	return childScope(ctx, q, "documents", id, "document")
}

// documentByID reads a document that is not deleted; the caller has scoped
// it already.
func documentByID(ctx context.Context, q querier, id string) (carecircle.Document, error) {
	d, err := scanDocument(q.QueryRowContext(ctx, `SELECT `+documentColumns+documentFrom+`
		WHERE d.id = $1 AND d.deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("document")
	}
	if err != nil {
		return d, fmt.Errorf("read document: %w", err)
	}
	return d, nil
}

// Document returns one document's metadata (any member of its family).
func (db *DB) Document(ctx context.Context, id string) (carecircle.Document, error) {
	if _, err := documentScope(ctx, db.r, id); err != nil {
		return carecircle.Document{}, err
	}
	return documentByID(ctx, db.r, id)
}

// DocumentForDownload returns a document (any member of its family) with
// where its file is stored and the family's wrapped data key.
func (db *DB) DocumentForDownload(ctx context.Context, id string) (carecircle.Document, DocumentBlob, error) {
	s, err := documentScope(ctx, db.r, id)
	if err != nil {
		return carecircle.Document{}, DocumentBlob{}, err
	}
	d, err := documentByID(ctx, db.r, id)
	if err != nil {
		return d, DocumentBlob{}, err
	}
	b := DocumentBlob{FamilyID: s.FamilyID}
	if err := db.r.QueryRowContext(ctx, `SELECT storage_key FROM documents WHERE id = $1`, id).Scan(&b.StorageKey); err != nil {
		return d, b, fmt.Errorf("read document: %w", err)
	}
	if b.WrappedKey, err = familyKey(ctx, db.r, s.FamilyID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = fmt.Errorf("document %s: family %s has no data key", id, s.FamilyID)
		}
		return d, b, err
	}
	return d, b, nil
}

// RecordDocumentDownload records that the caller is about to receive the
// document's file, for the family's audit log (who read the DNR, and when).
// The API calls it after the file passed its integrity check and before the
// first byte is sent.
func (db *DB) RecordDocumentDownload(ctx context.Context, d carecircle.Document) error {
	return db.write(ctx, func(tx *Tx) error {
		a, err := actor(ctx)
		if err != nil {
			return err
		}
		s, err := documentScope(ctx, tx, d.ID)
		if err != nil {
			return err
		}
		data := documentEventData(s, d)
		data["downloadedById"], data["downloadedByName"], data["downloadedAt"] = a.UserID, a.Name, tx.nowT
		return tx.emit(ctx, carecircle.EventDocumentRead, "/api/v1/documents/"+d.ID, s.FamilyID, s.RecipientID, data)
	})
}

// UpdateDocument loads a document, lets apply change its name, category or
// expiry (apply gets the care recipient's zone, for dates), validates and
// saves it (its uploader or an ADMIN).
func (db *DB) UpdateDocument(ctx context.Context, id string, apply func(d *carecircle.Document, loc *time.Location) error) (carecircle.Document, error) {
	var d carecircle.Document
	err := db.write(ctx, func(tx *Tx) error {
		s, err := documentScope(ctx, tx, id)
		if err != nil {
			return err
		}
		if d, err = documentByID(ctx, tx, id); err != nil {
			return err
		}
		if err := s.requireMakerOrAdmin(ctx, d.UploadedBy.ID, "document's uploader"); err != nil {
			return err
		}
		before := d
		if err := apply(&d, s.Location()); err != nil {
			return err
		}
		if err := d.Validate(); err != nil {
			return err
		}
		if d.Name == before.Name && d.Category == before.Category && sameInstant(d.ExpiresAt, before.ExpiresAt) {
			return nil // nothing changed: no write, no event
		}
		d.UpdatedAt = tx.nowT
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET name = $1, category = $2, expires_at = $3, updated_at = $4
			WHERE id = $5`, d.Name, d.Category, msPtr(d.ExpiresAt), tx.now, id); err != nil {
			return fmt.Errorf("update document: %w", err)
		}
		data := documentEventData(s, d)
		a, _ := actor(ctx)
		data["editedById"], data["editedByName"] = a.UserID, a.Name
		data["previousName"], data["previousCategory"] = before.Name, before.Category
		return tx.emit(ctx, carecircle.EventDocumentUpdated, "/api/v1/documents/"+id, s.FamilyID, s.RecipientID, data)
	})
	return d, err
}

func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// DeleteDocument deletes a document (its uploader or an ADMIN) and returns
// the key of its stored file, which the caller removes next and then calls
// PurgeDocument. Until then the row stays, invisible, so DeletedDocuments
// can find a file whose removal failed.
func (db *DB) DeleteDocument(ctx context.Context, id string) (storageKey string, err error) {
	err = db.write(ctx, func(tx *Tx) error {
		s, err := documentScope(ctx, tx, id)
		if err != nil {
			return err
		}
		d, err := documentByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.requireMakerOrAdmin(ctx, d.UploadedBy.ID, "document's uploader"); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT storage_key FROM documents WHERE id = $1`, id).Scan(&storageKey); err != nil {
			return fmt.Errorf("delete document: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET deleted_at = $1, updated_at = $1 WHERE id = $2`, tx.now, id); err != nil {
			return fmt.Errorf("delete document: %w", err)
		}
		data := documentEventData(s, d)
		a, _ := actor(ctx)
		data["deletedById"], data["deletedByName"] = a.UserID, a.Name
		return tx.emit(ctx, carecircle.EventDocumentDeleted, "/api/v1/documents/"+id, s.FamilyID, s.RecipientID, data)
	})
	return storageKey, err
}

// DeletedDocument is a deleted document whose file may still be stored.
type DeletedDocument struct {
	ID         string
	StorageKey string
}

// DeletedDocuments returns up to limit deleted documents whose rows remain
// because removing their file failed (or has not happened yet), oldest
// deletion first, for a sweep to retry. It is for the server's own
// maintenance, not for requests.
func (db *DB) DeletedDocuments(ctx context.Context, limit int) ([]DeletedDocument, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, storage_key FROM documents WHERE deleted_at IS NOT NULL
		ORDER BY deleted_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list deleted documents: %w", err)
	}
	defer rows.Close()
	var out []DeletedDocument
	for rows.Next() {
		var d DeletedDocument
		if err := rows.Scan(&d.ID, &d.StorageKey); err != nil {
			return nil, fmt.Errorf("list deleted documents: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// PurgeDocument removes the row of a deleted document once its file is gone.
// A document that is not deleted is left alone.
func (db *DB) PurgeDocument(ctx context.Context, id string) error {
	return db.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = $1 AND deleted_at IS NOT NULL`, id); err != nil {
			return fmt.Errorf("purge document: %w", err)
		}
		return nil
	})
}

// FamilyKeys returns up to limit families' wrapped data keys by family id.
// It is for the server's own checks (does the master key open them?), not
// for requests.
func (db *DB) FamilyKeys(ctx context.Context, limit int) (map[string][]byte, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT family_id, wrapped_key FROM family_keys ORDER BY family_id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read family keys: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var id, enc string
		if err := rows.Scan(&id, &enc); err != nil {
			return nil, fmt.Errorf("read family keys: %w", err)
		}
		k, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("family key of %s is not base64: %w", id, err)
		}
		out[id] = k
	}
	return out, rows.Err()
}

// RewrapFamilyKeys replaces every family's wrapped data key with
// rewrap(old), all in one transaction: a master-key rotation either moves
// every key or none. beforeCommit, when set, runs after the last key is
// rewrapped and before the commit (the command saves the new master key
// there, so it is on disk before any key depends on it). It returns how many
// keys were rewrapped.
func (db *DB) RewrapFamilyKeys(ctx context.Context, rewrap func(wrapped []byte) ([]byte, error), beforeCommit func() error) (int, error) {
	n := 0
	err := db.write(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT family_id, wrapped_key FROM family_keys ORDER BY family_id`)
		if err != nil {
			return fmt.Errorf("read family keys: %w", err)
		}
		type key struct{ family, enc string }
		var keys []key
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.family, &k.enc); err != nil {
				rows.Close()
				return fmt.Errorf("read family keys: %w", err)
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read family keys: %w", err)
		}
		for _, k := range keys {
			old, err := base64.StdEncoding.DecodeString(k.enc)
			if err != nil {
				return fmt.Errorf("family key of %s is not base64: %w", k.family, err)
			}
			nw, err := rewrap(old)
			if err != nil {
				return fmt.Errorf("rewrap key of family %s: %w", k.family, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE family_keys SET wrapped_key = $1, rotated_at = $2 WHERE family_id = $3`,
				base64.StdEncoding.EncodeToString(nw), tx.now, k.family); err != nil {
				return fmt.Errorf("rewrap key of family %s: %w", k.family, err)
			}
			n++
		}
		if beforeCommit != nil {
			return beforeCommit()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// emergencyDocuments lists a care recipient's key documents (every category
// but OTHER) for the emergency page, most important category first, each
// flagged when it expires within DocumentExpiryWarning of now or has expired.
func (db *DB) emergencyDocuments(ctx context.Context, recipientID string, now time.Time, loc *time.Location) ([]carecircle.EmergencyDocument, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, file_name, category, mime_type, expires_at FROM documents
		WHERE care_recipient_id = $1 AND deleted_at IS NULL AND category <> $2
		ORDER BY CASE category WHEN 'INSURANCE' THEN 1 WHEN 'IDENTIFICATION' THEN 2 WHEN 'LEGAL' THEN 3
			WHEN 'MEDICAL' THEN 4 ELSE 5 END, created_at DESC, id DESC LIMIT 100`,
		recipientID, carecircle.DocumentOther)
	if err != nil {
		return nil, fmt.Errorf("read key documents: %w", err)
	}
	defer rows.Close()
	out := []carecircle.EmergencyDocument{}
	for rows.Next() {
		var d carecircle.EmergencyDocument
		var expires sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Name, &d.FileName, &d.Category, &d.MimeType, &expires); err != nil {
			return nil, fmt.Errorf("read key documents: %w", err)
		}
		d.ExpiresAt = fromNullMS(expires)
		if d.ExpiresAt != nil {
			flagExpiry(&d, now, loc)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// flagExpiry sets the warning of a document that expired or expires within
// DocumentExpiryWarning, with the date in the care recipient's zone.
func flagExpiry(d *carecircle.EmergencyDocument, now time.Time, loc *time.Location) {
	at := *d.ExpiresAt
	day := at.In(loc).Format("2 January 2006")
	switch {
	case !at.After(now):
		d.Expired, d.ExpiringSoon = true, true
		d.Warning = "expired on " + day
	case at.Sub(now) <= carecircle.DocumentExpiryWarning:
		d.ExpiringSoon = true
		days := int(math.Ceil(at.Sub(now).Hours() / 24))
		unit := "days"
		if days == 1 {
			unit = "day"
		}
		d.Warning = fmt.Sprintf("expires on %s (in %d %s)", day, days, unit)
	}
}
