package datasets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fixtures under testdata were written by testdata/gen/gen.py from the
// formats' specifications with Python's struct, pickle and Pillow, not by
// this package, so these tests check the readers against the real formats.

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, data)
}

func readAll(t *testing.T, src Source, size int) [][]uint8 {
	t.Helper()
	out := make([][]uint8, src.Len())
	for i := range out {
		out[i] = make([]uint8, size*size*3)
		if err := src.Image(i, size, out[i]); err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
	}
	return out
}

func labelsOf(src Source) []int {
	l := make([]int, src.Len())
	for i := range l {
		l[i] = src.Label(i)
	}
	return l
}

func TestRecordIOInsightface(t *testing.T) {
	for _, path := range []string{"testdata/rec/insight.rec", "testdata/rec/insight.idx", "testdata/rec/insight"} {
		r, err := OpenRecordIO(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.Len() != 8 || r.NumIDs() != 3 {
			t.Fatalf("%s: %d images of %d ids, want 8 of 3", path, r.Len(), r.NumIDs())
		}
		if want := []int{0, 0, 0, 1, 1, 2, 2, 2}; !slices.Equal(labelsOf(r), want) {
			t.Errorf("%s: labels %v, want %v", path, labelsOf(r), want)
		}
		if list, n := r.Problems(); n != 0 {
			t.Errorf("%s: problems %v", path, list)
		}
		px := readAll(t, r, 16)
		// Identity 2's first image is grey; the others are colour faces.
		if p := px[5]; p[0] != p[1] || p[1] != p[2] {
			t.Errorf("grey record decoded as %v", p[:3])
		}
		centre := px[0][(8*16+8)*3:]
		if !(centre[0] > centre[2]+40) {
			t.Errorf("face centre %v: want skin (red well above blue)", centre[:3])
		}
	}
}

// Image key 2 holds the magic in its header, so gen.py (like dmlc-core)
// split it into a multi-part record; the reader must join it back.
func TestRecordIOMultiPart(t *testing.T) {
	raw, err := os.ReadFile("testdata/rec/insight.rec")
	if err != nil {
		t.Fatal(err)
	}
	entries, _, _, err := parseIdx(bytes.NewReader(mustRead(t, "testdata/rec/insight.idx")), "insight.idx", int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	off := entries[2].off
	if cflag := binary.LittleEndian.Uint32(raw[off+4:]) >> 29; cflag != 1 {
		t.Fatalf("fixture record key 2 starts with cflag %d, want 1 (first part)", cflag)
	}
	rec, next, err := readRecord(bytes.NewReader(raw), off, int64(len(raw)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if next != entries[3].off {
		t.Errorf("next record at %d, want %d", next, entries[3].off)
	}
	h, payload, err := unpackIR(rec)
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != uint64(recMagic) || h.Label != 0 {
		t.Errorf("joined header id 0x%x label %v, want id 0x%x (the magic) label 0", h.ID, h.Label, recMagic)
	}
	if _, err := probeImage(payload); err != nil {
		t.Errorf("joined payload: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecordIOPlainAndNoIndex(t *testing.T) {
	r, err := OpenRecordIO("testdata/rec/plain.rec")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Labels 5, 9, 12 become classes 0, 1, 2; record 4 has a label array [9, 7.5].
	if want := []int{0, 1, 2, 0, 1, 2, 2}; !slices.Equal(labelsOf(r), want) {
		t.Errorf("labels %v, want %v", labelsOf(r), want)
	}
	if r.IDName(0) != "5" || r.IDName(2) != "12" {
		t.Errorf("id names %s %s, want the file's label values 5 and 12", r.IDName(0), r.IDName(2))
	}
	want := readAll(t, r, 12)

	// Without its .idx the .rec is scanned and reads the same.
	dir := t.TempDir()
	copyFile(t, "testdata/rec/plain.rec", filepath.Join(dir, "plain.rec"))
	s, err := OpenRecordIO(filepath.Join(dir, "plain.rec"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !slices.Equal(labelsOf(s), labelsOf(r)) {
		t.Errorf("scanned labels %v, indexed %v", labelsOf(s), labelsOf(r))
	}
	for i, px := range readAll(t, s, 12) {
		if !bytes.Equal(px, want[i]) {
			t.Errorf("image %d differs between the indexed and the scanned reader", i)
		}
	}
	if s.Fingerprint() != r.Fingerprint() {
		t.Error("same records, different fingerprints")
	}
}

func TestRecordIOIndexPastEnd(t *testing.T) {
	dir := t.TempDir()
	rec := mustRead(t, "testdata/rec/insight.rec")
	idx := mustRead(t, "testdata/rec/insight.idx")
	// An extra index line far past the end; the .rec itself intact.
	writeFile(t, filepath.Join(dir, "a.rec"), rec)
	writeFile(t, filepath.Join(dir, "a.idx"), append(slices.Clone(idx), []byte("99\t1000000\nnot a line\n")...))
	r, err := OpenRecordIO(filepath.Join(dir, "a.rec"))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	list, n := r.Problems()
	if r.Len() != 8 || n != 2 {
		t.Fatalf("%d images, problems %q; want 8 images and 2 problems", r.Len(), list)
	}
	for i, want := range []string{"a.idx: line 13: key 99: offset 1000000 is past the end of the .rec", "a.idx: line 14: \"not a line\""} {
		if !strings.Contains(list[i], want) {
			t.Errorf("problem %d = %q, want it to contain %q", i, list[i], want)
		}
	}

	// A truncated .rec: the identity records and the last images are gone.
	cut, _ := strconv.Atoi(strings.Fields(strings.Split(string(idx), "\n")[7])[1]) // key 7's offset
	writeFile(t, filepath.Join(dir, "b.rec"), rec[:cut+40])
	writeFile(t, filepath.Join(dir, "b.idx"), idx)
	r, err = OpenRecordIO(filepath.Join(dir, "b.rec"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	list, _ = r.Problems()
	joined := strings.Join(list, "\n")
	for _, want := range []string{"past the end of the .rec", "key 7: offset", "truncated .rec?"} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems %q: want one saying %q", list, want)
		}
	}
	if r.Len() != 6 {
		t.Errorf("%d readable images, want the 6 before the cut", r.Len())
	}
	readAll(t, r, 8)
}

func TestRecordIOBrokenRecords(t *testing.T) {
	r, err := OpenRecordIO("testdata/bad/broken.rec")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Key 2 has no image and is dropped at open; keys 3-5 fail to decode.
	if list, _ := r.Problems(); len(list) != 1 || !strings.Contains(list[0], "key 2: no image data") {
		t.Errorf("problems %q, want key 2 without image data", list)
	}
	px := make([]uint8, 16*16*3)
	wants := map[int]string{1: "key 3 (offset", 2: "key 4", 3: "key 5"}
	for i := 0; i < r.Len(); i++ {
		err := r.Image(i, 16, px)
		want, bad := wants[i]
		switch {
		case bad && (err == nil || !strings.Contains(err.Error(), "broken.rec "+want)):
			t.Errorf("image %d: error %v, want one naming broken.rec %s", i, err, want)
		case !bad && err != nil:
			t.Errorf("image %d: %v", i, err)
		}
	}
	if err := r.Image(1, 16, px); err == nil || !strings.Contains(err.Error(), "truncated or corrupt") {
		t.Errorf("truncated JPEG: %v", err)
	}
	if err := r.Image(2, 16, px); !errors.Is(err, ErrNotImage) {
		t.Errorf("text record: %v, want ErrNotImage", err)
	}
	if err := r.Image(3, 16, px); !errors.Is(err, ErrTooLarge) {
		t.Errorf("bomb record: %v, want ErrTooLarge", err)
	}
}

func TestRecordIOCorruptMagic(t *testing.T) {
	dir := t.TempDir()
	rec := mustRead(t, "testdata/rec/plain.rec")
	entries, _, _, _ := parseIdx(bytes.NewReader(mustRead(t, "testdata/rec/plain.idx")), "plain.idx", int64(len(rec)))
	bad := slices.Clone(rec)
	copy(bad[entries[3].off:], "JUNK")
	writeFile(t, filepath.Join(dir, "c.rec"), bad)
	copyFile(t, "testdata/rec/plain.idx", filepath.Join(dir, "c.idx"))
	r, err := OpenRecordIO(filepath.Join(dir, "c.rec"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	list, _ := r.Problems()
	if r.Len() != 6 || len(list) != 1 || !strings.Contains(list[0], "key 3: offset") || !strings.Contains(list[0], "RecordIO magic") {
		t.Errorf("%d images, problems %q; want 6 and one naming key 3 and the magic", r.Len(), list)
	}
}

func TestRecordIOErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "empty.rec"), nil)
	writeFile(t, filepath.Join(dir, "text.rec"), []byte("hello world, not a record file at all"))
	writeFile(t, filepath.Join(dir, "pad.rec"), mustRead(t, "testdata/rec/plain.rec"))
	writeFile(t, filepath.Join(dir, "pad.idx"), []byte("0\t9999999\n"))
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.rec"), "want train.rec with train.idx beside it"},
		{filepath.Join(dir, "empty.rec"), "no records found"},
		{filepath.Join(dir, "text.rec"), "RecordIO magic"},
		{filepath.Join(dir, "pad.rec"), "no usable index lines"},
	} {
		_, err := OpenRecordIO(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), filepath.Base(strings.TrimSuffix(c.path, ".rec"))) {
			t.Errorf("OpenRecordIO(%s) = %v, want an error naming the file and %q", c.path, err, c.want)
		}
	}
}

func TestParseIdx(t *testing.T) {
	in := "3\t16\n1\t0\n\n2 8\n4\t17\n5\t-4\n1\t8\nx\ty\n6\t\t24\n"
	entries, list, n, err := parseIdx(strings.NewReader(in), "t.idx", 40)
	if err != nil {
		t.Fatal(err)
	}
	var keys []uint64
	for _, e := range entries {
		keys = append(keys, e.key)
	}
	if !slices.Equal(keys, []uint64{1, 2, 3, 6}) || n != 4 {
		t.Errorf("keys %v, problems %q; want [1 2 3 6] and 4 problems", keys, list)
	}
	for _, want := range []string{"line 5: key 4: offset 17 is not 4-byte aligned", "line 6", "line 7: key 1 repeats line 2", "line 8"} {
		if !strings.Contains(strings.Join(list, "\n"), want) {
			t.Errorf("problems %q: want %q", list, want)
		}
	}
	if _, _, _, err := parseIdx(strings.NewReader(strings.Repeat("9", 5000)), "t.idx", 40); err == nil || !strings.Contains(err.Error(), "4 KiB") {
		t.Errorf("a 5000-byte line: %v", err)
	}
}

// A decompression bomb must be refused from its header: no pixel memory.
func TestBombRefusedCheaply(t *testing.T) {
	bomb := mustRead(t, "testdata/bad/bomb.png")
	var w imageScratch
	dst := make([]uint8, 32*32*3)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	err := w.decode(bomb, 32, dst, Crop{})
	elapsed := time.Since(t0)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "16384×16384") {
		t.Fatalf("bomb: %v, want ErrTooLarge naming its 16384×16384 header", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes; the header check must come before any pixel buffer", alloc)
	}
	t.Logf("bomb refused in %v", elapsed)

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "bomb.png"), bomb)
	writeImage(t, filepath.Join(dir, "a", "ok.png"), bars(8, 8))
	s, err := LoadFolder(dir, 8, Prep{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 || len(s.Skipped) != 1 || !strings.Contains(s.Skipped[0], "bomb.png: image too large") {
		t.Errorf("LoadFolder kept %d, skipped %q; want bomb.png skipped as too large", s.Len(), s.Skipped)
	}
}

func TestProbeImage(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "g.png"), grey(5, 7, 9))
	writeImage(t, filepath.Join(dir, "c.jpg"), bars(9, 4))
	for _, c := range []struct {
		data []byte
		want string
	}{
		{nil, "empty (0 bytes)"},
		{[]byte("GIF89a....."), "not a PNG or JPEG image"},
		{mustRead(t, filepath.Join(dir, "g.png"))[:20], "unreadable header"},
	} {
		if _, err := probeImage(c.data); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("probeImage(%q): %v, want %q", clip(string(c.data), 10), err, c.want)
		}
	}
	if info, err := probeImage(mustRead(t, filepath.Join(dir, "g.png"))); err != nil || info != (imageInfo{"png", 5, 7, 1}) {
		t.Errorf("grey png: %+v %v", info, err)
	}
	if info, err := probeImage(mustRead(t, filepath.Join(dir, "c.jpg"))); err != nil || info != (imageInfo{"jpeg", 9, 4, 3}) {
		t.Errorf("colour jpeg: %+v %v", info, err)
	}
}
