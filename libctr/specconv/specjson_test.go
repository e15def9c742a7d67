package specconv

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/internal/jsonlite"
)

// notFast are the spec's JSON keys the fast reader leaves to encoding/json.
var notFast = map[string]bool{
	"solaris": true, "windows": true, "vm": true, "zos": true, "freebsd": true,
	"scheduler": true, "ioPriority": true, "execCPUAffinity": true, "commandLine": true, "username": true,
	"netDevices": true, "intelRdt": true, "memoryPolicy": true, "blockIO": true, "network": true, "rdma": true,
}

// fillSpec sets the fields reachable from v by reflection: every one the
// fast reader knows when fast, plain ASCII strings then; otherwise every
// field, with a random mix of zero, nil, empty and unusual values.
func fillSpec(v reflect.Value, rnd *rand.Rand, fast bool) {
	pick := rnd.IntN
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			if fast && notFast[name] {
				continue
			}
			fillSpec(v.Field(i), rnd, fast)
		}
	case reflect.Pointer:
		if !fast && pick(3) == 0 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fillSpec(v.Elem(), rnd, fast)
	case reflect.Slice, reflect.Map:
		n := 1 + pick(3)
		if !fast && pick(3) == 0 {
			return
		}
		if v.Kind() == reflect.Slice {
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := range n {
				fillSpec(v.Index(i), rnd, fast)
			}
			return
		}
		v.Set(reflect.MakeMap(v.Type()))
		for range n {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillSpec(k, rnd, fast)
			fillSpec(e, rnd, fast)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		plain := []string{"a", "/bin/sh", "CAP_KILL", "rw,nosuid", "x y", "1.2.0"}
		odd := []string{"", "<&>", `q"\`, "t\tn\n", "ünï", "bad\xff", "\u2028"}
		if fast || pick(2) == 0 {
			v.SetString(plain[pick(len(plain))])
		} else {
			v.SetString(odd[pick(len(odd))])
		}
	case reflect.Bool:
		v.SetBool(pick(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt([]int64{0, -1, 7, math.MinInt32, math.MaxInt32}[pick(5)])
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n := []uint64{0, 7, math.MaxUint16, math.MaxUint32}[pick(4)]
		if v.OverflowUint(n) {
			n = 7
		}
		v.SetUint(n)
	case reflect.Interface:
		// Windows' credentialSpec: left nil.
	default:
		panic("fillSpec: no case for " + v.Type().String())
	}
}

// decodeStd is what decodeSpec did before it had a fast path.
func decodeStd(t *testing.T, b []byte) (*specs.Spec, error) {
	t.Helper()
	var s specs.Spec
	err := json.NewDecoder(bytes.NewReader(b)).Decode(&s)
	return &s, err
}

// randomJSON fills a T from seed (on even seeds only with the fields the
// fast readers know: fast), marshals it, and decodes that back with
// encoding/json, the reference the fast readers must match.
func randomJSON[T any](t *testing.T, seed, stream uint64) (b []byte, want *T, fast bool) {
	t.Helper()
	fast = seed%2 == 0
	var v T
	fillSpec(reflect.ValueOf(&v).Elem(), rand.New(rand.NewPCG(seed, stream)), fast)
	b, err := json.Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	want = new(T)
	if err := json.Unmarshal(b, want); err != nil {
		t.Fatal(err)
	}
	return b, want, fast
}

// The fast reader reads every field it knows as encoding/json does, and
// decodeSpec gives encoding/json's result for everything else.
func TestSpecJSONMatchesEncodingJSON(t *testing.T) {
	for seed := range uint64(300) {
		b, want, fast := randomJSON[specs.Spec](t, seed, 7)
		if fast {
			got, ok := readSpecFast(b)
			if !ok {
				t.Fatalf("seed %d: the fast reader gave up on %s", seed, b)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d: fast read differs\n got %+v\nwant %+v", seed, got, want)
			}
		}
		got, err := decodeSpec(bytes.NewReader(b))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: decodeSpec = %+v, %v; want %+v", seed, got, err, want)
		}
	}
}

// The example spec and specs as runc and docker write them take the fast
// path; odd input still decodes (or fails) as encoding/json has it.
func TestDecodeSpecEdgeCases(t *testing.T) {
	ex, err := json.MarshalIndent(Example(), "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := readSpecFast(ex); !ok {
		t.Fatalf("the example spec missed the fast path:\n%s", ex)
	}
	for _, in := range []string{
		string(ex) + "\ntrailing garbage after the first value",
		`{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0,"username":"x"},"cwd":"/"}}`,
		`{"ociVersion":"1.0.2","OCIVERSION":"1.1"}`,
		`{"ociVersion":"1.0.\u0032","hostname":"h\u00e9"}`,
		`{"linux":{"resources":{"blockIO":{"weight":10}}}}`,
		`{"linux":{"resources":{"memory":{"limit":1.5}}}}`,
		`{"process":{"user":{"uid":-1}}}`,
		`{"ociVersion":"1.0.2"`,
		``,
		`null`,
		" null\ntrailing garbage after the first value",
		`nul`,
		`  {"annotations":{"a":"1","b":null}}  `,
	} {
		want, wantErr := decodeStd(t, []byte(in))
		got, err := decodeSpec(strings.NewReader(in))
		if (err == nil) != (wantErr == nil) {
			t.Errorf("%q: error %v, want %v", in, err, wantErr)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %+v, want %+v", in, got, want)
		}
	}
}

// DecodeProcess is json.Unmarshal of a process object, by the fast path
// for what it knows.
func TestDecodeProcessMatchesEncodingJSON(t *testing.T) {
	for seed := range uint64(200) {
		b, want, fast := randomJSON[specs.Process](t, seed, 11)
		if fast {
			r := jsonlite.NewReader(b)
			var got specs.Process
			readProcess(r, &got)
			if r.End() != nil || !reflect.DeepEqual(got, *want) {
				t.Fatalf("seed %d: fast read %+v, %v; want %+v", seed, got, r.Err(), want)
			}
		}
		got, err := DecodeProcess(b)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: DecodeProcess = %+v, %v; want %+v", seed, got, err, want)
		}
	}
	for _, in := range []string{`{"args":["sh"],"cwd":"/"} x`, `{"args":["sh"]`, `null`, `{"user":{"username":"u"}}`, `{"ARGS":["a"]}`} {
		var want specs.Process
		wantErr := json.Unmarshal([]byte(in), &want)
		got, err := DecodeProcess([]byte(in))
		if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(*got, want) {
			t.Errorf("%q: got %+v, %v; want %+v, %v", in, got, err, want, wantErr)
		}
	}
}
