package datasets

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// A minimal, safe reader for the Python pickles that insightface
// verification sets (lfw.bin, cfp_fp.bin, agedb_30.bin) are made of: a
// tuple (list of encoded images, list of bools). It implements the opcodes
// those files use across protocols 0-5 and the way each Python version
// writes bytes:
//
//   - Python 2 str: SHORT_BINSTRING / BINSTRING;
//   - Python 3 bytes at protocol 3+: SHORT_BINBYTES / BINBYTES / BINBYTES8
//     (and BYTEARRAY8 for a bytearray at protocol 5);
//   - Python 3 bytes at protocol 0-2: a call _codecs.encode(latin-1 text,
//     "latin1"), or __builtin__.bytes() for b"".
//
// It builds no Python objects and calls nothing: those two globals are the
// only callables it knows, and any other (a numpy array, a class) is
// refused with an error that names it. Every length field is checked
// against the bytes that remain before it is used, so corrupt input costs
// no more memory than its own size and never panics.

// pyList is a Python list; a pointer so that APPEND(S) after a memo PUT
// reaches every reference, as in Python.
type pyList struct{ items []any }

// pyTuple is a Python tuple.
type pyTuple []any

// pyGlobal is a GLOBAL / STACK_GLOBAL reference, callable only by REDUCE.
type pyGlobal struct{ module, name string }

// pyNone is Python's None.
type pyNone struct{}

// pickleError locates a failure at a byte offset of the pickle.
func pickleError(pos int, format string, args ...any) error {
	return fmt.Errorf("pickle byte %d: %s", pos, fmt.Sprintf(format, args...))
}

