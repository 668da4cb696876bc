package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SQLite connections here keep their prepared statements. database/sql
// hands a query with arguments to the driver, which for SQLite means parsing
// and planning the SQL every time: on the dose-logging path that was a
// quarter of the CPU. Each connection (used by one goroutine at a time)
// caches the statements it has run, keyed by their text, and reuses them
// while they are idle. SQLite re-prepares a cached statement by itself when
// the schema changes.

// maxCachedStmts bounds each connection's cache; queries built at run time
// (IN lists of varying length) beyond it are prepared and closed as before.
const maxCachedStmts = 128

// openSQLite opens a pool of SQLite connections with statement caches.
func openSQLite(dsn string) (*sql.DB, error) {
	// The registered driver, so its configuration and hooks apply.
	probe, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, fmt.Errorf("sqlite driver: %w", err)
	}
	drv := probe.Driver()
	probe.Close()
	return sql.OpenDB(cachingConnector{dsn: dsn, drv: drv}), nil
}

type cachingConnector struct {
	dsn string
	drv driver.Driver
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.drv }

// cachingConn wraps a driver connection. database/sql never uses a
// connection from two goroutines at once, so the cache needs no lock; busy
// guards against one statement serving two open result sets on the same
// connection (a query issued while iterating another's rows).
type cachingConn struct {
	driver.Conn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	st   driver.Stmt
	busy bool
}

// stmt returns a prepared statement for query and the function to call when
// done with it.
func (c *cachingConn) stmt(ctx context.Context, query string) (driver.Stmt, func(failed bool), error) {
	if e, ok := c.stmts[query]; ok && !e.busy {
		e.busy = true
		return e.st, func(failed bool) {
			e.busy = false
			if failed { // don't trust a statement that failed midway
				delete(c.stmts, query)
				e.st.Close()
			}
		}, nil
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if _, taken := c.stmts[query]; taken || len(c.stmts) >= maxCachedStmts || !cacheable(query) {
		return st, func(bool) { st.Close() }, nil
	}
	e := &cachedStmt{st: st, busy: true}
	c.stmts[query] = e
	return st, func(failed bool) {
		e.busy = false
		if failed {
			delete(c.stmts, query)
			e.st.Close()
		}
	}, nil
}

// cacheable is false for scripts of several statements (migrations).
func cacheable(query string) bool {
	return !strings.Contains(strings.TrimRight(strings.TrimSpace(query), ";"), ";")
}

// ExecContext runs query through the connection's cached statement.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, release, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.(driver.StmtExecContext).ExecContext(ctx, args)
	release(err != nil)
	return res, err
}

// QueryContext runs query through the connection's cached statement; the
// statement is free again when the rows are closed.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, release, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		release(true)
		return nil, err
	}
	return &releasingRows{Rows: rows, release: release}, nil
}

type releasingRows struct {
	driver.Rows
	release func(failed bool)
	failed  bool
}

func (r *releasingRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err != nil && !errors.Is(err, io.EOF) {
		r.failed = true
	}
	return err
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release(r.failed || err != nil)
		r.release = nil
	}
	return err
}

// PrepareContext prepares a statement the caller manages (sql.Stmt).
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

// BeginTx starts a transaction on the underlying connection.
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

// Ping checks the connection.
func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession lets the driver vet the connection before reuse.
func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid reports whether the driver still considers the connection usable.
func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	var err error
	for q, e := range c.stmts {
		err = errors.Join(err, e.st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(err, c.Conn.Close())
}
