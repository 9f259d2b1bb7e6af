// Package archtest holds tests that keep the architecture true: imports
// flow cmd/cepctl -> lang -> engine -> window, and never back.
package archtest
