package engine

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
	got, err := parseJSONAny(doc)
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("%q: parsed as %#v; encoding/json refuses it: %v", doc, got, wantErr)
	case wantErr == nil && err != nil:
		t.Fatalf("%q: refused; encoding/json gives %#v", doc, want)
	case wantErr == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("%q: got %#v, encoding/json gives %#v", doc, got, want)
	}
}

func TestParseJSONAnyIsEncodingJSON(t *testing.T) {
	for _, doc := range jsonCases {
		checkSameAsEncodingJSON(t, []byte(doc))
	}
	deep := strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1)
	checkSameAsEncodingJSON(t, []byte(deep))
	checkSameAsEncodingJSON(t, []byte(deep[1:len(deep)-1]))
}

func TestParseBodyErrorIsEncodingJSONs(t *testing.T) {
	_, err := ParseBody("application/json", []byte(`{"a":1,}`))
	if err == nil || !strings.Contains(err.Error(), "invalid character '}'") {
		t.Errorf("error %v, want encoding/json's", err)
	}
}

func FuzzParseJSONAny(f *testing.F) {
	for _, doc := range jsonCases {
		f.Add([]byte(doc))
	}
	f.Fuzz(checkSameAsEncodingJSON)
}

func BenchmarkParseBody(b *testing.B) {
	body := []byte(`{"id":"evt_0123456789abcdef","type":"bench.event","n":12345,"data":{"customer":"cus_9s6XKzkNRiz8i3","amount":2000,"currency":"usd","items":[{"sku":"a-1","qty":2},{"sku":"b-2","qty":1}],"paid":true,"note":null},"padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parseJSONAny", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseJSONAny(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
