package engine

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestPatternAPI_rule runs fluent patterns given to Rule.Pattern: Build
// compiles them with the rule, against derived types too, and reports
// their mistakes with the rule's name among the other errors.
func TestPatternAPI_rule(t *testing.T) {
	b := patternBuilder()
	b.Rule("big").From("E").Where("v >= 5").Emit("Big", Field{Name: "user"}, Field{Name: "v"}, Field{Name: "at"})
	// A pattern over E and Big, the type rule big emits.
	b.Rule("r").Pattern(Begin("a", "E").Where("v == 1").FollowedBy("g", "Big").Where("v > a.v").Within(10*time.Millisecond)).
		PartitionBy("user").Emit("M", Field{Name: "user"}, Field{Name: "v", Expr: "g.v"}).
		OnTimeoutEmit("Stuck", Field{Name: "user"})
	m := mustBuild(t, b).NewMatcher(Config{})
	var rec recorder
	rec.attach(t, m)
	for _, x := range []struct {
		user string
		v    int64
		at   time.Duration
	}{{"a", 1, 0}, {"b", 1, time.Millisecond}, {"a", 7, 2 * time.Millisecond}, {"a", 0, 30 * time.Millisecond}} {
		e := ev(x.user, x.v, x.at)
		m.Process(&e)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	want := `big Big@2ms {user="a", v=7, at=2ms}
r M@2ms {user="a", v=7}
r Stuck@11ms {user="b"}`
	if got := rec.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	b = patternBuilder()
	b.Rule("r1").Pattern(Begin("a", "E").Where("vv == 1").FollowedBy("a", "E")).Emit("M", Field{Name: "n", Expr: "1"})
	b.Rule("r2").Pattern(Begin("a", "Nope")).Emit("M2", Field{Name: "n", Expr: "1"})
	b.Rule("r3").Pattern(nil).Emit("M3", Field{Name: "n", Expr: "1"})
	late := Begin("a", "E")
	b.Rule("r4").Pattern(late).Emit("M4", Field{Name: "n", Expr: "1"})
	late.FollowedBy("x", "Other")
	_, err := b.Build()
	var got []string
	for _, e := range err.(ErrorList) {
		got = append(got, e.Error())
	}
	wantErrs := []string{
		`rule r1: pattern: alias "a" is used twice (element a:E and element a:E)`,
		"rule r1: pattern: the condition of element a:E `vv == 1`: 1:1: unknown name vv; did you mean v?",
		"rule r2: unknown event type Nope",
		"rule r3: match without a pattern spec",
		"rule r4: pattern: element x:Other: its type was added to the pattern after Rule.Pattern; finish the pattern first",
	}
	if strings.Join(got, "\n") != strings.Join(wantErrs, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantErrs, "\n"))
	}
	if !errors.Is(err, ErrDuplicate) || !errors.Is(err, ErrUnknownType) {
		t.Errorf("%v does not wrap the sentinels", err)
	}
}
