// Package datasets owns ccface's face data: where faces come from, how they
// are degraded, and how they are cut into batches. It trains nothing and
// draws no UI.
//
//   - Set: labelled faces held in memory at the HR size (8-bit RGB), with a
//     Fingerprint that sessions record to recognise the same data again.
//   - Synthetic: procedural faces, the built-in default that needs no
//     download. Identity lives in fine details (eye, brow, nose and mouth
//     geometry, marks, glasses) while coarse cues (skin, hair, face shape)
//     come from small shared palettes, so like real faces they are easy to
//     tell apart at 32 px and hard at 8 px.
//   - LoadFolder and SplitByIdentity: real image folders laid out as
//     DIR/<identity>/<image>.png|jpg, split into disjoint identities.
//   - Degrade, Augment, DownUp: the degradation D of METHOD.md on float32
//     CHW images in [0,1], with its own nearest, bilinear, bicubic and area
//     resamplers; every knob is a field of DegradeParams.
//   - Loader: deterministic batches. Every random draw follows from the seed
//     and the position (epoch, batch, sample), never from goroutine
//     scheduling, so a resumed or re-run session sees bit-identical data.
//   - ContactSheet and WritePNG: previews for `ccface data preview`.
//
// # Concurrency
//
// Synthetic, LoadFolder and Loader.Fill spread their work over goroutines
// themselves and return when it is done. A Set is read-only once built and
// may be shared; a Loader is not safe for concurrent use. The package has
// no mutable package-level state.
package datasets
