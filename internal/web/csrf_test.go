package web

import (
	"io/fs"
	"regexp"
	"testing"
)

// TestEveryPostFormCarriesCSRF: each post form of every template carries
// the session's CSRF proof; one without it would be refused for every
// signed-in person.
func TestEveryPostFormCarriesCSRF(t *testing.T) {
	forms := regexp.MustCompile(`<form [^>]*method="post"[^>]*>(\{\{template "csrf" \$\}\})?`)
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("templates: %v %v", names, err)
	}
	for _, n := range names {
		raw, err := fs.ReadFile(templateFS, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range forms.FindAllSubmatch(raw, -1) {
			if m[1] == nil {
				t.Errorf("%s: %s has no {{template \"csrf\" $}} right after it", n, m[0])
			}
		}
	}
}
