package event

import "time"

// Field is one declared field of an event type.
type Field struct {
	Name string
	Type Type
}

// Schema is an event type compiled to a slot layout: field i of an event of
// this type is Event.Fields[i].
type Schema struct {
	ID       int32  // index in its Registry
	Name     string // the event type's name
	Fields   []Field
	TimeSlot int           // slot of the event-time field; -1: arrival time
	Lateness time.Duration // allowed out-of-orderness of event time

	index map[string]int
}

// NewSchema builds a schema. timeField names the event-time field ("" for
// arrival time); it must be one of fields and of type time.
func NewSchema(name string, fields []Field, timeField string, lateness time.Duration) *Schema {
	s := &Schema{Name: name, Fields: fields, TimeSlot: -1, Lateness: lateness, index: make(map[string]int, len(fields))}
	for i, f := range fields {
		s.index[f.Name] = i
	}
	if timeField != "" {
		if i, ok := s.index[timeField]; ok {
			s.TimeSlot = i
		}
	}
	return s
}

// Slot returns the slot of a field by name.
func (s *Schema) Slot(name string) (int, bool) {
	i, ok := s.index[name]
	return i, ok
}

// FieldNames returns the field names in slot order.
func (s *Schema) FieldNames() []string {
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = f.Name
	}
	return names
}

// Registry holds the schemas of one program, by id and by name.
type Registry struct {
	schemas []*Schema
	byName  map[string]*Schema
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]*Schema{}} }

// Add registers s, assigning its ID. It reports false if the name is taken.
func (r *Registry) Add(s *Schema) bool {
	if _, dup := r.byName[s.Name]; dup {
		return false
	}
	s.ID = int32(len(r.schemas))
	r.schemas = append(r.schemas, s)
	r.byName[s.Name] = s
	return true
}

// Lookup returns the schema of a type name.
func (r *Registry) Lookup(name string) (*Schema, bool) {
	s, ok := r.byName[name]
	return s, ok
}

// ByID returns the schema with the given id.
func (r *Registry) ByID(id int32) *Schema { return r.schemas[id] }

// Len returns the number of schemas.
func (r *Registry) Len() int { return len(r.schemas) }

// Schemas returns the schemas in id order. The caller must not modify it.
func (r *Registry) Schemas() []*Schema { return r.schemas }

// Event is one event: its type, its event time, its arrival sequence and its
// fields in slot order. Events are totally ordered by (Time, Seq).
type Event struct {
	Type   int32   // Schema.ID
	Time   int64   // event time, Unix nanoseconds
	Seq    uint64  // arrival sequence, unique per matcher
	Fields []Value // Schema.Fields order
}

// Before reports whether e sorts before f in (Time, Seq) order.
func (e *Event) Before(f *Event) bool {
	if e.Time != f.Time {
		return e.Time < f.Time
	}
	return e.Seq < f.Seq
}
