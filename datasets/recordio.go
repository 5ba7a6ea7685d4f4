package datasets

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// MXNet RecordIO as insightface writes training sets (CASIA-WebFace, MS1M,
// Glint360K): train.rec holds records, train.idx maps record keys to byte
// offsets. The layout follows dmlc-core's recordio.h:
//
//	record  = magic:u32le lrecord:u32le data pad-to-4
//	lrecord = cflag<<29 | length   (length < 2^29)
//
// cflag is 0 for a whole record; a record whose data contains the magic at
// a 4-aligned position is split there into parts flagged 1 (first),
// 2 (middle) and 3 (last), and the reader puts the magic back between
// parts. An image record's data is an IRHeader packed as Python's struct
// "IfQQ" (flag u32, label f32, id u64, id2 u64: 24 bytes, little-endian),
// then flag float32 labels when flag > 0, then the encoded JPEG or PNG.
//
// insightface's record 0 is a header (flag 2, labels [a, b], no image):
// images are keys 1..a-1 and keys a..b-1 are identity records whose labels
// [start, end) give each identity's image keys. Files without it (made by
// im2rec) are read by scanning every image record's header for its label.

// recMagic starts every RecordIO record part.
const recMagic uint32 = 0xced7230a

// irHeaderSize is struct.calcsize("IfQQ") with native alignment.
const irHeaderSize = 24

// maxProblems bounds the problem messages a reader keeps; it still counts
// them all.
const maxProblems = 200

// readRecord reads the logical record that starts at off in a RecordIO
// stream of end bytes, joining multi-part records. It returns the record's
// data and the offset of the next record. limit bounds the data size; every
// length is checked against end before anything is allocated or read.
func readRecord(r io.ReaderAt, off, end int64, limit int) (rec []byte, next int64, err error) {
	var hdr [8]byte
	first := true
	for {
		if off < 0 || off > end-8 {
			return nil, off, fmt.Errorf("offset %d: no room for a record header before the end of the file at %d bytes", off, end)
		}
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return nil, off, fmt.Errorf("offset %d: read record header: %w", off, err)
		}
		if m := binary.LittleEndian.Uint32(hdr[:4]); m != recMagic {
			return nil, off, fmt.Errorf("offset %d: found 0x%08x where a record starts with the RecordIO magic 0x%08x", off, m, recMagic)
		}
		lrec := binary.LittleEndian.Uint32(hdr[4:])
		cflag, n := lrec>>29, int64(lrec&(1<<29-1))
		switch {
		case cflag > 3:
			return nil, off, fmt.Errorf("offset %d: record part flag %d is not 0-3", off, cflag)
		case first && cflag >= 2:
			return nil, off, fmt.Errorf("offset %d: a continuation part (flag %d) where a record should start", off, cflag)
		case !first && cflag <= 1:
			return nil, off, fmt.Errorf("offset %d: a new record (flag %d) before the previous multi-part record ended", off, cflag)
		}
		padded := (n + 3) &^ 3
		if padded > end-off-8 {
			return nil, off, fmt.Errorf("offset %d: the record claims %d bytes but the file ends %d bytes later (truncated .rec?)", off, n, end-off-8)
		}
		if int64(len(rec))+n > int64(limit) {
			return nil, off, fmt.Errorf("offset %d: record of over %d bytes exceeds the %d-byte limit", off, int64(len(rec))+n, limit)
		}
		start := len(rec)
		rec = slices.Grow(rec, int(n)+4)[:start+int(n)]
		// An empty part reads nothing: some ReaderAts (bytes.Reader) report
		// EOF for a zero-length read at the end of their data.
		if _, err := r.ReadAt(rec[start:], off+8); n > 0 && err != nil {
			return nil, off, fmt.Errorf("offset %d: read %d record bytes: %w", off, n, err)
		}
		off += 8 + padded
		if cflag == 0 || cflag == 3 {
			return rec, off, nil
		}
		rec = binary.LittleEndian.AppendUint32(rec, recMagic)
		first = false
	}
}

// irHeader is MXNet's image record header.
type irHeader struct {
	Flag    uint32
	Label   float32
	ID, ID2 uint64
	Labels  []float32 // the label array when Flag > 0
}

