//go:build openblas

// Package openblas links the system's OpenBLAS and installs it as gonum's
// blas32 implementation. It is its own package because a cgo package may not
// hold Go assembly, and engine/nn does.
package openblas

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/netlib/blas/netlib"
)

func init() { blas32.Use(netlib.Implementation{}) }
