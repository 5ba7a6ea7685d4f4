package sessions

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tmpMark is part of every temporary file name this package creates
// (".<target>.tmp-<random>"); readers skip such files and Lock removes them.
const tmpMark = ".tmp-"

func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tmpMark)
}

// WriteFileAtomic writes data to path so that readers, and a crash at any
// moment, see either the old file or the new one: it writes a temporary file
// in the same directory, fsyncs it, renames it over path and fsyncs the
// directory. On error the old file is untouched and no temporary file stays.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic is WriteFileAtomic with the content produced by fill.
func writeAtomic(path string, perm os.FileMode, fill func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+tmpMark+"*")
	if err != nil {
		return fmt.Errorf("sessions: write %s: %w%s", path, err, hint(err))
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return fmt.Errorf("sessions: write %s: %w%s", path, err, hint(err))
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("sessions: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sessions: write %s: sync: %w%s", path, err, hint(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sessions: write %s: %w%s", path, err, hint(err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("sessions: write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sessions: write %s: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a directory so renames and creations in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// hint tells a user what to do about the common write failures.
func hint(err error) string {
	switch {
	case isNoSpace(err):
		return " (the disk is full: free some space, prune old checkpoints, or use --sessions DIR on another disk)"
	case errors.Is(err, os.ErrPermission):
		return " (the directory is not writable: fix its permissions or use --sessions DIR)"
	}
	return ""
}
