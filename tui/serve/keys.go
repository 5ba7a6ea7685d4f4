package serve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	gossh "golang.org/x/crypto/ssh"
)

// Role is what a client may do.
type Role int

const (
	// Viewer watches: its knob and control keys are refused.
	Viewer Role = iota
	// Operator may change knobs, pause, checkpoint, evaluate and stop.
	Operator
)

func (r Role) String() string {
	if r == Operator {
		return "operator"
	}
	return "viewer"
}

// keyEntry is one authorized key.
type keyEntry struct {
	key     gossh.PublicKey
	comment string
	role    Role
	where   string // file:line
}

// keyFile is one authorized_keys file and its last good parse.
type keyFile struct {
	path    string
	role    Role
	mod     time.Time
	size    int64
	entries []keyEntry
}

// keyring holds the operators' and viewers' keys and re-reads a file when
// its modification time or size changes.
type keyring struct {
	mu    sync.Mutex
	files []*keyFile
	warn  func(format string, args ...any)
}

// newKeyring loads the files (empty paths are skipped); a file that is
// missing or does not parse is an error naming it and the line.
func newKeyring(operators, viewers string, warn func(string, ...any)) (*keyring, error) {
	k := &keyring{warn: warn}
	for _, f := range []struct {
		path string
		role Role
	}{{operators, Operator}, {viewers, Viewer}} {
		if f.path == "" {
			continue
		}
		kf := &keyFile{path: f.path, role: f.role}
		if err := kf.reload(); err != nil {
			return nil, err
		}
		k.files = append(k.files, kf)
	}
	if k.count(Operator)+k.count(Viewer) == 0 {
		return nil, errors.New("no public keys: give --authorized-keys FILE (operators) and/or --viewers FILE, in authorized_keys format")
	}
	return k, nil
}

// count is how many keys of role the files hold.
func (k *keyring) count(role Role) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, f := range k.files {
		if f.role == role {
			n += len(f.entries)
		}
	}
	return n
}

// lookup finds key, re-reading changed files first. Operators are searched
// first, so a key in both files is an operator.
func (k *keyring) lookup(key gossh.PublicKey) (keyEntry, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	want := key.Marshal()
	for _, f := range k.files {
		if fi, err := os.Stat(f.path); err != nil || !fi.ModTime().Equal(f.mod) || fi.Size() != f.size {
			if err := f.reload(); err != nil && k.warn != nil {
				k.warn("keeping the previous %s keys: %v", f.role, err)
			}
		}
	}
	for _, role := range []Role{Operator, Viewer} {
		for _, f := range k.files {
			if f.role != role {
				continue
			}
			for _, e := range f.entries {
				if bytes.Equal(e.key.Marshal(), want) {
					return e, true
				}
			}
		}
	}
	return keyEntry{}, false
}

func (f *keyFile) reload() error {
	fi, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("%s keys: %w", f.role, err)
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("%s keys: %w", f.role, err)
	}
	entries, err := parseAuthorizedKeys(f.path, data, f.role)
	if err != nil {
		return err
	}
	f.entries, f.mod, f.size = entries, fi.ModTime(), fi.Size()
	return nil
}

// parseAuthorizedKeys reads OpenSSH authorized_keys lines: blank lines and
// # comments are skipped; options before the key (from=, command=, ...)
// are accepted and ignored.
func parseAuthorizedKeys(path string, data []byte, role Role) ([]keyEntry, error) {
	var out []keyEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, comment, _, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not an OpenSSH public key line (want e.g. `ssh-ed25519 AAAA... alice`): %w", path, n, err)
		}
		out = append(out, keyEntry{key: key, comment: comment, role: role, where: fmt.Sprintf("%s:%d", path, n)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// ShortFingerprint is the first 8 characters of a key's SHA256 fingerprint,
// e.g. "SHA256:uNiVztks": enough to tell a team's keys apart, short enough
// for a log line. `ssh-keygen -lf KEY` prints the whole one.
func ShortFingerprint(key gossh.PublicKey) string {
	fp := gossh.FingerprintSHA256(key)
	if len(fp) > len("SHA256:")+8 {
		fp = fp[:len("SHA256:")+8]
	}
	return fp
}

// Identity is how a client is named in events and logs: the key's comment
// (else the SSH user) and its short fingerprint, "alice@SHA256:uNiVztks".
// The name is cut to 32 printable characters without spaces.
func Identity(comment, user string, key gossh.PublicKey) string {
	name := cleanName(comment)
	if name == "" {
		name = cleanName(user)
	}
	if name == "" {
		name = "anonymous"
	}
	return name + "@" + ShortFingerprint(key)
}

func cleanName(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case unicode.IsSpace(r):
			r = '_'
		case !unicode.IsPrint(r):
			continue
		}
		b.WriteRune(r)
		if b.Len() >= 32 {
			break
		}
	}
	return b.String()
}

// DefaultOperatorKeys is ~/.ssh/authorized_keys when that file exists,
// else "" (no operators).
func DefaultOperatorKeys() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	p := filepath.Join(home, ".ssh", "authorized_keys")
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return ""
	}
	return p
}
