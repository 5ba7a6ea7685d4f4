package live

import (
	"strings"
	"testing"
)

// --methods keeps the student methods in order, drops the teacher row and
// blanks, and names an unknown method with the list to choose from.
func TestCompareMethods(t *testing.T) {
	got, err := CompareMethods("proxyless, teacher,ccface,,feature-kd")
	if err != nil || strings.Join(got, " ") != "proxyless ccface feature-kd" {
		t.Errorf("CompareMethods = %q, %v; want proxyless ccface feature-kd", got, err)
	}
	if _, err := CompareMethods("ccface,ccfac"); err == nil || !strings.Contains(err.Error(), `"ccfac"`) || !strings.Contains(err.Error(), "ccface-noadapt") {
		t.Errorf("an unknown method: %v", err)
	}
}
