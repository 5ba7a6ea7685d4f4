package datasets

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Set is a labelled face set held in memory at the HR size.
//
// Pixel slices are treated as read-only once a Set is built: Subset and
// SplitByIdentity share them rather than copy.
type Set struct {
	Name    string    // "synth-train", or the folder path
	Size    int       // HR side in pixels
	Pixels  [][]uint8 // one per image: Size*Size*3, RGB, row-major HWC
	Labels  []int     // class index 0..NumIDs()-1, contiguous
	IDNames []string  // name per class
	Skipped []string  // "path: reason" for files that could not be read
}

// Len returns the number of images.
func (s *Set) Len() int { return len(s.Pixels) }

// NumIDs returns the number of classes (len(IDNames)); a Subset keeps every
// class of its parent so labels stay valid indices into a classifier.
func (s *Set) NumIDs() int {
	if len(s.IDNames) > 0 {
		return len(s.IDNames)
	}
	n := 0
	for _, l := range s.Labels {
		n = max(n, l+1)
	}
	return n
}

// Fingerprint is a short hex SHA-256 over the size, the labels and the
// pixels, in order. Identical sets give identical fingerprints; sessions
// record it so a resumed run can tell it is training on the same data.
// Names are left out on purpose: a moved folder is still the same data.
func (s *Set) Fingerprint() string {
	h := sha256.New()
	var b [8]byte
	put := func(v int) {
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	put(s.Size)
	put(len(s.Pixels))
	for i, px := range s.Pixels {
		label := -1
		if i < len(s.Labels) {
			label = s.Labels[i]
		}
		put(label)
		put(len(px))
		h.Write(px)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Subset returns the images at idx (in that order) with their labels
// unchanged; IDNames is kept whole so labels still index it.
func (s *Set) Subset(idx []int) *Set {
	out := &Set{
		Name:    s.Name,
		Size:    s.Size,
		Pixels:  make([][]uint8, len(idx)),
		Labels:  make([]int, len(idx)),
		IDNames: append([]string(nil), s.IDNames...),
		Skipped: append([]string(nil), s.Skipped...),
	}
	for k, i := range idx {
		out.Pixels[k] = s.Pixels[i]
		out.Labels[k] = s.Labels[i]
	}
	return out
}
