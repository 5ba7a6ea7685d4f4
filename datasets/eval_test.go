package datasets

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestVerificationBin(t *testing.T) {
	var ref *EvalSet
	// Python 3 at protocols 2 (bytes via _codecs.encode) and 4 (BINBYTES,
	// FRAME, MEMOIZE), and Python 2.7 at protocol 2 (str images).
	for _, name := range []string{"lfw_p4.bin", "lfw_p2.bin", "lfw_py2.bin"} {
		e, err := OpenEval(filepath.Join("testdata/bin", name), EvalOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.Format != "bin" || e.Images.Len() != 12 || len(e.Pairs) != 6 || e.Folds != 6 {
			t.Fatalf("%s: format %s, %d images, %d pairs, %d folds; want bin, 12, 6, 6", name, e.Format, e.Images.Len(), len(e.Pairs), e.Folds)
		}
		for i, p := range e.Pairs {
			if p.A != 2*i || p.B != 2*i+1 || p.Same != (i%2 == 0) || p.Fold != i {
				t.Errorf("%s: pair %d = %+v", name, i, p)
			}
		}
		if e.Images.Label(0) != -1 || e.Images.NumIDs() != 0 {
			t.Errorf("%s: .bin images must have no identity", name)
		}
		if ref == nil {
			ref = e
			readAll(t, e.Images, 16)
			continue
		}
		for i := 0; i < 12; i++ {
			a, _ := ref.Images.(RawSource).Raw(i)
			b, _ := e.Images.(RawSource).Raw(i)
			if !bytes.Equal(a, b) {
				t.Errorf("%s: image %d bytes differ from lfw_p4.bin's", name, i)
			}
		}
	}
	d, err := ref.Decode(16)
	if err != nil || len(d.Pairs) != 6 || len(d.Skipped) != 0 {
		t.Errorf("Decode: %v, %d pairs, skipped %q", err, len(d.Pairs), d.Skipped)
	}
}

func TestVerificationBinWrongShape(t *testing.T) {
	for name, want := range map[string]string{
		"odd_count.bin": "3 images for 2 pairs",
		"dict.bin":      "opcode 0x7d ('}')",
		"class.bin":     "calls collections.OrderedDict",
		"strings.bin":   "image 0 is a str; want bytes",
		"truncated.bin": "truncated",
	} {
		_, err := OpenVerificationBin(filepath.Join("testdata/bin", name))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v; want an error naming the file and %q", name, err, want)
		}
	}
	if _, err := OpenVerificationBin("testdata/bin/missing.bin"); err == nil || !strings.Contains(err.Error(), "missing.bin") {
		t.Errorf("missing file: %v", err)
	}
}

