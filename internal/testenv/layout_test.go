package testenv_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/sigil-auth/sigil/"

// forbidden lists, per package, the packages of ours it must not import:
// arrows point one way (cmd → httpapi → authn → {token, store, …}).
var forbidden = map[string][]string{
	"internal/store":     {"internal/"},
	"internal/token":     {"internal/authn", "internal/httpapi", "internal/ratelimit", "internal/fanout"},
	"internal/authn":     {"internal/httpapi", "internal/web", "internal/config"},
	"internal/httpapi":   {"internal/web"},
	"internal/web":       {"internal/httpapi", "internal/store", "internal/token", "internal/config"},
	"internal/ratelimit": {"internal/authn", "internal/httpapi", "internal/store"},
	"internal/fanout":    {"internal/authn", "internal/httpapi", "internal/store"},
	"internal/clientip":  {"internal/"},
	"internal/mail":      {"internal/"},
	"internal/password":  {"internal/"},
	"internal/config":    {"internal/authn", "internal/httpapi", "internal/store"},
	"client":             {"internal/"},
	"verify":             {"internal/"},
	"internal/gateway":   {"internal/authn", "internal/httpapi", "internal/store", "internal/config"},
}

// TestLayout: every package has a doc.go (or, for commands, a package
// comment) and respects the import arrows.
func TestLayout(t *testing.T) {
	root, _ := filepath.Abs("../..")
	pkgs := map[string][]string{} // dir → non-test .go files
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			pkgs[rel] = append(pkgs[rel], p)
		}
		return nil
	})
	for dir, files := range pkgs {
		if _, err := os.Stat(filepath.Join(root, dir, "doc.go")); err != nil && !strings.HasPrefix(dir, "cmd/") {
			t.Errorf("%s has no doc.go", dir)
		}
		fset := token.NewFileSet()
		for _, f := range files {
			af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for pkg, bad := range forbidden {
					if dir != pkg && !strings.HasPrefix(dir, pkg+"/") {
						continue
					}
					for _, b := range bad {
						if strings.HasPrefix(path, module+b) && !strings.HasPrefix(path, module+pkg) {
							t.Errorf("%s imports %s", f[len(root)+1:], path)
						}
					}
				}
			}
		}
	}
}
