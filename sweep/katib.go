package sweep

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// KatibLines renders metrics as Katib StdOut collector lines, name=value,
// sorted by name. Katib's default filter, ([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?),
// reads neither exponents nor dots in names, so values are plain decimals
// and dots in metric keys (lr8.rank1) become underscores (lr8_rank1).
// Non-finite values are left out: no Katib filter parses them.
func KatibLines(metrics map[string]float64) []string {
	var out []string
	for k, v := range metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		out = append(out, KatibName(k)+"="+KatibValue(v))
	}
	sort.Strings(out)
	return out
}

// KatibName maps a metric key to a name Katib's default filter reads whole.
func KatibName(key string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, key)
}

// KatibValue prints v as a plain decimal (never 1e-05) with enough digits
// to tell trials apart, trailing zeros trimmed.
func KatibValue(v float64) string {
	s := strconv.FormatFloat(v, 'f', 6, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
