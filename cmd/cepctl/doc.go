// Command cepctl is the command-line face of the cep engine: it checks,
// formats and runs rule files, and runs rule scripts.
//
//	cepctl check FILES...                 report every error of a program
//	cepctl fmt [-l] [-w] [-d] [FILES...]  format rule files, as gofmt does Go
//	cepctl run RULES... [--input FILE]    run rules over JSON Lines events
//	cepctl test FILES|DIRS...             run rule scripts (*.test)
//
// Exit status: 0 success, 1 when the rules or scripts are at fault (errors
// in the rules, a failed script, a run that could not finish), 2 when the
// command line is (unknown command or flag, missing or unreadable files).
//
// Stage: the outermost layer, at the head of the import flow
// cmd/cepctl -> lang -> engine -> window. It may import lang,
// lang/scripttest, engine and its subpackages, cobra and the standard
// library; nothing imports it. It is the only place that reads the wall
// clock (the arrival times of `run` and its events/s figure): the engine is
// handed a Clock and never calls time.Now itself.
//
// The logic lives in Main, so that the CLI tests (testscript, under
// testdata/cepctl) run it as a command without building a binary.
package main
