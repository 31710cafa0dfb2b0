package jsonany

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// jsonCases are documents where a hand-written parser goes wrong most
// easily; each must give what encoding/json gives (a value or an error).
var jsonCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e3`, `-12.25E-2`, `1E+2`, `true`, `false`, `null`,
	` {"a" : [1, 2 , {"b":null}] } `, "\t\n\r[1]\n",
	`{"a":1,"a":2}`, `{"":""}`, `[[[[]]]]`, `{"a":{}}`,
	`"\"\\\/\b\f\n\r\t"`, `"\u00e9\u20AC"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`,
	`"\ud83d\u0041"`, `"\ud83dx"`, `"\ud83d\ud83d\ude00"`, `"é€😀"`, "\"\xff\xfe\"", "\"a\xc3\"", "\"\xed\xa0\x80\"",
	`1e400`, `-1e400`, `1e-400`, `123456789012345678901234567890`,
	// refused
	``, ` `, `{`, `[`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1 2]`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`,
	`tru`, `nul`, `True`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"a\x01\"", `{} {}`, `[1]x`, `"\ud83d\u12G4"`,
	`NaN`, `Infinity`, `[1,2,3`, `{"a":[}`,
}

func checkSameAsEncodingJSON(t *testing.T, doc []byte) {
	t.Helper()
	var want any
	wantErr := json.Unmarshal(doc, &want)
	got, err := Parse(doc)
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("%q: parsed as %#v; encoding/json refuses it: %v", doc, got, wantErr)
	case wantErr == nil && err != nil:
		t.Fatalf("%q: refused; encoding/json gives %#v", doc, want)
	case wantErr == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("%q: got %#v, encoding/json gives %#v", doc, got, want)
	}
}

func TestParseIsEncodingJSON(t *testing.T) {
	for _, doc := range jsonCases {
		checkSameAsEncodingJSON(t, []byte(doc))
	}
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	checkSameAsEncodingJSON(t, []byte(deep))
	checkSameAsEncodingJSON(t, []byte(deep[1:len(deep)-1]))
}

func FuzzParse(f *testing.F) {
	for _, doc := range jsonCases {
		f.Add([]byte(doc))
	}
	f.Fuzz(checkSameAsEncodingJSON)
}
