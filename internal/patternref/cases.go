package patternref

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// Case is one outside conformance case of ../shared/conformance/cases.jsonl
// (its README describes the format).
type Case struct {
	ID     string      `json:"id"`
	Source string      `json:"source"`
	Kind   string      `json:"kind"` // "flink-pattern" or "match-recognize"
	Events []CaseEvent `json:"events"`
	Notes  string      `json:"notes"`

	// flink-pattern
	Stages       []Stage         `json:"-"`
	Skip         json.RawMessage `json:"skip"`
	WithinMS     *int64          `json:"within_ms"`
	WithinType   *string         `json:"within_type"`
	ExpectedFlat [][]int         `json:"expected_flat"`

	// match-recognize
	SQL             *SQLCase `json:"-"`
	ExpectedRows    [][]any  `json:"-"`
	ExpectedColumns []string `json:"expected_columns"`

	ExpectedError *string `json:"expected_error"`

	Pattern  json.RawMessage `json:"pattern"`
	Expected json.RawMessage `json:"expected"`
}

// CaseEvent is one input event; an event's index is its position.
type CaseEvent struct {
	TS    *int64         `json:"ts"`
	Type  string         `json:"type"`
	Attrs map[string]any `json:"attrs"`
}

// Stage is one stage of a Flink pattern, or a group of stages.
type Stage struct {
	Name       string     `json:"name"`
	Contiguity string     `json:"contiguity"` // begin next followedBy followedByAny notNext notFollowedBy
	Where      *string    `json:"where"`
	Until      *string    `json:"until"`
	Quantifier Quantifier `json:"quantifier"`
	Group      []Stage    `json:"group"`
}

// Quantifier is a Flink stage's quantifier.
type Quantifier struct {
	Min               int  `json:"min"`
	Max               *int `json:"max"` // nil: unbounded
	Greedy            bool `json:"greedy"`
	Consecutive       bool `json:"consecutive"`
	AllowCombinations bool `json:"allowCombinations"`
	Optional          bool `json:"optional"`
}

// SQLCase is the structured form of a MATCH_RECOGNIZE query.
type SQLCase struct {
	SQL   string `json:"sql"`
	Input struct {
		Columns []string `json:"columns"`
		Rows    [][]any  `json:"rows"`
	} `json:"input"`
	PartitionBy    []string `json:"partition_by"`
	OrderBy        []string `json:"order_by"`
	Measures       []struct{ Expr, Alias string }
	RowsPerMatch   string              `json:"rows_per_match"`
	AfterMatchSkip string              `json:"after_match_skip"`
	Pattern        string              `json:"pattern"`
	Subset         map[string][]string `json:"subset"`
	Define         map[string]string   `json:"define"`
	Dialect        string              `json:"dialect"`
}

// LoadCases reads a cases.jsonl file.
func LoadCases(path string) ([]*Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*Case
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		c, err := parseCase(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

func parseCase(b []byte) (*Case, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	c := &Case{}
	if err := d.Decode(c); err != nil {
		return nil, err
	}
	switch c.Kind {
	case "flink-pattern":
		if err := json.Unmarshal(c.Pattern, &c.Stages); err != nil {
			return nil, fmt.Errorf("%s: pattern: %v", c.ID, err)
		}
	case "match-recognize":
		d := json.NewDecoder(bytes.NewReader(c.Pattern))
		d.UseNumber()
		c.SQL = &SQLCase{}
		if err := d.Decode(c.SQL); err != nil {
			return nil, fmt.Errorf("%s: pattern: %v", c.ID, err)
		}
		if len(c.Expected) > 0 && string(c.Expected) != "null" {
			d := json.NewDecoder(bytes.NewReader(c.Expected))
			d.UseNumber()
			if err := d.Decode(&c.ExpectedRows); err != nil {
				return nil, fmt.Errorf("%s: expected: %v", c.ID, err)
			}
		}
	default:
		return nil, fmt.Errorf("%s: unknown kind %q", c.ID, c.Kind)
	}
	return c, nil
}

// skipSpec decodes a Flink case's skip field.
func (c *Case) skipSpec() (kind, target string, throw bool, err error) {
	var s string
	if json.Unmarshal(c.Skip, &s) == nil {
		return s, "", false, nil
	}
	var m map[string]any
	if err := json.Unmarshal(c.Skip, &m); err != nil {
		return "", "", false, fmt.Errorf("%s: skip %s: %v", c.ID, c.Skip, err)
	}
	throw, _ = m["throwExceptionOnMiss"].(bool)
	for _, k := range []string{"skipToFirst", "skipToLast"} {
		if t, ok := m[k].(string); ok {
			return k, t, throw, nil
		}
	}
	return "", "", false, fmt.Errorf("%s: skip %s: unknown strategy", c.ID, c.Skip)
}
