package tui

import "github.com/charmbracelet/lipgloss"

// Colours are fixed ANSI-256 indices: they read on dark and light
// backgrounds alike and degrade to plain text when the terminal (or an SSH
// client) has no colour. LR views are always cyan and HR views magenta, on
// every chart and in the log.
const (
	colTotal  = lipgloss.Color("252")
	colLR     = lipgloss.Color("45")
	colHR     = lipgloss.Color("205")
	colCross  = lipgloss.Color("78")
	colMargin = lipgloss.Color("220")
	colDim    = lipgloss.Color("243")
	colMarker = lipgloss.Color("214")
	colPhase  = lipgloss.Color("69")
	colErr    = lipgloss.Color("203")
	colOK     = lipgloss.Color("78")
)

// styles is built once per model from the model's renderer, so an SSH server
// can give each client its own colour profile; nothing here is global.
type styles struct {
	r *lipgloss.Renderer

	status, statusRun, statusPause, statusEnd lipgloss.Style
	title, dim, bold, sel, pending, err, ok   lipgloss.Style
	marker, phase, axis, label, rule, key     lipgloss.Style
	help                                      lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	n := r.NewStyle
	return styles{
		r:           r,
		status:      n().Reverse(true),
		statusRun:   n().Reverse(true).Bold(true).Foreground(colOK),
		statusPause: n().Reverse(true).Bold(true).Foreground(colMargin),
		statusEnd:   n().Reverse(true).Bold(true).Foreground(colErr),
		title:       n().Bold(true),
		dim:         n().Foreground(colDim),
		bold:        n().Bold(true),
		sel:         n().Bold(true).Reverse(true),
		pending:     n().Foreground(colMarker).Italic(true),
		err:         n().Foreground(colErr),
		ok:          n().Foreground(colOK),
		marker:      n().Foreground(colMarker),
		phase:       n().Foreground(colPhase),
		axis:        n().Foreground(colDim),
		label:       n().Foreground(colDim),
		rule:        n().Foreground(colDim),
		key:         n().Bold(true).Foreground(colLR),
		help:        n().Border(lipgloss.RoundedBorder()).BorderForeground(colLR).Padding(0, 1),
	}
}

// fg returns a foreground-coloured style from the model's renderer.
func (s styles) fg(c lipgloss.Color) lipgloss.Style { return s.r.NewStyle().Foreground(c) }
