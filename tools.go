//go:build tools

// Package main's tools.go pins modules the packages will import as they land,
// so `go mod tidy` keeps them while the tree is built up.
package main

import (
	_ "github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
	_ "github.com/charmbracelet/bubbles/textinput"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/charmbracelet/wish"
	_ "github.com/charmbracelet/x/exp/teatest"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/image/draw"
	_ "gonum.org/v1/plot"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
)
