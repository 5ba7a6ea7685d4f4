package datasets

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// opaque hides a Set behind the Source interface, so NewSourceLoader takes
// its general path (decode on demand, cache, read-ahead), and can fail some
// images on purpose.
type opaque struct {
	set   *Set
	bad   map[int]bool
	reads atomic.Int64
}

func (o *opaque) Len() int        { return o.set.Len() }
func (o *opaque) NumIDs() int     { return o.set.NumIDs() }
func (o *opaque) Label(i int) int { return o.set.Labels[i] }
func (o *opaque) Image(i, size int, dst []uint8) error {
	o.reads.Add(1)
	if o.bad[i] {
		return fmt.Errorf("fake.rec key %d: %w", i, ErrNotImage)
	}
	return o.set.Image(i, size, dst)
}

func sourceBatches(t *testing.T, src Source, opt LoaderOptions, procs int) []Batch {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	l, err := NewSourceLoader(src, 16, 8, 11, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out []Batch
	p := DefaultDegrade()
	for epoch := 0; epoch < 2; epoch++ {
		for i := 0; i < l.StepsPerEpoch(); i++ {
			var b Batch
			l.Fill(&b, epoch, i, p, 0.5, true)
			out = append(out, b)
		}
	}
	return out
}

func sameBatches(a, b []Batch) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !slices.Equal(a[i].HR, b[i].HR) || !slices.Equal(a[i].LR, b[i].LR) || !slices.Equal(a[i].Labels, b[i].Labels) ||
			!slices.Equal(a[i].Ratios, b[i].Ratios) || !slices.Equal(a[i].HRRatios, b[i].HRRatios) {
			return false
		}
	}
	return true
}

// The streaming path gives exactly the in-memory batches, whatever the
// cache size, read-ahead and GOMAXPROCS.
func TestSourceLoaderMatchesSetLoader(t *testing.T) {
	set := testSet(t)
	want := sourceBatches(t, set, LoaderOptions{}, 2)
	if l, _ := NewSourceLoader(set, 16, 8, 11, LoaderOptions{}); l.set != set {
		t.Fatal("a Set of the right size must take NewLoader's path")
	}
	for _, c := range []struct {
		name  string
		opt   LoaderOptions
		procs int
	}{
		{"default cache", LoaderOptions{}, 2},
		{"no cache", LoaderOptions{CacheBytes: -1}, 1},
		{"cache of 10 images, no read-ahead", LoaderOptions{CacheBytes: 10 * 3 * 16 * 16, NoReadAhead: true}, 4},
		{"cache of 20 images, 1 worker", LoaderOptions{CacheBytes: 20 * 3 * 16 * 16, Workers: 1}, 3},
	} {
		src := &opaque{set: set}
		if got := sourceBatches(t, src, c.opt, c.procs); !sameBatches(got, want) {
			t.Errorf("%s: batches differ from the in-memory loader's", c.name)
		}
	}
}

// Memory stays bounded by the cache, not the set: an epoch over 50 images
// with a 12-image cache holds at most 12 decoded images.
func TestSourceLoaderCacheBounded(t *testing.T) {
	src := &opaque{set: testSet(t)}
	l, err := NewSourceLoader(src, 16, 8, 3, LoaderOptions{CacheBytes: 12 * 3 * 16 * 16})
	if err != nil {
		t.Fatal(err)
	}
	var b Batch
	for i := 0; i < l.StepsPerEpoch(); i++ {
		l.Fill(&b, 0, i, DefaultDegrade(), 0, false)
		if n := l.cache.len(); n > 12 {
			t.Fatalf("cache holds %d images, bound 12", n)
		}
	}
	l.Close()
	if r := src.reads.Load(); r < 48 {
		t.Errorf("%d decodes for 48 samples", r)
	}
	// A cache holding the whole set decodes each image once across epochs.
	src2 := &opaque{set: testSet(t)}
	l2, _ := NewSourceLoader(src2, 16, 10, 3, LoaderOptions{})
	for e := 0; e < 3; e++ {
		for i := 0; i < l2.StepsPerEpoch(); i++ {
			l2.Fill(&b, e, i, DefaultDegrade(), 0, false)
		}
	}
	l2.Close()
	if r := src2.reads.Load(); r != 50 {
		t.Errorf("%d decodes over 3 epochs of 50 cached images, want 50", r)
	}
}

func TestSourceLoaderSkipsUnreadable(t *testing.T) {
	set := testSet(t)
	bad := map[int]bool{3: true, 4: true, 17: true}
	run := func() ([]Batch, []string, int) {
		src := &opaque{set: set, bad: bad}
		l, err := NewSourceLoader(src, 16, 8, 5, LoaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var out []Batch
		for i := 0; i < l.StepsPerEpoch(); i++ {
			var b Batch
			l.Fill(&b, 0, i, DefaultDegrade(), 0, true)
			out = append(out, b)
		}
		list, n := l.Unreadable()
		return out, list, n
	}
	a, list, n := run()
	if n == 0 || n > 3 {
		t.Fatalf("%d unreadable counted (%q); want the bad images met, each once", n, list)
	}
	for _, msg := range list {
		if !strings.HasPrefix(msg, "fake.rec key ") {
			t.Errorf("unreadable %q does not name the entry", msg)
		}
	}
	b, _, _ := run()
	if !sameBatches(a, b) {
		t.Error("substitution for unreadable images is not deterministic")
	}
	// Every label still belongs to a readable image of that class.
	for _, batch := range a {
		if len(batch.Labels) != 8 {
			t.Fatal("short batch")
		}
	}

	all := map[int]bool{}
	for i := 0; i < set.Len(); i++ {
		all[i] = true
	}
	l, _ := NewSourceLoader(&opaque{set: set, bad: all}, 16, 8, 5, LoaderOptions{})
	func() {
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(fmt.Sprint(r), "ccface data inspect") {
				t.Errorf("all images unreadable: panic %v, want one pointing at data inspect", r)
			}
		}()
		var b Batch
		l.Fill(&b, 0, 0, DefaultDegrade(), 0, false)
	}()
}

