package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/carecircle/carecircle"
)

// CreateFamily creates a family with the caller as its first ADMIN.
func (db *DB) CreateFamily(ctx context.Context, name string) (carecircle.Family, error) {
	a, err := actor(ctx)
	if err != nil {
		return carecircle.Family{}, err
	}
	if err := carecircle.ValidateFamilyName(name); err != nil {
		return carecircle.Family{}, err
	}
	f := carecircle.Family{ID: carecircle.NewID(carecircle.PrefixFamily), Name: strings.TrimSpace(name), Role: carecircle.RoleAdmin}
	err = db.write(ctx, func(tx *Tx) error {
		f.CreatedAt, f.UpdatedAt = tx.nowT, tx.nowT
		if _, err := tx.ExecContext(ctx, `INSERT INTO families (id, name, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			f.ID, f.Name, a.UserID, tx.now); err != nil {
			return fmt.Errorf("create family: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO family_members (family_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)`,
			f.ID, a.UserID, carecircle.RoleAdmin, tx.now); err != nil {
			return fmt.Errorf("create family: %w", err)
		}
		if err := tx.emit(ctx, carecircle.EventFamilyCreated, "/api/v1/families", f.ID, "", map[string]any{"name": f.Name}); err != nil {
			return err
		}
		return tx.emit(ctx, carecircle.EventMemberJoined, "/api/v1/families/"+f.ID+"/members", f.ID, "",
			map[string]any{"userId": a.UserID, "fullName": a.Name, "role": carecircle.RoleAdmin})
	})
	return f, err
}

// Families lists the caller's families.
func (db *DB) Families(ctx context.Context) ([]carecircle.Family, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT f.id, f.name, m.role, f.created_at, f.updated_at
		FROM families f JOIN family_members m ON m.family_id = f.id AND m.user_id = $1
		ORDER BY f.created_at, f.id`, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("list families: %w", err)
	}
	return collect(rows, scanFamily)
}

func scanFamily(row rowScanner) (carecircle.Family, error) {
	var f carecircle.Family
	var c, u int64
	err := row.Scan(&f.ID, &f.Name, &f.Role, &c, &u)
	f.CreatedAt, f.UpdatedAt = fromMS(c), fromMS(u)
	return f, err
}

// Family returns one of the caller's families.
func (db *DB) Family(ctx context.Context, id string) (carecircle.Family, error) {
	return family(ctx, db.r, id)
}

func family(ctx context.Context, q querier, id string) (carecircle.Family, error) {
	a, err := actor(ctx)
	if err != nil {
		return carecircle.Family{}, err
	}
	f, err := scanFamily(q.QueryRowContext(ctx, `SELECT f.id, f.name, m.role, f.created_at, f.updated_at
		FROM families f JOIN family_members m ON m.family_id = f.id AND m.user_id = $2 WHERE f.id = $1`, id, a.UserID))
	if errors.Is(err, sql.ErrNoRows) {
		return f, notFound("family")
	}
	if err != nil {
		return f, fmt.Errorf("read family: %w", err)
	}
	return f, nil
}

// RenameFamily changes a family's name (ADMIN).
func (db *DB) RenameFamily(ctx context.Context, id, name string) (carecircle.Family, error) {
	var f carecircle.Family
	err := db.write(ctx, func(tx *Tx) error {
		var err error
		if f, err = family(ctx, tx, id); err != nil {
			return err
		}
		if err := f.Role.Require(carecircle.RoleAdmin); err != nil {
			return err
		}
		if err := carecircle.ValidateFamilyName(name); err != nil {
			return err
		}
		f.Name, f.UpdatedAt = strings.TrimSpace(name), tx.nowT
		if _, err := tx.ExecContext(ctx, `UPDATE families SET name = $1, updated_at = $2 WHERE id = $3`, f.Name, tx.now, id); err != nil {
			return fmt.Errorf("rename family: %w", err)
		}
		return tx.emit(ctx, carecircle.EventFamilyUpdated, "/api/v1/families/"+id, id, "", map[string]any{"name": f.Name})
	})
	return f, err
}

// Members lists a family's members (any member may see them).
func (db *DB) Members(ctx context.Context, familyID string) ([]carecircle.Member, error) {
	if _, err := familyRole(ctx, db.r, familyID); err != nil {
		return nil, err
	}
	return members(ctx, db.r, familyID)
}

func members(ctx context.Context, q querier, familyID string) ([]carecircle.Member, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id, u.full_name, u.email, u.phone, m.role, u.timezone, m.added_at
		FROM family_members m JOIN users u ON u.id = m.user_id WHERE m.family_id = $1
		ORDER BY m.added_at, u.id`, familyID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	out := []carecircle.Member{}
	for rows.Next() {
		var m carecircle.Member
		var added int64
		if err := rows.Scan(&m.UserID, &m.FullName, &m.Email, &m.Phone, &m.Role, &m.Timezone, &added); err != nil {
			return nil, err
		}
		m.AddedAt = fromMS(added)
		out = append(out, m)
	}
	return out, rows.Err()
}

