package main

import (
	"bytes"
	"testing"
)

func TestZZSheet(t *testing.T) {
	var o, e bytes.Buffer
	if err := cmdInspect([]string{"../shared/data/celeba298", "--out", "/tmp/celeba_sheet.png", "--sample", "500", "-n", "4"}, &o, &e); err != nil {
		t.Fatal(err)
	}
	t.Log(o.String())
}
