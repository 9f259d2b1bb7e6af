// Package prefetch asks the processor to bring memory into its caches
// ahead of use: a hint, never a fault, whatever the address. The engine's
// per-key state is spread over memory far larger than the caches; where
// it knows which keys come next (the keys of an expiry queue, due in
// order), fetching their lines a few steps ahead overlaps the misses that
// one step after another would wait for.
package prefetch

// Line (prefetch_decl.go: declared for the architectures with an assembly
// body; prefetch_other.go: a no-op for the rest) hints that the cache line
// holding p will be read soon.