// unpackIR splits a record into its header and payload (the encoded image).
func unpackIR(rec []byte) (h irHeader, payload []byte, err error) {
	if len(rec) < irHeaderSize {
		return h, nil, fmt.Errorf("record of %d bytes is shorter than the %d-byte image header", len(rec), irHeaderSize)
	}
	h.Flag = binary.LittleEndian.Uint32(rec[0:])
	h.Label = math.Float32frombits(binary.LittleEndian.Uint32(rec[4:]))
	h.ID = binary.LittleEndian.Uint64(rec[8:])
	h.ID2 = binary.LittleEndian.Uint64(rec[16:])
	rest := rec[irHeaderSize:]
	if h.Flag > 0 {
		if uint64(h.Flag) > uint64(len(rest))/4 {
			return h, nil, fmt.Errorf("header flag says %d float labels but only %d bytes follow", h.Flag, len(rest))
		}
		h.Labels = make([]float32, h.Flag)
		for i := range h.Labels {
			h.Labels[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
		}
		rest = rest[4*h.Flag:]
	}
	return h, rest, nil
}

// classLabel is the identity of an image record: the scalar label, or the
// first of the label array (insightface's convention).
func (h irHeader) classLabel() (int, error) {
	v := h.Label
	if h.Flag > 0 {
		v = h.Labels[0]
	}
	if v < 0 || v > 1<<24 || v != float32(math.Trunc(float64(v))) {
		return 0, fmt.Errorf("label %v is not a whole number in [0, 2^24]", v)
	}
	return int(v), nil
}

// idxEntry is one line of a .idx file.
type idxEntry struct {
	key  uint64
	off  int64
	line int
}

// parseIdx reads an MXNet .idx ("key<TAB>offset" per line) for a .rec of
// recSize bytes. Malformed lines, duplicate keys and offsets that cannot
// hold a record inside the .rec are skipped and described in problems,
// each naming the line. Entries come back sorted by key.
func parseIdx(r io.Reader, name string, recSize int64) (entries []idxEntry, problems []string, nProblems int, err error) {
	note := func(format string, args ...any) {
		nProblems++
		if len(problems) < maxProblems {
			problems = append(problems, name+": "+fmt.Sprintf(format, args...))
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	seen := map[uint64]int{}
	for ln := 1; sc.Scan(); ln++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		f := strings.Fields(text)
		if len(f) != 2 {
			note("line %d: %q: want \"key<TAB>offset\"", ln, clip(text, 40))
			continue
		}
		key, err1 := strconv.ParseUint(f[0], 10, 64)
		off, err2 := strconv.ParseInt(f[1], 10, 64)
		switch {
		case err1 != nil || err2 != nil || off < 0:
			note("line %d: %q: key and offset must be non-negative integers", ln, clip(text, 40))
		case off%4 != 0:
			note("line %d: key %d: offset %d is not 4-byte aligned, so no record starts there", ln, key, off)
		case off > recSize-8:
			note("line %d: key %d: offset %d is past the end of the .rec (%d bytes); the .idx belongs to another .rec or the .rec is truncated: re-copy it or rebuild the index", ln, key, off, recSize)
		case seen[key] != 0:
			note("line %d: key %d repeats line %d; keeping the first", ln, key, seen[key])
		default:
			seen[key] = ln
			entries = append(entries, idxEntry{key: key, off: off, line: ln})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, problems, nProblems, fmt.Errorf("%s: %w (a line over 4 KiB: is this really a .idx?)", name, err)
	}
	slices.SortFunc(entries, func(a, b idxEntry) int { return cmpUint(a.key, b.key) })
	return entries, problems, nProblems, nil
}

// scanRecords walks a .rec without an index, returning an entry (key =
// position) per record. It stops at the first broken record, since without
// an index nothing after it can be found reliably.
func scanRecords(r io.ReaderAt, size int64, name string) (entries []idxEntry, problem string) {
	var off int64
	for off < size {
		_, next, err := readRecordHeaderChain(r, off, size)
		if err != nil {
			return entries, fmt.Sprintf("%s: record %d: %v; records after it cannot be found without a .idx", name, len(entries), err)
		}
		entries = append(entries, idxEntry{key: uint64(len(entries)), off: off})
		off = next
	}
	return entries, ""
}

// readRecordHeaderChain follows a record's part headers without reading
// its data, returning its total length and the next record's offset.
func readRecordHeaderChain(r io.ReaderAt, off, end int64) (n int64, next int64, err error) {
	var hdr [8]byte
	first := true
	for {
		if off < 0 || off > end-8 {
			return 0, off, fmt.Errorf("offset %d: no room for a record header before the end of the file at %d bytes", off, end)
		}
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return 0, off, fmt.Errorf("offset %d: %w", off, err)
		}
		if m := binary.LittleEndian.Uint32(hdr[:4]); m != recMagic {
			return 0, off, fmt.Errorf("offset %d: found 0x%08x instead of the RecordIO magic 0x%08x", off, m, recMagic)
		}
		lrec := binary.LittleEndian.Uint32(hdr[4:])
		cflag, part := lrec>>29, int64(lrec&(1<<29-1))
		if cflag > 3 || (first && cflag >= 2) || (!first && cflag <= 1) {
			return 0, off, fmt.Errorf("offset %d: record part flag %d out of sequence", off, cflag)
		}
		padded := (part + 3) &^ 3
		if padded > end-off-8 {
			return 0, off, fmt.Errorf("offset %d: the record claims %d bytes but the file ends %d bytes later (truncated .rec?)", off, part, end-off-8)
		}
		n += part
		off += 8 + padded
		if cflag == 0 || cflag == 3 {
			return n, off, nil
		}
		n += 4
		first = false
	}
}

// RecordIO is an MXNet .rec/.idx image set read on demand: opening it reads
// the index and the labels, never the images, so a multi-gigabyte training
// set costs about 16 bytes of memory per image (offset, key, label). Image
// reads a record with one positioned read and decodes it.
//
// A RecordIO is safe for concurrent use; Close it when done.
type RecordIO struct {
	recPath string
	f       *os.File
	size    int64
	keys    []uint64
	offs    []int64
	labels  []int32  // class index per image
	ids     []string // class index → the label value in the file
	values  []int32  // class index → the label value records carry
	problems
	decoder
}

// problems collects the entries a reader dropped or could not read.
type problems struct {
	mu    sync.Mutex
	list  []string
	count int
}

func (p *problems) add(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count++
	if len(p.list) < maxProblems {
		p.list = append(p.list, msg)
	}
}

// Problems returns the entries dropped while opening the set ("file: line
// or record: what is wrong"), at most 200 of them, and how many there
// were in all.
func (p *problems) Problems() ([]string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.list), p.count
}

// recordPaths finds the .rec and .idx of path (either, or their common stem).
func recordPaths(path string) (rec, idx string) {
	stem := path
	switch strings.ToLower(filepath.Ext(path)) {
	case ".rec", ".idx":
		stem = strings.TrimSuffix(path, filepath.Ext(path))
	}
	return stem + ".rec", stem + ".idx"
}

// OpenRecordIO opens an MXNet RecordIO image set given its .rec, its .idx or
// their common stem. The .idx gives random access; without one the .rec is
// scanned once to find its records. Index lines and records that cannot be
// used (past the end of the .rec, malformed, unlabelled) are dropped and
// listed by Problems.
func OpenRecordIO(path string) (*RecordIO, error) {
	recPath, idxPath := recordPaths(path)
	f, err := os.Open(recPath)
	if err != nil {
		return nil, fmt.Errorf("datasets: open RecordIO %s: %w (want train.rec with train.idx beside it)", recPath, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("datasets: %s: %w", recPath, err)
	}
	r := &RecordIO{recPath: recPath, f: f, size: st.Size()}
	if err := r.load(idxPath); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (r *RecordIO) load(idxPath string) error {
	var entries []idxEntry
	idx, err := os.Open(idxPath)
	switch {
	case err == nil:
		var list []string
		var n int
		entries, list, n, err = parseIdx(bufio.NewReader(idx), idxPath, r.size)
		idx.Close()
		if err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
		r.list, r.count = list, n
		if len(entries) == 0 {
			return fmt.Errorf("datasets: %s: no usable index lines (%d problems, first: %s)", idxPath, n, first(list))
		}
	case errors.Is(err, os.ErrNotExist):
		var p string
		entries, p = scanRecords(r.f, r.size, r.recPath)
		if p != "" {
			r.add(p)
		}
		if len(entries) == 0 {
			return fmt.Errorf("datasets: %s: no records found (%s)", r.recPath, p)
		}
	default:
		return fmt.Errorf("datasets: open %s: %w", idxPath, err)
	}

	if _, ok := r.identityTable(entries); !ok {
		r.scanLabels(entries)
	}
	if len(r.keys) == 0 {
		pl, n := r.Problems()
		return fmt.Errorf("datasets: %s: none of its %d records is a usable labelled image (%d problems, first: %s)", r.recPath, len(entries), n, first(pl))
	}
	return nil
}

func first(list []string) string {
	if len(list) == 0 {
		return "none recorded"
	}
	return list[0]
}

// identityTable reads insightface's header record 0 and its identity
// records. It returns false (and the caller scans every header instead)
// when there is no such table or it does not hold together. It keeps one
// key range per identity, not a label per image key, so its memory follows
// the number of identities.
func (r *RecordIO) identityTable(entries []idxEntry) ([]idxEntry, bool) {
	byKey := make(map[uint64]int64, len(entries))
	for _, e := range entries {
		byKey[e.key] = e.off
	}
	off0, ok := byKey[0]
	if !ok {
		return nil, false
	}
	rec, _, err := readRecord(r.f, off0, r.size, 1<<20)
	if err != nil {
		return nil, false
	}
	h, payload, err := unpackIR(rec)
	if err != nil || h.Flag < 2 || len(payload) != 0 {
		return nil, false // record 0 is an image: no table
	}
	imgEnd, idEnd := float64(h.Labels[0]), float64(h.Labels[1])
	if !(imgEnd >= 1 && idEnd >= imgEnd && idEnd <= 1<<31 && imgEnd == math.Trunc(imgEnd) && idEnd == math.Trunc(idEnd)) {
		r.add(fmt.Sprintf("%s: header record 0 has labels [%v %v], not an image/identity key range; reading labels from every record instead", r.recPath, h.Labels[0], h.Labels[1]))
		return nil, false
	}
	a, b := uint64(imgEnd), uint64(idEnd)
	type span struct {
		start, end uint64
		id         int32
	}
	var spans []span
	claimed := uint64(0)
	for k := a; k < b; k++ {
		off, ok := byKey[k]
		if !ok {
			r.add(fmt.Sprintf("%s: identity record key %d is missing from the index; reading labels from every record instead", r.recPath, k))
			return nil, false
		}
		rec, _, err := readRecord(r.f, off, r.size, 1<<20)
		var ih irHeader
		if err == nil {
			ih, _, err = unpackIR(rec)
		}
		if err == nil {
			if ih.Flag < 2 {
				err = fmt.Errorf("flag %d: not an identity record of 2 labels", ih.Flag)
			} else if s, e := float64(ih.Labels[0]), float64(ih.Labels[1]); !(s >= 1 && e >= s && e <= imgEnd && s == math.Trunc(s) && e == math.Trunc(e)) {
				err = fmt.Errorf("labels [%v %v] are not an image key range inside [1, %d)", ih.Labels[0], ih.Labels[1], a)
			}
		}
		if err != nil {
			r.add(fmt.Sprintf("%s: identity record key %d: %v; reading labels from every record instead", r.recPath, k, err))
			return nil, false
		}
		sp := span{uint64(ih.Labels[0]), uint64(ih.Labels[1]), int32(k - a)}
		claimed += sp.end - sp.start
		if claimed > uint64(len(entries)) {
			r.add(fmt.Sprintf("%s: identity records claim more images than the index holds; reading labels from every record instead", r.recPath))
			return nil, false
		}
		spans = append(spans, sp)
	}
	slices.SortFunc(spans, func(x, y span) int { return cmpUint(x.start, y.start) })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			r.add(fmt.Sprintf("%s: identity records %d and %d claim the same image keys; reading labels from every record instead", r.recPath, spans[i-1].id, spans[i].id))
			return nil, false
		}
	}
	var images []idxEntry
	var raw []int32
	used := map[int32]bool{}
	for _, e := range entries {
		if e.key == 0 || e.key >= a {
			continue
		}
		j := sort.Search(len(spans), func(j int) bool { return spans[j].end > e.key })
		if j == len(spans) || spans[j].start > e.key {
			r.add(fmt.Sprintf("%s: image key %d belongs to no identity record; skipped", r.recPath, e.key))
			continue
		}
		images = append(images, e)
		raw = append(raw, spans[j].id)
		used[spans[j].id] = true
	}
	r.setLabels(images, raw, used)
	return images, true
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// scanLabels reads every record's header for its label (files without an
// identity table). Records whose header cannot be read are dropped. It
// reads a short prefix of each record, not the image.
func (r *RecordIO) scanLabels(entries []idxEntry) []idxEntry {
	var images []idxEntry
	var raw []int32
	used := map[int32]bool{}
	for _, e := range entries {
		h, payloadLen, err := r.recordHeader(e.off)
		var l int
		if err == nil {
			l, err = h.classLabel()
		}
		if err == nil && payloadLen == 0 {
			if e.key == 0 {
				continue // a header record without an identity table
			}
			err = errors.New("no image data after the header")
		}
		if err != nil {
			r.add(fmt.Sprintf("%s: key %d: %v; skipped", r.recPath, e.key, err))
			continue
		}
		images = append(images, e)
		raw = append(raw, int32(l))
		used[int32(l)] = true
	}
	r.setLabels(images, raw, used)
	return images
}

// recordHeader reads the IRHeader of the record at off and the length of
// its payload, reading only a prefix of a single-part record.
func (r *RecordIO) recordHeader(off int64) (irHeader, int64, error) {
	const prefix = 8 + irHeaderSize + 4*8
	buf := make([]byte, min(int64(prefix), max(0, r.size-off)))
	if _, err := r.f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return irHeader{}, 0, fmt.Errorf("offset %d: %w", off, err)
	}
	if len(buf) >= 8 && binary.LittleEndian.Uint32(buf) == recMagic {
		lrec := binary.LittleEndian.Uint32(buf[4:])
		n := int64(lrec & (1<<29 - 1))
		if lrec>>29 == 0 && (n+3)&^3 <= r.size-off-8 {
			avail := min(n, int64(len(buf)-8))
			if h, rest, err := unpackIR(buf[8 : 8+avail]); err == nil {
				return h, n - (avail - int64(len(rest))), nil // payload = record - header - labels
			}
		}
	}
	// Multi-part, long label arrays or broken: read it whole for a precise error.
	rec, _, err := readRecord(r.f, off, r.size, MaxEncodedBytes+irHeaderSize+1<<16)
	if err != nil {
		return irHeader{}, 0, err
	}
	h, payload, err := unpackIR(rec)
	return h, int64(len(payload)), err
}

// setLabels keeps the images and maps their label values to contiguous
// class indices in ascending value order.
func (r *RecordIO) setLabels(images []idxEntry, raw []int32, used map[int32]bool) {
	vals := make([]int32, 0, len(used)) // ascending: class c carries label vals[c]
	for v := range used {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	class := make(map[int32]int32, len(vals))
	r.ids = make([]string, len(vals))
	for c, v := range vals {
		class[v] = int32(c)
		r.ids[c] = strconv.Itoa(int(v))
	}
	r.values = vals
	r.keys = make([]uint64, len(images))
	r.offs = make([]int64, len(images))
	r.labels = make([]int32, len(images))
	for i, e := range images {
		r.keys[i], r.offs[i], r.labels[i] = e.key, e.off, class[raw[i]]
	}
}

// Name is the .rec path.
func (r *RecordIO) Name() string { return r.recPath }

// Len returns the number of usable image records.
func (r *RecordIO) Len() int { return len(r.offs) }

// NumIDs returns the number of identities.
func (r *RecordIO) NumIDs() int { return len(r.ids) }

// Label returns image i's class index in [0, NumIDs()).
func (r *RecordIO) Label(i int) int { return int(r.labels[i]) }

// IDName returns the label value that the file gives class c.
func (r *RecordIO) IDName(c int) string { return r.ids[c] }

// Entry names image i for messages: the .rec, the record key and offset.
func (r *RecordIO) Entry(i int) string {
	return fmt.Sprintf("%s key %d (offset %d)", r.recPath, r.keys[i], r.offs[i])
}

// Raw returns image i's encoded bytes (the record payload after its header).
func (r *RecordIO) Raw(i int) ([]byte, error) {
	rec, _, err := readRecord(r.f, r.offs[i], r.size, MaxEncodedBytes+irHeaderSize+1<<16)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Entry(i), err)
	}
	h, payload, err := unpackIR(rec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Entry(i), err)
	}
	// The label was read when the set was opened (from the identity table
	// or this header); a record that disagrees now is not the one indexed.
	if l, err := h.classLabel(); err != nil || l != int(r.values[r.labels[i]]) {
		return nil, fmt.Errorf("%s: the record's header label %v disagrees with label %d that the identity table or the first read gave it; the .rec and its index are inconsistent",
			r.Entry(i), h.Label, r.values[r.labels[i]])
	}
	return payload, nil
}

// Image decodes image i as a size×size RGB face into dst (size*size*3).
func (r *RecordIO) Image(i, size int, dst []uint8) error {
	data, err := r.Raw(i)
	if err != nil {
		return err
	}
	return r.decode(data, size, dst, r.Entry(i))
}

// Fingerprint is a short hex SHA-256 over the .rec's size and every image's
// key, offset and label: it tells the same file apart from another cheaply,
// without reading gigabytes of images (an image re-encoded in place to the
// same length would go unnoticed).
func (r *RecordIO) Fingerprint() string {
	h := sha256.New()
	var b [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	put(uint64(r.size))
	put(uint64(len(r.offs)))
	for i := range r.offs {
		put(r.keys[i])
		put(uint64(r.offs[i]))
		put(uint64(r.labels[i]))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Close closes the .rec.
func (r *RecordIO) Close() error { return r.f.Close() }

// clip shortens s for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
