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

// nullText stores "" as NULL: optional text columns (emails, creators,
// API key ids) hold NULL for "none", so that UNIQUE indexes and foreign
// keys ignore them.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// text is a sql.Scanner for a nullable TEXT column: NULL reads as "".
type text string

func (t *text) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = ""
	case string:
		*t = text(v)
	case []byte:
		*t = text(v)
	default:
		return fmt.Errorf("text: unexpected column type %T", src)
	}
	return nil
}

// encodeDetails stores audit details as a JSON object, NULL when empty.
func encodeDetails(d map[string]string) any {
	if len(d) == 0 {
		return nil
	}
	b, _ := json.Marshal(d) // a map[string]string always marshals
	return string(b)
}

// details is a sql.Scanner for the audit details column: NULL or an
// empty object reads as nil.
type details map[string]string

func (d *details) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case nil:
		*d = nil
		return nil
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		return fmt.Errorf("details: unexpected column type %T", src)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("details: %w", err)
	}
	if len(m) == 0 {
		m = nil
	}
	*d = m
	return nil
}