// unpickle runs the pickle in data and returns the object it builds. Byte
// strings are sub-slices of data where the format allows it.
func unpickle(data []byte) (any, error) {
	var (
		stack []any
		marks []int
		memo  = map[uint64]any{}
		pos   int
	)
	need := func(n uint64) ([]byte, error) {
		if n > uint64(len(data)-pos) {
			return nil, pickleError(pos, "needs %d more bytes but only %d remain (truncated file?)", n, len(data)-pos)
		}
		b := data[pos : pos+int(n)]
		pos += int(n)
		return b, nil
	}
	line := func() (string, error) {
		for i := pos; i < len(data); i++ {
			if data[i] == '\n' {
				s := string(data[pos:i])
				pos = i + 1
				return s, nil
			}
		}
		return "", pickleError(pos, "unterminated text argument")
	}
	pop := func(op int) (any, error) {
		if len(stack) == 0 || (len(marks) > 0 && len(stack) == marks[len(marks)-1]) {
			return nil, pickleError(op, "stack underflow")
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return v, nil
	}
	popMark := func(op int) ([]any, error) {
		if len(marks) == 0 {
			return nil, pickleError(op, "no MARK to pop to")
		}
		m := marks[len(marks)-1]
		marks = marks[:len(marks)-1]
		items := append([]any(nil), stack[m:]...)
		stack = stack[:m]
		return items, nil
	}
	sized := func(width int) (uint64, error) {
		b, err := need(uint64(width))
		if err != nil {
			return 0, err
		}
		switch width {
		case 1:
			return uint64(b[0]), nil
		case 4:
			return uint64(binary.LittleEndian.Uint32(b)), nil
		default:
			return binary.LittleEndian.Uint64(b), nil
		}
	}
	for pos < len(data) {
		op := pos
		code := data[pos]
		pos++
		switch code {
		case 0x80: // PROTO
			b, err := need(1)
			if err != nil {
				return nil, err
			}
			if b[0] > 5 {
				return nil, pickleError(op, "pickle protocol %d is newer than 5", b[0])
			}
		case 0x95: // FRAME: framing only, the contents follow inline
			if _, err := need(8); err != nil {
				return nil, err
			}
		case '.': // STOP
			if len(marks) > 0 {
				return nil, pickleError(op, "STOP inside an open MARK")
			}
			if len(stack) != 1 {
				return nil, pickleError(op, "STOP with %d objects on the stack, want 1", len(stack))
			}
			return stack[0], nil
		case '(': // MARK
			marks = append(marks, len(stack))
		case ']': // EMPTY_LIST
			stack = append(stack, &pyList{})
		case ')': // EMPTY_TUPLE
			stack = append(stack, pyTuple{})
		case 'l': // LIST
			items, err := popMark(op)
			if err != nil {
				return nil, err
			}
			stack = append(stack, &pyList{items: items})
		case 't': // TUPLE
			items, err := popMark(op)
			if err != nil {
				return nil, err
			}
			stack = append(stack, pyTuple(items))
		case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
			n := int(code - 0x84)
			items := make(pyTuple, n)
			for i := n - 1; i >= 0; i-- {
				v, err := pop(op)
				if err != nil {
					return nil, err
				}
				items[i] = v
			}
			stack = append(stack, items)
		case 'a': // APPEND
			v, err := pop(op)
			if err != nil {
				return nil, err
			}
			l, err := pop(op)
			if err != nil {
				return nil, err
			}
			pl, ok := l.(*pyList)
			if !ok {
				return nil, pickleError(op, "APPEND to a %s, not a list", pyTypeName(l))
			}
			pl.items = append(pl.items, v)
			stack = append(stack, pl)
		case 'e': // APPENDS
			items, err := popMark(op)
			if err != nil {
				return nil, err
			}
			l, err := pop(op)
			if err != nil {
				return nil, err
			}
			pl, ok := l.(*pyList)
			if !ok {
				return nil, pickleError(op, "APPENDS to a %s, not a list", pyTypeName(l))
			}
			pl.items = append(pl.items, items...)
			stack = append(stack, pl)
		case '0': // POP
			if _, err := pop(op); err != nil {
				return nil, err
			}
		case '1': // POP_MARK
			if _, err := popMark(op); err != nil {
				return nil, err
			}
		case '2': // DUP
			v, err := pop(op)
			if err != nil {
				return nil, err
			}
			stack = append(stack, v, v)
		case 'q', 'r', 'p', 0x94: // BINPUT, LONG_BINPUT, PUT, MEMOIZE
			var key uint64
			switch code {
			case 'q':
				k, err := sized(1)
				if err != nil {
					return nil, err
				}
				key = k
			case 'r':
				k, err := sized(4)
				if err != nil {
					return nil, err
				}
				key = k
			case 'p':
				s, err := line()
				if err != nil {
					return nil, err
				}
				k, err := strconv.ParseUint(s, 10, 32)
				if err != nil {
					return nil, pickleError(op, "PUT index %q: %v", s, err)
				}
				key = k
			default:
				key = uint64(len(memo))
			}
			if len(stack) == 0 || (len(marks) > 0 && len(stack) == marks[len(marks)-1]) {
				return nil, pickleError(op, "memo store with nothing on the stack")
			}
			memo[key] = stack[len(stack)-1]
		case 'h', 'j', 'g': // BINGET, LONG_BINGET, GET
			var key uint64
			switch code {
			case 'h':
				k, err := sized(1)
				if err != nil {
					return nil, err
				}
				key = k
			case 'j':
				k, err := sized(4)
				if err != nil {
					return nil, err
				}
				key = k
			default:
				s, err := line()
				if err != nil {
					return nil, err
				}
				k, err := strconv.ParseUint(s, 10, 32)
				if err != nil {
					return nil, pickleError(op, "GET index %q: %v", s, err)
				}
				key = k
			}
			v, ok := memo[key]
			if !ok {
				return nil, pickleError(op, "memo entry %d was never stored", key)
			}
			stack = append(stack, v)
		case 'U', 'C': // SHORT_BINSTRING (Python 2 str), SHORT_BINBYTES
			n, err := sized(1)
			if err != nil {
				return nil, err
			}
			b, err := need(n)
			if err != nil {
				return nil, err
			}
			stack = append(stack, b)
		case 'T': // BINSTRING: a signed 4-byte length
			n, err := sized(4)
			if err != nil {
				return nil, err
			}
			if int32(n) < 0 {
				return nil, pickleError(op, "BINSTRING with negative length %d", int32(n))
			}
			b, err := need(n)
			if err != nil {
				return nil, err
			}
			stack = append(stack, b)
		case 'B', 0x8e, 0x96: // BINBYTES, BINBYTES8, BYTEARRAY8
			w := 4
			if code != 'B' {
				w = 8
			}
			n, err := sized(w)
			if err != nil {
				return nil, err
			}
			b, err := need(n)
			if err != nil {
				return nil, err
			}
			stack = append(stack, b)
		case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
			w := map[byte]int{'X': 4, 0x8c: 1, 0x8d: 8}[code]
			n, err := sized(w)
			if err != nil {
				return nil, err
			}
			b, err := need(n)
			if err != nil {
				return nil, err
			}
			if !utf8.Valid(b) {
				return nil, pickleError(op, "text is not valid UTF-8")
			}
			stack = append(stack, string(b))
		case 'N':
			stack = append(stack, pyNone{})
		case 0x88:
			stack = append(stack, true)
		case 0x89:
			stack = append(stack, false)
		case 'K', 'M', 'J': // BININT1, BININT2, BININT
			var v int64
			switch code {
			case 'K':
				k, err := sized(1)
				if err != nil {
					return nil, err
				}
				v = int64(k)
			case 'M':
				b, err := need(2)
				if err != nil {
					return nil, err
				}
				v = int64(binary.LittleEndian.Uint16(b))
			default:
				k, err := sized(4)
				if err != nil {
					return nil, err
				}
				v = int64(int32(uint32(k)))
			}
			stack = append(stack, v)
		case 'I': // INT (protocol 0/1; "I01" and "I00" are True and False)
			s, err := line()
			if err != nil {
				return nil, err
			}
			switch s {
			case "01":
				stack = append(stack, true)
			case "00":
				stack = append(stack, false)
			default:
				v, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, pickleError(op, "INT %q: %v", s, err)
				}
				stack = append(stack, v)
			}
		case 0x8a: // LONG1: little-endian two's complement, up to 8 bytes here
			n, err := sized(1)
			if err != nil {
				return nil, err
			}
			if n > 8 {
				return nil, pickleError(op, "integer of %d bytes is too large", n)
			}
			b, err := need(n)
			if err != nil {
				return nil, err
			}
			var u uint64
			for i := len(b) - 1; i >= 0; i-- {
				u = u<<8 | uint64(b[i])
			}
			if n > 0 && n < 8 && b[n-1]&0x80 != 0 {
				u |= math.MaxUint64 << (8 * n)
			}
			stack = append(stack, int64(u))
		case 'G': // BINFLOAT, big-endian
			b, err := need(8)
			if err != nil {
				return nil, err
			}
			stack = append(stack, math.Float64frombits(binary.BigEndian.Uint64(b)))
		case 'c': // GLOBAL "module\nname\n"
			mod, err := line()
			if err != nil {
				return nil, err
			}
			name, err := line()
			if err != nil {
				return nil, err
			}
			stack = append(stack, pyGlobal{mod, name})
		case 0x93: // STACK_GLOBAL
			n, err := pop(op)
			if err != nil {
				return nil, err
			}
			m, err := pop(op)
			if err != nil {
				return nil, err
			}
			ms, ok1 := m.(string)
			ns, ok2 := n.(string)
			if !ok1 || !ok2 {
				return nil, pickleError(op, "STACK_GLOBAL of a %s and a %s, want two strings", pyTypeName(m), pyTypeName(n))
			}
			stack = append(stack, pyGlobal{ms, ns})
		case 'R': // REDUCE: only the two calls Python uses to pickle bytes
			args, err := pop(op)
			if err != nil {
				return nil, err
			}
			fn, err := pop(op)
			if err != nil {
				return nil, err
			}
			v, err := callGlobal(fn, args)
			if err != nil {
				return nil, pickleError(op, "%v", err)
			}
			stack = append(stack, v)
		default:
			return nil, pickleError(op, "opcode 0x%02x (%q) is not one a verification .bin uses; this is not an insightface pickle of (images, issame)", code, rune(code))
		}
	}
	return nil, pickleError(pos, "no STOP opcode: the file is truncated")
}

