package ratelimit

import (
	"testing"
	"time"
)

func TestParseTiers(t *testing.T) {
	def, err := ParseTiers("")
	if err != nil || def["free"] != (Rule{60, time.Minute}) || def["pro"] != (Rule{1000, time.Minute}) || len(def) != 2 {
		t.Fatalf("defaults: %v %v", def, err)
	}
	got, err := ParseTiers(" gold = 5/s , basic=10/h ")
	if err != nil || got["gold"] != (Rule{5, time.Second}) || got["basic"] != (Rule{10, time.Hour}) {
		t.Fatalf("parsed %v %v", got, err)
	}
	if off, err := ParseTiers("off"); err != nil || len(off) != 0 {
		t.Fatalf("off: %v %v", off, err)
	}
	for _, bad := range []string{"free", "Free=1/m", "a=1/m,a=2/m", "x=ten/m", "x=1/fortnight", "=1/m", "x=0/m"} {
		if _, err := ParseTiers(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
