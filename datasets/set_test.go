package datasets

import "testing"

func tinySet() *Set {
	s := &Set{Name: "tiny", Size: 2, IDNames: []string{"a", "b", "c"}}
	for i := 0; i < 6; i++ {
		px := make([]uint8, 12)
		for k := range px {
			px[k] = uint8(i*12 + k)
		}
		s.Pixels = append(s.Pixels, px)
		s.Labels = append(s.Labels, i/2)
	}
	return s
}

func TestFingerprint(t *testing.T) {
	a, b := tinySet(), tinySet()
	b.Name = "renamed"
	if a.Fingerprint() != b.Fingerprint() {
		t.Fatalf("identical sets: %s != %s", a.Fingerprint(), b.Fingerprint())
	}
	if len(a.Fingerprint()) != 16 {
		t.Errorf("fingerprint %q: want 16 hex digits", a.Fingerprint())
	}
	b.Pixels[3][5]++
	if a.Fingerprint() == b.Fingerprint() {
		t.Error("a changed pixel kept the fingerprint")
	}
	c := tinySet()
	c.Labels[0] = 1
	if a.Fingerprint() == c.Fingerprint() {
		t.Error("a changed label kept the fingerprint")
	}
}

func TestSubsetKeepsLabels(t *testing.T) {
	s := tinySet()
	sub := s.Subset([]int{5, 0, 3})
	if sub.Len() != 3 || sub.NumIDs() != 3 {
		t.Fatalf("Len %d NumIDs %d, want 3 and 3", sub.Len(), sub.NumIDs())
	}
	want := []int{2, 0, 1}
	for i, l := range sub.Labels {
		if l != want[i] || &sub.Pixels[i][0] != &s.Pixels[[]int{5, 0, 3}[i]][0] {
			t.Errorf("image %d: label %d, want %d (pixels must be shared)", i, l, want[i])
		}
	}
}