func TestNewSourceLoaderErrors(t *testing.T) {
	set := testSet(t)
	bin, err := OpenVerificationBin("testdata/bin/lfw_p4.bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		src         Source
		size, batch int
		want        string
	}{
		{set, 16, 0, "batch=0"},
		{set, 2, 8, "image size 2"},
		{set, 16, 51, "batch 51 is larger than the 50 images"},
		{bin.Images, 16, 4, "label -1"},
	} {
		if _, err := NewSourceLoader(c.src, c.size, c.batch, 1, LoaderOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewSourceLoader: %v, want %q", err, c.want)
		}
	}
}

func TestRecordIOTrainingSource(t *testing.T) {
	r, err := OpenRecordIO("testdata/rec/insight.rec")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l, err := NewSourceLoader(r, 16, 4, 1, LoaderOptions{CacheBytes: 3 * 3 * 16 * 16})
	if err != nil {
		t.Fatal(err)
	}
	var b Batch
	for i := 0; i < l.StepsPerEpoch(); i++ {
		l.Fill(&b, 0, i, DefaultDegrade(), 0, true)
	}
	l.Close()
	if _, n := l.Unreadable(); n != 0 {
		t.Errorf("%d unreadable records in a good .rec", n)
	}

	// Split by identity and hold the eval part in memory, as the engine would.
	tr, ev := SplitSource(r, 0.34, 7)
	if tr.NumIDs()+ev.NumIDs() != 3 || tr.Len()+ev.Len() != 8 || ev.NumIDs() != 1 {
		t.Fatalf("split: %d+%d ids, %d+%d images", tr.NumIDs(), ev.NumIDs(), tr.Len(), ev.Len())
	}
	if tr2, _ := SplitSource(r, 0.34, 7); tr.Fingerprint() != tr2.Fingerprint() || tr.Fingerprint() == ev.Fingerprint() {
		t.Error("view fingerprints: same split must match, train and eval must differ")
	}
	evSet, err := Materialize(ev, 16, "insight:eval", nil)
	if err != nil {
		t.Fatal(err)
	}
	if evSet.Len() != ev.Len() || evSet.IDNames[0] != r.IDName(ev.ParentClass(0)) {
		t.Errorf("materialized eval: %d images, names %v", evSet.Len(), evSet.IDNames)
	}
	// SplitSource picks the identities SplitByIdentity would.
	all, err := Materialize(r, 16, "insight", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, ev2 := SplitByIdentity(all, 0.34, 7)
	if !slices.Equal(ev2.IDNames, evSet.IDNames) {
		t.Errorf("SplitSource eval ids %v, SplitByIdentity %v", evSet.IDNames, ev2.IDNames)
	}
}

func TestSetImageResize(t *testing.T) {
	set := testSet(t)
	px := make([]uint8, 8*8*3)
	if err := set.Image(0, 8, px); err != nil {
		t.Fatal(err)
	}
	same := make([]uint8, 16*16*3)
	set.Image(0, 16, same)
	if !slices.Equal(same, set.Pixels[0]) {
		t.Error("Image at the set's size must copy the pixels")
	}
	var m float64
	for _, v := range px {
		m += float64(v)
	}
	if m == 0 {
		t.Error("resized image is black")
	}
	if _, err := Materialize(&memSource{name: "x", images: [][]byte{{1}}}, 8, "x", nil); err == nil || !strings.Contains(err.Error(), "label -1") {
		t.Errorf("Materialize of an unlabelled source: %v", err)
	}
	if !errors.Is(fmt.Errorf("w: %w", ErrTooLarge), ErrTooLarge) {
		t.Fatal()
	}
}

// Real data: stream ORL from its folder through a small cache.
func TestFolderSourceRealORL(t *testing.T) {
	dir := needData(t, "orl")
	src, err := OpenFolderSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	if src.Len() != 400 || src.NumIDs() != 40 {
		t.Fatalf("orl: %d images of %d ids", src.Len(), src.NumIDs())
	}
	l, err := NewSourceLoader(src, 32, 32, 1, LoaderOptions{CacheBytes: 64 * 3 * 32 * 32})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var b Batch
	for i := 0; i < 3; i++ {
		l.Fill(&b, 0, i, DefaultDegrade(), 0, true)
	}
	if _, n := l.Unreadable(); n != 0 {
		t.Errorf("%d unreadable ORL images", n)
	}
	if l.cache.len() > 64 {
		t.Errorf("cache grew to %d", l.cache.len())
	}
	// The same faces as LoadFolder's.
	set, err := LoadFolder(dir, 32, Prep{})
	if err != nil {
		t.Fatal(err)
	}
	px := make([]uint8, 32*32*3)
	if err := src.Image(17, 32, px); err != nil || !slices.Equal(px, set.Pixels[17]) {
		t.Errorf("FileSource image 17 differs from LoadFolder's (%v)", err)
	}
}