// callGlobal performs the REDUCE calls that pickled bytes need and refuses
// every other callable.
func callGlobal(fn, args any) (any, error) {
	g, ok := fn.(pyGlobal)
	if !ok {
		return nil, fmt.Errorf("REDUCE calls a %s, not a global", pyTypeName(fn))
	}
	t, ok := args.(pyTuple)
	if !ok {
		return nil, fmt.Errorf("REDUCE of %s.%s with a %s, want an argument tuple", g.module, g.name, pyTypeName(args))
	}
	switch {
	case g.module == "_codecs" && g.name == "encode":
		// Python 3 bytes at protocol <= 2: encode(latin-1 text, "latin1").
		if len(t) != 2 {
			return nil, fmt.Errorf("_codecs.encode with %d arguments, want 2", len(t))
		}
		s, ok1 := t[0].(string)
		enc, ok2 := t[1].(string)
		if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1") {
			return nil, errors.New("_codecs.encode is only read for (text, \"latin1\"), how Python pickles bytes")
		}
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, fmt.Errorf("_codecs.encode: rune U+%04X is not latin-1", r)
			}
			out = append(out, byte(r))
		}
		return out, nil
	case (g.module == "__builtin__" || g.module == "builtins") && (g.name == "bytes" || g.name == "bytearray"):
		if len(t) == 0 {
			return []byte{}, nil
		}
		return nil, fmt.Errorf("%s.%s with arguments is not read", g.module, g.name)
	}
	return nil, fmt.Errorf("the pickle calls %s.%s (a numpy array or a Python class?); ccface reads only lists of bytes and bools, so re-save it with plain lists: pickle.dump((list_of_bytes, [bool(x) for x in issame]), f)",
		g.module, g.name)
}

