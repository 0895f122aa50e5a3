package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

// TestAuditCSVDefusesFormulas: a cell a spreadsheet would evaluate
// (=, +, -, @, tab, CR first) is prefixed with a quote; others are kept.
func TestAuditCSVDefusesFormulas(t *testing.T) {
	rec := httptest.NewRecorder()
	events := []authn.AuditEntry{
		{Time: time.Unix(0, 0), Action: "login.failure", Actor: "", Target: "=HYPERLINK(\"http://evil\")",
			Details: map[string]string{"email": "ok@example.com"}},
		{Time: time.Unix(0, 0), Action: "login.failure", Target: "+1", Method: "-x", ClientIP: "@me"},
		{Time: time.Unix(0, 0), Action: "api_key.create", Target: "ak_1"},
	}
	if err := writeAuditCSV(rec, events); err != nil {
		t.Fatal(err)
	}
	got := rec.Body.String()
	for _, want := range []string{`"'=HYPERLINK(""http://evil"")"`, ",'+1,'-x,'@me,", ",ak_1,", "email=ok@example.com"} {
		if !strings.Contains(got, want) {
			t.Errorf("CSV lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, ",=") || strings.Contains(got, ",+1") {
		t.Errorf("a formula cell is not defused:\n%s", got)
	}
}
