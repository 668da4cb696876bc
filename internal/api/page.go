package api

import (
	"github.com/carecircle/carecircle/internal/storage"
)

// PageQuery is the ?limit=&cursor= every list takes (DESIGN §3 Lists), so
// all of them page, and refuse a bad limit or cursor, the same way.
type PageQuery struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"200" doc:"page size, 1 to 200; default 50"`
	Cursor string `query:"cursor" maxLength:"200" doc:"the nextCursor of the previous page"`
}

func (q PageQuery) page() storage.Page {
	return storage.Page{Limit: q.Limit, Cursor: q.Cursor}
}

// pageOf cuts one page out of a short list the store returns whole (a
// user's families, a family's members, a recipient's medications), so those
// lists page like the long ones. The cursor holds the last item's position
// and id: the id keeps the place when earlier items come or go, the
// position when the last item itself went.
func pageOf[T any](items []T, id func(T) string, q PageQuery) (List[T], error) {
	start := 0
	if q.Cursor != "" {
		pos, last, err := storage.DecodeCursor(q.Cursor)
		if err != nil {
			return List[T]{}, err
		}
		start = min(max(int(pos)+1, 0), len(items))
		for i, it := range items {
			if id(it) == last {
				start = i + 1
				break
			}
		}
	}
	size := q.Limit
	if size <= 0 {
		size = storage.DefaultPageSize
	}
	end := min(start+size, len(items))
	out := List[T]{Items: items[start:end]}
	if out.Items == nil {
		out.Items = []T{}
	}
	if end < len(items) {
		out.NextCursor = storage.EncodeCursor(int64(end-1), id(items[end-1]))
	}
	return out, nil
}
