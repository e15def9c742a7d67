package configs

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/wharf-project/wharf/internal/jsonlite"
)

// fill sets every field reachable from v by reflection: with full, every
// one non-zero and with plain ASCII strings (what the fast paths must
// handle alone); otherwise a random mix of zero, nil, empty and unusual
// values (escapes, invalid UTF-8, extremes).
func fill(v reflect.Value, rnd *rand.Rand, full bool) {
	pick := func(n int) int { return rnd.IntN(n) }
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), rnd, full)
		}
	case reflect.Pointer:
		if !full && pick(3) == 0 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), rnd, full)
	case reflect.Slice:
		n := 1 + pick(3)
		if !full {
			switch pick(4) {
			case 0:
				return // nil
			case 1:
				n = 0 // empty, not nil
			}
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fill(v.Index(i), rnd, full)
		}
	case reflect.Map:
		n := 1 + pick(3)
		if !full {
			switch pick(4) {
			case 0:
				return
			case 1:
				n = 0
			}
		}
		v.Set(reflect.MakeMap(v.Type()))
		for range n {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, rnd, full)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, rnd, full)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		plain := []string{"a", "/bin/sh", "FROZEN", "key.with-dots_and+plus", "x y z", "0:1 rwm"}
		odd := []string{"", "<&>", `quote"d\`, "tab\tnl\n", "ünïcode", "bad\xffutf8", "\u2028", "\x01"}
		if full || pick(2) == 0 {
			v.SetString(plain[pick(len(plain))])
		} else {
			v.SetString(odd[pick(len(odd))])
		}
	case reflect.Bool:
		v.SetBool(full || pick(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := int64(1 + pick(1000))
		if !full {
			n = []int64{0, -1, n, math.MinInt32, math.MaxInt32}[pick(5)]
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n := uint64(1 + pick(1000))
		if !full {
			n = []uint64{0, n, math.MaxUint16, math.MaxUint32}[pick(4)]
		}
		if v.OverflowUint(n) {
			n = 7
		}
		v.SetUint(n)
	default:
		panic("fill: no case for " + v.Type().String())
	}
}

// codecCase checks one type's fast JSON against encoding/json, T being
// the type and P the same struct without its methods.
func codecCase[T any, P any](t *testing.T, name string, fastRead func(*T, *jsonlite.Reader)) {
	t.Helper()
	for seed := range uint64(400) {
		rnd := rand.New(rand.NewPCG(seed, 42))
		full := seed < 20
		var v T
		fill(reflect.ValueOf(&v).Elem(), rnd, full)

		got, err := json.Marshal(&v)
		if err != nil {
			t.Fatalf("%s seed %d: marshal: %v", name, seed, err)
		}
		want, err := json.Marshal((*P)(reflect.ValueOf(&v).UnsafePointer()))
		if err != nil {
			t.Fatalf("%s seed %d: std marshal: %v", name, seed, err)
		}
		if string(got) != string(want) {
			t.Fatalf("%s seed %d: MarshalJSON differs from encoding/json (a field missing from json.go?)\n got %s\nwant %s", name, seed, got, want)
		}

		if full {
			// What the writer writes, the fast reader must read alone:
			// a field it lacks would send every load to encoding/json.
			// jsonlite.Decode is how UnmarshalJSON runs it.
			var fast T
			if !jsonlite.Decode(want, &fast, fastRead) {
				t.Fatalf("%s seed %d: the fast reader gave up on %s (a field missing from json.go?)", name, seed, want)
			}
			if !reflect.DeepEqual(fast, v) {
				t.Fatalf("%s seed %d: fast read differs:\n got %+v\nwant %+v", name, seed, fast, v)
			}
		}

		inputs := [][]byte{want}
		if indented, err := json.MarshalIndent((*P)(reflect.ValueOf(&v).UnsafePointer()), "", "  "); err == nil {
			inputs = append(inputs, indented)
		}
		for _, in := range inputs {
			var dec T
			var std P
			errFast := json.Unmarshal(in, &dec)
			errStd := json.Unmarshal(in, &std)
			if (errFast == nil) != (errStd == nil) {
				t.Fatalf("%s seed %d: unmarshal errors differ: %v vs %v", name, seed, errFast, errStd)
			}
			if !reflect.DeepEqual(dec, *(*T)(reflect.ValueOf(&std).UnsafePointer())) {
				t.Fatalf("%s seed %d: UnmarshalJSON differs from encoding/json for %s", name, seed, in)
			}
		}
	}
}

func TestConfigJSONMatchesEncodingJSON(t *testing.T) {
	codecCase[Config, plainConfig](t, "Config", (*Config).ReadJSON)
}

func TestProcessJSONMatchesEncodingJSON(t *testing.T) {
	codecCase[Process, plainProcess](t, "Process", (*Process).ReadJSON)
}

// Input the fast reader leaves to encoding/json still decodes as
// encoding/json decodes it, errors included.
func TestConfigUnmarshalFallback(t *testing.T) {
	for _, in := range []string{
		`{"rootfs":"/r","ROOTFS":"/other"}`,                            // another spelling of a key
		`{"rootfs":"/r","unknown":{"a":[1,2,{"b":null}]}}`,             // an unknown key
		`{"rootfs":"\u002fr\n","hostname":"h\u00e9"}`,                  // escapes
		`{"root_propagation":1.5}`,                                     // not an integer
		`{"root_propagation":99999999999999999999}`,                    // out of range
		`{"cgroups":{"path":"/p","resources":{"blkio_weight":70000}}}`, // overflows uint16
		`{"namespaces":[{"type":"pid"}],"namespaces":null}`,            // a repeated key
		`{"mounts":[{"source":"s","flags":-1}],"hooks":{"poststop":[{"path":"/h","timeout":3}]}}`,
		`{"rootfs":"/r"`,   // truncated
		`{"rootfs":"/r"}x`, // trailing garbage
		`null`,
		`{"readonlyfs":tru}`,
		`{"sysctl":{"a":"1","b":null}}`,
	} {
		var fast Config
		var std plainConfig
		errFast := json.Unmarshal([]byte(in), &fast)
		errStd := json.Unmarshal([]byte(in), &std)
		if (errFast == nil) != (errStd == nil) {
			t.Errorf("%s: errors differ: %v vs %v", in, errFast, errStd)
		}
		if !reflect.DeepEqual(fast, Config(std)) {
			t.Errorf("%s: got %+v, want %+v", in, fast, Config(std))
		}
	}
}
