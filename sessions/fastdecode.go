package sessions

import (
	"strconv"

	"github.com/ccface/ccface/engine"
)

// decodeFast parses the lines this package writes for the common events
// (no curves, plain ASCII strings without escapes, finite numbers) about
// ten times faster than encoding/json. It reports false on anything else,
// and the caller falls back to encoding/json, so it never accepts a line
// encoding/json would reject nor reads one differently.
// Repeated strings (value keys, kinds, phases) are shared through in, which
// may be nil.
func decodeFast(b []byte, e *engine.Event, in interner) bool {
	l := lexer{b: b}
	l.ws()
	if !l.eat('{') {
		return false
	}
	var ev engine.Event
	l.ws()
	if l.eat('}') {
		return false // an empty object is legal but odd: let encoding/json decide
	}
	for {
		l.ws()
		key, ok := l.str()
		if !ok {
			return false
		}
		l.ws()
		if !l.eat(':') {
			return false
		}
		l.ws()
		switch string(key) {
		case "kind":
			s, ok := l.str()
			if !ok {
				return false
			}
			ev.Kind = engine.Kind(in.get(s))
		case "step":
			n, ok := l.num()
			if !ok {
				return false
			}
			v, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				return false
			}
			ev.Step = v
		case "epoch":
			v, ok := l.float()
			if !ok {
				return false
			}
			ev.Epoch = v
		case "time":
			s, ok := l.str()
			if !ok {
				return false
			}
			if ev.Time.UnmarshalText(s) != nil { // strict RFC 3339, as encoding/json
				return false
			}
		case "values":
			if !l.eat('{') {
				return false
			}
			if ev.Values == nil { // a repeated key merges, as in encoding/json
				ev.Values = make(map[string]float64, 12)
			}
			l.ws()
			if !l.eat('}') {
				for {
					l.ws()
					k, ok := l.str()
					if !ok {
						return false
					}
					l.ws()
					if !l.eat(':') {
						return false
					}
					l.ws()
					v, ok := l.float()
					if !ok {
						return false
					}
					ev.Values[in.get(k)] = v
					l.ws()
					if l.eat('}') {
						break
					}
					if !l.eat(',') {
						return false
					}
				}
			}
		case "phase", "knob", "old", "new", "by", "path", "message":
			s, ok := l.str()
			if !ok {
				return false
			}
			if string(key) == "phase" {
				ev.Phase = in.get(s)
				break
			}
			v := string(s)
			switch string(key) {
			case "knob":
				ev.Knob = v
			case "old":
				ev.Old = v
			case "new":
				ev.New = v
			case "by":
				ev.By = v
			case "path":
				ev.Path = v
			case "message":
				ev.Message = v
			}
		default: // curves, unknown fields
			return false
		}
		l.ws()
		if l.eat('}') {
			break
		}
		if !l.eat(',') {
			return false
		}
	}
	l.ws()
	if l.i != len(l.b) {
		return false
	}
	*e = ev
	return true
}

type lexer struct {
	b []byte
	i int
}

func (l *lexer) ws() {
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case ' ', '\t', '\n', '\r':
			l.i++
		default:
			return
		}
	}
}

func (l *lexer) eat(c byte) bool {
	if l.i < len(l.b) && l.b[l.i] == c {
		l.i++
		return true
	}
	return false
}

// str reads a string of printable ASCII without escapes.
func (l *lexer) str() ([]byte, bool) {
	if !l.eat('"') {
		return nil, false
	}
	start := l.i
	for l.i < len(l.b) {
		c := l.b[l.i]
		switch {
		case c == '"':
			s := l.b[start:l.i]
			l.i++
			return s, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
		l.i++
	}
	return nil, false
}

// num reads a number that follows JSON's grammar exactly.
func (l *lexer) num() ([]byte, bool) {
	start := l.i
	l.eat('-')
	switch {
	case l.eat('0'):
	case l.digits() == 0:
		return nil, false
	}
	if l.eat('.') && l.digits() == 0 {
		return nil, false
	}
	if l.eat('e') || l.eat('E') {
		if !l.eat('+') {
			l.eat('-')
		}
		if l.digits() == 0 {
			return nil, false
		}
	}
	return l.b[start:l.i], true
}

func (l *lexer) digits() int {
	n := 0
	for l.i < len(l.b) && l.b[l.i] >= '0' && l.b[l.i] <= '9' {
		l.i++
		n++
	}
	return n
}

func (l *lexer) float() (float64, bool) {
	n, ok := l.num()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(n), 64)
	return v, err == nil
}

// interner shares the strings that repeat from line to line of a log, so
// 100k point events do not allocate a million copies of "loss".
type interner map[string]string

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if in != nil && len(in) < 4096 {
		in[s] = s
	}
	return s
}