// memberRole returns a (possibly other) user's role in a family.
func memberRole(ctx context.Context, q querier, familyID, userID string) (carecircle.Role, error) {
	var r carecircle.Role
	err := q.QueryRowContext(ctx, `SELECT role FROM family_members WHERE family_id = $1 AND user_id = $2`, familyID, userID).Scan(&r)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("member")
	}
	return r, err
}

func adminCount(ctx context.Context, q querier, familyID string) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM family_members WHERE family_id = $1 AND role = 'ADMIN'`, familyID).Scan(&n)
	return n, err
}

// lockFamily serializes membership changes of one family: the update takes
// PostgreSQL's row lock (SQLite transactions are serialized already), so two
// admins demoting each other at once can't leave the family without an ADMIN.
func lockFamily(ctx context.Context, tx *Tx, familyID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE families SET updated_at = updated_at WHERE id = $1`, familyID)
	return err
}

// ChangeRole sets a member's role (ADMIN). The last ADMIN can't be demoted.
func (db *DB) ChangeRole(ctx context.Context, familyID, userID string, role carecircle.Role) (carecircle.Member, error) {
	if !role.Valid() {
		return carecircle.Member{}, carecircle.Invalid("role must be one of ADMIN, CAREGIVER, VIEWER")
	}
	var out carecircle.Member
	err := db.write(ctx, func(tx *Tx) error {
		my, err := familyRole(ctx, tx, familyID)
		if err != nil {
			return err
		}
		if err := my.Require(carecircle.RoleAdmin); err != nil {
			return err
		}
		if err := lockFamily(ctx, tx, familyID); err != nil {
			return err
		}
		old, err := memberRole(ctx, tx, familyID, userID)
		if err != nil {
			return err
		}
		if old == carecircle.RoleAdmin && role != carecircle.RoleAdmin {
			n, err := adminCount(ctx, tx, familyID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return carecircle.Errorf(carecircle.ECONFLICT, "the last ADMIN of a family can't be demoted; make someone else ADMIN first")
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE family_members SET role = $1 WHERE family_id = $2 AND user_id = $3`, role, familyID, userID); err != nil {
			return fmt.Errorf("change role: %w", err)
		}
		ms, err := members(ctx, tx, familyID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.UserID == userID {
				out = m
			}
		}
		if old == role {
			return nil
		}
		return tx.emit(ctx, carecircle.EventMemberRoleChanged, "/api/v1/families/"+familyID+"/members/"+userID, familyID, "",
			map[string]any{"userId": userID, "fullName": out.FullName, "oldRole": old, "role": role})
	})
	return out, err
}

// RemoveMember removes a member (ADMIN), or the caller themself (leave). The
// last ADMIN can't leave or be removed.
func (db *DB) RemoveMember(ctx context.Context, familyID, userID string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		my, err := familyRole(ctx, tx, familyID)
		if err != nil {
			return err
		}
		if userID != a.UserID {
			if err := my.Require(carecircle.RoleAdmin); err != nil {
				return err
			}
		}
		if err := lockFamily(ctx, tx, familyID); err != nil {
			return err
		}
		role, err := memberRole(ctx, tx, familyID, userID)
		if err != nil {
			return err
		}
		if role == carecircle.RoleAdmin {
			n, err := adminCount(ctx, tx, familyID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return carecircle.Errorf(carecircle.ECONFLICT, "the last ADMIN of a family can't leave or be removed; make someone else ADMIN first")
			}
		}
		var name string
		_ = tx.QueryRowContext(ctx, `SELECT full_name FROM users WHERE id = $1`, userID).Scan(&name)
		if _, err := tx.ExecContext(ctx, `DELETE FROM family_members WHERE family_id = $1 AND user_id = $2`, familyID, userID); err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		return tx.emit(ctx, carecircle.EventMemberRemoved, "/api/v1/families/"+familyID+"/members/"+userID, familyID, "",
			map[string]any{"userId": userID, "fullName": name, "role": role, "left": userID == a.UserID})
	})
}
