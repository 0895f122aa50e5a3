package config

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxKeyFileSize bounds what readKeyFile reads: a key is 44 characters.
const maxKeyFileSize = 1024

// LoadMasterKey returns the 32-byte master key:
//   - c.MasterKey when set (SIGIL_MASTER_KEY);
//   - with PostgreSQL otherwise, an error: there is no safe place to keep a
//     generated key beside a remote database;
//   - with SQLite, the key in c.MasterKeyFile, generated on first use
//     (32 random bytes, base64, mode 0600). An existing file is refused when
//     its mode is looser than 0600 or it does not hold 32 base64 bytes;
//   - with in-memory SQLite and no file configured, a fresh ephemeral key.
//
// Generation is safe against concurrent starts: every caller that finds
// no file races to create one atomically and all end up with the winner's
// key. It refuses to generate a key when the SQLite database already
// exists, since a new key could not decrypt the secrets stored under the
// lost one — so call LoadMasterKey before opening the store.
func (c Config) LoadMasterKey() ([]byte, error) {
	if len(c.MasterKey) > 0 {
		if len(c.MasterKey) != MasterKeySize {
			return nil, fmt.Errorf("config: SIGIL_MASTER_KEY decodes to %d bytes, want %d", len(c.MasterKey), MasterKeySize)
		}
		return bytes.Clone(c.MasterKey), nil
	}
	switch c.DatabaseKind() {
	case KindPostgres:
		return nil, errors.New("config: SIGIL_MASTER_KEY is required with PostgreSQL")
	case KindSQLite:
	default:
		return nil, errors.New("config: SIGIL_DATABASE_URL: unsupported database")
	}
	if c.MasterKeyFile == "" {
		if c.inMemorySQLite() {
			return randomKey()
		}
		return nil, errors.New("config: SIGIL_MASTER_KEY_FILE is required with SQLite when SIGIL_MASTER_KEY is unset")
	}
	return loadOrCreateKeyFile(c.MasterKeyFile, c.SQLitePath())
}

func loadOrCreateKeyFile(path, dbPath string) ([]byte, error) {
	k, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if dbPath != ":memory:" {
		if _, statErr := os.Stat(dbPath); statErr == nil {
			// Another process may have created key and database between
			// our read and this stat: look once more before refusing.
			if k, err := readKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
				return k, err
			}
			return nil, fmt.Errorf("config: master key file %s is missing but database %s exists; "+
				"a new key could not decrypt its secrets: restore the file or set SIGIL_MASTER_KEY", path, dbPath)
		}
	}
	k, err = randomKey()
	if err != nil {
		return nil, err
	}
	err = createKeyFile(path, k)
	if errors.Is(err, fs.ErrExist) {
		return readKeyFile(path) // another process won the race: use its key
	}
	if err != nil {
		return nil, fmt.Errorf("config: creating master key file: %w", err)
	}
	return k, nil
}

// readKeyFile reads and checks an existing key file. A missing file is an
// error satisfying errors.Is(err, fs.ErrNotExist). Errors never contain
// the file's content.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config: master key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("config: master key file %s has mode %#o, looser than 0600: run chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize))
	if err != nil {
		return nil, fmt.Errorf("config: reading master key file: %w", err)
	}
	k, err := decodeKey(string(data))
	if err != nil || len(k) != MasterKeySize {
		return nil, fmt.Errorf("config: master key file %s does not hold %d base64-encoded bytes", path, MasterKeySize)
	}
	return k, nil
}

// createKeyFile writes k into a private temporary file beside path and
// hard-links it into place. Linking fails with EEXIST when path exists, so
// exactly one of several racing processes wins, and — unlike creating path
// itself with O_EXCL and then writing — no reader can ever see the file
// empty or half written.
func createKeyFile(path string, k []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".sigil.master.key-*") // mode 0600, O_EXCL
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	serr := tmp.Sync()
	if err := errors.Join(werr, serr, tmp.Close()); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes the new directory entry durable: losing the key loses
// every secret encrypted under it. Best effort; some filesystems refuse.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func randomKey() ([]byte, error) {
	k := make([]byte, MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("config: generating master key: %w", err)
	}
	return k, nil
}

// decodeKey decodes base64 in the standard or URL-safe alphabet, padded or
// not, ignoring surrounding whitespace. The length is the caller's check.
// The error never contains the input.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if k, err := enc.Strict().DecodeString(s); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("not valid base64")
}
