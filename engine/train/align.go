package train

import (
	"fmt"
	"io"

	"github.com/ccface/ccface/align"
	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
)

// alignedSources is data.align's hook into loading: with data.align=scrfd
// it returns cfg with its training source and separate evaluation set
// (when they are folders or .rec files) replaced by their aligned copies
// from the cache (align.Cached: made on first use, with progress on w),
// and data.align off so nothing is aligned twice. Other evaluation formats
// (.bin, pairs.txt, TinyFace) are used as they are, with a warning on w.
func alignedSources(cfg engine.Config, w io.Writer) (engine.Config, error) {
	if cfg.Data.Align == "" || cfg.Data.Align == engine.AlignOff {
		return cfg, nil
	}
	root, err := align.CacheRoot()
	if err != nil {
		return cfg, err
	}
	opt := align.DefaultOptions()
	if cfg.Data.HR > opt.Size {
		opt.Size = 2 * opt.Size // a multiple of 112 keeps the template exact
	}
	for _, p := range []*string{&cfg.Data.Source, &cfg.Data.EvalSource} {
		if *p == "" {
			continue
		}
		format, err := datasets.DetectFormat(*p)
		if err != nil {
			return cfg, err
		}
		if format != datasets.FormatFolder && format != datasets.FormatRec {
			if format != datasets.FormatSynth {
				fmt.Fprintf(w, "warning: data.align: %s is a %s, used as it is (alignment reads folders and .rec files)\n", *p, datasets.FormatDescription(format))
			}
			continue
		}
		dir, rep, err := align.Cached(root, *p, cfg.Data.Detector, opt, w)
		if err != nil {
			return cfg, fmt.Errorf("data.align: %w", err)
		}
		if rep != nil {
			rep.WriteSummary(w)
		}
		fmt.Fprintf(w, "data.align: %s aligned in %s (report: %s)\n", *p, dir, align.ReportPath(dir))
		*p = dir
	}
	cfg.Data.Align = engine.AlignOff
	return cfg, nil
}
