// Package prefetch asks the processor to bring memory into its caches
// ahead of use: a hint, never a fault, whatever the address. The engine's
// per-key state is spread over memory far larger than the caches; where
// it knows which keys come next (the keys of an expiry queue, due in
// order), fetching their lines a few steps ahead overlaps the misses that
// one step after another would wait for.
//
// Line and Line3 are declared in prefetch_decl.go for the architectures
// with an assembly body (amd64, arm64), and are no-ops elsewhere
// (prefetch_other.go).
package prefetch
