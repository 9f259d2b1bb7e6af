// Package event defines the engine's data model: value kinds, typed values,
// event schemas compiled to slot layouts, and events.
//
// Stage: data model, shared by every engine stage and by lang's checker.
// Imports: the standard library only.
// Concurrency: Schemas and Registries are immutable once built and safe to
// share; Values are plain data. Nothing here keeps mutable global state.
//
// A field of an event is an index into Event.Fields, never a map key, and a
// Value holds strings, numbers, times and lists without interface boxing, so
// the per-event path of the engine allocates nothing.
package event
