package datasets

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets for the binary readers. Run each with, e.g.,
//
//	go test ./datasets -run '^$' -fuzz '^FuzzReadRecord$' -fuzztime 60s
//
// Crashes found are kept in testdata/fuzz/<target>/ and rerun by go test.

func addFiles(f *testing.F, glob string, extra ...any) {
	f.Helper()
	files, _ := filepath.Glob(glob)
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil && len(data) < 1<<16 {
			f.Add(append([]any{data}, extra...)...)
		}
	}
}

// FuzzReadRecord walks a RecordIO stream record by record, unpacking each
// image header, and checks that the reader always moves forward, never
// returns more than the stream holds (plus the magics it re-inserts), and
// that the header-only walk agrees with the full read.
func FuzzReadRecord(f *testing.F) {
	addFiles(f, "testdata/rec/*.rec")
	addFiles(f, "testdata/bad/broken.rec")
	f.Add([]byte{0x0a, 0x23, 0xd7, 0xce, 0x04, 0x00, 0x00, 0x20, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		end := int64(len(data))
		var off int64
		for off < end {
			rec, next, err := readRecord(r, off, end, 1<<20)
			n, next2, err2 := readRecordHeaderChain(r, off, end)
			if (err == nil) != (err2 == nil) && len(rec) <= 1<<20 {
				t.Fatalf("offset %d: full read err %v, header walk err %v", off, err, err2)
			}
			if err != nil {
				return
			}
			if next <= off || next > end || next != next2 || int64(len(rec)) != n {
				t.Fatalf("offset %d: next %d (walk %d), %d bytes (walk %d) in a stream of %d", off, next, next2, len(rec), n, end)
			}
			if int64(len(rec)) > 2*(next-off) {
				t.Fatalf("record of %d bytes from %d stream bytes", len(rec), next-off)
			}
			if h, payload, err := unpackIR(rec); err == nil {
				if len(payload)+irHeaderSize+4*int(h.Flag) != len(rec) {
					t.Fatalf("header flag %d, payload %d, record %d", h.Flag, len(payload), len(rec))
				}
				h.classLabel()
			}
			off = next
		}
	})
}

// FuzzParseIdx checks that every entry parseIdx keeps can hold a record
// header inside the .rec, is 4-aligned, and that keys are unique and sorted.
func FuzzParseIdx(f *testing.F) {
	addFiles(f, "testdata/rec/*.idx", int64(6128))
	f.Add([]byte("0\t0\n1\t8\n1\t16\n2\t-1\nx\n3 4 5\n"), int64(64))
	f.Fuzz(func(t *testing.T, data []byte, recSize int64) {
		entries, list, n, err := parseIdx(bytes.NewReader(data), "f.idx", recSize)
		if err != nil {
			return
		}
		if len(list) > maxProblems || len(list) > n {
			t.Fatalf("%d problems kept of %d", len(list), n)
		}
		for i, e := range entries {
			if e.off < 0 || e.off%4 != 0 || e.off > recSize-8 {
				t.Fatalf("entry %+v kept for a .rec of %d bytes", e, recSize)
			}
			if i > 0 && entries[i-1].key >= e.key {
				t.Fatalf("keys not unique and ascending: %d then %d", entries[i-1].key, e.key)
			}
		}
	})
}

// FuzzUnpickle runs the pickle reader and the verification-set shape check
// on arbitrary bytes: errors are fine, panics and runaway memory are not.
func FuzzUnpickle(f *testing.F) {
	addFiles(f, "testdata/bin/*.bin")
	f.Add([]byte("((lp0\nC\x02aba" + "g0\nC\x01ca0" + "(I01\nlt20."))
	f.Add([]byte("\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R."))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := unpickle(data)
		if err != nil {
			return
		}
		images, same, err := verificationPickle(v)
		if err != nil {
			return
		}
		if len(images) != 2*len(same) {
			t.Fatalf("%d images for %d pairs passed the shape check", len(images), len(same))
		}
		total := 0
		for _, im := range images {
			total += len(im)
		}
		// Byte strings are slices of the input, or latin-1 decodings of
		// its text (at most one byte per input byte).
		if total > len(data)*(1+len(images)) {
			t.Fatalf("%d image bytes from %d input bytes", total, len(data))
		}
	})
}
