package sessions

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ccface/ccface/engine"
)

var decodeSeeds = []string{
	`{"kind":"point","step":12,"epoch":0.5,"phase":"teacher","time":"2026-11-27T10:15:02.123456789+01:00","values":{"loss":1.25,"lr":1e-3,"acc_hr":0}}`,
	`{"kind":"hyper","step":3,"epoch":0,"time":"2026-01-01T00:00:00Z","knob":"margin","old":"0.4","new":"0.3","by":"tui"}`,
	` { "kind" : "log" , "step" : -7 , "epoch" : -0.0E+2 , "time" : "2026-01-01T00:00:00Z" , "values" : { } , "message" : "hi" } `,
	`{"kind":"point","step":1.5,"time":"2026-01-01T00:00:00Z"}`,
	`{"kind":"point","step":1e3,"time":"2026-01-01T00:00:00Z"}`,
	`{"kind":"point","step":01,"time":"2026-01-01T00:00:00Z"}`,
	`{"kind":"point","step":1,"epoch":.5,"time":"2026-01-01T00:00:00Z"}`,
	`{"kind":"point","step":1,"epoch":1.,"time":"2026-01-01T00:00:00Z"}`,
	`{"kind":"point","step":1,"epoch":+1,"time":"2026-01-01T00:00:00Z"}`,
	`{"kind":"point","step":1,"epoch":1e999,"time":"2026-01-01T00:00:00Z"}`,
	`{"kind":"point","step":99999999999999999999,"time":"2026-01-01T00:00:00Z"}`,
	`{"kind":"point","step":1,"time":"2026-1-01T00:00:00Z"}`,
	`{"kind":"point","step":1,"time":"2026-01-01 00:00:00Z"}`,
	`{"kind":"point","values":{"loss":"NaN"}}`,
	`{"kind":"point","values":null}`,
	`{"kind":"point","values":{"a":1,}}`,
	`{"kind":"point",}`,
	`{"kind":"point"}x`,
	`{"kind":"point"`,
	`{"kind":"po\u0069nt"}`,
	`{"kind":"point","message":"tab\there"}`,
	`{"Kind":"point"}`,
	`{"kind":"eval","curves":{"roc.hr":{"x":[0,1],"y":[0,1]}}}`,
	`{"kind":"point","step":1,"step":2}`,
	`{"kind":"point","values":{"a":1,"b":2},"values":{"b":3}}`,
	`{"kind":"log","message":"γ changed"}`,
	`{}`,
	`[]`,
	`null`,
	``,
}

// FuzzDecodeFast checks that the fast path never accepts what encoding/json
// rejects and never reads a line differently.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast engine.Event
		if !decodeFast(b, &fast, interner{}) {
			return
		}
		var slow engine.Event
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\njson %+v", b, fast, slow)
		}
	})
}

func TestDecodeFastCoversOwnOutput(t *testing.T) {
	for i, e := range []engine.Event{point(3, 0.25), {Kind: engine.KindHyper, Step: 9, Knob: "aug.p_lr", Old: "0.5", New: "0.6", By: "ssh:alice"}} {
		line, err := marshalEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		var got engine.Event
		if !decodeFast(line, &got, nil) {
			t.Errorf("event %d: fast path refused our own line %s", i, line)
		}
	}
}
