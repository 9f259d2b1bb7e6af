// Package scripttest runs rule scripts: a text file holding rules, input
// events and the derived events expected from them (the idea of Prometheus's
// promqltest). `go test` runs every script under testdata/scripts and
// `cepctl test` runs the scripts it is given.
//
// A script is made of sections, each opened by a line at column 0:
//
//	rules            the rule file, indented (its line numbers are the script's)
//	events           input, one per line:
//	                   TIME Type { field: value, ... }   an event
//	                   json {"type": "T", ...}           a raw JSON Lines record
//	                   watermark TIME                    advance event time
//	expect           the derived events, in output order: TIME Type { ... }
//	expect late      the events that go to the late stream: TIME Type { ... }
//	expect invalid   one "regexp" per record of the invalid stream
//	options          clock processing (every event takes its line's time as arrival time)
//
// TIME is a duration from the Unix epoch (0s, 3m, 1h30m, 500ms) or an RFC 3339
// time. A field list is an expr map literal; a duration literal (5m) in it is
// a duration, or a time when the field is of type time. The time of an event
// whose type has a time field fills that field unless the line sets it.
// Lines starting with # are comments.
//
// Every script is also run metamorphically: one event at a time, as one
// batch, in random splits, and with its rules formatted and parsed again;
// every way must give the same output.
//
// Imports: lang, engine and its subpackages, expr. Concurrency: a Script is
// immutable once parsed; Run may be called from several goroutines.
package scripttest