// pyTypeName names a decoded value's Python type for error messages.
func pyTypeName(v any) string {
	switch v := v.(type) {
	case *pyList:
		return "list"
	case pyTuple:
		return "tuple"
	case []byte:
		return "bytes"
	case string:
		return "str"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case pyNone:
		return "None"
	case pyGlobal:
		return "global " + v.module + "." + v.name
	}
	return fmt.Sprintf("%T", v)
}

// verificationPickle checks that v has the shape of an insightface
// verification set, (images, issame) with two images per pair, and returns
// the images and the same/different flags.
func verificationPickle(v any) (images [][]byte, same []bool, err error) {
	var top []any
	switch t := v.(type) {
	case pyTuple:
		top = t
	case *pyList:
		top = t.items
	default:
		return nil, nil, fmt.Errorf("the pickle holds a %s; a verification .bin holds a pair (list of encoded images, list of bools)", pyTypeName(v))
	}
	if len(top) != 2 {
		return nil, nil, fmt.Errorf("the pickle holds a %s of %d items; a verification .bin holds 2: (images, issame)", pyTypeName(v), len(top))
	}
	bins, ok := top[0].(*pyList)
	if !ok {
		return nil, nil, fmt.Errorf("its first item is a %s; want a list of encoded images", pyTypeName(top[0]))
	}
	flags, ok := top[1].(*pyList)
	if !ok {
		return nil, nil, fmt.Errorf("its second item (issame) is a %s; want a list of bools", pyTypeName(top[1]))
	}
	images = make([][]byte, len(bins.items))
	for i, b := range bins.items {
		bb, ok := b.([]byte)
		if !ok {
			return nil, nil, fmt.Errorf("image %d is a %s; want bytes (an encoded JPEG or PNG)", i, pyTypeName(b))
		}
		images[i] = bb
	}
	same = make([]bool, len(flags.items))
	for i, f := range flags.items {
		switch f := f.(type) {
		case bool:
			same[i] = f
		case int64:
			if f != 0 && f != 1 {
				return nil, nil, fmt.Errorf("issame[%d] is %d; want a bool or 0/1", i, f)
			}
			same[i] = f == 1
		default:
			return nil, nil, fmt.Errorf("issame[%d] is a %s; want a bool", i, pyTypeName(f))
		}
	}
	if len(images) != 2*len(same) {
		return nil, nil, fmt.Errorf("%d images for %d pairs; want exactly 2 images per issame flag", len(images), len(same))
	}
	return images, same, nil
}
