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
//   - Source: images decoded on demand, for sets larger than memory. A Set
//     is one; RecordIO (MXNet .rec/.idx, as insightface packs CASIA-WebFace
//     and MS1M) and FileSource (an image folder, read lazily) stream.
//     NewSourceLoader batches any Source through a bounded LRU cache with a
//     one-batch read-ahead on a bounded pool, so memory follows the cache,
//     not the set; SplitSource and Materialize split and load its parts.
//   - Evaluation sets as their files define them (OpenEval): insightface
//     verification pickles (.bin), LFW pairs.txt over an image folder, the
//     TinyFace test layout, besides folders and .rec files.
//   - Inspect: what `ccface data inspect` reports on any of these, and its
//     contact sheet (Report.WriteSheet).
//
// # Bad data
//
// Every reader treats its input as untrusted: lengths are checked against
// what the file holds before anything is allocated, images are refused
// from their header when they exceed MaxPixels (decompression bombs), and
// nothing panics on a malformed file (the binary parsers are fuzzed). A
// bad entry is skipped and reported with its file and entry (index line,
// record key, pairs line); only a set with nothing usable is an error.
//
// # Concurrency
//
// Synthetic, LoadFolder, Materialize, EvalSet.Decode and Loader.Fill spread
// their work over goroutines themselves and return when it is done; a
// Source loader also leaves one read-ahead running between Fill calls,
// which Close waits for. A Set is read-only once built and may be shared;
// RecordIO and FileSource are safe for concurrent use; a Loader is not. The
// package has no mutable package-level state.
package datasets
