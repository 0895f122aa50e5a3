package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Column encodings (see migrations/00001_init.sql): instants are INTEGER
// unix microseconds UTC, durations INTEGER nanoseconds, scope lists JSON
// array text. Decoding always yields UTC times, and nil for an empty list
// or blob, so both spellings of "nothing" read back the same way.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullDuration keeps nil (unset) apart from 0 (explicitly off).
func nullDuration(d *time.Duration) sql.NullInt64 {
	if d == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*d), Valid: true}
}

func fromNullDuration(v sql.NullInt64) *time.Duration {
	if !v.Valid {
		return nil
	}
	d := time.Duration(v.Int64)
	return &d
}

// blob stores an empty byte slice as NULL, so that UNIQUE columns admit
// any number of "no value" rows.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func encodeScopes(scopes []string) string {
	if len(scopes) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(scopes) // a []string always marshals
	return string(b)
}

// scopes is a sql.Scanner for a JSON scope list column.
type scopes []string

func (s *scopes) Scan(src any) error {
	var text []byte
	switch v := src.(type) {
	case string:
		text = []byte(v)
	case []byte:
		text = v
	default:
		return fmt.Errorf("scopes: unexpected column type %T", src)
	}
	var list []string
	if err := json.Unmarshal(text, &list); err != nil {
		return fmt.Errorf("scopes: %w", err)
	}
	if len(list) == 0 {
		list = nil
	}
	*s = list
	return nil
}

// instant is a sql.Scanner for a NOT NULL microsecond column.
type instant time.Time

func (t *instant) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("instant: unexpected column type %T", src)
	}
	*t = instant(fromMicros(v))
	return nil
}
