package picker

import (
	"fmt"
	"strings"
	"testing"
)

func TestNewExcerptModifier(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		wantErr      bool
		wantMax      int
		wantEllipsis bool
	}{
		{name: "no arguments", wantErr: true},
		{name: "too many arguments", args: []string{"12", "false", "something"}, wantErr: true},
		{name: "non-numeric max", args: []string{"something"}, wantErr: true},
		{name: "negative max", args: []string{"-1"}, wantErr: true},
		{name: "zero max", args: []string{"0"}, wantErr: true},
		{name: "decimal max", args: []string{"1.5"}, wantErr: true},
		{name: "quoted max", args: []string{`"12"`}, wantErr: true},
		{name: "numeric max", args: []string{"12"}, wantMax: 12},
		{name: "zero decimal max", args: []string{"12.00"}, wantMax: 12},
		{name: "hex max", args: []string{"0x10"}, wantMax: 16},
		{name: "non-bool withEllipsis", args: []string{"12", "something"}, wantMax: 12},
		{name: "truthy withEllipsis", args: []string{"12", "t"}, wantMax: 12, wantEllipsis: true},
		{name: "TRUE withEllipsis", args: []string{"12", "TRUE"}, wantMax: 12, wantEllipsis: true},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newExcerptModifier(tc.args...)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("expected an error, got %+v", m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.max != tc.wantMax || m.withEllipsis != tc.wantEllipsis {
				t.Fatalf("got %+v", m)
			}
		})
	}
}

func TestExcerptModifierModify(t *testing.T) {
	const doc = ` <script>var a = 123;</script>   <p>Hello</p><div id="test_id">t   est<b>12
	3</b><span>456</span></div><span>word <b>7</b> 89<span>!<b>?</b><b> a </b><b>b </b>c</span>#<h1>title</h1>`

	const plain = "Hello t est12 3456 word 7 89!? a b c# title"

	tests := []struct {
		name  string
		args  []string
		value string
		want  string
	}{
		{"max < len", []string{"2"}, doc, plain[:2]},
		{"max = len", []string{fmt.Sprint(len(plain))}, doc, plain},
		{"max > len", []string{fmt.Sprint(len(plain) + 5)}, doc, plain},
		{"ellipsis and max < len", []string{"2", "t"}, doc, plain[:2] + "..."},
		{"ellipsis and max = len", []string{fmt.Sprint(len(plain)), "t"}, doc, plain},
		{"ellipsis and max > len", []string{fmt.Sprint(len(plain) + 5), "t"}, doc, plain},
		{"cut before a space is trimmed", []string{"6", "t"}, doc, "Hello..."},
		{"multibyte chars <= max", []string{"4", "t"}, "аб\nв ", "аб в"},
		{"multibyte chars > max", []string{"3", "t"}, "аб\nв ", "аб..."},
		{"entities are decoded", []string{"20"}, "<p>Tom &amp; Jerry&nbsp;&lt;3</p>", "Tom & Jerry\u00a0<3"},
		{"excluded elements", []string{"100"}, `<title>T</title><style>p{}</style><p>a<img src=x alt=b>c</p><form><input value=v>f</form><svg><text>s</text></svg>d`, "ac d"},
		{"blocks separate words, inline do not", []string{"100"}, "<li>one</li><li>two</li><em>x</em><strong>y</strong><br>z", "one two xyz"},
		{"comments are dropped", []string{"100"}, "a<!-- hidden -->b", "ab"},
		{"plain text", []string{"100"}, "  just\ttext\n\n here ", "just text here"},
		{"empty", []string{"10", "true"}, "", ""},
		{"broken html", []string{"100"}, "<p><b>unclosed <i>tags</p> after", "unclosed tags after"},
		// note: PocketBase stops descending once the text exceeds max+2 bytes, so multi-byte
		// text can end before max runes
		{"byte limit quirk", []string{"10"}, "<p>аааааа</p><p>ббб</p>", "аааааа"},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newExcerptModifier(tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Modify(tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("long text", func(t *testing.T) {
		m, _ := newExcerptModifier("200", "true")
		got, _ := m.Modify("<p>" + strings.Repeat("word ", 1000) + "</p>")
		if s := got.(string); len([]rune(s)) != 199+3 || !strings.HasSuffix(s, "...") {
			t.Fatalf("unexpected excerpt %q (%d runes)", s, len([]rune(s)))
		}
	})
}

func TestSplitTokens(t *testing.T) {
	tests := []struct {
		in      string
		seps    string
		parens  bool
		want    []string
		wantErr bool
	}{
		{in: "", seps: ",", want: []string{}},
		{in: "a, b ,c,,", seps: ",", want: []string{"a", "b", "c"}},
		{in: "a:excerpt(200,true),b", seps: ",", want: []string{"a:excerpt(200,true)", "b"}},
		{in: `a,"b,c",'d,e',` + "`f,g`", seps: ",", want: []string{"a", `"b,c"`, `'d,e'`, "`f,g`"}},
		{in: `a\,b`, seps: ",", want: []string{`a\`, "b"}},
		{in: `"a\"b",c`, seps: ",", want: []string{`"a\"b"`, "c"}},
		{in: "(a,(b)),c", seps: ",", want: []string{"(a,(b))", "c"}},
		{in: "a)b,c", seps: ",", want: []string{"a)b", "c"}},
		{in: "(a", seps: ",", wantErr: true},
		{in: `"a`, seps: ",", wantErr: true},
		{in: "excerpt(200, true)", seps: "(), ", parens: true, want: []string{"excerpt", "200", "true"}},
		{in: "excerpt(\t200\n)", seps: "(), ", parens: true, want: []string{"excerpt", "200"}},
		{in: `excerpt("a b")`, seps: "(), ", parens: true, want: []string{"excerpt", `"a b"`}},
	}

	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := splitTokens(tc.in, tc.seps, tc.parens)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("expected an error, got %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
