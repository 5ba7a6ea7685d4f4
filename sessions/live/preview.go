package live

import (
	"fmt"
	"io"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
)

// PreviewData writes a contact sheet of the faces a run of cfg trains on
// to the PNG out: rows faces, each at HR then views degraded views at
// cfg's augmentation, magnified zoom times. It says on w what it wrote
// and which files loading skipped.
func PreviewData(cfg engine.Config, out string, rows, views, zoom int, w io.Writer) error {
	data, err := LoadData(cfg, w)
	if err != nil {
		return err
	}
	tr, ok := data.Train.(*datasets.Set)
	if !ok {
		return fmt.Errorf("data preview reads synthetic faces and image folders; for %s use `ccface data inspect %s --out %s`", cfg.Data.Source, cfg.Data.Source, out)
	}
	img := datasets.ContactSheet(tr, rows, views, zoom, cfg.Hyper.Aug, cfg.Seed)
	if err := datasets.WritePNG(out, img); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: %d faces of %s (%d identities), each HR then %d degraded views (aug.r_min=%g aug.r_max=%g)\n",
		out, rows, tr.Name, tr.NumIDs(), views, cfg.Hyper.Aug.RMin, cfg.Hyper.Aug.RMax)
	return nil
}
