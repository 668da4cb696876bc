package carecircle

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"
)

// ID prefixes, one per entity, as in the API contract.
const (
	PrefixUser         = "usr_"
	PrefixSession      = "ses_"
	PrefixFamily       = "fam_"
	PrefixInvite       = "inv_"
	PrefixRecipient    = "cr_"
	PrefixMedication   = "med_"
	PrefixDoseLog      = "mlog_"
	PrefixAppointment  = "apt_"
	PrefixDocument     = "doc_"
	PrefixTimeline     = "tl_"
	PrefixAlert        = "alrt_"
	PrefixShift        = "shf_"
	PrefixNotification = "ntf_"
	PrefixEvent        = "evt_"
	PrefixJob          = "job_"
	PrefixAudit        = "aud_"
)

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns prefix followed by 26 base-32 characters: 48 bits of
// millisecond time then 80 random bits, so IDs of one kind sort by creation
// time, which keyset pagination relies on.
func NewID(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	var sb strings.Builder
	sb.Grow(len(prefix) + 26)
	sb.WriteString(prefix)
	// 128 bits as 26 five-bit groups (the first group holds 3 bits).
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift+5 > 64:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		sb.WriteByte(crockford[v&31])
	}
	return sb.String()
}

// HasPrefix reports whether id looks like an ID of the given kind. It guards
// against spending a query on an obviously wrong identifier.
func HasPrefix(id, prefix string) bool {
	return strings.HasPrefix(id, prefix) && len(id) == len(prefix)+26
}
