package eval

import (
	"math"
	"slices"
)

// Split is a gallery/probe partition, as indices into an evaluation set.
type Split struct{ Gallery, Probes []int }

// MakeSplit builds a TinyFace-style open-set identification split.
//
// A share `distractors` of the identities (rounded; at least 1 when the share
// is > 0 and there are >= 3 identities; at most all but one while the share
// is < 1) are distractors: all their images go to the gallery and none to the
// probes. Every other identity with at least galleryPerID+1 images puts
// galleryPerID random images in the gallery and the rest in the probes;
// non-distractor identities with fewer images are left out entirely, so the
// distractor share stays what was asked. galleryPerID < 1 is taken as 1 (a
// probe needs a mate). Which identities and images are chosen is random but
// deterministic from seed; both index lists are returned ascending.
func MakeSplit(labels []int, galleryPerID int, distractors float64, seed int64) Split {
	r := newRand(seed)
	g := groupLabels(labels)
	per := max(galleryPerID, 1)
	nIDs := len(g.labels)
	nDist := 0
	if distractors > 0 {
		nDist = int(math.Round(distractors * float64(nIDs)))
		if nDist == 0 && nIDs >= 3 {
			nDist = 1
		}
		if distractors < 1 && nDist >= nIDs {
			nDist = nIDs - 1
		}
		nDist = min(max(nDist, 0), nIDs)
	}
	ids := make([]int, nIDs) // group indices, shuffled: the first nDist are distractors
	for i := range ids {
		ids[i] = i
	}
	r.Shuffle(nIDs, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	var s Split
	for k, c := range ids {
		m := slices.Clone(g.members(c))
		if k < nDist {
			s.Gallery = append(s.Gallery, m...)
			continue
		}
		if len(m) < per+1 {
			continue
		}
		r.Shuffle(len(m), func(i, j int) { m[i], m[j] = m[j], m[i] })
		s.Gallery = append(s.Gallery, m[:per]...)
		s.Probes = append(s.Probes, m[per:]...)
	}
	slices.Sort(s.Gallery)
	slices.Sort(s.Probes)
	return s
}
