package config

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sqliteConfig is a Config whose database and key file live in a fresh
// temporary directory (the database file itself is not created).
func sqliteConfig(t *testing.T) (Config, string) {
	t.Helper()
	dir := t.TempDir()
	c, err := Load(nil, nil, envFunc(map[string]string{
		"SIGIL_DATABASE_URL": "sqlite://" + filepath.Join(dir, "sigil.db"),
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "sigil.master.key"); c.MasterKeyFile != want {
		t.Fatalf("MasterKeyFile = %q, want %q", c.MasterKeyFile, want)
	}
	return c, dir
}

func TestLoadMasterKeyFromConfig(t *testing.T) {
	c := Default()
	c.MasterKey = bytes.Clone(testKey)
	k, err := c.LoadMasterKey()
	if err != nil || !bytes.Equal(k, testKey) {
		t.Fatalf("LoadMasterKey = %x, %v; want the configured key", k, err)
	}
	k[0] ^= 0xff
	if !bytes.Equal(c.MasterKey, testKey) {
		t.Error("LoadMasterKey returned the Config's own slice, not a copy")
	}
	if _, err := os.Stat(c.MasterKeyFile); !os.IsNotExist(err) {
		t.Errorf("a configured key must not touch the key file (stat: %v)", err)
	}
	c.MasterKey = testKey[:31]
	if _, err := c.LoadMasterKey(); err == nil {
		t.Error("31-byte key: want an error")
	}
}

func TestLoadMasterKeyPostgresRequiresKey(t *testing.T) {
	c := Config{DatabaseURL: "postgres://db/s"}
	_, err := c.LoadMasterKey()
	if err == nil || !strings.Contains(err.Error(), "SIGIL_MASTER_KEY is required with PostgreSQL") {
		t.Errorf("got %v, want the PostgreSQL requirement", err)
	}
}

func TestLoadMasterKeyGeneratesAndReuses(t *testing.T) {
	c, _ := sqliteConfig(t)
	k1, err := c.LoadMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != MasterKeySize || bytes.Equal(k1, make([]byte, MasterKeySize)) {
		t.Fatalf("generated key %x is not 32 random bytes", k1)
	}
	st, err := os.Stat(c.MasterKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %#o, want 0600", perm)
	}
	data, _ := os.ReadFile(c.MasterKeyFile)
	if got := strings.TrimSpace(string(data)); got != base64.StdEncoding.EncodeToString(k1) {
		t.Errorf("key file holds %q, want the key in standard base64", got)
	}
	k2, err := c.LoadMasterKey()
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("second call = %x, %v; want the same key %x", k2, err, k1)
	}
}

func TestLoadMasterKeyRefusesBadFiles(t *testing.T) {
	valid := base64.StdEncoding.EncodeToString(testKey) + "\n"
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"world readable", valid, 0o644, "looser than 0600"},
		{"group readable", valid, 0o640, "looser than 0600"},
		{"short key", base64.StdEncoding.EncodeToString(testKey[:16]), 0o600, "32 base64"},
		{"not base64", "keep-this-private!", 0o600, "32 base64"},
		{"empty", "", 0o600, "32 base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := sqliteConfig(t)
			if err := os.WriteFile(c.MasterKeyFile, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(c.MasterKeyFile, tt.mode); err != nil { // umask-proof
				t.Fatal(err)
			}
			_, err := c.LoadMasterKey()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if tt.content != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.content)) {
				t.Errorf("error leaks the file content: %v", err)
			}
		})
	}
}

func TestLoadMasterKeyAcceptsEncodings(t *testing.T) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		c, _ := sqliteConfig(t)
		key := bytes.Repeat([]byte{0xfb, 0xff}, 16) // '+' '/' vs '-' '_' differ
		if err := os.WriteFile(c.MasterKeyFile, []byte(" "+enc.EncodeToString(key)+"\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := c.LoadMasterKey()
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("%v: got %x, %v", enc, got, err)
		}
	}
}

func TestLoadMasterKeyConcurrentGeneration(t *testing.T) {
	c, dir := sqliteConfig(t)
	const n = 10
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			keys[i], errs[i] = c.LoadMasterKey()
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("goroutine %d got key %x, goroutine 0 got %x", i, keys[i], keys[0])
		}
	}
	onDisk, err := readKeyFile(c.MasterKeyFile)
	if err != nil || !bytes.Equal(onDisk, keys[0]) {
		t.Errorf("file holds %x (%v), callers got %x", onDisk, err, keys[0])
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"sigil.master.key"}, names); diff != "" {
		t.Errorf("temporary files left behind (-want +got):\n%s", diff)
	}
}

func TestLoadMasterKeyRefusesNewKeyForExistingDatabase(t *testing.T) {
	c, _ := sqliteConfig(t)
	if err := os.WriteFile(c.SQLitePath(), []byte("existing"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := c.LoadMasterKey()
	if err == nil || !strings.Contains(err.Error(), "database") {
		t.Fatalf("got %v, want a refusal naming the existing database", err)
	}
	if _, err := os.Stat(c.MasterKeyFile); !os.IsNotExist(err) {
		t.Errorf("a key file was created anyway (stat: %v)", err)
	}
}

func TestLoadMasterKeyInMemoryIsEphemeral(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	c := with(func(c *Config) { c.DatabaseURL, c.MasterKeyFile = "sqlite://:memory:", "" })
	k1, err1 := c.LoadMasterKey()
	k2, err2 := c.LoadMasterKey()
	if err1 != nil || err2 != nil || len(k1) != MasterKeySize || bytes.Equal(k1, k2) {
		t.Fatalf("got %x (%v), %x (%v); want two different 32-byte keys", k1, err1, k2, err2)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("in-memory database wrote files: %v", entries)
	}
}

func TestLoadMasterKeyMissingDirectory(t *testing.T) {
	c := with(func(c *Config) {
		c.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "no", "such", "s.db")
		c.MasterKeyFile = c.defaultMasterKeyFile()
	})
	if _, err := c.LoadMasterKey(); err == nil {
		t.Error("missing directory: want an error")
	}
}
