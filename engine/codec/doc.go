// Package codec turns input records into typed engine events and derived
// events into output records: JSON Lines and CSV decoding against declared
// schemas, and the JSON Lines encoding of derived events.
//
// Stage: input and output adapters around the engine. cepctl run is a loop
// over a Decoder, engine.Matcher and an Encoder (see Feed).
//
// Imports: the standard library, engine and engine/event. The engine never
// imports codec.
//
// Concurrency: a Decoder or Encoder belongs to one goroutine; it is not safe
// for concurrent use. Decoders reuse their buffers, so decoding allocates
// nothing per record beyond the strings it produces (and short repeated
// strings are interned: see Options.Intern).
//
// Decoding is a hand-written scanner over bytes with no reflection: the
// schema is known, so each value is parsed straight into the slot of its
// field. Chosen by measurement (BenchmarkDecode, an 80-byte 4-field record,
// 2026-11-26, same run): the codec is ~1.4x a hand-written decoder that
// knows the record's keys at compile time, 5-8x faster than encoding/json
// into a struct, and level with github.com/goccy/go-json into a struct
// (measured outside the module, not a dependency) while allocating nothing
// where goccy allocates 3 times, and checking types against the schema with
// positions, which neither does.
package codec