func TestUnpickleOpcodes(t *testing.T) {
	// Protocol 0/1 spellings, by hand from the pickle spec: MARK, LIST,
	// text PUT/GET, INT booleans, TUPLE, SHORT_BINBYTES, DUP/POP.
	p := []byte("((lp0\nC\x02aba" + "g0\nC\x01ca0" + "(I01\nlt20.")
	v, err := unpickle(p)
	if err != nil {
		t.Fatal(err)
	}
	imgs, same, err := verificationPickle(v)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := unpickle([]byte("I00\n.")); err != nil || v != false {
		t.Errorf("I00 = %v, %v; want False", v, err)
	}
	if len(imgs) != 2 || string(imgs[0]) != "ab" || string(imgs[1]) != "c" || !slices.Equal(same, []bool{true}) {
		t.Errorf("got %q %v", imgs, same)
	}
	for in, want := range map[string]string{
		"":                    "no STOP",
		"\x80\x09.":           "protocol 9",
		"a.":                  "stack underflow",
		"e.":                  "no MARK",
		"h\x05.":              "memo entry 5 was never stored",
		"T\xff\xff\xff\xff":   "negative length",
		"B\x00\x00\x00\x10ab": "needs 268435456 more bytes",
		"N]a.":                "APPEND to a None",
		"(N.":                 "STOP inside an open MARK",
		"NN.":                 "2 objects on the stack",
		"cos\nsystem\n)R.":    "calls os.system",
	} {
		if _, err := unpickle([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("unpickle(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestPairs(t *testing.T) {
	e, err := OpenEval("testdata/pairs/pairs.txt", EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Format != "pairs" || len(e.Pairs) != 8 || e.Folds != 2 || len(e.Skipped) != 0 {
		t.Fatalf("format %s, %d pairs, %d folds, skipped %q; want pairs, 8, 2, none", e.Format, len(e.Pairs), e.Folds, e.Skipped)
	}
	src := e.Images.(*FileSource)
	var same []bool
	var folds []int
	for _, p := range e.Pairs {
		same = append(same, p.Same)
		folds = append(folds, p.Fold)
		sa := src.IDName(src.Label(p.A)) == src.IDName(src.Label(p.B))
		if sa != p.Same {
			t.Errorf("pair %+v: same=%v but identities %s, %s", p, p.Same, src.IDName(src.Label(p.A)), src.IDName(src.Label(p.B)))
		}
	}
	if !slices.Equal(same, []bool{true, true, false, false, true, true, false, false}) || !slices.Equal(folds, []int{0, 0, 0, 0, 1, 1, 1, 1}) {
		t.Errorf("same %v folds %v", same, folds)
	}
	if src.Len() != 8 || src.NumIDs() != 4 || !strings.HasSuffix(src.Path(e.Pairs[0].A), filepath.Join("lfw", "Ann_Lee", "Ann_Lee_0001.jpg")) {
		t.Errorf("%d images of %d people, first %s", src.Len(), src.NumIDs(), src.Path(e.Pairs[0].A))
	}
	readAll(t, src, 16)
}

func TestPairsMissingImages(t *testing.T) {
	e, err := OpenPairs("testdata/pairs/pairs_missing.txt", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Pairs) != 6 || len(e.Skipped) != 2 {
		t.Fatalf("%d pairs, skipped %q; want 6 and 2", len(e.Pairs), e.Skipped)
	}
	for i, want := range []string{"pairs_missing.txt line 3: Bo_Chen/Bo_Chen_0007.jpg: no such image", "line 5: Zed_Nobody/Zed_Nobody_0001.jpg: no such image"} {
		if !strings.Contains(e.Skipped[i], want) {
			t.Errorf("skipped[%d] = %q, want %q", i, e.Skipped[i], want)
		}
	}
	// Fold membership follows the file's lines, dropped pairs or not.
	if e.Pairs[1].Fold != 0 || e.Pairs[2].Fold != 1 {
		t.Errorf("folds after drops: %+v", e.Pairs)
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.txt"), mustRead(t, "testdata/pairs/pairs.txt"))
	if _, err := OpenPairs(filepath.Join(dir, "p.txt"), dir); err == nil || !strings.Contains(err.Error(), "none of its 8 pairs has both images under "+dir) {
		t.Errorf("wrong image folder: %v", err)
	}
	writeFile(t, filepath.Join(dir, "bad.txt"), []byte("10\t300\nAnn_Lee\t1\nBo 1 2\n"))
	if _, err := OpenPairs(filepath.Join(dir, "bad.txt"), "testdata/pairs/lfw"); err == nil || !strings.Contains(err.Error(), "bad.txt line 2") {
		t.Errorf("malformed line: %v", err)
	}
	// "path1 path2 0|1" lines.
	writeFile(t, filepath.Join(dir, "paths.txt"), []byte("Ann_Lee/Ann_Lee_0001.jpg Ann_Lee/Ann_Lee_0002.jpg 1\nAnn_Lee/Ann_Lee_0001.jpg Di_Eve/Di_Eve_0001.jpg 0\n"))
	e, err = OpenPairs(filepath.Join(dir, "paths.txt"), "testdata/pairs/lfw")
	if err != nil || len(e.Pairs) != 2 || !e.Pairs[0].Same || e.Pairs[1].Same || e.Images.Len() != 3 {
		t.Errorf("path pairs: %v %+v", err, e)
	}
}

func TestTinyFace(t *testing.T) {
	check := func(root string) {
		t.Helper()
		e, err := OpenEval(root, EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		src := e.Images.(*FileSource)
		if e.Format != "tinyface" || len(e.Probes) != 5 || len(e.Gallery) != 6 || src.NumIDs() != 4 {
			t.Fatalf("%s: format %s, %d probes, %d gallery, %d ids", root, e.Format, len(e.Probes), len(e.Gallery), src.NumIDs())
		}
		distractors := 0
		for _, g := range e.Gallery {
			if src.Label(g) < 0 {
				distractors++
			}
		}
		if distractors != 3 {
			t.Errorf("%d distractors, want 3 (one in a sub-folder, readme.txt ignored)", distractors)
		}
		for _, p := range e.Probes {
			name := filepath.Base(src.Path(p))
			if id := src.IDName(src.Label(p)); !strings.HasPrefix(name, id+"_") {
				t.Errorf("probe %s labelled %s", name, id)
			}
		}
		d, err := e.Decode(12)
		if err != nil || len(d.Probes) != 5 || len(d.Gallery) != 6 {
			t.Errorf("Decode: %v", err)
		}
	}
	check("testdata/tinyface")
	// The dataset's own root holds Testing_Set/.
	root := t.TempDir()
	abs, _ := filepath.Abs("testdata/tinyface")
	if err := os.Symlink(abs, filepath.Join(root, "Testing_Set")); err != nil {
		t.Fatal(err)
	}
	check(root)

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Probe", "x_1.jpg"), mustRead(t, "testdata/tinyface/Probe/1_1.jpg"))
	writeFile(t, filepath.Join(dir, "Gallery_Match", "notes.txt"), []byte("x"))
	_, err := OpenTinyFace(dir)
	if err == nil || !strings.Contains(err.Error(), "0 probe and 0 gallery images") {
		t.Errorf("TinyFace with no usable files: %v", err)
	}
}

func TestDetectFormat(t *testing.T) {
	for path, want := range map[string]string{
		"testdata/rec/insight.rec": "rec", "testdata/rec/insight.idx": "rec", "testdata/rec/insight": "rec",
		"testdata/bin/lfw_p2.bin": "bin", "testdata/pairs/pairs.txt": "pairs",
		"testdata/tinyface": "tinyface", "testdata/pairs/lfw": "folder",
	} {
		if got, err := DetectFormat(path); got != want || err != nil {
			t.Errorf("DetectFormat(%s) = %s, %v; want %s", path, got, err, want)
		}
	}
	if _, err := DetectFormat("testdata/gen/gen.py"); err == nil || !strings.Contains(err.Error(), "unknown data format") {
		t.Errorf("a .py: %v", err)
	}
}

func TestEvalDecodeDropsUnreadable(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "testdata/pairs/pairs.txt", filepath.Join(dir, "pairs.txt"))
	for _, f := range []string{"Ann_Lee/Ann_Lee_0001.jpg", "Ann_Lee/Ann_Lee_0002.jpg", "Ann_Lee/Ann_Lee_0003.jpg", "Bo_Chen/Bo_Chen_0001.jpg",
		"Bo_Chen/Bo_Chen_0002.jpg", "Cy_Dunn/Cy_Dunn_0001.jpg", "Cy_Dunn/Cy_Dunn_0002.jpg", "Di_Eve/Di_Eve_0001.jpg"} {
		copyFile(t, filepath.Join("testdata/pairs/lfw", f), filepath.Join(dir, "lfw", f))
	}
	writeFile(t, filepath.Join(dir, "lfw", "Di_Eve", "Di_Eve_0001.jpg"), nil) // zero bytes
	full := mustRead(t, "testdata/pairs/lfw/Bo_Chen/Bo_Chen_0002.jpg")
	writeFile(t, filepath.Join(dir, "lfw", "Bo_Chen", "Bo_Chen_0002.jpg"), full[:len(full)/2]) // truncated
	e, err := OpenPairs(filepath.Join(dir, "pairs.txt"), "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Decode(16)
	if err != nil {
		t.Fatal(err)
	}
	// Di_Eve_0001 is in lines 5 and 8, Bo_Chen_0002 in lines 3 and 8.
	if len(d.Pairs) != 5 {
		t.Errorf("%d pairs left, want 5", len(d.Pairs))
	}
	joined := strings.Join(d.Skipped, "\n")
	for _, want := range []string{"Di_Eve_0001.jpg: empty (0 bytes)", "Bo_Chen_0002.jpg: cannot decode jpeg", "truncated or corrupt"} {
		if !strings.Contains(joined, want) {
			t.Errorf("skipped %q: want %q", d.Skipped, want)
		}
	}
}

// A pairs list without a header and fewer than 10 pairs has one fold per
// pair, and says so (not "10 folds").
func TestPairsFoldsNeverMoreThanPairs(t *testing.T) {
	dir := t.TempDir()
	lines := strings.Split(strings.TrimSpace(string(mustRead(t, "testdata/pairs/pairs.txt"))), "\n")[1:] // no header
	writeFile(t, filepath.Join(dir, "pairs.txt"), []byte(strings.Join(lines[:7], "\n")+"\n"))
	e, err := OpenPairs(filepath.Join(dir, "pairs.txt"), "testdata/pairs/lfw")
	if err != nil {
		t.Fatal(err)
	}
	if e.Folds != len(e.Pairs) || e.Folds != 7 {
		t.Errorf("%d pairs in %d folds, want 7 in 7", len(e.Pairs), e.Folds)
	}
}
